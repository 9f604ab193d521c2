//! A load and failover harness of moa-server replicas on one PostgreSQL database, shared by the
//! test `tests/replicas_load.rs` and the benchmark `benches/replicas.rs`.
//!
//! The topology is the one an institution runs at scale, on loopback: the testbed as the center
//! (in this process), one PostgreSQL database, and N `moa-server serve` processes — the real
//! binary — each on its own port with the same config but for `listen`. Simulated devices, each
//! with its own DPoP key, enrolled and linked to a demo person through the center's consent
//! pages, are spread round-robin over the replicas, as a load balancer would spread them. They
//! refresh balances (the fan-out to every bank), read history pages and move money between the
//! person's own accounts with an `Idempotency-Key`; a request a replica does not answer is sent
//! again to the next one, with the same key, as a load balancer retries.
//!
//! While they run, a replica may be killed with `SIGKILL` every few seconds and started again on
//! the same port. Afterwards every transfer is followed until it is final, and the auditors
//! check what happened: the center's money ([`common::assert_invariants`]), the journal against
//! the center ([`common::assert_journal_agrees`]), one transfer per idempotency key, and each
//! leg sent once by one replica (the call log and the center's own records).
//!
//! Nothing is mocked: every request goes over HTTP to a server process that talks HTTP to the
//! center.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use moa_server::api;
use moa_server::dpop::DeviceKey;
use moa_server::store::Database;
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use url::Url;

use crate::common::{self, Admin, Ledger};

/// The test hook that moves `moa-server`'s clock (see its `main.rs`).
const CLOCK_OFFSET: &str = "MOA_SERVER_CLOCK_OFFSET";

/// The test hook that aborts `moa-server` at a saga step: never set here.
const CRASH_AT: &str = "MOA_SERVER_CRASH_AT";

/// How long a replica may take to start (its migrations included) or to die.
const START_PATIENCE: Duration = Duration::from_secs(40);

/// How long one HTTP request may take before the device gives up on that replica.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How far the clocks move to let the saga's cutoff pass for calls a killed replica journaled
/// but never sent (the center never saw them, and "not found" means "never applied" only after
/// the cutoff): three days, as in the crash tests.
const PAST_CUTOFF: chrono::Duration = chrono::Duration::days(3);

/// Where the replicas run and how the center answers.
#[derive(Debug, Clone)]
pub struct ClusterPlan {
    /// How many `moa-server serve` processes.
    pub replicas: usize,
    /// How long every bank takes to answer.
    pub latency: Duration,
}

/// One load run over a cluster's devices.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Over how many of the cluster's replicas (the first ones) the devices are spread.
    pub replicas: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// How many transfers at most, issued evenly over the run; `None`: as many as the devices
    /// make, as fast as they can (a throughput run).
    pub transfers: Option<usize>,
    /// A replica is killed (`SIGKILL`) this often, in turn, and started again on its port.
    pub kill_every: Option<Duration>,
    /// How long a killed replica stays down before it is started again.
    pub downtime: Duration,
    /// A device waits between 0 and twice this between two requests.
    pub think: Duration,
}

/// A `moa-server serve` child process, killed when dropped (also when a test panics).
#[derive(Debug)]
struct Process {
    child: Child,
    /// Kept open: the server's stdout is a pipe, and a closed one would fail its writes.
    _stdout: BufReader<ChildStdout>,
}

/// One replica: its port, config and, while it runs, its process.
#[derive(Debug)]
struct Replica {
    base_url: String,
    config: PathBuf,
    log: PathBuf,
    process: Option<Process>,
}

impl Replica {
    /// Starts the process (the server's clock moved by `offset`) and waits until it listens on
    /// its port. A port still held by the process just killed is tried again for a while.
    async fn start(&mut self, offset: chrono::Duration) {
        assert!(
            self.process.is_none(),
            "{} is already running",
            self.base_url
        );
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .expect("the replica's log opens");
            let mut child = Command::new(env!("CARGO_BIN_EXE_moa-server"))
                .arg("serve")
                .arg("--config")
                .arg(&self.config)
                .env("RUST_LOG", "warn")
                .env(CLOCK_OFFSET, offset.num_seconds().to_string())
                .env_remove(CRASH_AT)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(log))
                .kill_on_drop(true)
                .spawn()
                .expect("moa-server starts");
            let mut stdout = BufReader::new(child.stdout.take().expect("its stdout is piped"));
            let mut line = String::new();
            let read = tokio::time::timeout(
                deadline.saturating_duration_since(Instant::now()),
                stdout.read_line(&mut line),
            )
            .await;
            if line.trim() == format!("listening on {}", self.base_url) {
                self.process = Some(Process {
                    child,
                    _stdout: stdout,
                });
                return;
            }
            let _ = child.start_kill();
            let _ = child.wait().await;
            assert!(
                read.is_ok() && Instant::now() < deadline,
                "{} did not start in time; its log: {}",
                self.base_url,
                tail(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Kills the process with `SIGKILL`, as a crash or an OOM kill would, and waits until it
    /// is gone.
    async fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.child.start_kill().expect("SIGKILL is sent");
            tokio::time::timeout(START_PATIENCE, process.child.wait())
                .await
                .expect("a killed replica dies in time")
                .expect("its exit is read");
        }
    }
}

