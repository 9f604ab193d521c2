//! The server process dies at each step of the saga — `MOA_SERVER_CRASH_AT` aborts it there, as
//! a power cut would — while the center, in this test's process, lives on. The next server
//! process, started on the same database, finishes the transfer from its journal: each leg
//! applied once, the money conserved.

mod common;

use moa_testbed::harness::TransferKind::{self, Deposit, Withdraw};

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use common::{Admin, DataDir, Device, Ledger, own_transfer};
use moa_server::api::{self, FailureReason, TransferState};
use moa_server::saga::Step;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// What the transfer moves.
const AMOUNT: i64 = 23_000;

/// The test hook `moa-server` reads (see its `main.rs`).
const CRASH_AT: &str = "MOA_SERVER_CRASH_AT";

/// The test hook that moves `moa-server`'s clock (see its `main.rs`).
const CLOCK_OFFSET: &str = "MOA_SERVER_CLOCK_OFFSET";

/// How far the clocks move to let the saga's cutoff pass: three days.
const PAST_CUTOFF: chrono::Duration = chrono::Duration::days(3);

/// The longest any one wait here may take: a server starting, dying or finishing a transfer.
/// The server's own settling of a call that never left takes about 8 s.
const PATIENCE: Duration = Duration::from_secs(40);

/// A `moa-server serve` child process, killed when dropped.
struct Server {
    child: Child,
    base_url: String,
    /// Kept open: the server's stdout is a pipe, and a closed one would fail its writes.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `moa-server serve --config CONFIG`, crashing at `crash_at` if given, and waits
    /// until it listens.
    async fn start(config: &Path, crash_at: Option<Step>) -> Server {
        Server::start_at(config, crash_at, chrono::Duration::zero()).await
    }

    /// As [`Server::start`], with the server's clock moved by `offset`.
    async fn start_at(config: &Path, crash_at: Option<Step>, offset: chrono::Duration) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_moa-server"));
        command
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "error")
            .env(CLOCK_OFFSET, offset.num_seconds().to_string())
            .env_remove(CRASH_AT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(step) = crash_at {
            command.env(CRASH_AT, step.as_str());
        }
        let mut child = command.spawn().expect("moa-server starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("its stdout is piped"));
        let mut line = String::new();
        tokio::time::timeout(PATIENCE, stdout.read_line(&mut line))
            .await
            .expect("moa-server says where it listens in time")
            .expect("moa-server's stdout reads");
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("moa-server said {line:?}, not where it listens"))
            .to_owned();
        Server {
            child,
            base_url,
            _stdout: stdout,
        }
    }

    /// Waits for the process to end by itself.
    async fn died(mut self) -> ExitStatus {
        tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("moa-server dies at its step in time")
            .expect("moa-server's exit is read")
    }

    /// Kills the process and waits until it is gone.
    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Writes a `moa-server.toml` in `dir` for a server of `center` on `database` (a SQLite file
/// in `dir` by default), listening on a free loopback port.
fn write_config(
    dir: &Path,
    center: &moa_testbed::Spawned,
    database: Option<&moa_server::store::Database>,
) -> PathBuf {
    let database = match database {
        Some(moa_server::store::Database::Postgres(url)) => url.clone(),
        _ => dir
            .join("moa-server.db")
            .to_str()
            .expect("a UTF-8 path")
            .to_owned(),
    };
    let mut config = common::server_config(dir, center, &database);
    config.insert(
        "listen".to_owned(),
        toml::Value::String("127.0.0.1:0".to_owned()),
    );
    let file = dir.join("moa-server.toml");
    std::fs::write(
        &file,
        toml::to_string(&config).expect("the config serialises"),
    )
    .expect("the config is written");
    file
}

/// Whether the process was aborted (`SIGABRT`), as the crash hook does — not a panic, not an
/// error exit, not a clean one.
fn aborted(status: ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        status.signal() == Some(6)
    }
    #[cfg(not(unix))]
    {
        !status.success()
    }
}

