//! Devices, the DPoP proof ids they have used, and the consent flows they have begun.

use chrono::{DateTime, Utc};

use super::db::{Row, params};
use super::{Result, Store, StoreError, parse_ts, ts};

/// A device as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// Its id (a UUID).
    pub id: String,
    /// The JWK thumbprint (RFC 7638) of its DPoP key.
    pub thumbprint: String,
    /// The person it is linked to, once a consent flow it began has completed.
    pub person_id: Option<i64>,
    /// When it was revoked; a revoked device is refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A consent flow in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRegistration {
    /// The device that began it.
    pub device_id: String,
    /// Its PKCE verifier, sealed.
    pub sealed_verifier: Vec<u8>,
    /// When it began.
    pub created_at: DateTime<Utc>,
}

fn device(r: &Row) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: r.text(0)?,
        thumbprint: r.text(1)?,
        person_id: r.opt_i64(2)?,
        revoked_at: parse_ts(r.opt_text(3)?)?,
    })
}

impl Store {
    /// Enrols a device: its key's thumbprint and the hash of the token issued to it. A key
    /// already enrolled is refused (`Ok(None)`): each key enrols once.
    pub async fn enrol_device(
        &self,
        id: &str,
        thumbprint: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<()>> {
        let now = ts(&now);
        let inserted = self
            .db()
            .execute(
                "INSERT INTO devices (id, thumbprint, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![id, thumbprint, token_hash, now.as_str()],
            )
            .await?;
        Ok((inserted == 1).then_some(()))
    }

    /// The device whose token hashes to `token_hash`.
    pub async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRecord>> {
        self.db()
            .query_opt(
                "SELECT id, thumbprint, person_id, revoked_at FROM devices WHERE token_hash = ?1",
                params![token_hash],
            )
            .await?
            .map(|r| device(&r))
            .transpose()
    }

    /// One device.
    pub async fn device(&self, id: &str) -> Result<Option<DeviceRecord>> {
        self.db()
            .query_opt(
                "SELECT id, thumbprint, person_id, revoked_at FROM devices WHERE id = ?1",
                params![id],
            )
            .await?
            .map(|r| device(&r))
            .transpose()
    }

    /// Links a device to a person (a consent flow it began completed).
    pub async fn link_device(&self, device_id: &str, person_id: i64) -> Result<()> {
        self.db()
            .execute(
                "UPDATE devices SET person_id = ?2 WHERE id = ?1",
                params![device_id, person_id],
            )
            .await?;
        Ok(())
    }

    /// Unlinks a device from its person; returns how many devices the person still has.
    pub async fn unlink_device(&self, device_id: &str, person_id: i64) -> Result<u64> {
        let mut tx = self.db().begin().await?;
        tx.execute(
            "UPDATE devices SET person_id = NULL WHERE id = ?1",
            params![device_id],
        )
        .await?;
        let left = tx
            .query_opt(
                "SELECT COUNT(*) FROM devices WHERE person_id = ?1 AND revoked_at IS NULL",
                params![person_id],
            )
            .await?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(0);
        tx.commit().await?;
        Ok(left as u64)
    }

    /// Revokes a device for good.
    pub async fn revoke_device(&self, device_id: &str, now: DateTime<Utc>) -> Result<()> {
        let now = ts(&now);
        self.db()
            .execute(
                "UPDATE devices SET revoked_at = ?2, person_id = NULL
                 WHERE id = ?1 AND revoked_at IS NULL",
                params![device_id, now.as_str()],
            )
            .await?;
        Ok(())
    }

    /// Records a DPoP proof id; `false` when the key has used it before (a replay). Expired
    /// ids are swept on the way.
    pub async fn use_proof_id(
        &self,
        thumbprint: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (expires_at, now) = (ts(&expires_at), ts(&now));
        self.db()
            .execute(
                "DELETE FROM proof_ids WHERE expires_at < ?1",
                params![now.as_str()],
            )
            .await?;
        let inserted = self
            .db()
            .execute(
                "INSERT INTO proof_ids (thumbprint, jti, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![thumbprint, jti, expires_at.as_str()],
            )
            .await?;
        Ok(inserted == 1)
    }

    /// Spends one request of `device_id`'s budget at `now_ms` (milliseconds since the epoch):
    /// a token bucket of `burst` requests refilled at `per_second`, shared by every replica on
    /// the database. `false` when the bucket holds less than one request: refused. One
    /// statement, so replicas spending side by side cannot both take the last request.
    pub async fn spend_request(
        &self,
        device_id: &str,
        now_ms: i64,
        per_second: u32,
        burst: u32,
    ) -> Result<bool> {
        // In thousandths of a request, refilled at `per_second` of them a millisecond (?4), up
        // to the burst (?2). A clock that steps back refills nothing. (The casts give
        // PostgreSQL the parameters' types.)
        let (burst_milli, now, rate) = (
            "CAST(?2 AS BIGINT)",
            "CAST(?3 AS BIGINT)",
            "CAST(?4 AS BIGINT)",
        );
        let refilled = format!(
            "rate_buckets.tokens + (CASE WHEN {now} > rate_buckets.at \
             THEN {now} - rate_buckets.at ELSE 0 END) * {rate}"
        );
        let filled = format!(
            "(CASE WHEN {refilled} > {burst_milli} THEN {burst_milli} ELSE {refilled} END)"
        );
        let sql = format!(
            "INSERT INTO rate_buckets (device_id, tokens, at, ok)
             VALUES (?1, {burst_milli} - 1000, {now}, 1)
             ON CONFLICT (device_id) DO UPDATE SET
                tokens = CASE WHEN {filled} >= 1000 THEN {filled} - 1000 ELSE {filled} END,
                ok = CASE WHEN {filled} >= 1000 THEN 1 ELSE 0 END,
                at = CASE WHEN {now} > rate_buckets.at THEN {now} ELSE rate_buckets.at END
             RETURNING ok"
        );
        let (rate, capacity) = (i64::from(per_second), i64::from(burst.max(1)) * 1000);
        let row = self
            .db()
            .query_one(&sql, params![device_id, capacity, now_ms, rate])
            .await?;
        Ok(row.i64(0)? == 1)
    }

    /// Keeps a consent flow's state and sealed verifier.
    pub async fn begin_registration(
        &self,
        state: &str,
        device_id: &str,
        sealed_verifier: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now = ts(&now);
        self.db()
            .execute(
                "INSERT INTO registrations (state, device_id, verifier, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![state, device_id, sealed_verifier, now.as_str()],
            )
            .await?;
        Ok(())
    }

    /// Takes the consent flow waiting for `state`: single use, whoever asks.
    pub async fn take_registration(&self, state: &str) -> Result<Option<PendingRegistration>> {
        self.db()
            .query_opt(
                "DELETE FROM registrations WHERE state = ?1
                 RETURNING device_id, verifier, created_at",
                params![state],
            )
            .await?
            .map(|r| {
                Ok(PendingRegistration {
                    device_id: r.text(0)?,
                    sealed_verifier: r.bytes(1)?,
                    created_at: parse_ts(Some(r.text(2)?))?.ok_or(StoreError::Corrupt("time"))?,
                })
            })
            .transpose()
    }
}
