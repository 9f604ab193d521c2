//! The testbed's SQLite database: one writer thread that commits in groups, and a pool of readers.
//!
//! Every write is a closure run on the writer thread inside its own savepoint. The thread takes
//! whatever closures are queued, runs them one after another in a single transaction and commits
//! once, so sixteen concurrent transfers cost one `fsync`, not sixteen (group commit). A closure
//! that returns an error has its savepoint rolled back and leaves no trace; nobody hears "done"
//! before the commit that made their write durable has returned.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

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
}

type Finisher = Box<dyn FnOnce(Result<(), DbError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Finisher) + Send>;

/// Jobs taken into one transaction at most. Bounds the latency a single commit adds.
const MAX_GROUP: usize = 512;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    writer: mpsc::Sender<Job>,
    readers: Option<Arc<ReaderPool>>,
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

impl Db {
    /// Opens (creating and migrating when needed) the database and starts its writer thread.
    pub fn open(location: &DbLocation) -> Result<Self, DbError> {
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
        // survives a power cut as well as a `kill -9`.
        conn.pragma_update(None, "synchronous", "FULL")?;
        schema::migrate(&conn)?;

        let (writer, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("testbed-db-writer".into())
            .spawn(move || writer_loop(conn, jobs))
            .map_err(|_| DbError::Stopped)?;

        let readers = match location {
            DbLocation::File(path) => Some(Arc::new(ReaderPool {
                path: path.clone(),
                idle: Mutex::new(Vec::new()),
            })),
            DbLocation::Memory => None,
        };
        Ok(Self { writer, readers })
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
        let (tx, rx) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let finish: Finisher = Box::new(move |commit| {
                let _ = tx.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(E::from(e)),
                });
            });
            (ok, finish)
        });
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

fn writer_loop(conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        run_group(&conn, group);
    }
}

fn run_group(conn: &Connection, group: Vec<Job>) {
    // A job that never runs, or panics, drops its result channel: its caller sees `Panicked`.
    if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
        return;
    }
    let mut finishers = Vec::with_capacity(group.len());
    for job in group {
        if conn.execute_batch("SAVEPOINT job").is_err() {
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| job(conn))) {
            Ok((true, finish)) => {
                if conn.execute_batch("RELEASE job").is_ok() {
                    finishers.push(finish);
                } else {
                    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                }
            }
            Ok((false, finish)) => {
                // A failed job leaves nothing behind; its own error goes back as it is.
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                finishers.push(finish);
            }
            Err(_) => {
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            }
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => finishers.into_iter().for_each(|finish| finish(Ok(()))),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            let message = e.to_string();
            for finish in finishers {
                finish(Err(DbError::Commit(message.clone())));
            }
        }
    }
}
