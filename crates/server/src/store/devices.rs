//! Devices, the DPoP proof ids they have used, and the consent flows they have begun.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

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

type RawDevice = (String, String, Option<i64>, Option<String>);

fn device(raw: RawDevice) -> Result<DeviceRecord> {
    let (id, thumbprint, person_id, revoked) = raw;
    Ok(DeviceRecord {
        id,
        thumbprint,
        person_id,
        revoked_at: parse_ts(revoked)?,
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
        let inserted = self.lock().execute(
            "INSERT INTO devices (id, thumbprint, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            params![id, thumbprint, token_hash, ts(&now)],
        )?;
        Ok((inserted == 1).then_some(()))
    }

    /// The device whose token hashes to `token_hash`.
    pub async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRecord>> {
        let found = self
            .lock()
            .prepare_cached(
                "SELECT id, thumbprint, person_id, revoked_at FROM devices WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        found.map(device).transpose()
    }

    /// One device.
    pub async fn device(&self, id: &str) -> Result<Option<DeviceRecord>> {
        let found = self
            .lock()
            .query_row(
                "SELECT id, thumbprint, person_id, revoked_at FROM devices WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        found.map(device).transpose()
    }

    /// Links a device to a person (a consent flow it began completed).
    pub async fn link_device(&self, device_id: &str, person_id: i64) -> Result<()> {
        self.lock().execute(
            "UPDATE devices SET person_id = ?2 WHERE id = ?1",
            params![device_id, person_id],
        )?;
        Ok(())
    }

    /// Unlinks a device from its person; returns how many devices the person still has.
    pub async fn unlink_device(&self, device_id: &str, person_id: i64) -> Result<u64> {
        let conn = self.lock();
        conn.execute(
            "UPDATE devices SET person_id = NULL WHERE id = ?1",
            [device_id],
        )?;
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM devices WHERE person_id = ?1 AND revoked_at IS NULL",
            [person_id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Revokes a device for good.
    pub async fn revoke_device(&self, device_id: &str, now: DateTime<Utc>) -> Result<()> {
        self.lock().execute(
            "UPDATE devices SET revoked_at = ?2, person_id = NULL WHERE id = ?1 AND revoked_at IS NULL",
            params![device_id, ts(&now)],
        )?;
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
        let conn = self.lock();
        conn.prepare_cached("DELETE FROM proof_ids WHERE expires_at < ?1")?
            .execute([ts(&now)])?;
        let inserted = conn
            .prepare_cached(
                "INSERT INTO proof_ids (thumbprint, jti, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![thumbprint, jti, ts(&expires_at)])?;
        Ok(inserted == 1)
    }

    /// Keeps a consent flow's state and sealed verifier.
    pub async fn begin_registration(
        &self,
        state: &str,
        device_id: &str,
        sealed_verifier: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO registrations (state, device_id, verifier, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![state, device_id, sealed_verifier, ts(&now)],
        )?;
        Ok(())
    }

    /// Takes the consent flow waiting for `state`: single use, whoever asks.
    pub async fn take_registration(&self, state: &str) -> Result<Option<PendingRegistration>> {
        let found = self
            .lock()
            .query_row(
                "DELETE FROM registrations WHERE state = ?1 RETURNING device_id, verifier, created_at",
                [state],
                |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)),
            )
            .optional()?;
        found
            .map(|(device_id, sealed_verifier, created)| {
                Ok(PendingRegistration {
                    device_id,
                    sealed_verifier,
                    created_at: parse_ts(Some(created))?.ok_or(StoreError::Corrupt("time"))?,
                })
            })
            .transpose()
    }
}
