//! A process running a transfer is killed with SIGKILL at each step of the saga; a new process
//! resumes it from the journal. Money is conserved and no leg is applied twice.

#![allow(clippy::unwrap_used)] // Helpers here fail the test that calls them.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::DataDir;
use moa_core::journal::TransferState;
use moa_core::transfer::{SettlePolicy, Step};
use moa_core::{MemoryVault, Moa};
use serde_json::Value;

/// The probe, killed however the test ends.
struct Probe(Child);

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the probe until it stops at `step`, then kills it with SIGKILL.
fn run_until_killed(dir: &DataDir, step: Step, refund: bool) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_moa-transfer-probe"));
    command.arg(&dir.0).arg(step.as_str()).arg("23000");
    if refund {
        command.arg("refund");
    }
    let mut probe = Probe(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let stdout = probe.0.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        format!("stopped at {}", step.as_str()),
        "the probe never reached the step"
    );
    probe.0.kill().unwrap(); // SIGKILL
    probe.0.wait().unwrap();
}

async fn get(moa: &Moa, path: &str) -> Value {
    let (base, manifest) = moa.sandbox().await.unwrap();
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(&manifest.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_killed_at_any_step_is_finished_by_the_next_process_exactly_once() {
    let cases = [
        (Step::BeforeWithdraw, false, TransferState::Failed),
        (Step::AfterWithdraw, false, TransferState::Completed),
        (Step::BeforeDeposit, false, TransferState::Completed),
        (Step::AfterDeposit, false, TransferState::Completed),
        (Step::BeforeRefund, true, TransferState::Refunded),
        (Step::AfterRefund, true, TransferState::Refunded),
    ];
    for (step, refund, expected) in cases {
        let dir = DataDir::new(&format!("crash-{}", step.as_str()));
        run_until_killed(&dir, step, refund);

        // A new process: the same data folder, a fresh vault (the tokens died with the old one).
        let mut options = common::options(&dir, Arc::new(MemoryVault::new()));
        options.settle = SettlePolicy {
            attempts: 3,
            first_delay: Duration::from_millis(20),
        };
        let moa = Moa::open(options).await.unwrap();
        let ledger_before: Value = get(&moa, "/testbed/admin/ledger").await;
        let resumed = moa.resume_transfers(None).await.unwrap();
        assert_eq!(resumed.len(), 1, "{step:?}: one transfer was open");
        let done = &resumed[0];
        assert_eq!(done.state, expected, "{step:?}: {done:?}");
        assert!(
            moa.resume_transfers(None).await.unwrap().is_empty(),
            "{step:?}: nothing left open"
        );

        // The center's own record: each leg applied at most once, and what the saga says.
        let records = get(&moa, "/testbed/admin/transfers").await;
        let applied = |kind: &str| {
            records
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["kind"] == kind && r["status"] == "done")
                .count()
        };
        let (withdraws, deposits) = (applied("withdraw"), applied("deposit"));
        match expected {
            TransferState::Failed => assert_eq!((withdraws, deposits), (0, 0), "{step:?}"),
            // Completed: one deposit to the target. Refunded: one refund to the source.
            _ => assert_eq!((withdraws, deposits), (1, 1), "{step:?}"),
        }
        let ledger: Value = get(&moa, "/testbed/admin/ledger").await;
        assert_eq!(
            ledger["total"], ledger_before["total"],
            "{step:?}: money appeared or vanished"
        );
        let balance = |ledger: &Value, num: &str| {
            ledger["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["account_num"] == num)
                .unwrap()["balance"]
                .as_i64()
                .unwrap()
        };
        // The seed is the same for the same day, so a fresh center shows the balances before
        // the transfer began.
        let (seeded, manifest) = {
            let fresh = moa_testbed::spawn(moa_testbed::Config::in_memory())
                .await
                .unwrap();
            let ledger: Value = reqwest::Client::new()
                .get(format!("{}/testbed/admin/ledger", fresh.base_url))
                .bearer_auth(&fresh.manifest.admin_token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let manifest = fresh.manifest.clone();
            fresh.shutdown().await;
            (ledger, manifest)
        };
        let person = &manifest.users[0];
        let moved = |num: &str| balance(&ledger, num) - balance(&seeded, num);
        let (from, to) = (
            moved(&person.accounts[0].account_num),
            moved(&person.accounts[1].account_num),
        );
        let expected_move = if expected == TransferState::Completed {
            23_000
        } else {
            0
        };
        assert_eq!((from, to), (-expected_move, expected_move), "{step:?}");
        let institution = &manifest.institutions[0];
        let kept = moved(&institution.collection_account.account_num)
            + moved(&institution.payout_account.account_num);
        assert_eq!(kept, 0, "{step:?}: the institution kept or lost money");
        let history = moa.store().audit_log(50).unwrap();
        assert!(
            history
                .iter()
                .any(|e| e.subject == done.id && e.detail.starts_with("resumed")),
            "{step:?}"
        );
        moa.close().await;
    }
}
