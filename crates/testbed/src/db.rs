//! The testbed's SQLite database: one writer thread that commits in groups, and a pool of readers.
//!
//! Every write is a closure run on the writer thread inside its own savepoint. The thread takes
//! whatever closures are queued, runs them one after another in a single transaction and commits
//! once, so sixteen concurrent transfers cost one `fsync`, not sixteen (group commit). A closure
//! that returns an error has its savepoint rolled back and leaves no trace; nobody hears "done"
//! before the commit that made their write durable has returned.
//!
//! A group is all or nothing against SQLite's own failures. A write that fails badly enough (a
//! full disk, an I/O error) may make SQLite roll back the whole transaction; the jobs after it
//! would then each commit on their own while the jobs before it were lost. So after every job
//! the writer checks that the group's transaction is still open, and when it is not, every job
//! of the group is told it failed and the jobs not run yet never run.
//!
//! Every job of a group is given the same time, the center's clock read when the group starts.
//! Groups run one after another, so the time a write records never runs against the order in
//! which the writes were made: an account's history ordered by time chains its after-balances.
//!
//! Commits are durable: the writer's connection runs `synchronous = FULL` (in WAL mode for a
//! file), so a commit is on the disk before anyone is told, and an acknowledged transfer survives
//! a power cut as well as a `kill -9`. [`Db::stats`] and [`Db::pragmas`] let tests check both.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};

use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::schema;

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A file, created when missing; survives restarts and `kill -9`.
    File(PathBuf),
    /// A private in-memory database, gone when the testbed stops.
    Memory,
}

impl DbLocation {
    /// Parses the command line's `--db` value: `:memory:` or a file path.
    pub fn parse(value: &str) -> Self {
        if value == ":memory:" {
            Self::Memory
        } else {
            Self::File(PathBuf::from(value))
        }
    }
}

/// A database failure: the testbed answers it as the center's internal error (`A0003`).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer thread is gone (the testbed is shutting down).
    #[error("database writer stopped")]
    Stopped,
    /// A write closure panicked, or never ran; nothing of it was written.
    #[error("database write did not run")]
    Panicked,
    /// The group's commit failed; nothing of it was written.
    #[error("database commit failed: {0}")]
    Commit(String),
    /// The group's transaction was lost before its commit (SQLite rolled it back after a full
    /// disk or an I/O error, or a job ended it): nothing of the group was written, this write
    /// included.
    #[error("database group failed: {0}")]
    GroupFailed(String),
}

type Finisher = Box<dyn FnOnce(Result<(), DbError>) + Send>;

/// What the writer asks of a job: run on the connection at the group's time, or give up
/// without running because its group failed first.
enum Step<'a> {
    Run(&'a Connection, &'a DateTime<FixedOffset>),
    Abandon(DbError),
}

/// A queued write: its sequence number and the closure that runs it. Run, it answers whether it
/// succeeded and how to tell its caller once the group's fate is known; abandoned, it tells its
/// caller itself.
struct Job {
    seq: u64,
    step: Box<StepFn>,
}

type StepFn = dyn FnOnce(Step<'_>) -> Option<(bool, Finisher)> + Send;

impl Job {
    fn run(self, conn: &Connection, at: &DateTime<FixedOffset>) -> Option<(bool, Finisher)> {
        (self.step)(Step::Run(conn, at))
    }

    fn abandon(self, error: DbError) {
        (self.step)(Step::Abandon(error));
    }
}

/// Jobs taken into one transaction at most. Bounds the latency a single commit adds.
const MAX_GROUP: usize = 512;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    writer: mpsc::Sender<Job>,
    readers: Option<Arc<ReaderPool>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("pooled_readers", &self.readers.is_some())
            .finish()
    }
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// What the handles and the writer thread share: the job numbers, the counters, the hold.
#[derive(Default)]
struct Shared {
    next_seq: AtomicU64,
    groups_committed: AtomicU64,
    groups_failed: AtomicU64,
    jobs_committed: AtomicU64,
    committed_through: AtomicU64,
    /// How many [`CommitHold`]s are alive; the writer waits before `COMMIT` while any is.
    holds: Mutex<u32>,
    released: Condvar,
}

/// What the writer has done since the database opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriterStats {
    /// Groups whose `COMMIT` returned: each one `fsync`.
    pub groups_committed: u64,
    /// Groups that failed as a whole; nothing of them was written.
    pub groups_failed: u64,
    /// Writes committed (a write whose closure failed counts: its group committed without it).
    pub jobs_committed: u64,
    /// The highest sequence number of a write whose group's `COMMIT` has returned; it is
    /// counted before the write's caller is told. Writes are numbered from 1 as they are queued.
    pub committed_through: u64,
}

