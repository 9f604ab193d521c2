//! The audit log: what happened, for a person to read. Never a secret.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::{Result, Store, StoreError, parse_ts, ts};

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// `consent`, `sync`, `transfer`, `environment`.
    pub kind: String,
    /// What it is about (an account, a transfer id).
    pub subject: String,
    /// What happened, for a person to read.
    pub detail: String,
}

impl Store {
    /// Appends to the audit log. Callers pass no secrets; details are for a person to read.
    pub fn audit(&self, kind: &str, subject: &str, detail: &str, at: DateTime<Utc>) -> Result<()> {
        self.lock().execute(
            "INSERT INTO audit_log (at, kind, subject, detail) VALUES (?1, ?2, ?3, ?4)",
            params![ts(&at), kind, subject, detail],
        )?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT at, kind, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.map(|row| {
            let (at, kind, subject, detail) = row?;
            Ok(AuditEntry {
                at: parse_ts(Some(at))?.ok_or(StoreError::Corrupt("time"))?,
                kind,
                subject,
                detail,
            })
        })
        .collect()
    }
}