/// The last lines of a replica's log, for a failure's message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A free port on loopback, for a replica that must come back on the same one.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A simulated device: its own key and token, and the accounts (fintech use numbers) of the
/// demo person it is linked to that allow transfers.
#[derive(Debug)]
pub struct SimDevice {
    key: DeviceKey,
    token: String,
    accounts: Vec<String>,
    /// Which of `accounts` transfers are made from: those holding at least
    /// [`MIN_SOURCE_BALANCE`] when the device was enrolled.
    sources: Vec<usize>,
}

/// What an account must hold to be a transfer's source: far more than a run can take from it
/// (transfers move 1 to 99 won).
const MIN_SOURCE_BALANCE: i64 = 1_000_000;

/// A transfer a device made, as the server answered it.
#[derive(Debug, Clone)]
struct Made {
    id: String,
    key: String,
    device: usize,
}

/// A transfer request no replica answered during the run: asked again, with the same key and
/// body, before the audit.
#[derive(Debug, Clone)]
struct Pending {
    device: usize,
    key: String,
    body: Value,
}

/// What one route's requests took.
#[derive(Debug, Default, Clone)]
pub struct RouteStats {
    /// Time of each answered request (for a transfer: from its first attempt to its answer,
    /// failovers included).
    pub latencies: Vec<Duration>,
    /// Attempts a replica did not answer (connection refused or dropped, 5xx, 429): each was
    /// sent again to the next replica.
    pub failed_attempts: u64,
    /// Answers that refused the request, by code.
    pub refused: BTreeMap<String, u64>,
    /// Requests no replica answered at all.
    pub unanswered: u64,
}

impl RouteStats {
    /// The `p`-quantile (0 < p ≤ 1) of the latencies, or zero when there are none.
    pub fn quantile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Over how many replicas it ran.
    pub replicas: usize,
    /// How many devices.
    pub devices: usize,
    /// How long it ran.
    pub elapsed: Duration,
    /// Each route's figures, by route name.
    pub routes: BTreeMap<&'static str, RouteStats>,
    /// Transfers the server accepted (201, or 200 for a retried key).
    pub transfers_made: usize,
    /// Transfer requests no replica answered during the run: asked again with the same key
    /// before the audit, which counts the transfers they turn out to have made.
    pub transfers_unanswered: usize,
    /// How many replicas were killed.
    pub kills: usize,
}

impl Report {
    /// Accepted transfers per second of the run.
    pub fn transfers_per_second(&self) -> f64 {
        self.transfers_made as f64 / self.elapsed.as_secs_f64()
    }

    /// The figures, one line a route.
    pub fn print(&self, title: &str) {
        println!(
            "\n{title}: {} devices over {} replica(s), {:.1} s, {} kill(s)",
            self.devices,
            self.replicas,
            self.elapsed.as_secs_f64(),
            self.kills
        );
        println!(
            "  {:<28} {:>7} {:>9} {:>9} {:>8} {:>8}",
            "route", "answers", "p50", "p99", "retried", "refused"
        );
        for (route, stats) in &self.routes {
            let refused: u64 = stats.refused.values().sum();
            println!(
                "  {:<28} {:>7} {:>7.1}ms {:>7.1}ms {:>8} {:>8}",
                route,
                stats.latencies.len(),
                stats.quantile(0.5).as_secs_f64() * 1e3,
                stats.quantile(0.99).as_secs_f64() * 1e3,
                stats.failed_attempts,
                refused
            );
            if !stats.refused.is_empty() {
                println!("  {:<28} refusals: {:?}", "", stats.refused);
            }
        }
        println!(
            "  transfers accepted: {} = {:.1} transfers/s ({} unanswered during the run)",
            self.transfers_made,
            self.transfers_per_second(),
            self.transfers_unanswered
        );
    }
}

/// What the settling and the auditors found.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Transfers checked.
    pub transfers: usize,
    /// Final states, by state.
    pub states: BTreeMap<String, usize>,
    /// How long until every transfer was final.
    pub settled_in: Duration,
    /// How many times the clocks were moved past the cutoff to settle calls a killed replica
    /// journaled but never sent.
    pub cutoffs_passed: usize,
    /// How many claims ran transfers (each a fence of one transfer, held by one replica), and
    /// how many transfers were taken over by a later claim.
    pub claims: usize,
    /// Transfers whose calls were made under more than one claim.
    pub taken_over: usize,
}

