//! People: who the center says they are (`user_seq_no`, name), and their KFTC tokens, sealed.

use chrono::{DateTime, Utc};

use super::db::params;
use super::{Result, Store, parse_ts, ts};

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
