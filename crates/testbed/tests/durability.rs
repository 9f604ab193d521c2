//! Durability, proved from inside rather than by surviving a crash (which a testbed with
//! `synchronous = OFF` would survive too): the writer commits with `synchronous = FULL` in WAL
//! mode, and no transfer is answered before the commit that made it durable has returned.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::Bed;
use common::money::{Answer, classify};
use moa_testbed::Config;
use reqwest::Method;

/// A private folder under the system's temp dir, removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "moa-testbed-durability-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&path).expect("a temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A testbed on a database file: what the binary runs, and what durability is about.
async fn on_file(dir: &TempDir) -> Bed {
    let mut config = Config::file(dir.0.join("testbed.db"));
    config.latency = Duration::ZERO;
    common::spawn_with(config).await
}

#[tokio::test]
async fn the_writer_commits_with_synchronous_full_in_wal_mode() {
    let dir = TempDir::new();
    let bed = on_file(&dir).await;
    let writer = bed
        .admin
        .call(Method::GET, "/testbed/admin/writer", None)
        .await;
    assert_eq!(writer["synchronous"], 2, "FULL: {writer}");
    assert_eq!(writer["journal_mode"], "wal", "{writer}");
    let pragmas = bed
        .spawned
        .testbed
        .writer_pragmas()
        .await
        .expect("the pragmas read");
    assert_eq!(
        (pragmas.synchronous, pragmas.journal_mode.as_str()),
        (2, "wal")
    );
    // In memory there is no disk, but the setting is the same.
    let in_memory = common::spawn().await;
    let pragmas = in_memory
        .spawned
        .testbed
        .writer_pragmas()
        .await
        .expect("the pragmas read");
    assert_eq!(pragmas.synchronous, 2);
}

#[tokio::test]
async fn no_transfer_is_answered_before_the_commit_that_made_it_durable_returns() {
    let dir = TempDir::new();
    let bed = std::sync::Arc::new(on_file(&dir).await);
    let accounts: Vec<usize> = (0..bed.person(0).accounts.len()).collect();
    let user = bed.user(0, 0, &accounts).await;
    let fintech = bed.fintech_nums(&user).await;
    let oob = bed.oob_token(0).await;
    let testbed = bed.spawned.testbed.clone();
    let before = testbed.writer_stats();

    let hold = testbed.hold_commits();
    let mut calls: Vec<_> = (0..8)
        .map(|i| {
            let (bed, user, fintech, oob) =
                (bed.clone(), user.clone(), fintech[0].clone(), oob.clone());
            tokio::spawn(async move {
                let id = bed.next_id(0);
                if i % 2 == 0 {
                    classify(bed.withdraw(&user, &id, &fintech, 1_000).await)
                } else {
                    classify(bed.deposit(0, &oob, &id, &fintech, 1_000).await)
                }
            })
        })
        .collect();
    // Long enough for every call to reach the writer and run; an answer sent before its commit
    // would arrive now.
    tokio::time::sleep(Duration::from_millis(700)).await;
    for call in &calls {
        assert!(
            !call.is_finished(),
            "answered while its commit was held back"
        );
    }
    assert_eq!(
        testbed.writer_stats().groups_committed,
        before.groups_committed
    );
    drop(hold);
    for call in calls.drain(..) {
        assert_eq!(call.await.expect("the call ends"), Answer::Applied);
    }
    let after = testbed.writer_stats();
    assert!(
        after.committed_through >= before.committed_through + 8,
        "every answered transfer was committed: {before:?} → {after:?}"
    );
    // The calls that queued while the first group waited went in together: group commit.
    assert!(
        after.groups_committed - before.groups_committed < 8,
        "{before:?} → {after:?}"
    );
    assert_eq!(after.groups_failed, before.groups_failed);
}