impl Audit {
    /// The audit, in a few lines.
    pub fn print(&self) {
        println!(
            "  audit: {} transfers final in {:.1} s ({:?}); clocks moved past the cutoff {} time(s)",
            self.transfers,
            self.settled_in.as_secs_f64(),
            self.states,
            self.cutoffs_passed
        );
        println!(
            "  checked: money conserved, each bank_tran_id applied once, journal agrees with the ledger, one transfer per key, each leg sent once"
        );
        println!(
            "  claims: {} ran the calls, one replica each, in fence order; {} transfer(s) taken over by a later claim",
            self.claims, self.taken_over
        );
    }
}

/// The center, the database and the replicas, with every transfer made so far.
#[derive(Debug)]
pub struct Cluster {
    /// The center, in this process.
    pub center: moa_testbed::Spawned,
    /// Its admin API: the ledger, the center's transfer records, its clock.
    pub admin: Admin,
    /// The ledger as it stood before any load.
    pub opening: Ledger,
    database: String,
    replicas: Vec<Replica>,
    http: reqwest::Client,
    /// How far the servers' and devices' clocks are moved (past cutoffs), in seconds.
    offset: Arc<AtomicI64>,
    made: Vec<Made>,
    pending: Vec<Pending>,
    /// Dropped last: the replicas' configs, keys and logs.
    dir: common::DataDir,
}

/// Whether an answer's status means the replica did not handle the request and another may:
/// the process is failing (5xx but for a center's refusal) or busy (429).
fn retry_elsewhere(status: u16) -> bool {
    status == 429 || status == 500 || status == 503 || status == 504
}

impl Cluster {
    /// Starts the center (its banks answering after `plan.latency`), makes a fresh database on
    /// the PostgreSQL server `MOA_TEST_POSTGRES` names, and starts `plan.replicas` servers on
    /// it. `None` when no PostgreSQL server is named: replicas need one.
    pub async fn start(plan: &ClusterPlan) -> Option<Cluster> {
        let Some(Database::Postgres(database)) = common::test_database().await else {
            return None;
        };
        let dir = common::DataDir::new("replicas");
        let mut center_config = moa_testbed::Config::file(dir.path().join("center.db"));
        center_config.latency = plan.latency;
        // The harness reads the center through its admin API: the opening ledger and the
        // audit (`/testbed/admin/ledger`, `/testbed/admin/transfers`), and the clock it moves
        // past a cutoff (`/testbed/admin/clock`).
        center_config.admin = true;
        let center = moa_testbed::spawn(center_config)
            .await
            .expect("the center starts");
        let admin = Admin::of(&center);
        let opening = admin.ledger().await;
        let base = common::server_config(dir.path(), &center, &database);
        let mut replicas = Vec::new();
        for i in 0..plan.replicas {
            let listen = format!("127.0.0.1:{}", free_port());
            let mut config = base.clone();
            config.insert("listen".into(), toml::Value::String(listen.clone()));
            let file = dir.path().join(format!("replica-{i}.toml"));
            std::fs::write(
                &file,
                toml::to_string(&config).expect("the config serialises"),
            )
            .expect("the config is written");
            replicas.push(Replica {
                base_url: format!("http://{listen}"),
                config: file,
                log: dir.path().join(format!("replica-{i}.log")),
                process: None,
            });
        }
        // One after another: the first migrates the database, the others find it done.
        for replica in &mut replicas {
            replica.start(chrono::Duration::zero()).await;
        }
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(256)
            .build()
            .expect("the HTTP client is built");
        Some(Cluster {
            center,
            admin,
            opening,
            database,
            replicas,
            http,
            offset: Arc::new(AtomicI64::new(0)),
            made: Vec::new(),
            pending: Vec::new(),
            dir,
        })
    }

    /// The replicas' base URLs.
    pub fn urls(&self) -> Vec<String> {
        self.replicas.iter().map(|r| r.base_url.clone()).collect()
    }

    fn client(&self) -> Client {
        Client {
            http: self.http.clone(),
            urls: self.urls(),
            offset: self.offset.clone(),
        }
    }

