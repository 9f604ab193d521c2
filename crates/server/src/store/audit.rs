//! The audit log: what happened, when, to whom — never a secret, never a full account number.

use chrono::{DateTime, Utc};

use super::db::{Tx, params};
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
        let mut tx = self.db().begin().await?;
        audit_on(&mut tx, kind, subject, detail, at).await?;
        tx.commit().await
    }

    /// The newest `limit` lines, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.db()
            .query(
                "SELECT at, kind, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
                params![i64::from(limit)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: parse_ts(Some(r.text(0)?))?.unwrap_or_default(),
                    kind: r.text(1)?,
                    subject: r.text(2)?,
                    detail: r.text(3)?,
                })
            })
            .collect()
    }
}

/// Appends a line in an open transaction, so it commits with the change it describes.
pub(crate) async fn audit_on(
    tx: &mut Tx<'_>,
    kind: &str,
    subject: &str,
    detail: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let at = ts(&at);
    tx.execute(
        "INSERT INTO audit_log (at, kind, subject, detail) VALUES (?1, ?2, ?3, ?4)",
        params![at.as_str(), kind, subject, detail],
    )
    .await?;
    Ok(())
}