/// The writer connection's settings that make a commit durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pragmas {
    /// `PRAGMA synchronous`: 0 `OFF`, 1 `NORMAL`, 2 `FULL`, 3 `EXTRA`.
    pub synchronous: i64,
    /// `PRAGMA journal_mode`: `wal` for a file, `memory` in memory.
    pub journal_mode: String,
}

/// While alive, the writer holds every commit back: it runs the jobs it has, then waits before
/// `COMMIT`. A test takes one to see that no caller hears of a write before it is durable.
#[must_use = "the hold ends when it is dropped"]
pub struct CommitHold {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CommitHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitHold").finish_non_exhaustive()
    }
}

impl Drop for CommitHold {
    fn drop(&mut self) {
        let mut holds = self.shared.holds.lock().unwrap_or_else(|e| e.into_inner());
        *holds = holds.saturating_sub(1);
        self.shared.released.notify_all();
    }
}

impl Db {
    /// Opens (creating and migrating when needed) the database and starts its writer thread,
    /// which stamps each group of writes with `clock`'s time.
    pub fn open(location: &DbLocation, clock: Clock) -> Result<Self, DbError> {
        let conn = match location {
            DbLocation::File(path) => {
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn
            }
            DbLocation::Memory => Connection::open_in_memory()?,
        };
        configure(&conn)?;
        // FULL: a commit is on the disk before the writer answers, so an acknowledged transfer
        // survives a power cut as well as a `kill -9`. (NORMAL in WAL mode would survive only
        // the `kill -9`: the last commits before a power cut could be lost.)
        conn.pragma_update(None, "synchronous", "FULL")?;
        schema::migrate(&conn)?;

        let shared = Arc::new(Shared::default());
        let (writer, jobs) = mpsc::channel::<Job>();
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("testbed-db-writer".into())
            .spawn(move || writer_loop(conn, jobs, clock, thread_shared))
            .map_err(|_| DbError::Stopped)?;

        let readers = match location {
            DbLocation::File(path) => Some(Arc::new(ReaderPool {
                path: path.clone(),
                idle: Mutex::new(Vec::new()),
            })),
            DbLocation::Memory => None,
        };
        Ok(Self {
            writer,
            readers,
            shared,
        })
    }

    /// Runs `f` inside a transaction on the writer thread and returns once it is committed.
    /// When `f` fails, nothing it wrote remains.
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.write_at(move |conn, _| f(conn)).await
    }

    /// As [`Db::write`], with the center's time when the write's group runs: what a write that
    /// records a time (a ledger posting) must use, so that times follow the order of the writes.
    pub async fn write_at<T, E>(
        &self,
        f: impl FnOnce(&Connection, &DateTime<FixedOffset>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let seq = self.shared.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let (job, rx) = job(seq, f);
        self.writer
            .send(job)
            .map_err(|_| E::from(DbError::Stopped))?;
        rx.await.map_err(|_| E::from(DbError::Panicked))?
    }

    /// Runs a read-only `f` on a pooled connection (WAL readers never wait for the writer).
    pub async fn read<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let Some(pool) = self.readers.clone() else {
            // An in-memory database has one connection: reads queue with the writes.
            return self.write(f).await;
        };
        tokio::task::spawn_blocking(move || {
            let conn = pool.take().map_err(E::from)?;
            let result = f(&conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(|_| E::from(DbError::Panicked))?
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> WriterStats {
        let s = &self.shared;
        WriterStats {
            groups_committed: s.groups_committed.load(Ordering::Acquire),
            groups_failed: s.groups_failed.load(Ordering::Acquire),
            jobs_committed: s.jobs_committed.load(Ordering::Acquire),
            committed_through: s.committed_through.load(Ordering::Acquire),
        }
    }

    /// The writer connection's durability settings, read from the connection itself.
    pub async fn pragmas(&self) -> Result<Pragmas, DbError> {
        self.write(|conn| -> Result<Pragmas, DbError> {
            Ok(Pragmas {
                synchronous: conn.pragma_query_value(None, "synchronous", |r| r.get(0))?,
                journal_mode: conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?,
            })
        })
        .await
    }

    /// Holds every commit back until the hold is dropped (see [`CommitHold`]).
    pub fn hold_commits(&self) -> CommitHold {
        *self.shared.holds.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        CommitHold {
            shared: self.shared.clone(),
        }
    }
}

/// Wraps `f` into a job numbered `seq`, and the channel its caller hears the outcome on.
fn job<T, E>(
    seq: u64,
    f: impl FnOnce(&Connection, &DateTime<FixedOffset>) -> Result<T, E> + Send + 'static,
) -> (Job, oneshot::Receiver<Result<T, E>>)
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let (tx, rx) = oneshot::channel::<Result<T, E>>();
    let step = move |step: Step<'_>| match step {
        Step::Run(conn, at) => {
            let result = f(conn, at);
            let ok = result.is_ok();
            let finish: Finisher = Box::new(move |commit| {
                let _ = tx.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(E::from(e)),
                });
            });
            Some((ok, finish))
        }
        Step::Abandon(error) => {
            let _ = tx.send(Err(E::from(error)));
            None
        }
    };
    (
        Job {
            seq,
            step: Box::new(step),
        },
        rx,
    )
}