    /// Enrols `count` devices, spread round-robin over the replicas, and links each to a demo
    /// person in turn (a person has many devices) through the center's consent pages, `width`
    /// at a time.
    pub async fn enrol(&self, count: usize, width: usize) -> Vec<SimDevice> {
        let people = self.center.manifest.users.len();
        let urls = self.urls();
        let semaphore = Arc::new(tokio::sync::Semaphore::new(width.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..count {
            // `common::Device` goes through the consent pages like a browser.
            let device = common::Device::of_server(&urls[i % urls.len()], &self.center);
            let semaphore = semaphore.clone();
            tasks.spawn(async move {
                let _permit = semaphore
                    .acquire_owned()
                    .await
                    .expect("the semaphore is open");
                (i, enrol_one(device, i % people).await)
            });
        }
        let mut devices: Vec<Option<SimDevice>> = (0..count).map(|_| None).collect();
        while let Some(done) = tasks.join_next().await {
            let (i, device) = done.expect("an enrolment task ends");
            devices[i] = Some(device);
        }
        devices
            .into_iter()
            .map(|d| d.expect("every device is enrolled"))
            .collect()
    }

    /// Runs `plan` with `devices` and returns what it measured. Every transfer made is kept for
    /// [`Cluster::settle_and_audit`].
    pub async fn run(&mut self, devices: &Arc<Vec<SimDevice>>, plan: &LoadPlan) -> Report {
        let replicas = plan.replicas.clamp(1, self.replicas.len());
        let client = self.client();
        let stats = Arc::new(Mutex::new(BTreeMap::<&'static str, RouteStats>::new()));
        let made = Arc::new(Mutex::new(Vec::<Made>::new()));
        let pending = Arc::new(Mutex::new(Vec::<Pending>::new()));
        let started = Instant::now();
        let end = started + plan.duration;
        let tickets = Arc::new(Tickets {
            start: started,
            every: plan
                .transfers
                .map(|n| plan.duration.div_f64(n.max(1) as f64))
                .unwrap_or(Duration::ZERO),
            budget: plan.transfers.unwrap_or(usize::MAX),
            issued: AtomicUsize::new(0),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..devices.len() {
            let worker = Worker {
                index: i,
                devices: devices.clone(),
                client: client.clone(),
                home: i % replicas,
                replicas,
                stats: stats.clone(),
                made: made.clone(),
                pending: pending.clone(),
                tickets: tickets.clone(),
                think: plan.think,
                seed: 0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
            };
            let stop = stop.clone();
            tasks.spawn(async move { worker.run(end, &stop).await });
        }

        // The killer: every `kill_every`, the next replica in turn dies and comes back.
        let mut kills = 0;
        if let Some(every) = plan.kill_every {
            let mut next = started + every;
            while next + plan.downtime < end {
                tokio::time::sleep_until(next.into()).await;
                let victim = kills % replicas;
                self.replicas[victim].kill().await;
                kills += 1;
                tokio::time::sleep(plan.downtime).await;
                let offset = self.offset();
                self.replicas[victim].start(offset).await;
                next += every;
            }
        }
        tokio::time::sleep_until(end.into()).await;
        stop.store(true, Ordering::Relaxed);
        let elapsed = started.elapsed();
        // A device's last request may go round every replica twice, each try up to its timeout.
        let finish = tokio::time::timeout(REQUEST_TIMEOUT * (2 * replicas as u32 + 2), async {
            while let Some(done) = tasks.join_next().await {
                done.expect("a device's task ends without panicking");
            }
        })
        .await;
        assert!(finish.is_ok(), "the devices stop in time");
        let made = std::mem::take(&mut *made.lock().expect("not poisoned"));
        let transfers_made = made.len();
        self.made.extend(made);
        let pending = std::mem::take(&mut *pending.lock().expect("not poisoned"));
        let transfers_unanswered = pending.len();
        self.pending.extend(pending);
        let routes = std::mem::take(&mut *stats.lock().expect("not poisoned"));
        Report {
            replicas,
            devices: devices.len(),
            elapsed,
            routes,
            transfers_made,
            transfers_unanswered,
            kills,
        }
    }

    fn offset(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.offset.load(Ordering::Relaxed))
    }

    /// Waits until every transfer made so far is final — first as the replicas resume them by
    /// themselves for `patience`; then, for calls a killed replica journaled but never sent,
    /// by letting their cutoff pass (the center's and the servers' clocks move on three days
    /// and the replicas restart, as the crash tests do) — and then runs every auditor. Panics
    /// with what is wrong.
    pub async fn settle_and_audit(
        &mut self,
        devices: &Arc<Vec<SimDevice>>,
        patience: Duration,
    ) -> Audit {
        let started = Instant::now();
        let client = self.client();
        // Requests no replica answered during the run, asked again with the same key now that
        // every replica is up: the answer is the transfer a dead replica journaled, if it did.
        for pending in std::mem::take(&mut self.pending) {
            let device = &devices[pending.device];
            let mut answer = None;
            for attempt in 0..client.urls.len() * 3 {
                answer = client
                    .send(
                        device,
                        attempt % client.urls.len(),
                        Method::POST,
                        "/v1/transfers",
                        &[(api::IDEMPOTENCY_KEY, pending.key.as_str())],
                        Some(&pending.body),
                    )
                    .await
                    .filter(|(status, _)| !retry_elsewhere(*status));
                if answer.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            match answer {
                Some((201 | 200, text)) => {
                    let transfer: api::Transfer = serde_json::from_str(&text).expect("a transfer");
                    self.made.push(Made {
                        id: transfer.id,
                        key: pending.key,
                        device: pending.device,
                    });
                }
                Some((status, text)) => assert_ne!(
                    status, 409,
                    "the same key and body are never a conflict: {text}"
                ),
                None => panic!("no replica answers for key {}", pending.key),
            }
        }
        let mut open: Vec<Made> = self.made.clone();
        let mut states = BTreeMap::new();
        let mut cutoffs_passed = 0;
        loop {
            open = poll_final(&client, devices, open, patience, &mut states).await;
            if open.is_empty() {
                break;
            }
            assert!(
                cutoffs_passed < 3,
                "{} transfer(s) still open after {cutoffs_passed} cutoffs: {:?}",
                open.len(),
                open.iter().take(5).collect::<Vec<_>>()
            );
            for replica in &mut self.replicas {
                replica.kill().await;
            }
            let offset = self
                .offset
                .fetch_add(PAST_CUTOFF.num_seconds(), Ordering::Relaxed)
                + PAST_CUTOFF.num_seconds();
            self.admin.set_clock_offset(offset).await;
            let offset = self.offset();
            for replica in &mut self.replicas {
                replica.start(offset).await;
            }
            cutoffs_passed += 1;
        }
        let settled_in = started.elapsed();

        // The center's money: conserved, nothing below zero, each bank_tran_id applied once.
        common::assert_invariants(&self.admin, &self.opening).await;
        // The journal against the ledger, leg by leg.
        let store = moa_server::store::Store::connect(&Database::Postgres(self.database.clone()))
            .await
            .expect("the journal opens");
        common::assert_journal_agrees(&store, &self.admin, Utc::now() + self.offset()).await;
        let journal = store.every_transfer().await.expect("the journal reads");
        self.assert_one_transfer_per_key(&journal);
        drop(store);
        let (claims, taken_over) = self.assert_one_executor_per_leg().await;
        Audit {
            transfers: self.made.len(),
            states,
            settled_in,
            cutoffs_passed,
            claims,
            taken_over,
        }
    }

    /// Every transfer the journal holds was made by a device here, once per idempotency key,
    /// and is the one the server answered for that key, whichever replica answered.
    fn assert_one_transfer_per_key(&self, journal: &[moa_server::store::TransferRecord]) {
        let mut by_key: HashMap<(i64, &str), Vec<&str>> = HashMap::new();
        for record in journal {
            by_key
                .entry((
                    record.order.person_id,
                    record.order.idempotency_key.as_str(),
                ))
                .or_default()
                .push(record.id.as_str());
        }
        let twice: Vec<_> = by_key.iter().filter(|(_, ids)| ids.len() > 1).collect();
        assert!(twice.is_empty(), "keys journaled twice: {twice:?}");
        let journaled: HashMap<&str, &str> = journal
            .iter()
            .map(|r| (r.order.idempotency_key.as_str(), r.id.as_str()))
            .collect();
        for made in &self.made {
            assert_eq!(
                journaled.get(made.key.as_str()).copied(),
                Some(made.id.as_str()),
                "the transfer answered for key {} is the journaled one",
                made.key
            );
        }
        assert_eq!(
            journal.len(),
            self.made.len(),
            "the journal holds exactly the transfers the devices were answered"
        );
    }

    /// No leg was sent twice and no transfer had two executors at once: the call log has at
    /// most one `send` per `bank_tran_id`, the center received each `bank_tran_id` once, every
    /// call was made under a claim (a fence) held by one replica, and a transfer's calls run in
    /// fence order — nothing was logged under a claim after a later claim had taken over.
    /// Answers how many claims made calls and how many transfers were taken over.
    async fn assert_one_executor_per_leg(&self) -> (usize, usize) {
        let (client, connection) = tokio_postgres::connect(&self.database, tokio_postgres::NoTls)
            .await
            .expect("the database answers");
        let connection = tokio::spawn(connection);
        let twice = client
            .query(
                "SELECT transfer_id, leg, bank_tran_id, count(*) FROM transfer_calls
                 WHERE call = 'send' GROUP BY transfer_id, leg, bank_tran_id
                 HAVING count(*) > 1",
                &[],
            )
            .await
            .expect("the call log reads");
        let twice: Vec<(String, String, String, i64)> = twice
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        assert!(twice.is_empty(), "legs sent more than once: {twice:?}");
        let calls = client
            .query(
                "SELECT transfer_id, fence, replica FROM transfer_calls ORDER BY transfer_id, id",
                &[],
            )
            .await
            .expect("the call log reads");
        drop(client);
        let _ = connection.await;

        let mut holders: HashMap<(String, i64), String> = HashMap::new();
        let mut last: HashMap<String, i64> = HashMap::new();
        let mut taken_over = std::collections::HashSet::new();
        for row in &calls {
            let transfer: String = row.get(0);
            let fence: Option<i64> = row.get(1);
            let replica: Option<String> = row.get(2);
            let (Some(fence), Some(replica)) = (fence, replica) else {
                panic!("a call of transfer {transfer} was logged outside any claim");
            };
            let holder = holders
                .entry((transfer.clone(), fence))
                .or_insert_with(|| replica.clone());
            assert_eq!(
                *holder, replica,
                "transfer {transfer}: claim {fence} was held by two replicas"
            );
            match last.get(&transfer) {
                Some(&before) if fence < before => panic!(
                    "transfer {transfer}: a call under claim {fence} after claim {before} took over"
                ),
                Some(&before) if fence > before => {
                    taken_over.insert(transfer.clone());
                }
                _ => {}
            }
            last.insert(transfer, fence);
        }

        let mut reached: HashMap<&str, usize> = HashMap::new();
        let center = self.admin.transfers().await;
        for record in &center {
            *reached.entry(record.bank_tran_id.as_str()).or_default() += 1;
        }
        let twice: Vec<_> = reached.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "bank_tran_ids that reached the center more than once: {twice:?}"
        );
        (holders.len(), taken_over.len())
    }

    /// Stops every replica and the center.
    pub async fn stop(mut self) {
        for replica in &mut self.replicas {
            replica.kill().await;
        }
        let Cluster { center, dir, .. } = self;
        center.shutdown().await;
        drop(dir);
    }
}

/// Enrols `device` and links it to demo person `person` through the consent pages, trying
/// again a few times if the server refuses (registrations of one person from many devices at
/// once may race for the person's row).
async fn enrol_one(mut device: common::Device, person: usize) -> SimDevice {
    let (status, body) = device.enrol().await;
    assert_eq!(status, 201, "enrolment: {body}");
    let mut last = String::new();
    for attempt in 0..5 {
        let callback = common::agreed_callback(&device, person).await;
        let (status, body) = common::complete(&device, &callback).await;
        if status == 200 {
            let accounts: Vec<String> = device
                .accounts()
                .await
                .into_iter()
                .filter(|a| a.transfer_agreed_at.is_some())
                .map(|a| a.fintech_use_num)
                .collect();
            // Money leaves only accounts that have plenty to give, so that nearly every
            // transfer moves money rather than meeting an empty account.
            let (status, lines) = device.ndjson(Method::POST, "/v1/balances").await;
            assert_eq!(status, 200, "the first refresh: {lines:?}");
            let mut sources = Vec::new();
            for line in lines {
                let line: api::BalanceLine = serde_json::from_value(line).expect("a balance line");
                if let api::BalanceOutcome::Fresh {
                    balance, available, ..
                } = line.outcome
                    && available.unwrap_or(balance) >= MIN_SOURCE_BALANCE
                    && let Some(i) = accounts.iter().position(|a| *a == line.fintech_use_num)
                {
                    sources.push(i);
                }
            }
            sources.sort_unstable();
            return SimDevice {
                key: device.key,
                token: device.token.expect("an enrolled device has a token"),
                accounts,
                sources,
            };
        }
        last = format!("{status} {body}");
        tokio::time::sleep(Duration::from_millis(50 * (attempt + 1))).await;
    }
    panic!("the registration of a device of person {person} completes: {last}");
}

/// The transfers a run may make: `budget` of them, the n-th not before `start + n × every`.
#[derive(Debug)]
struct Tickets {
    start: Instant,
    every: Duration,
    budget: usize,
    issued: AtomicUsize,
}

impl Tickets {
    /// Takes the next ticket if it is due.
    fn take(&self) -> bool {
        let now = Instant::now();
        let mut issued = self.issued.load(Ordering::Relaxed);
        loop {
            if issued >= self.budget || now < self.start + self.every.mul_f64(issued as f64) {
                return false;
            }
            match self.issued.compare_exchange(
                issued,
                issued + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now_issued) => issued = now_issued,
            }
        }
    }
}

/// The devices' side of HTTP: one connection pool, the replicas' addresses, the clock offset
/// every proof's `iat` follows.
#[derive(Debug, Clone)]
struct Client {
    http: reqwest::Client,
    urls: Vec<String>,
    offset: Arc<AtomicI64>,
}

impl Client {
    /// One signed request of `device` to replica `replica`: its status and body, or `None` when
    /// the replica did not answer.
    async fn send(
        &self,
        device: &SimDevice,
        replica: usize,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<(u16, String)> {
        let url = Url::parse(&format!("{}{path}", self.urls[replica])).expect("a request URL");
        let now = Utc::now() + chrono::Duration::seconds(self.offset.load(Ordering::Relaxed));
        let proof = device
            .key
            .proof(method.as_str(), &url, Some(&device.token), now)
            .expect("the proof is signed");
        let mut request = self
            .http
            .request(method, url)
            .header("authorization", format!("DPoP {}", device.token))
            .header("dpop", proof);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        let text = response.text().await.ok()?;
        Some((status, text))
    }

    /// As [`Client::send`], trying each replica from `first` on (of the first `replicas`) until
    /// one handles the request, as a load balancer does. Counts in `stats` under `route`.
    #[allow(clippy::too_many_arguments)]
    async fn send_anywhere(
        &self,
        device: &SimDevice,
        first: usize,
        replicas: usize,
        route: &'static str,
        stats: &Mutex<BTreeMap<&'static str, RouteStats>>,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<(u16, String)> {
        let started = Instant::now();
        // Twice round the replicas, with a short pause: a killed one may be back by then.
        for attempt in 0..replicas * 2 {
            let replica = (first + attempt) % replicas;
            match self
                .send(device, replica, method.clone(), path, extra, body)
                .await
            {
                Some((status, text)) if !retry_elsewhere(status) => {
                    let mut stats = stats.lock().expect("not poisoned");
                    let route = stats.entry(route).or_default();
                    if status < 300 {
                        route.latencies.push(started.elapsed());
                    } else {
                        let code = serde_json::from_str::<Value>(&text)
                            .ok()
                            .and_then(|v| v["code"].as_str().map(str::to_owned))
                            .unwrap_or_else(|| status.to_string());
                        *route.refused.entry(code).or_default() += 1;
                    }
                    return Some((status, text));
                }
                _ => {
                    stats
                        .lock()
                        .expect("not poisoned")
                        .entry(route)
                        .or_default()
                        .failed_attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100 * (attempt as u64 + 1))).await;
                }
            }
        }
        stats
            .lock()
            .expect("not poisoned")
            .entry(route)
            .or_default()
            .unanswered += 1;
        None
    }
}

/// One simulated device's loop.
#[derive(Debug)]
struct Worker {
    index: usize,
    devices: Arc<Vec<SimDevice>>,
    client: Client,
    home: usize,
    replicas: usize,
    stats: Arc<Mutex<BTreeMap<&'static str, RouteStats>>>,
    made: Arc<Mutex<Vec<Made>>>,
    pending: Arc<Mutex<Vec<Pending>>>,
    tickets: Arc<Tickets>,
    think: Duration,
    seed: u64,
}

/// The route names the figures are kept under.
pub const BALANCES: &str = "POST /v1/balances";
/// See [`BALANCES`].
pub const HISTORY: &str = "GET /v1/accounts/…/history";
/// See [`BALANCES`].
pub const TRANSFER: &str = "POST /v1/transfers";

impl Worker {
    /// A small xorshift generator: the mix of requests, the accounts and the amounts.
    fn next(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    async fn run(mut self, end: Instant, stop: &AtomicBool) {
        while Instant::now() < end && !stop.load(Ordering::Relaxed) {
            if !self.think.is_zero() {
                let ms = self.think.as_millis() as u64 * 2;
                tokio::time::sleep(Duration::from_millis(self.next() % ms.max(1))).await;
            }
            let roll = self.next() % 10;
            let device = self.device();
            let can_transfer = device.accounts.len() >= 2 && !device.sources.is_empty();
            if roll < 3 && can_transfer && self.tickets.take() {
                self.transfer().await;
            } else if roll < 6 {
                self.history().await;
            } else {
                self.balances().await;
            }
        }
    }

    fn device(&self) -> &SimDevice {
        &self.devices[self.index]
    }

    async fn balances(&mut self) {
        let device = &self.devices[self.index];
        let answer = self
            .client
            .send_anywhere(
                device,
                self.home,
                self.replicas,
                BALANCES,
                &self.stats,
                Method::POST,
                "/v1/balances",
                &[],
                None,
            )
            .await;
        if let Some((200, text)) = answer {
            // A line per registered account, each naming its account.
            let lines: Vec<Value> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("each line of a refresh is JSON"))
                .collect();
            assert!(
                lines.len() >= device.accounts.len()
                    && lines.iter().all(|l| l["fintech_use_num"].is_string()),
                "a refresh answers a line per account: {text}"
            );
        }
    }

    async fn history(&mut self) {
        let n = self.device().accounts.len();
        if n == 0 {
            return;
        }
        let pick = self.next() as usize % n;
        let account = self.device().accounts[pick].clone();
        // The center's today, in Korea: what its history is dated by.
        let to = moa_openbanking::clock::today_kst(
            Utc::now() + chrono::Duration::seconds(self.client.offset.load(Ordering::Relaxed)),
        );
        let from = to - chrono::Duration::days(30);
        let path = format!("/v1/accounts/{account}/history?from={from}&to={to}");
        let device = &self.devices[self.index];
        self.client
            .send_anywhere(
                device,
                self.home,
                self.replicas,
                HISTORY,
                &self.stats,
                Method::GET,
                &path,
                &[],
                None,
            )
            .await;
    }

    async fn transfer(&mut self) {
        let (n, sources) = (self.device().accounts.len(), self.device().sources.len());
        if n < 2 || sources == 0 {
            return;
        }
        let pick = self.next() as usize % sources;
        let from = self.device().sources[pick];
        let to = (from + 1 + self.next() as usize % (n - 1)) % n;
        let amount = 1 + (self.next() % 99) as i64;
        let device = &self.devices[self.index];
        let body = serde_json::json!({
            "from": device.accounts[from],
            "to": { "kind": "own", "fintech_use_num": device.accounts[to] },
            "amount": amount,
            "memo": "부하",
        });
        let key = uuid::Uuid::new_v4().simple().to_string();
        // The same key and body to every replica it is sent to: one transfer, however many
        // replicas saw it.
        let answer = self
            .client
            .send_anywhere(
                device,
                self.home,
                self.replicas,
                TRANSFER,
                &self.stats,
                Method::POST,
                "/v1/transfers",
                &[(api::IDEMPOTENCY_KEY, key.as_str())],
                Some(&body),
            )
            .await;
        let made = match answer {
            Some((201 | 200, text)) => {
                let transfer: api::Transfer =
                    serde_json::from_str(&text).expect("a transfer answers a transfer");
                assert_eq!(transfer.idempotency_key, key, "the answer is for this key");
                Some(transfer.id)
            }
            Some((status, text)) => {
                assert_ne!(
                    status, 409,
                    "the same key and body are never a conflict: {text}"
                );
                None
            }
            None => {
                // No replica answered in two rounds: the transfer may have been journaled by a
                // replica that then died. The same key is asked again once every replica is
                // back (`Cluster::settle_and_audit`).
                self.pending.lock().expect("not poisoned").push(Pending {
                    device: self.index,
                    key: key.clone(),
                    body: body.clone(),
                });
                None
            }
        };
        if let Some(id) = made {
            self.made.lock().expect("not poisoned").push(Made {
                id,
                key,
                device: self.index,
            });
        }
    }
}

/// Polls each transfer of `open` (through a device of its person, over every replica in turn,
/// 32 at a time) until it is final or `patience` passes; counts the final states in `states`
/// and returns the ones still open.
async fn poll_final(
    client: &Client,
    devices: &Arc<Vec<SimDevice>>,
    mut open: Vec<Made>,
    patience: Duration,
    states: &mut BTreeMap<String, usize>,
) -> Vec<Made> {
    let deadline = Instant::now() + patience;
    let semaphore = Arc::new(tokio::sync::Semaphore::new(32));
    let mut round = 0;
    loop {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, made) in open.into_iter().enumerate() {
            let (client, devices, semaphore) = (client.clone(), devices.clone(), semaphore.clone());
            let replica = (i + round) % client.urls.len();
            tasks.spawn(async move {
                let _permit = semaphore
                    .acquire_owned()
                    .await
                    .expect("the semaphore is open");
                let path = format!("/v1/transfers/{}", made.id);
                let answer = client
                    .send(
                        &devices[made.device],
                        replica,
                        Method::GET,
                        &path,
                        &[],
                        None,
                    )
                    .await;
                (made, answer)
            });
        }
        let mut still = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (made, answer) = done.expect("a poll ends");
            match answer {
                Some((200, text)) => {
                    let transfer: api::Transfer = serde_json::from_str(&text).expect("a transfer");
                    if transfer.state.is_final() {
                        let name = match &transfer.failure_code {
                            Some(code) => {
                                format!("{} ({})", transfer.state.as_str(), code.as_str())
                            }
                            None => transfer.state.as_str().to_owned(),
                        };
                        *states.entry(name).or_default() += 1;
                    } else {
                        still.push(made);
                    }
                }
                Some((status, text)) if !retry_elsewhere(status) => {
                    panic!("transfer {} could not be read: {status} {text}", made.id)
                }
                _ => still.push(made),
            }
        }
        open = still;
        round += 1;
        if open.is_empty() || Instant::now() >= deadline {
            return open;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
