//! Who runs a transfer. A replica claims a transfer before it runs it: the claim names the
//! replica (`claimed_by`, and on PostgreSQL its presence key `claim_key`), lasts until
//! `lease_until` unless renewed, and raises the transfer's fencing token (`fence`). Every
//! journal write and every call logged by the saga is conditional on the fence it claimed with,
//! so a replica whose claim another took over has every write refused, and stops.
//!
//! A claim can be taken over when its lease has run out, or — on PostgreSQL — when the replica
//! that holds it is gone: each replica holds a session-level advisory lock on its presence key
//! for its life, on a connection of its own, and a claim whose key nobody holds belongs to a
//! replica that died. On SQLite one process owns the file (its lock file), so at start every
//! claim a previous process left is released.

use chrono::{DateTime, TimeDelta, Utc};

use super::db::params;
use super::{Result, Store, StoreError, ts};

/// The first half of a replica's presence lock (`pg_advisory_lock(PRESENCE_CLASS, key)`);
/// "Moa" in ASCII. The second half is the replica's key.
const PRESENCE_CLASS: i32 = 0x004d_6f61;

/// This process as a claimant: an id for `claimed_by`, and on PostgreSQL the key of the
/// advisory lock it holds for as long as it lives.
pub(super) struct Replica {
    id: String,
    key: i64,
    /// The connection that holds the presence lock; closing it (the process dying) frees it.
    _presence: Option<tokio_postgres::Client>,
}

impl Replica {
    /// A replica with a fresh id.
    pub(super) fn new(key: i64, presence: Option<tokio_postgres::Client>) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            key,
            _presence: presence,
        }
    }

    /// A PostgreSQL replica: connects once more, outside the pool, and takes a presence key
    /// nobody else holds.
    pub(super) async fn present(config: &tokio_postgres::Config) -> Result<Self> {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            if connection.await.is_err() {
                tracing::warn!(
                    "the connection holding this replica's presence closed; other replicas may \
                     take over its transfers once their leases run out"
                );
            }
        });
        for _ in 0..16 {
            let key = i64::from(rand::random::<u32>() >> 1).max(1);
            let taken: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&PRESENCE_CLASS, &(key as i32)],
                )
                .await?
                .get(0);
            if taken {
                return Ok(Self::new(key, Some(client)));
            }
        }
        Err(StoreError::Postgres("no presence key was free".into()))
    }
}

/// A replica's claim on one transfer: what its journal writes are fenced with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The transfer claimed.
    pub transfer_id: String,
    /// The fencing token: raised by every claim, so an older claim's writes are refused.
    pub fence: i64,
    /// How long the claim lasts from each renewal.
    pub lease: TimeDelta,
}

impl Claim {
    /// When the claim runs out if renewed at `now`.
    pub(super) fn until(&self, now: DateTime<Utc>) -> String {
        ts(&(now + self.lease))
    }
}

/// The condition under which a transfer may be claimed at `?{now}`: nobody holds it, its lease
/// ran out, or (PostgreSQL) the replica holding it is gone.
fn claimable(postgres: bool, now: usize) -> String {
    let gone = if postgres {
        format!(
            " OR NOT EXISTS (SELECT 1 FROM pg_locks l
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND l.classid = {PRESENCE_CLASS} AND l.objid = transfers.claim_key::oid)"
        )
    } else {
        String::new()
    };
    format!("(claimed_by IS NULL OR lease_until <= ?{now}{gone})")
}

const OPEN: &str = "state NOT IN ('completed', 'refunded', 'failed')";

impl Store {
    /// This process's id as a claimant (`claimed_by`).
    pub fn replica(&self) -> &str {
        &self.replica.id
    }

    /// Claims transfer `id` for `lease` from `now`: `None` when it has ended or another
    /// replica (or task) holds a live claim on it.
    pub async fn claim_transfer(
        &self,
        id: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<Claim>> {
        let sql = format!(
            "UPDATE transfers SET claimed_by = ?2, claim_key = ?3, lease_until = ?4,
                fence = fence + 1, claim_round = NULL
             WHERE id = ?1 AND {OPEN} AND {}
             RETURNING fence",
            claimable(self.db().is_postgres(), 5)
        );
        let (until, at) = (ts(&(now + lease)), ts(&now));
        let row = self
            .db()
            .query_opt(
                &sql,
                params![
                    id,
                    self.replica.id.as_str(),
                    self.replica.key,
                    until.as_str(),
                    at.as_str()
                ],
            )
            .await?;
        row.map(|r| {
            Ok(Claim {
                transfer_id: id.to_owned(),
                fence: r.i64(0)?,
                lease,
            })
        })
        .transpose()
    }

    /// Claims the oldest open transfer with something to do at `now` that nobody holds and
    /// that this round (`round`, any text unique to it) has not claimed yet. On PostgreSQL the
    /// pick skips rows another replica is claiming at the same moment (`FOR UPDATE SKIP
    /// LOCKED`), so replicas resuming together share the work rather than queue for it.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        round: &str,
    ) -> Result<Option<Claim>> {
        let postgres = self.db().is_postgres();
        let pick = format!(
            "SELECT id FROM transfers
             WHERE {OPEN} AND (next_check_at IS NULL OR next_check_at <= ?1) AND {}
               AND (claim_round IS NULL OR claim_round <> ?2)
             ORDER BY created_at, seq LIMIT 1{}",
            claimable(postgres, 1),
            if postgres {
                " FOR UPDATE SKIP LOCKED"
            } else {
                ""
            }
        );
        let (until, at) = (ts(&(now + lease)), ts(&now));
        let mut tx = self.db().begin().await?;
        let Some(picked) = tx.query_opt(&pick, params![at.as_str(), round]).await? else {
            return Ok(None);
        };
        let id = picked.text(0)?;
        let fence = tx
            .query_opt(
                "UPDATE transfers SET claimed_by = ?2, claim_key = ?3, lease_until = ?4,
                    fence = fence + 1, claim_round = ?5
                 WHERE id = ?1 RETURNING fence",
                params![
                    id.as_str(),
                    self.replica.id.as_str(),
                    self.replica.key,
                    until.as_str(),
                    round
                ],
            )
            .await?
            .ok_or(StoreError::Corrupt("claimed transfer"))?
            .i64(0)?;
        tx.commit().await?;
        Ok(Some(Claim {
            transfer_id: id,
            fence,
            lease,
        }))
    }

    /// Extends `claim` to a lease from `now`; `false` when it is no longer this claim (another
    /// replica took the transfer over, or it was released).
    pub async fn renew_claim(&self, claim: &Claim, now: DateTime<Utc>) -> Result<bool> {
        let until = claim.until(now);
        let renewed = self
            .db()
            .execute(
                "UPDATE transfers SET lease_until = ?3
                 WHERE id = ?1 AND fence = ?2 AND claimed_by IS NOT NULL",
                params![claim.transfer_id.as_str(), claim.fence, until.as_str()],
            )
            .await?;
        Ok(renewed == 1)
    }

    /// Gives `claim` up: the transfer may be claimed at once. Nothing happens when the claim
    /// was taken over already.
    pub async fn release_claim(&self, claim: &Claim) -> Result<()> {
        self.db()
            .execute(
                "UPDATE transfers SET claimed_by = NULL, lease_until = NULL
                 WHERE id = ?1 AND fence = ?2",
                params![claim.transfer_id.as_str(), claim.fence],
            )
            .await?;
        Ok(())
    }
}