impl ReaderPool {
    fn take(&self) -> Result<Connection, DbError> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < 16 {
            idle.push(conn);
        }
    }
}

fn configure(conn: &Connection) -> Result<(), DbError> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn writer_loop(conn: Connection, jobs: mpsc::Receiver<Job>, clock: Clock, shared: Arc<Shared>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        run_group(&conn, group, &clock, &shared);
    }
}

/// Runs `group` in one transaction and tells each caller once the commit has returned.
fn run_group(conn: &Connection, group: Vec<Job>, clock: &Clock, shared: &Shared) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        shared.groups_failed.fetch_add(1, Ordering::AcqRel);
        let message = e.to_string();
        for job in group {
            job.abandon(DbError::GroupFailed(message.clone()));
        }
        return;
    }
    let at = clock.now();
    let highest = group.iter().map(|j| j.seq).max().unwrap_or(0);
    let count = group.len() as u64;
    let mut finishers = Vec::with_capacity(group.len());
    let mut lost: Option<String> = None;
    let mut jobs = group.into_iter();
    for job in jobs.by_ref() {
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            job.abandon(DbError::GroupFailed(e.to_string()));
            lost = Some(format!("savepoint: {e}"));
            break;
        }
        // A job that panics drops its result channel: its caller sees `Panicked`.
        let ran = catch_unwind(AssertUnwindSafe(|| job.run(conn, &at)))
            .ok()
            .flatten();
        // SQLite may have rolled back the whole transaction (SQLITE_FULL, SQLITE_IOERR, …), or
        // the job ended it: then what the jobs before wrote is gone, and every later savepoint
        // would open and commit a transaction of its own.
        if conn.is_autocommit() {
            finishers.extend(ran.map(|(_, finish)| finish));
            lost = Some("the transaction was rolled back".into());
            break;
        }
        match ran {
            Some((true, finish)) => {
                if conn.execute_batch("RELEASE job").is_ok() {
                    finishers.push(finish);
                } else {
                    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                    finish(Err(DbError::Panicked));
                }
            }
            Some((false, finish)) => {
                // A failed job leaves nothing behind; its own error goes back as it is.
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                finishers.push(finish);
            }
            None => {
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            }
        }
        if conn.is_autocommit() {
            lost = Some("the transaction was rolled back at a savepoint".into());
            break;
        }
    }
    if let Some(why) = lost {
        // Nothing of the group remains. The jobs not run yet never run: each would have
        // committed on its own, outside the group.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        shared.groups_failed.fetch_add(1, Ordering::AcqRel);
        for job in jobs {
            job.abandon(DbError::GroupFailed(why.clone()));
        }
        for finish in finishers {
            finish(Err(DbError::GroupFailed(why.clone())));
        }
        return;
    }
    // A test's hold keeps the commit back, and with it every answer of the group.
    let mut holds = shared.holds.lock().unwrap_or_else(|e| e.into_inner());
    while *holds > 0 {
        holds = shared
            .released
            .wait(holds)
            .unwrap_or_else(|e| e.into_inner());
    }
    drop(holds);
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            // Counted before anyone is told, so a caller that has heard "done" finds its write
            // counted as committed.
            shared.jobs_committed.fetch_add(count, Ordering::AcqRel);
            shared
                .committed_through
                .fetch_max(highest, Ordering::AcqRel);
            shared.groups_committed.fetch_add(1, Ordering::AcqRel);
            finishers.into_iter().for_each(|finish| finish(Ok(())));
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            shared.groups_failed.fetch_add(1, Ordering::AcqRel);
            let message = e.to_string();
            for finish in finishers {
                finish(Err(DbError::Commit(message.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Outcome = oneshot::Receiver<Result<(), DbError>>;

    fn insert(seq: u64, value: &'static str) -> (Job, Outcome) {
        job(seq, move |conn: &Connection, _: &DateTime<FixedOffset>| {
            conn.execute("INSERT INTO t (v) VALUES (?1)", [value])?;
            Ok(())
        })
    }

    fn rows(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY rowid").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT NOT NULL)")
            .unwrap();
        conn
    }

    /// What each caller heard: `Some(true)` done, `Some(false)` failed, `None` nothing yet.
    fn heard(mut outcomes: Vec<Outcome>) -> Vec<Option<bool>> {
        outcomes
            .iter_mut()
            .map(|rx| match rx.try_recv() {
                Ok(result) => Some(result.is_ok()),
                Err(oneshot::error::TryRecvError::Closed) => Some(false),
                Err(oneshot::error::TryRecvError::Empty) => None,
            })
            .collect()
    }

    #[test]
    fn a_group_commits_its_jobs_together_and_a_failed_job_leaves_no_trace() {
        let conn = table();
        let shared = Shared::default();
        let (a, ra) = insert(1, "a");
        let (b, rb) = job(2, |conn: &Connection, _: &DateTime<FixedOffset>| {
            conn.execute("INSERT INTO t (v) VALUES ('b')", [])?;
            Err::<(), _>(DbError::Stopped)
        });
        let (c, rc) = insert(3, "c");
        run_group(&conn, vec![a, b, c], &Clock::default(), &shared);
        assert_eq!(rows(&conn), ["a", "c"]);
        assert_eq!(
            heard(vec![ra, rb, rc]),
            [Some(true), Some(false), Some(true)]
        );
        assert_eq!(
            (
                shared.groups_committed.into_inner(),
                shared.committed_through.into_inner()
            ),
            (1, 3)
        );
    }

    #[test]
    fn a_job_that_ends_the_groups_transaction_fails_the_whole_group_and_no_later_job_runs_alone() {
        let conn = table();
        let shared = Shared::default();
        let (a, ra) = insert(1, "a");
        // What SQLite does itself after a full disk or an I/O error: the transaction is gone.
        let (b, rb) = job(2, |conn: &Connection, _: &DateTime<FixedOffset>| {
            conn.execute_batch("ROLLBACK")?;
            Ok::<(), DbError>(())
        });
        let (c, rc) = insert(3, "c");
        let (d, rd) = insert(4, "d");
        run_group(&conn, vec![a, b, c, d], &Clock::default(), &shared);
        assert_eq!(
            rows(&conn),
            Vec::<String>::new(),
            "nothing of a failed group is written, not even by the jobs after the failure"
        );
        assert_eq!(heard(vec![ra, rb, rc, rd]), [Some(false); 4]);
        assert_eq!(
            (
                shared.groups_committed.load(Ordering::Acquire),
                shared.groups_failed.load(Ordering::Acquire),
                shared.committed_through.load(Ordering::Acquire)
            ),
            (0, 1, 0)
        );
        assert!(conn.is_autocommit());
        // The next group runs in a transaction of its own again.
        let (e, re) = insert(5, "e");
        run_group(&conn, vec![e], &Clock::default(), &shared);
        assert_eq!(rows(&conn), ["e"]);
        assert_eq!(heard(vec![re]), [Some(true)]);
    }

    #[test]
    fn a_full_database_fails_the_write_that_filled_it_or_its_whole_group_never_half_of_it() {
        let dir = std::env::temp_dir().join(format!("moa-testbed-full-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join("full.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT NOT NULL)")
            .unwrap();
        let pages: i64 = conn
            .pragma_query_value(None, "page_count", |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages + 2)
            .unwrap();
        let shared = Shared::default();
        let (a, ra) = insert(1, "a");
        let (b, rb) = job(2, |conn: &Connection, _: &DateTime<FixedOffset>| {
            let big = "x".repeat(64 * 1024);
            conn.execute("INSERT INTO t (v) VALUES (?1)", [big])?;
            Ok::<(), DbError>(())
        });
        let (c, rc) = insert(3, "c");
        run_group(&conn, vec![a, b, c], &Clock::default(), &shared);
        let heard = heard(vec![ra, rb, rc]);
        assert_eq!(heard[1], Some(false), "the write that did not fit failed");
        let written = rows(&conn);
        // SQLite undoes the one statement, or the whole transaction; either way every caller
        // told "done" finds their write, and every one told otherwise finds none.
        match written.as_slice() {
            [a, c] if a == "a" && c == "c" => {
                assert_eq!(heard, [Some(true), Some(false), Some(true)])
            }
            [] => assert_eq!(heard, [Some(false); 3]),
            other => panic!("half a group was written: {other:?}, callers heard {heard:?}"),
        }
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_job_of_a_group_sees_the_time_the_group_started() {
        let conn = table();
        let shared = Shared::default();
        let clock = Clock::default();
        let before = clock.now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let group = (1..=3)
            .map(|seq| {
                let times = times.clone();
                job(seq, move |_: &Connection, at: &DateTime<FixedOffset>| {
                    times.lock().unwrap().push(*at);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    Ok::<(), DbError>(())
                })
                .0
            })
            .collect();
        run_group(&conn, group, &clock, &shared);
        let times = times.lock().unwrap();
        assert_eq!(times.len(), 3);
        assert!(times.iter().all(|t| *t == times[0] && *t >= before));
    }
}
