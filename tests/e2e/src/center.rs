//! The sandbox's center as the app started it, seen from outside: its address from the app's
//! store (`moa.db`, where the app records the environment it talks to) and its admin token from
//! the center's own database (`sandbox-center.db`), both opened read-only. The tests then ask the
//! center's admin API for the ledger's truth and set banks down, over HTTP like any client,
//! reading its answers as `moa_testbed::harness`'s types and auditing them with its checker.

use std::path::{Path, PathBuf};
use std::time::Duration;

use moa_testbed::harness;
pub use moa_testbed::harness::{CenterTransfer, Ledger, LedgerAccount, TransferKind};
use reqwest::blocking::Client;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};
use serde::Deserialize;
use serde_json::json;

use crate::webdriver::{Error, Result};

/// The sandbox center of one app's data folder.
#[derive(Debug)]
pub struct SandboxCenter {
    http: Client,
    base_url: String,
    admin_token: String,
    db: PathBuf,
}

/// Finding a person's account in the center's ledger by its holder and bank.
pub trait AccountOf {
    /// The account `holder` has at `bank`; the seed gives each person at most one per bank.
    fn account_of(&self, holder: &str, bank: &str) -> Result<LedgerAccount>;
}

impl AccountOf for Ledger {
    fn account_of(&self, holder: &str, bank: &str) -> Result<LedgerAccount> {
        let mut found = self
            .accounts_of(holder)
            .into_iter()
            .filter(|a| a.bank_code_std == bank);
        match (found.next(), found.next()) {
            (Some(one), None) => Ok(one),
            (None, _) => Err(Error::Setup(format!(
                "the ledger has no account of {holder} at {bank}"
            ))),
            (Some(_), Some(_)) => Err(Error::Setup(format!(
                "the ledger has several accounts of {holder} at {bank}"
            ))),
        }
    }
}

impl SandboxCenter {
    /// Finds the center the app started for `data_dir`. The app writes its address when the
    /// sandbox starts, so call this once the window is up.
    pub fn of(data_dir: &Path) -> Result<SandboxCenter> {
        let base_url: String = read_one(
            &data_dir.join("moa.db"),
            "SELECT value FROM settings WHERE key = 'sandbox_center_url'",
        )?;
        SandboxCenter::at(&base_url, &data_dir.join("sandbox-center.db"))
    }

    /// The center at `base_url` whose database is `center_db` (a `sandbox-center.db`): a
    /// center started outside the app, such as a standalone `moa-server sandbox`'s.
    pub fn at(base_url: &str, center_db: &Path) -> Result<SandboxCenter> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let admin_token: String = read_one(
            center_db,
            "SELECT value FROM meta WHERE key = 'admin_token'",
        )?;
        let http = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        Ok(SandboxCenter {
            http,
            base_url,
            admin_token,
            db: center_db.to_owned(),
        })
    }

    /// The center's own database (`sandbox-center.db`), which the tests only read.
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// A token the center issues now to its first institution (`client_credentials`, scope
    /// `oob`, with the client secret from the center's database): a real one of the tokens
    /// that must never reach the app, for checking that a scan would find one.
    pub fn issue_institution_token(&self) -> Result<String> {
        let client_id = read_one(&self.db, "SELECT client_id FROM institutions ORDER BY id")?;
        let client_secret = read_one(
            &self.db,
            "SELECT client_secret FROM institutions ORDER BY id",
        )?;
        let answer: serde_json::Value = self
            .http
            .post(format!("{}/oauth/2.0/token", self.base_url))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.as_str()),
                ("scope", "oob"),
            ])
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| Error::Transport(format!("the center's token endpoint: {e}")))?;
        answer["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Check(format!("the center issued no token: {answer}")))
    }

    /// The center's address.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every account's balance, now.
    pub fn ledger(&self) -> Result<Ledger> {
        self.http
            .get(format!("{}/testbed/admin/ledger", self.base_url))
            .bearer_auth(&self.admin_token)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| Error::Transport(format!("the center's ledger: {e}")))
    }

    /// Every transfer that reached a bank, oldest first.
    pub fn transfers(&self) -> Result<Vec<CenterTransfer>> {
        self.http
            .get(format!("{}/testbed/admin/transfers", self.base_url))
            .bearer_auth(&self.admin_token)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| Error::Transport(format!("the center's transfers: {e}")))
    }

    /// The money auditor every harness shares (`moa_testbed::harness::check`): against the
    /// ledger `opening`, the center's money is conserved, no balance is below zero, every
    /// applied transfer posted twice summing to zero and every refused one not at all, and no
    /// `bank_tran_id` was applied twice.
    pub fn check_invariants(&self, opening: &Ledger) -> Result<()> {
        let broken = harness::check(opening, &self.ledger()?, &self.transfers()?);
        if broken.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = broken.iter().map(|v| format!("  - {v}")).collect();
        Err(Error::Check(format!(
            "the center's money broke {} invariant(s):\n{}",
            broken.len(),
            list.join("\n")
        )))
    }

    /// Sets a bank's status: `Y` available, `D` down, `L` not open yet, `E` terminated.
    pub fn set_bank_status(&self, bank: &str, status: &str) -> Result<()> {
        self.http
            .put(format!("{}/testbed/admin/banks/{bank}", self.base_url))
            .bearer_auth(&self.admin_token)
            .json(&json!({ "status": status }))
            .send()
            .and_then(|r| r.error_for_status())
            .map(drop)
            .map_err(|e| Error::Transport(format!("setting bank {bank} to {status}: {e}")))
    }
}

