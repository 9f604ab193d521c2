//! Last good balances with their "as of" times, and why a balance is stale.

use chrono::{DateTime, Utc};
use moa_server::api::StaleCode;
use rusqlite::params;
use serde::Serialize;

use super::{Result, Store, parse_ts, ts};

/// The last known balance of an account and how fresh it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceRecord {
    /// Account row id.
    pub account_id: i64,
    /// Last good balance, whole won (may be negative for overdrafts).
    pub balance: Option<i64>,
    /// Last good withdrawable amount.
    pub available: Option<i64>,
    /// Product name the bank reported.
    pub product_name: Option<String>,
    /// When the last good value was read.
    pub as_of: Option<DateTime<Utc>>,
    /// Why the value is stale, when the last refresh failed: a stable code. A code this
    /// version does not know reads as [`StaleCode::Internal`].
    pub stale_code: Option<StaleCode>,
}

impl Store {
    /// Records a fresh balance: the new last good value, no longer stale.
    pub fn record_balance(
        &self,
        account_id: i64,
        balance: i64,
        available: Option<i64>,
        product_name: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO balances (account_id, balance, available, product_name, as_of, attempted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance,
                available = excluded.available,
                product_name = COALESCE(excluded.product_name, product_name),
                as_of = excluded.as_of, attempted_at = excluded.attempted_at,
                stale_code = NULL, stale_message = NULL",
            params![account_id, balance, available, product_name, ts(&at)],
        )?;
        Ok(())
    }

    /// Records a failed refresh: the last good value stays, marked stale with a reason. (The
    /// `stale_message` column of older versions, which held words, is cleared.)
    pub fn record_stale(&self, account_id: i64, code: StaleCode, at: DateTime<Utc>) -> Result<()> {
        self.lock().execute(
            "INSERT INTO balances (account_id, stale_code, attempted_at)
             VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id) DO UPDATE SET stale_code = excluded.stale_code,
                stale_message = NULL, attempted_at = excluded.attempted_at",
            params![account_id, code.as_str(), ts(&at)],
        )?;
        Ok(())
    }

    /// The last known balance of every active account of an environment.
    pub fn balances(&self, environment_id: i64) -> Result<Vec<BalanceRecord>> {
        self.read_balances(
            "a.environment_id = ?1 AND a.state = 'active'",
            environment_id,
        )
    }

    /// The last known balance of one account.
    pub fn balance(&self, account_id: i64) -> Result<Option<BalanceRecord>> {
        Ok(self.read_balances("a.id = ?1", account_id)?.pop())
    }

    /// Balances of the accounts `filter` selects (with `?1` bound to `id`), by account id.
    fn read_balances(&self, filter: &str, id: i64) -> Result<Vec<BalanceRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT a.id, b.balance, b.available, b.product_name, b.as_of, b.stale_code
             FROM accounts a LEFT JOIN balances b ON b.account_id = a.id
             WHERE {filter} ORDER BY a.id"
        ))?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                BalanceRecord {
                    account_id: r.get(0)?,
                    balance: r.get(1)?,
                    available: r.get(2)?,
                    product_name: r.get(3)?,
                    as_of: None,
                    stale_code: r
                        .get::<_, Option<String>>(5)?
                        .map(|c| StaleCode::parse(&c).unwrap_or(StaleCode::Internal)),
                },
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (mut record, as_of) = row?;
            record.as_of = parse_ts(as_of)?;
            Ok(record)
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;

    #[test]
    fn a_failed_refresh_keeps_the_last_good_balance_and_says_why() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        store
            .record_balance(id, 50_000, Some(50_000), Some("통장"), now())
            .unwrap();
        let later = now() + chrono::TimeDelta::minutes(5);
        store.record_stale(id, StaleCode::BankDown, later).unwrap();
        let b = store.balance(id).unwrap().unwrap();
        assert_eq!((b.balance, b.as_of), (Some(50_000), Some(now())));
        assert_eq!(b.stale_code, Some(StaleCode::BankDown));
        store
            .record_balance(id, 40_000, Some(40_000), None, later)
            .unwrap();
        let b = store.balance(id).unwrap().unwrap();
        assert_eq!(
            (b.balance, b.stale_code, b.product_name.as_deref()),
            (Some(40_000), None, Some("통장"))
        );
    }
}
