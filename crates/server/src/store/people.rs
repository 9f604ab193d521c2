//! People: who the center says they are (`user_seq_no`, name), and their KFTC tokens, sealed.

use chrono::{DateTime, Utc};

use super::db::{Tx, params};
use super::{Result, Store, parse_ts, ts};

/// The first half of a person's renewal lock on PostgreSQL ("Mor"); the person's id is the
/// second.
const RENEWAL_CLASS: i64 = 0x004d_6f72;

/// Held while a person's token is renewed: one renewal at a time per person, across every
/// replica on the database. On PostgreSQL a transaction-scoped advisory lock, released when the
/// transaction ends (or its connection closes); on SQLite, whose file one process owns, a lock
/// in memory shared by every clone of the store.
pub(crate) enum RenewalLock<'a> {
    Sqlite(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>),
    Postgres(Tx<'a>),
}

impl RenewalLock<'_> {
    /// Lets the next renewal of the person go.
    pub(crate) async fn release(self) {
        if let RenewalLock::Postgres(tx) = self {
            // A commit that fails closes the connection, which ends the lock all the same.
            let _ = tx.commit().await;
        }
    }
}

/// A person as the server knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    /// Row id.
    pub id: i64,
    /// The center's id of the person.
    pub user_seq_no: String,
    /// Their name, from `user/me`.
    pub name: String,
    /// When their access token runs out, when they have one.
    pub token_expires_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Waits for, and takes, the lock on renewing `person_id`'s token. Whoever takes it next
    /// must read the stored token again: another replica may have renewed it meanwhile.
    pub(crate) async fn lock_renewal(&self, person_id: i64) -> Result<RenewalLock<'_>> {
        if !self.db().is_postgres() {
            let lock = self
                .renewals
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(person_id)
                .or_default()
                .clone();
            return Ok(RenewalLock::Sqlite(lock.lock_owned().await));
        }
        let key = (RENEWAL_CLASS << 32) | (person_id & 0xffff_ffff);
        let mut tx = self.db().begin().await?;
        tx.query("SELECT pg_advisory_xact_lock(?1)::text", params![key])
            .await?;
        Ok(RenewalLock::Postgres(tx))
    }

    /// The person with `user_seq_no`, made when new; their name is updated.
    pub async fn upsert_person(
        &self,
        user_seq_no: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let now = ts(&now);
        self.db()
            .query_one(
                "INSERT INTO people (user_seq_no, name, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (user_seq_no) DO UPDATE
                 SET name = excluded.name, updated_at = excluded.updated_at
                 RETURNING id",
                params![user_seq_no, name, now.as_str()],
            )
            .await?
            .i64(0)
    }

    /// One person.
    pub async fn person(&self, id: i64) -> Result<Option<PersonRecord>> {
        let found = self
            .db()
            .query_opt(
                "SELECT id, user_seq_no, name, token_expires_at FROM people WHERE id = ?1",
                params![id],
            )
            .await?;
        found
            .map(|r| {
                Ok(PersonRecord {
                    id: r.i64(0)?,
                    user_seq_no: r.text(1)?,
                    name: r.text(2)?,
                    token_expires_at: parse_ts(r.opt_text(3)?)?,
                })
            })
            .transpose()
    }

    /// Every person who has a token: what the token renewal looks at.
    pub async fn people_with_tokens(&self) -> Result<Vec<i64>> {
        self.db()
            .query(
                "SELECT id FROM people WHERE token IS NOT NULL ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.i64(0))
            .collect()
    }

    /// The person's sealed token, as stored.
    pub async fn sealed_token(&self, person_id: i64) -> Result<Option<Vec<u8>>> {
        match self
            .db()
            .query_opt("SELECT token FROM people WHERE id = ?1", params![person_id])
            .await?
        {
            Some(r) => r.opt_bytes(0),
            None => Ok(None),
        }
    }

    /// Saves the person's sealed token and when it expires.
    pub async fn save_sealed_token(
        &self,
        person_id: i64,
        sealed: &[u8],
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (expires_at, now) = (ts(&expires_at), ts(&now));
        self.db()
            .execute(
                "UPDATE people SET token = ?2, token_expires_at = ?3, updated_at = ?4 WHERE id = ?1",
                params![person_id, sealed, expires_at.as_str(), now.as_str()],
            )
            .await?;
        Ok(())
    }

    /// Forgets the person's token.
    pub async fn forget_token(&self, person_id: i64, now: DateTime<Utc>) -> Result<()> {
        let now = ts(&now);
        self.db()
            .execute(
                "UPDATE people SET token = NULL, token_expires_at = NULL, updated_at = ?2
                 WHERE id = ?1",
                params![person_id, now.as_str()],
            )
            .await?;
        Ok(())
    }
}
