//! moa-server at scale, on this machine: N `moa-server serve` processes (release build) on one
//! PostgreSQL database, the testbed as their center, and simulated devices spread over them
//! round-robin (the harness is `tests/load`, shared with the test `tests/replicas_load.rs`).
//!
//! 1. **Failover**: 1,000 devices over 3 replicas for 60 s, 2,000 transfers issued evenly, a
//!    replica killed with `SIGKILL` every 10 s and started again on its port; then every
//!    transfer is followed until it is final and the auditors run (money conserved, each
//!    `bank_tran_id` applied once, the journal agreeing with the ledger, one transfer per
//!    idempotency key, each leg sent once).
//! 2. **Throughput**: the same devices over 1, 2 and 3 of the replicas in turn, no kills,
//!    transfers as fast as the devices make them: transfers/s side by side, the ratio 3:1, and
//!    the balance fan-out's p50 and p99.
//!
//! `scripts/with-postgres cargo bench -p moa-server --bench replicas` (or `./dev bench server`).
//! Sizes can be set after `--`: `--devices N --transfers N --seconds S --kill-every S
//! --compare-seconds S --latency-ms MS --think-ms MS`. Everything is on loopback, and the whole
//! run stops by itself (it gives up after `--limit-seconds`, 20 minutes by default).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/load/mod.rs"]
mod load;

use std::sync::Arc;
use std::time::{Duration, Instant};

use load::{ClusterPlan, LoadPlan};

/// The run's sizes.
#[derive(Debug)]
struct Args {
    devices: usize,
    replicas: usize,
    transfers: usize,
    seconds: u64,
    kill_every: u64,
    compare_seconds: u64,
    latency_ms: u64,
    think_ms: u64,
    limit_seconds: u64,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            devices: 1_000,
            replicas: 3,
            transfers: 2_000,
            seconds: 60,
            kill_every: 10,
            compare_seconds: 20,
            latency_ms: moa_testbed::DEFAULT_LATENCY.as_millis() as u64,
            think_ms: 250,
            limit_seconds: 20 * 60,
        };
        let mut given = std::env::args().skip(1);
        while let Some(flag) = given.next() {
            // `cargo bench` adds `--bench`; libtest's other flags mean nothing here.
            if flag == "--bench" || !flag.starts_with("--") {
                continue;
            }
            let value = given.next().unwrap_or_default();
            let number: u64 = value
                .parse()
                .unwrap_or_else(|_| panic!("{flag} takes a whole number, not {value:?}"));
            match flag.as_str() {
                "--devices" => args.devices = number as usize,
                "--replicas" => args.replicas = number as usize,
                "--transfers" => args.transfers = number as usize,
                "--seconds" => args.seconds = number,
                "--kill-every" => args.kill_every = number,
                "--compare-seconds" => args.compare_seconds = number,
                "--latency-ms" => args.latency_ms = number,
                "--think-ms" => args.think_ms = number,
                "--limit-seconds" => args.limit_seconds = number,
                _ => panic!("unknown flag {flag}"),
            }
        }
        assert!(
            args.replicas >= 1 && args.devices >= 1,
            "at least one of each"
        );
        args
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    if std::env::var_os("MOA_TEST_POSTGRES").is_none() {
        eprintln!(
            "moa-server replicas need PostgreSQL: run this under scripts/with-postgres \
             (./dev bench server does)"
        );
        std::process::exit(2);
    }
    let limit = Duration::from_secs(args.limit_seconds);
    if tokio::time::timeout(limit, bench(&args)).await.is_err() {
        eprintln!("the benchmark did not finish within {limit:?}: stopped");
        std::process::exit(1);
    }
}

async fn bench(args: &Args) {
    println!(
        "moa-server replicas: {} devices, {} replicas, banks answering after {} ms, \
         devices pausing 0–{} ms between requests",
        args.devices,
        args.replicas,
        args.latency_ms,
        args.think_ms * 2
    );
    let mut cluster = load::Cluster::start(&ClusterPlan {
        replicas: args.replicas,
        latency: Duration::from_millis(args.latency_ms),
    })
    .await
    .expect("a PostgreSQL server is named");
    let started = Instant::now();
    let devices = Arc::new(cluster.enrol(args.devices, 16).await);
    println!(
        "{} devices enrolled and linked through the consent pages in {:.1} s",
        devices.len(),
        started.elapsed().as_secs_f64()
    );
    let think = Duration::from_millis(args.think_ms);

    let failover = cluster
        .run(
            &devices,
            &LoadPlan {
                replicas: args.replicas,
                duration: Duration::from_secs(args.seconds),
                transfers: Some(args.transfers),
                kill_every: Some(Duration::from_secs(args.kill_every)),
                downtime: Duration::from_millis(500),
                think,
            },
        )
        .await;
    failover.print(&format!(
        "failover: a replica killed every {} s, {} transfers issued evenly",
        args.kill_every, args.transfers
    ));
    let audit = cluster
        .settle_and_audit(&devices, Duration::from_secs(30))
        .await;
    audit.print();

    let mut compared = Vec::new();
    for replicas in 1..=args.replicas {
        let report = cluster
            .run(
                &devices,
                &LoadPlan {
                    replicas,
                    duration: Duration::from_secs(args.compare_seconds),
                    transfers: None,
                    kill_every: None,
                    downtime: Duration::ZERO,
                    think,
                },
            )
            .await;
        report.print(&format!("throughput over {replicas} replica(s), no kills"));
        compared.push(report);
    }
    let audit = cluster
        .settle_and_audit(&devices, Duration::from_secs(30))
        .await;
    audit.print();

    println!(
        "\nthroughput on one PostgreSQL, {} devices, {} s each:",
        args.devices, args.compare_seconds
    );
    println!(
        "  {:<9} {:>12} {:>14} {:>14}",
        "replicas", "transfers/s", "balances p50", "balances p99"
    );
    for report in &compared {
        let balances = report
            .routes
            .get(load::BALANCES)
            .cloned()
            .unwrap_or_default();
        println!(
            "  {:<9} {:>12.1} {:>12.1}ms {:>12.1}ms",
            report.replicas,
            report.transfers_per_second(),
            balances.quantile(0.5).as_secs_f64() * 1e3,
            balances.quantile(0.99).as_secs_f64() * 1e3
        );
    }
    if let (Some(first), Some(last)) = (compared.first(), compared.last()) {
        println!(
            "  ratio {}:1 = {:.2}×",
            last.replicas,
            last.transfers_per_second() / first.transfers_per_second().max(f64::MIN_POSITIVE)
        );
    }
    cluster.stop().await;
}
