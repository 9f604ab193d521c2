//! The testbed's shared state: the handle every request holds, how it is opened, and its
//! routes. What the center knows lives in `registry`, the checks every service API runs first
//! in `guards`, and what scripted faults do to a call in `playback`.

mod guards;
mod playback;
mod registry;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension};

use crate::clock::Clock;
use crate::db::{CommitHold, Db, DbError, Pragmas, WriterStats};
use crate::faults::Faults;
use crate::manifest::{self, Manifest};
use crate::session::Sessions;
use crate::{Config, Error, admin, api, oauth, pages, seed};

pub(crate) use self::guards::{Caller, Registration, mask};
pub(crate) use self::playback::{after_commit, inquiry_fault, late_answer, split_fault};
pub(crate) use self::registry::{AccountView, Bank, Institution};
use self::registry::{load_banks, load_institutions};

/// A running testbed's state; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Testbed {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testbed").finish_non_exhaustive()
    }
}

struct Inner {
    db: Db,
    clock: Clock,
    jwt_key: Vec<u8>,
    admin_token: String,
    /// Whether `/testbed/admin` is served ([`Config::admin`]).
    admin: bool,
    sessions: Sessions,
    faults: Faults,
    institutions: RwLock<Vec<Institution>>,
    banks: RwLock<HashMap<String, Bank>>,
    /// Contract accounts, read on every transfer and changed only by the admin API.
    contract_accounts: RwLock<HashMap<i64, AccountView>>,
    default_latency: Duration,
    /// `bank_tran_id`s seen, by the center's business date. Inquiries need not survive a
    /// restart; transfers are unique in the ledger itself.
    used_ids: Mutex<HashMap<String, HashSet<(i64, String)>>>,
    /// Transfers that land late ([`Fault::Late`]), waiting for their time. Dropping the set
    /// (with the testbed) or [`Testbed::stop_background`] aborts them: nothing outlives the
    /// testbed.
    late: Mutex<tokio::task::JoinSet<()>>,
}

impl Testbed {
    /// Opens the database (seeding an empty one) and loads what every request needs.
    pub async fn open(config: Config) -> Result<Self, Error> {
        let clock = Clock::default();
        // Before seeding: the seed's history ends on the center's yesterday, not the real one.
        clock.set_offset(config.clock_offset);
        let db = Db::open(&config.db, clock.clone())?;
        let today = clock.now().date_naive();
        db.write(move |conn| -> Result<(), DbError> {
            let seeded: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = 'seeded_on'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            if seeded.is_none() {
                seed::seed(conn, today)?;
            }
            Ok(())
        })
        .await?;

        let (meta, institutions, mut banks) = db
            .read(|conn| -> Result<_, DbError> {
                Ok((
                    load_meta(conn)?,
                    load_institutions(conn)?,
                    load_banks(conn)?,
                ))
            })
            .await?;
        for (bank_code, latency) in &config.bank_latency {
            if let Some(bank) = banks.get_mut(bank_code) {
                bank.latency = Some(*latency);
            }
        }
        for (bank_code, status) in &config.bank_status {
            if let Some(bank) = banks.get_mut(bank_code) {
                bank.status = status.clone();
            }
        }
        let faults = Faults::default();
        for rule in &config.faults {
            faults.add(rule.clone());
        }
        let institutions = institutions
            .into_iter()
            .collect::<Result<Vec<_>, String>>()
            .map_err(Error::Corrupt)?;
        let jwt_key = meta
            .get("jwt_key")
            .ok_or_else(|| Error::Corrupt("no signing key".into()))?
            .as_bytes()
            .to_vec();
        let admin_token = meta
            .get("admin_token")
            .cloned()
            .ok_or_else(|| Error::Corrupt("no admin token".into()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                jwt_key,
                admin_token,
                admin: config.admin,
                sessions: Sessions::default(),
                faults,
                institutions: RwLock::new(institutions),
                banks: RwLock::new(banks),
                contract_accounts: RwLock::new(HashMap::new()),
                default_latency: config.latency,
                used_ids: Mutex::new(HashMap::new()),
                late: Mutex::new(tokio::task::JoinSet::new()),
            }),
        })
    }

    /// Every route of the center: OAuth pages and token, the `/v2.0` APIs, and the testbed's own
    /// endpoints under `/testbed` — the admin API only when [`Config::admin`] turned it on.
    pub fn router(&self) -> Router {
        let mut router = Router::new()
            .merge(pages::routes())
            .merge(oauth::routes())
            .merge(api::routes());
        if self.inner.admin {
            router = router.merge(admin::routes());
        }
        router
            .merge(crate::fixtures::routes())
            .fallback(api::not_found)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                with_center_clock,
            ))
            .with_state(self.clone())
    }

    /// The sandbox manifest: base URL, admin token, institutions and demo people.
    pub async fn manifest(&self, base_url: &str) -> Result<Manifest, Error> {
        let base_url = base_url.to_owned();
        let admin_token = self.inner.admin_token.clone();
        let institutions = self.institutions();
        Ok(self
            .inner
            .db
            .read(move |conn| manifest::build(conn, base_url, admin_token, &institutions))
            .await?)
    }

    /// The center's clock, which tests may move.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub(crate) fn now(&self) -> DateTime<FixedOffset> {
        self.inner.clock.now()
    }
}

impl Testbed {
    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    pub(crate) fn jwt_key(&self) -> &[u8] {
        &self.inner.jwt_key
    }

    /// The token that guards `/testbed/admin`.
    pub fn admin_token(&self) -> &str {
        &self.inner.admin_token
    }

    /// What the database writer has committed so far (also `GET /testbed/admin/writer`).
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.db.stats()
    }

    /// The writer connection's durability settings, read from the connection.
    pub async fn writer_pragmas(&self) -> Result<Pragmas, DbError> {
        self.inner.db.pragmas().await
    }

    /// Holds every commit back until the hold is dropped: no write, and so no answer that
    /// waits for one, completes meanwhile. For tests that prove nothing is acknowledged before
    /// it is durable.
    pub fn hold_commits(&self) -> CommitHold {
        self.inner.db.hold_commits()
    }
}

/// Runs a request with the center's clock in reach of its refusals (see [`crate::wire::CENTER_CLOCK`]).
async fn with_center_clock(
    axum::extract::State(testbed): axum::extract::State<Testbed>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    crate::wire::CENTER_CLOCK
        .scope(testbed.clock().clone(), next.run(request))
        .await
}

fn load_meta(conn: &Connection) -> Result<HashMap<String, String>, DbError> {
    let mut stmt = conn.prepare("SELECT key, value FROM meta")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
