//! Registered accounts with their consents, as the server lists them.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, Store, parse_ts, ts};

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRecord {
    /// Row id.
    pub id: i64,
    /// Environment row id.
    pub environment_id: i64,
    /// What registration learned of it (and the person's own name for it, once they gave one).
    #[serde(flatten)]
    pub details: AccountDetails,
    /// `active` or `cancelled`.
    pub state: String,
}

/// What registration learns of an account from `user/me`: what [`Store::upsert_account`]
/// writes, and what an [`AccountRecord`] holds besides its ids and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountDetails {
    /// 24-digit fintech use number.
    pub fintech_use_num: String,
    /// Bank code.
    pub bank_code: String,
    /// Bank name.
    pub bank_name: String,
    /// The account's name: the center's alias, if any, until the person gives their own
    /// ([`Store::set_alias`]). An empty one in an upsert keeps the name already stored.
    pub alias: String,
    /// Masked number, e.g. `1002123456***`.
    pub account_num_masked: String,
    /// Holder's name.
    pub holder_name: String,
    /// `1` demand, `2` savings, ….
    pub account_type: String,
    /// When inquiry consent was given, if it was.
    pub inquiry_agreed_at: Option<DateTime<Utc>>,
    /// When transfer (withdraw) consent was given, if it was.
    pub transfer_agreed_at: Option<DateTime<Utc>>,
}

/// Whether an upsert added an account or refreshed one already known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// New to the store.
    Added,
    /// Known; its details were updated.
    Updated,
}

impl Store {
    const ACCOUNT_COLUMNS: &'static str =
        "id, environment_id, fintech_use_num, bank_code, bank_name,
        alias, account_num_masked, holder_name, account_type, inquiry_agreed_at,
        transfer_agreed_at, state";

    fn account_from(
        r: &Row<'_>,
    ) -> rusqlite::Result<(AccountRecord, Option<String>, Option<String>)> {
        Ok((
            AccountRecord {
                id: r.get(0)?,
                environment_id: r.get(1)?,
                details: AccountDetails {
                    fintech_use_num: r.get(2)?,
                    bank_code: r.get(3)?,
                    bank_name: r.get(4)?,
                    alias: r.get(5)?,
                    account_num_masked: r.get(6)?,
                    holder_name: r.get(7)?,
                    account_type: r.get(8)?,
                    inquiry_agreed_at: None,
                    transfer_agreed_at: None,
                },
                state: r.get(11)?,
            },
            r.get(9)?,
            r.get(10)?,
        ))
    }

    fn finish_account(
        raw: (AccountRecord, Option<String>, Option<String>),
    ) -> Result<AccountRecord> {
        let (mut account, inquiry, transfer) = raw;
        account.details.inquiry_agreed_at = parse_ts(inquiry)?;
        account.details.transfer_agreed_at = parse_ts(transfer)?;
        Ok(account)
    }

    /// Adds an account, or updates the one with the same fintech number: registering again
    /// never duplicates. A cancelled account registered again is active again.
    pub fn upsert_account(
        &self,
        environment_id: i64,
        a: &AccountDetails,
        now: DateTime<Utc>,
    ) -> Result<(i64, Upserted)> {
        let conn = self.lock();
        let existing: Option<i64> = conn
            .query_row(
                "SELECT id FROM accounts WHERE environment_id = ?1 AND fintech_use_num = ?2",
                params![environment_id, a.fintech_use_num],
                |r| r.get(0),
            )
            .optional()?;
        let inquiry = a.inquiry_agreed_at.as_ref().map(ts);
        let transfer = a.transfer_agreed_at.as_ref().map(ts);
        let now = ts(&now);
        // Both statements take the same values: the account's key (its environment and fintech
        // number, unique together), what registration learned of it, and the time.
        let values = params![
            environment_id,
            a.fintech_use_num,
            a.bank_code,
            a.bank_name,
            a.alias,
            a.account_num_masked,
            a.holder_name,
            a.account_type,
            inquiry,
            transfer,
            now
        ];
        match existing {
            Some(id) => {
                conn.execute(
                    "UPDATE accounts SET bank_code = ?3, bank_name = ?4,
                        alias = CASE WHEN ?5 = '' THEN alias ELSE ?5 END,
                        account_num_masked = ?6, holder_name = ?7, account_type = ?8,
                        inquiry_agreed_at = ?9, transfer_agreed_at = ?10, state = 'active',
                        updated_at = ?11
                     WHERE environment_id = ?1 AND fintech_use_num = ?2",
                    values,
                )?;
                Ok((id, Upserted::Updated))
            }
            None => {
                conn.execute(
                    "INSERT INTO accounts (environment_id, fintech_use_num, bank_code, bank_name,
                        alias, account_num_masked, holder_name, account_type, inquiry_agreed_at,
                        transfer_agreed_at, registered_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                    values,
                )?;
                Ok((conn.last_insert_rowid(), Upserted::Added))
            }
        }
    }

    /// Active accounts of an environment, in registration order.
    pub fn accounts(&self, environment_id: i64) -> Result<Vec<AccountRecord>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {} FROM accounts WHERE environment_id = ?1 AND state = 'active' ORDER BY id",
            Self::ACCOUNT_COLUMNS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([environment_id], Self::account_from)?;
        rows.map(|r| Self::finish_account(r?)).collect()
    }

    /// One account by row id, whatever its state.
    pub fn account(&self, id: i64) -> Result<Option<AccountRecord>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {} FROM accounts WHERE id = ?1",
            Self::ACCOUNT_COLUMNS
        );
        let raw = conn
            .prepare_cached(&sql)?
            .query_row([id], Self::account_from)
            .optional()?;
        raw.map(Self::finish_account).transpose()
    }

    /// Marks an account cancelled: it leaves the dashboard, its history stays.
    pub fn cancel_account(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.lock().execute(
            "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE id = ?1",
            params![id, ts(&now)],
        )?;
        Ok(())
    }

    /// Marks every account of an environment cancelled and forgets the person (sign out).
    pub fn sign_out(&self, environment_id: i64, now: DateTime<Utc>) -> Result<()> {
        let conn = self.lock();
        conn.execute(
            "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE environment_id = ?1",
            params![environment_id, ts(&now)],
        )?;
        conn.execute(
            "UPDATE environments SET user_name = NULL WHERE id = ?1",
            [environment_id],
        )?;
        Ok(())
    }

    /// Sets the person's own name for an account.
    pub fn set_alias(&self, id: i64, alias: &str) -> Result<()> {
        self.lock().execute(
            "UPDATE accounts SET alias = ?2 WHERE id = ?1",
            params![id, alias],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;

    #[test]
    fn registering_an_account_again_updates_it_instead_of_adding_another() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, first) = store.upsert_account(env, &account("1"), now()).unwrap();
        assert_eq!(first, Upserted::Added);
        store.cancel_account(id, now()).unwrap();
        assert!(store.accounts(env).unwrap().is_empty());
        let mut again = account("1");
        again.transfer_agreed_at = Some(now());
        let (same, second) = store.upsert_account(env, &again, now()).unwrap();
        assert_eq!((same, second), (id, Upserted::Updated));
        let listed = store.accounts(env).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].details.transfer_agreed_at, Some(now()));
    }
}
