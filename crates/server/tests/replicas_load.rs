//! Three `moa-server serve` processes on one PostgreSQL database under a small load of devices
//! — balance refreshes, history pages and transfers — while one of them is killed with
//! `SIGKILL` every few seconds and started again on its port. Every transfer ends, each leg
//! is sent once and applied once, the money adds up, and the journal agrees with the center.
//!
//! Replicas need PostgreSQL: without `MOA_TEST_POSTGRES` (`scripts/with-postgres`) the test
//! says so and does nothing. The long run is `./dev bench server` (`benches/replicas.rs`).

mod common;
mod load;

use std::sync::Arc;
use std::time::Duration;

use load::{ClusterPlan, LoadPlan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_under_load_and_kills_move_every_transfer_once() {
    let plan = ClusterPlan {
        replicas: 3,
        latency: moa_testbed::DEFAULT_LATENCY,
    };
    let Some(mut cluster) = load::Cluster::start(&plan).await else {
        eprintln!(
            "replicas_load: replicas need PostgreSQL; run under scripts/with-postgres \
             (MOA_TEST_POSTGRES is not set), so nothing was tested here"
        );
        return;
    };
    let devices = Arc::new(cluster.enrol(30, 6).await);
    let report = cluster
        .run(
            &devices,
            &LoadPlan {
                replicas: 3,
                duration: Duration::from_secs(15),
                transfers: Some(60),
                kill_every: Some(Duration::from_secs(6)),
                downtime: Duration::from_millis(500),
                think: Duration::from_millis(100),
            },
        )
        .await;
    report.print("3 replicas, a kill every 6 s");
    assert_eq!(report.kills, 2, "two replicas were killed during the run");
    assert!(
        report.transfers_made >= 50,
        "most of the 60 transfers were accepted, whichever replica answered: {}",
        report.transfers_made
    );
    for route in [load::BALANCES, load::HISTORY, load::TRANSFER] {
        let stats = report.routes.get(route).cloned().unwrap_or_default();
        assert!(!stats.latencies.is_empty(), "{route} was answered");
        assert_eq!(
            stats.unanswered, 0,
            "{route}: every request found a replica"
        );
    }
    let audit = cluster
        .settle_and_audit(&devices, Duration::from_secs(10))
        .await;
    audit.print();
    assert!(
        (report.transfers_made..=report.transfers_made + report.transfers_unanswered)
            .contains(&audit.transfers),
        "the audit saw the transfers the devices made: {} of {} (+{} unanswered)",
        audit.transfers,
        report.transfers_made,
        report.transfers_unanswered
    );
    cluster.stop().await;
}