/// One scenario: a server that dies at `step` in a transfer — one whose deposit the target's
/// bank refuses, when `refund` — with `fault` scripted for the call made at that step, and the
/// next server that finishes it: as `expected`, when the case says, and always with each leg
/// applied at most once, the journal agreeing with the center, and the money adding up.
struct Case {
    step: Step,
    refund: bool,
    fault: Option<(&'static str, Value)>,
    expected: Option<TransferState>,
}

impl Case {
    fn name(&self) -> String {
        match &self.fault {
            Some((fault, _)) => format!("{} × {fault}", self.step.as_str()),
            None => self.step.as_str().to_owned(),
        }
    }
}

/// Polls transfer `id` until it ends or `wait` passes.
async fn final_within(device: &Device, id: &str, wait: Duration) -> Option<api::Transfer> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (status, body) = device.get(&format!("/v1/transfers/{id}")).await;
        assert_eq!(status, 200, "{body}");
        let transfer: api::Transfer = serde_json::from_value(body).expect("a transfer");
        if transfer.state.is_final() {
            return Some(transfer);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn crash_at(case: Case) {
    let Case {
        step,
        refund,
        ref fault,
        expected,
    } = case;
    let name = case.name();
    let dir = DataDir::new(&format!("crash-{}", step.as_str()));
    let mut center_config = moa_testbed::Config::file(dir.path().join("center.db"));
    center_config.latency = Duration::ZERO;
    center_config.admin = true;
    let center = moa_testbed::spawn(center_config)
        .await
        .expect("the center starts");
    let admin = Admin::of(&center);
    let opening = admin.ledger().await;
    let database = common::test_database().await;
    let config = write_config(dir.path(), &center, database.as_ref());

    let server = Server::start(&config, Some(step)).await;
    let mut device = Device::of_server(&server.base_url, &center);
    let (status, body) = device.enrol().await;
    assert_eq!(status, 201, "{name}: enrolment: {body}");
    common::register(&device, 0).await;
    let accounts = device.demo_accounts(0).await;
    let (source, target) = (&accounts[0], &accounts[1]);
    if refund {
        // The target's bank is in outage: the deposit is refused and the saga refunds.
        admin.set_bank_status(&target.bank_code, "D").await;
    }
    if let Some((_, fault)) = fault {
        // The fault strikes the call of the step's own leg.
        let (api_name, bank) = match step {
            Step::BeforeWithdraw | Step::AfterWithdraw => ("withdraw", &source.bank_code),
            Step::BeforeDeposit | Step::AfterDeposit => ("deposit", &target.bank_code),
            Step::BeforeRefund | Step::AfterRefund => ("deposit", &source.bank_code),
        };
        admin
            .add_fault(common::fault_rule(api_name, Some(bank), 1, fault.clone()))
            .await;
    }
    let before = admin.ledger().await;
    let key = uuid::Uuid::new_v4().to_string();
    let request = own_transfer(source, target, AMOUNT);
    // The server may die before it answers: the saga runs beside the request.
    let answered = device.try_transfer(&key, &request).await;
    if let Some((status, body)) = &answered {
        assert_eq!(*status, 201, "{name}: the transfer is made: {body}");
    }
    let status = server.died().await;
    assert!(
        aborted(status),
        "{name}: the server aborted at its step: {status}"
    );

    // A new process on the same database: it resumes open transfers as it starts.
    let mut server = Server::start(&config, None).await;
    device.base_url = server.base_url.clone();
    // The same key is the same transfer, whether or not the first answer arrived.
    let (status, body) = device.transfer(&key, &request).await;
    assert_eq!(status, 200, "{name}: the transfer is known: {body}");
    let made: api::Transfer = serde_json::from_value(body).expect("a transfer");
    if let Some((_, first)) = &answered {
        assert_eq!(first["id"], made.id.as_str(), "{name}: the same transfer");
    }
    let settled = final_within(&device, &made.id, Duration::from_secs(4)).await;
    let never_sent = matches!(
        step,
        Step::BeforeWithdraw | Step::BeforeDeposit | Step::BeforeRefund
    );
    if never_sent {
        // The call was journaled but never sent: the center has never seen it, and says so.
        // That is not "never applied" until the cutoff, so the transfer waits, asking again.
        assert!(
            settled.is_none(),
            "{name}: a call the center never saw stays unknown until the cutoff: {settled:?}"
        );
    }
    // While it waits, days pass, for the server and the center alike, and the next start
    // settles what it can: a call that fails unknown after the cutoff waits for another one.
    let mut settled = settled;
    let mut offset = chrono::Duration::zero();
    for _ in 0..4 {
        if settled.is_some() {
            break;
        }
        server.stop().await;
        offset += PAST_CUTOFF;
        admin.set_clock_offset(offset.num_seconds()).await;
        server = Server::start_at(&config, None, offset).await;
        device.base_url = server.base_url.clone();
        device.clock.shift(PAST_CUTOFF);
        settled = final_within(&device, &made.id, Duration::from_secs(4)).await;
    }
    let done = settled.unwrap_or_else(|| panic!("{name}: the transfer ends"));
    if let Some(expected) = expected {
        assert_eq!(done.state, expected, "{name}: {done:?}");
    }
    if refund && fault.is_none() {
        assert_eq!(
            (done.failure_code, done.failure_rsp_code.as_deref()),
            (Some(FailureReason::BankRefused), Some("499")),
            "{name}: the refund says why"
        );
    }
    let faults_left = admin.faults().await;
    if fault.is_some() && step != Step::BeforeWithdraw {
        assert!(
            faults_left.is_empty(),
            "{name}: the fault struck: {faults_left:?}"
        );
    }
    admin.clear_faults().await;
    let (status, listed) = device.get("/v1/transfers").await;
    assert_eq!(status, 200, "{name}: {listed}");
    let listed: Vec<api::Transfer> = serde_json::from_value(listed).expect("a list");
    assert_eq!(listed.len(), 1, "{name}: one transfer, made once");
    server.stop().await;

    // The journal, read once the server is gone, names the legs the center applied.
    let record = common::open_store(dir.path(), database.as_ref())
        .await
        .transfer(&made.id)
        .await
        .expect("the journal reads")
        .expect("the transfer is journaled");
    assert_eq!(record.state, done.state, "{name}: the journal agrees");
    let records = admin.transfers().await;
    let applied: Vec<(TransferKind, i64)> = records
        .iter()
        .filter(|r| r.applied())
        .map(|r| (r.kind, r.amount))
        .collect();
    let withdraw = record.withdraw.as_ref().expect("a withdraw was journaled");
    let withdrawn = common::center_verdict(&records, &withdraw.bank_tran_id);
    match done.state {
        TransferState::Failed => {
            assert_ne!(withdrawn, Some(true), "{name}: the withdraw never applied");
            assert!(applied.is_empty(), "{name}: nothing applied: {applied:?}");
        }
        state => {
            assert_eq!(withdrawn, Some(true), "{name}: the withdraw applied");
            let last = if state == TransferState::Refunded {
                record.refund.as_ref().expect("a refund was journaled")
            } else {
                record.deposit.as_ref().expect("a deposit was journaled")
            };
            assert_eq!(
                common::center_verdict(&records, &last.bank_tran_id),
                Some(true),
                "{name}: the journaled deposit applied"
            );
            assert_eq!(
                applied,
                vec![(Withdraw, AMOUNT), (Deposit, AMOUNT)],
                "{name}: each leg applied once"
            );
        }
    }

    let after = admin.ledger().await;
    assert_eq!(
        after.total, before.total,
        "{name}: money appeared or vanished"
    );
    let moved = |bank: &str, num: &str| after.balance(bank, num) - before.balance(bank, num);
    let person = &center.manifest.users[0];
    let (from, to) = (
        moved(
            &person.accounts[0].bank_code_std,
            &person.accounts[0].account_num,
        ),
        moved(
            &person.accounts[1].bank_code_std,
            &person.accounts[1].account_num,
        ),
    );
    let expected_move = if done.state == TransferState::Completed {
        AMOUNT
    } else {
        0
    };
    assert_eq!((from, to), (-expected_move, expected_move), "{name}");
    let institution = &center.manifest.institutions[0];
    let kept = moved(
        &institution.collection_account.bank_code_std,
        &institution.collection_account.account_num,
    ) + moved(
        &institution.payout_account.bank_code_std,
        &institution.payout_account.account_num,
    );
    assert_eq!(kept, 0, "{name}: the institution kept or lost money");
    assert_only_moved(&before, &after, &center, &name);
    common::assert_money_invariants(&center, &opening).await;
    let store = common::open_store(dir.path(), database.as_ref()).await;
    common::assert_journal_agrees(&store, &admin, chrono::Utc::now() + offset).await;
    drop(store);
    center.shutdown().await;
    drop(dir);
}

/// Nothing but the person's two accounts and the institution's contract accounts changed.
fn assert_only_moved(before: &Ledger, after: &Ledger, center: &moa_testbed::Spawned, name: &str) {
    let person = &center.manifest.users[0];
    let institution = &center.manifest.institutions[0];
    let allowed = [
        (
            &person.accounts[0].bank_code_std,
            &person.accounts[0].account_num,
        ),
        (
            &person.accounts[1].bank_code_std,
            &person.accounts[1].account_num,
        ),
        (
            &institution.collection_account.bank_code_std,
            &institution.collection_account.account_num,
        ),
        (
            &institution.payout_account.bank_code_std,
            &institution.payout_account.account_num,
        ),
    ];
    let elsewhere: Vec<_> = after
        .changes_since(before)
        .into_iter()
        .filter(|((bank, num), _)| !allowed.contains(&(bank, num)))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "{name}: other money moved: {elsewhere:?}"
    );
}

/// The faults every step is crossed with, by name: each one that can strike a call.
fn faults() -> Vec<(&'static str, Value)> {
    vec![
        (
            "timeout, applied",
            json!({"kind": "timeout", "applied": true, "rsp_code": "A0007"}),
        ),
        (
            "timeout, not applied",
            json!({"kind": "timeout", "applied": false, "rsp_code": "A0017"}),
        ),
        (
            "dropped after commit",
            json!({"kind": "drop", "after_commit": true}),
        ),
        (
            "dropped before commit",
            json!({"kind": "drop", "after_commit": false}),
        ),
        (
            "refused",
            json!({"kind": "bank_error", "bank_rsp_code": "499"}),
        ),
        (
            "lands late",
            json!({"kind": "late", "after_ms": 800, "answer": "timeout"}),
        ),
    ]
}

/// Runs `cases` a few at a time, each with its own center and server processes.
async fn run_cases(cases: Vec<Case>) {
    const SIDE_BY_SIDE: usize = 6;
    let mut pending = cases.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < SIDE_BY_SIDE {
            match pending.next() {
                Some(case) => {
                    running.spawn(crash_at(case));
                }
                None => break,
            }
        }
        let Some(ended) = running.join_next().await else {
            break;
        };
        if let Err(e) = ended {
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("a case did not finish: {e}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_at_any_step_of_a_transfer_is_finished_by_the_next_one_exactly_once() {
    let cases = [
        (Step::BeforeWithdraw, false, TransferState::Failed),
        (Step::AfterWithdraw, false, TransferState::Completed),
        (Step::BeforeDeposit, false, TransferState::Completed),
        (Step::AfterDeposit, false, TransferState::Completed),
        (Step::BeforeRefund, true, TransferState::Refunded),
        (Step::AfterRefund, true, TransferState::Refunded),
    ];
    run_cases(
        cases
            .into_iter()
            .map(|(step, refund, expected)| Case {
                step,
                refund,
                fault: None,
                expected: Some(expected),
            })
            .collect(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_at_any_step_with_any_fault_at_that_call_loses_and_doubles_nothing() {
    let mut cases = Vec::new();
    for step in Step::ALL {
        for fault in faults() {
            cases.push(Case {
                step,
                refund: matches!(step, Step::BeforeRefund | Step::AfterRefund),
                fault: Some(fault),
                expected: None,
            });
        }
    }
    run_cases(cases).await;
}