impl SandboxCenter {
    /// Sets how long a bank takes to answer; `None` is the center's default.
    pub fn set_bank_latency(&self, bank: &str, millis: Option<u64>) -> Result<()> {
        self.http
            .put(format!("{}/testbed/admin/banks/{bank}", self.base_url))
            .bearer_auth(&self.admin_token)
            .json(&json!({ "latency_ms": millis }))
            .send()
            .and_then(|r| r.error_for_status())
            .map(drop)
            .map_err(|e| Error::Transport(format!("setting bank {bank}'s latency: {e}")))
    }
}

/// An account the center opened for a person.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenedAccount {
    /// The bank's code.
    pub bank_code_std: String,
    /// The full account number.
    pub account_num: String,
}

impl SandboxCenter {
    /// Opens another demand-deposit account for the person with mobile number `cell_no`.
    pub fn open_account(&self, cell_no: &str, bank: &str, balance: i64) -> Result<OpenedAccount> {
        self.http
            .post(format!(
                "{}/testbed/admin/people/{cell_no}/accounts",
                self.base_url
            ))
            .bearer_auth(&self.admin_token)
            .json(&json!({ "bank_code_std": bank, "balance": balance }))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| Error::Transport(format!("opening an account at bank {bank}: {e}")))
    }

    /// Appends `rows` synthetic transactions to an account, spread from `from_date`
    /// (`yyyyMMdd`) to the center's today.
    pub fn append_history(
        &self,
        bank: &str,
        number: &str,
        rows: u32,
        from_date: &str,
    ) -> Result<()> {
        self.http
            .post(format!(
                "{}/testbed/admin/accounts/{bank}/{number}/history",
                self.base_url
            ))
            .bearer_auth(&self.admin_token)
            .json(&json!({ "rows": rows, "from_date": from_date }))
            .send()
            .and_then(|r| r.error_for_status())
            .map(drop)
            .map_err(|e| Error::Transport(format!("appending history to {bank} {number}: {e}")))
    }

    /// The center's today, `yyyyMMdd` (its clock may be set apart from the machine's).
    pub fn today(&self) -> Result<String> {
        let clock: serde_json::Value = self
            .http
            .get(format!("{}/testbed/admin/clock", self.base_url))
            .bearer_auth(&self.admin_token)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| Error::Transport(format!("the center's clock: {e}")))?;
        clock["now"]
            .as_str()
            .and_then(|now| now.get(..8))
            .map(str::to_owned)
            .ok_or_else(|| Error::Check(format!("the center's clock says {clock}")))
    }
}

/// One text value from a database the app owns, opened read-only so the test never writes it.
fn read_one(db: &Path, sql: &str) -> Result<String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::Setup(format!("cannot open {}: {e}", db.display())))?;
    conn.query_row(sql, [], |r| r.get::<_, String>(0))
        .optional()
        .map_err(|e| Error::Setup(format!("{}: {e}", db.display())))?
        .ok_or_else(|| Error::Setup(format!("{} has no answer to `{sql}`", db.display())))
}
