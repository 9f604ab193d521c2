//! The people's registered accounts, as `user/me` lists them.

use chrono::{DateTime, Utc};
use moa_openbanking::{BankCode, FintechUseNum};

use super::db::{Row, params};
use super::{Result, Store, StoreError, parse_ts, ts};

/// An account as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Row id.
    pub id: i64,
    /// Whose it is.
    pub person_id: i64,
    /// What `user/me` said of it when it was last registered.
    pub details: AccountDetails,
    /// Registered, or cancelled by the person.
    pub state: AccountState,
}

impl AccountRecord {
    /// Whether it is registered and not cancelled.
    pub fn is_active(&self) -> bool {
        self.state == AccountState::Active
    }
}

/// Whether an account is still the person's to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    /// Registered at the center and not cancelled.
    Active,
    /// Cancelled by the person (or by signing out); kept for the transfers that name it.
    Cancelled,
}

impl AccountState {
    /// As the `state` column holds it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Cancelled => "cancelled",
        }
    }

    /// From the `state` column; `None` for a word this server never writes.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Cancelled]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

/// An account as `user/me` lists it: what [`Store::upsert_account`] writes, and what an
/// [`AccountRecord`] holds besides its ids and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDetails {
    /// The center's 24-digit handle of the account.
    pub fintech_use_num: FintechUseNum,
    /// Bank code.
    pub bank_code: BankCode,
    /// Bank name.
    pub bank_name: String,
    /// The person's name for it at the center.
    pub alias: String,
    /// The masked account number.
    pub account_num_masked: String,
    /// The holder's name.
    pub holder_name: String,
    /// The account type code.
    pub account_type: String,
    /// When inquiry consent was given.
    pub inquiry_agreed_at: Option<DateTime<Utc>>,
    /// When transfer consent was given.
    pub transfer_agreed_at: Option<DateTime<Utc>>,
}

/// The columns [`account`] reads, in its order.
const COLUMNS: &str = "id, person_id, fintech_use_num, bank_code, bank_name, alias,
    account_num_masked, holder_name, account_type, inquiry_agreed_at, transfer_agreed_at, state";

/// The account in a row of [`COLUMNS`].
fn account(r: &Row) -> Result<AccountRecord> {
    Ok(AccountRecord {
        id: r.i64(0)?,
        person_id: r.i64(1)?,
        details: AccountDetails {
            fintech_use_num: FintechUseNum::parse(&r.text(2)?)
                .map_err(|_| StoreError::Corrupt("fintech_use_num"))?,
            bank_code: BankCode::parse(&r.text(3)?)
                .map_err(|_| StoreError::Corrupt("bank_code"))?,
            bank_name: r.text(4)?,
            alias: r.text(5)?,
            account_num_masked: r.text(6)?,
            holder_name: r.text(7)?,
            account_type: r.text(8)?,
            inquiry_agreed_at: parse_ts(r.opt_text(9)?)?,
            transfer_agreed_at: parse_ts(r.opt_text(10)?)?,
        },
        state: AccountState::parse(&r.text(11)?).ok_or(StoreError::Corrupt("account state"))?,
    })
}

impl Store {
    /// Adds or updates a person's account; `true` when it is new to them.
    pub async fn upsert_account(
        &self,
        person_id: i64,
        a: &AccountDetails,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.db().begin().await?;
        let known = tx
            .query_opt(
                "SELECT id FROM accounts
                 WHERE fintech_use_num = ?1 AND person_id = ?2 AND state = 'active'",
                params![a.fintech_use_num.as_str(), person_id],
            )
            .await?;
        let inquiry = a.inquiry_agreed_at.as_ref().map(ts);
        let transfer = a.transfer_agreed_at.as_ref().map(ts);
        let now = ts(&now);
        tx.execute(
            "INSERT INTO accounts (person_id, fintech_use_num, bank_code, bank_name, alias,
                account_num_masked, holder_name, account_type, inquiry_agreed_at,
                transfer_agreed_at, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'active', ?11, ?11)
             ON CONFLICT (fintech_use_num) DO UPDATE SET
                person_id = excluded.person_id, bank_code = excluded.bank_code,
                bank_name = excluded.bank_name, alias = excluded.alias,
                account_num_masked = excluded.account_num_masked,
                holder_name = excluded.holder_name, account_type = excluded.account_type,
                inquiry_agreed_at = excluded.inquiry_agreed_at,
                transfer_agreed_at = excluded.transfer_agreed_at, state = 'active',
                updated_at = excluded.updated_at",
            params![
                person_id,
                a.fintech_use_num.as_str(),
                a.bank_code.as_str(),
                a.bank_name.as_str(),
                a.alias.as_str(),
                a.account_num_masked.as_str(),
                a.holder_name.as_str(),
                a.account_type.as_str(),
                &inquiry,
                &transfer,
                now.as_str()
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(known.is_none())
    }

    /// A person's active accounts.
    pub async fn accounts(&self, person_id: i64) -> Result<Vec<AccountRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM accounts WHERE person_id = ?1 AND state = 'active' ORDER BY id"
        );
        self.db()
            .query(&sql, params![person_id])
            .await?
            .iter()
            .map(account)
            .collect()
    }

    /// The person's account with this fintech use number, active or not.
    pub async fn account_of(
        &self,
        person_id: i64,
        fintech_use_num: &str,
    ) -> Result<Option<AccountRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM accounts WHERE person_id = ?1 AND fintech_use_num = ?2");
        self.db()
            .query_opt(&sql, params![person_id, fintech_use_num])
            .await?
            .map(|r| account(&r))
            .transpose()
    }

    /// An account by row id.
    pub async fn account(&self, id: i64) -> Result<Option<AccountRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1");
        self.db()
            .query_opt(&sql, params![id])
            .await?
            .map(|r| account(&r))
            .transpose()
    }

    /// Takes an account off the person's list.
    pub async fn cancel_account(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let now = ts(&now);
        self.db()
            .execute(
                "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE id = ?1",
                params![id, now.as_str()],
            )
            .await?;
        Ok(())
    }

    /// Takes every account of the person off their list.
    pub async fn cancel_accounts_of(&self, person_id: i64, now: DateTime<Utc>) -> Result<()> {
        let now = ts(&now);
        self.db()
            .execute(
                "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE person_id = ?1",
                params![person_id, now.as_str()],
            )
            .await?;
        Ok(())
    }
}
