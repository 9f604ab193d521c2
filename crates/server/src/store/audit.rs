//! The audit log: what happened, when, to whom — never a secret, never a full account number.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Result, Store, parse_ts, ts};

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// device / consent / sync / transfer.
    pub kind: String,
    /// What it is about (a transfer id, a device id, a masked account).
    pub subject: String,
    /// What happened.
    pub detail: String,
}

impl Store {
    /// Appends a line to the audit log.
    pub async fn audit(
        &self,
        kind: &str,
        subject: &str,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        audit_on(&self.lock(), kind, subject, detail, at)
    }

    /// The newest `limit` lines, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT at, kind, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, kind, subject, detail) = row?;
            out.push(AuditEntry {
                at: parse_ts(Some(at))?.unwrap_or_default(),
                kind,
                subject,
                detail,
            });
        }
        Ok(out)
    }
}

/// Appends a line on an open connection or transaction, so it commits with the change it
/// describes.
pub(crate) fn audit_on(
    conn: &rusqlite::Connection,
    kind: &str,
    subject: &str,
    detail: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, kind, subject, detail) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![ts(&at), kind, subject, detail])?;
    Ok(())
}
