//! Who the center knows: institutions and their callbacks, banks and how they behave, and
//! the accounts a transfer's answer names. Loaded once at start, changed by the admin API.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db::DbError;
use crate::wire::ApiError;

use super::Testbed;

/// An institution (이용기관) as the center knows it. Its `Debug` hides the client secret.
#[derive(Clone)]
pub(crate) struct Institution {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub client_use_code: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub collection_account: i64,
    pub payout_account: i64,
    /// A public client cannot keep its secret (an app on a person's device): it must prove
    /// with PKCE (S256) that it is the one that asked for the code.
    pub public: bool,
}

impl std::fmt::Debug for Institution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Institution")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("client_use_code", &self.client_use_code)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("collection_account", &self.collection_account)
            .field("payout_account", &self.payout_account)
            .field("public", &self.public)
            .finish()
    }
}

impl Institution {
    /// Whether `uri` is one of the registered callbacks. A registered loopback callback without a
    /// port (`http://127.0.0.1/callback`) accepts any port, as RFC 8252 asks for desktop apps;
    /// everything else must match exactly.
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri || loopback_match(registered, uri))
    }

    /// Whether the institution may ask for `scope`.
    pub fn may_use(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

fn loopback_match(registered: &str, uri: &str) -> bool {
    for host in ["http://127.0.0.1", "http://localhost", "http://[::1]"] {
        if let (Some(reg_rest), Some(uri_rest)) =
            (registered.strip_prefix(host), uri.strip_prefix(host))
        {
            if !reg_rest.starts_with('/') {
                return false;
            }
            let Some(after_colon) = uri_rest.strip_prefix(':') else {
                return false;
            };
            let digits = after_colon.bytes().take_while(u8::is_ascii_digit).count();
            return (1..=5).contains(&digits) && &after_colon[digits..] == reg_rest;
        }
    }
    false
}

/// A participating bank and how it behaves now.
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    pub name: String,
    pub status: String,
    pub latency: Option<Duration>,
}

impl Testbed {
    pub(crate) fn institutions(&self) -> Vec<Institution> {
        self.inner
            .institutions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn institution_by_client_id(&self, client_id: &str) -> Option<Institution> {
        self.institutions()
            .into_iter()
            .find(|i| i.client_id == client_id)
    }

    pub(super) fn institution(&self, id: i64) -> Option<Institution> {
        self.institutions().into_iter().find(|i| i.id == id)
    }

    pub(crate) fn banks(&self) -> Vec<(String, Bank)> {
        let banks = self.inner.banks.read().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<_> = banks.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list
    }

    pub(crate) fn bank(&self, code: &str) -> Option<Bank> {
        self.inner
            .banks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
            .cloned()
    }

    /// Replaces what a bank is and does: its status and its latency (`None`: the default).
    pub async fn set_bank(
        &self,
        code: &str,
        status: Option<String>,
        latency: Option<Option<Duration>>,
    ) -> Result<bool, DbError> {
        let Some(mut bank) = self.bank(code) else {
            return Ok(false);
        };
        if let Some(status) = status {
            bank.status = status;
        }
        if let Some(latency) = latency {
            bank.latency = latency;
        }
        let (code_owned, stored) = (code.to_owned(), bank.clone());
        self.inner
            .db
            .write(move |conn| -> Result<(), DbError> {
                conn.execute(
                    "UPDATE banks SET status = ?2, latency_ms = ?3 WHERE code = ?1",
                    params![
                        code_owned,
                        stored.status,
                        stored.latency.map(|d| d.as_millis() as i64)
                    ],
                )?;
                Ok(())
            })
            .await?;
        self.inner
            .banks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(code.to_owned(), bank);
        Ok(true)
    }

    /// Marks the institution with `client_use_code` public (it must use PKCE) or confidential.
    /// `false` when there is no such institution.
    pub async fn set_institution_public(
        &self,
        client_use_code: &str,
        public: bool,
    ) -> Result<bool, DbError> {
        let code = client_use_code.to_owned();
        let changed = self
            .inner
            .db
            .write(move |conn| -> Result<usize, DbError> {
                Ok(conn.execute(
                    "UPDATE institutions SET public = ?2 WHERE client_use_code = ?1",
                    params![code, public],
                )?)
            })
            .await?;
        let mut institutions = self
            .inner
            .institutions
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for institution in institutions.iter_mut() {
            if institution.client_use_code == client_use_code {
                institution.public = public;
            }
        }
        Ok(changed == 1)
    }
}

/// An account as a transfer's answer describes it.
#[derive(Debug, Clone)]
pub(crate) struct AccountView {
    pub id: i64,
    pub bank_code: String,
    pub bank_name: String,
    pub account_num: String,
    pub holder_name: String,
    pub state: String,
}

impl AccountView {
    const SELECT: &'static str = "SELECT a.id, a.bank_code, b.name, a.account_num, a.holder_name,
        a.state FROM accounts a JOIN banks b ON b.code = a.bank_code";

    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            bank_code: r.get(1)?,
            bank_name: r.get(2)?,
            account_num: r.get(3)?,
            holder_name: r.get(4)?,
            state: r.get(5)?,
        })
    }
}

impl Testbed {
    /// An institution's contract account, from memory after the first read.
    pub(crate) async fn contract_account(&self, id: i64) -> Result<AccountView, ApiError> {
        let cached = self
            .inner
            .contract_accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        if let Some(account) = cached {
            return Ok(account);
        }
        let account = self.account_by_id(id).await?;
        self.inner
            .contract_accounts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, account.clone());
        Ok(account)
    }

    /// Forgets cached account details after an account's state changed.
    pub(crate) fn forget_accounts(&self) {
        self.inner
            .contract_accounts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The account with row id `id`.
    pub(crate) async fn account_by_id(&self, id: i64) -> Result<AccountView, ApiError> {
        Ok(self
            .inner
            .db
            .read(move |conn| -> Result<_, DbError> {
                let sql = format!("{} WHERE a.id = ?1", AccountView::SELECT);
                Ok(conn.query_row(&sql, [id], AccountView::from_row)?)
            })
            .await?)
    }

    /// The account `account_num` at bank `bank_code`, if the bank has it.
    pub(crate) async fn account_by_number(
        &self,
        bank_code: &str,
        account_num: &str,
    ) -> Result<Option<AccountView>, ApiError> {
        let (bank, number) = (bank_code.to_owned(), account_num.to_owned());
        Ok(self
            .inner
            .db
            .read(move |conn| -> Result<_, DbError> {
                let sql = format!(
                    "{} WHERE a.bank_code = ?1 AND a.account_num = ?2",
                    AccountView::SELECT
                );
                Ok(conn
                    .query_row(&sql, params![bank, number], AccountView::from_row)
                    .optional()?)
            })
            .await?)
    }
}

pub(super) type InstitutionRow = Result<Institution, String>;

pub(super) fn load_institutions(conn: &Connection) -> Result<Vec<InstitutionRow>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, client_id, client_secret, client_use_code, redirect_uris, scopes,
            collection_account, payout_account, public FROM institutions ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        let uris: String = r.get(5)?;
        let scopes: String = r.get(6)?;
        Ok((
            Institution {
                id: r.get(0)?,
                name: r.get(1)?,
                client_id: r.get(2)?,
                client_secret: r.get(3)?,
                client_use_code: r.get(4)?,
                redirect_uris: Vec::new(),
                scopes: scopes.split(' ').map(str::to_owned).collect(),
                collection_account: r.get(7)?,
                payout_account: r.get(8)?,
                public: r.get(9)?,
            },
            uris,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut institution, uris) = row?;
        out.push(match serde_json::from_str::<Vec<String>>(&uris) {
            Ok(list) => {
                institution.redirect_uris = list;
                Ok(institution)
            }
            Err(e) => Err(format!("redirect_uris of {}: {e}", institution.name)),
        });
    }
    Ok(out)
}

pub(super) fn load_banks(conn: &Connection) -> Result<HashMap<String, Bank>, DbError> {
    let mut stmt = conn.prepare("SELECT code, name, status, latency_ms FROM banks")?;
    let rows = stmt.query_map([], |r| {
        let latency: Option<i64> = r.get(3)?;
        Ok((
            r.get::<_, String>(0)?,
            Bank {
                name: r.get(1)?,
                status: r.get(2)?,
                latency: latency.map(|ms| Duration::from_millis(ms.max(0) as u64)),
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn institution(uris: &[&str]) -> Institution {
        Institution {
            id: 1,
            name: "t".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            client_use_code: "M202600001".into(),
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            scopes: vec![],
            collection_account: 1,
            payout_account: 2,
            public: false,
        }
    }

    #[test]
    fn an_institutions_debug_output_hides_its_client_secret() {
        let mut i = institution(&[]);
        i.client_secret = "a-client-secret-3f9c".into();
        let shown = format!("{i:?}");
        assert!(!shown.contains("a-client-secret-3f9c"), "{shown}");
        assert!(shown.contains("client_secret: \"***\""), "{shown}");
        let grant = crate::oauth::Grant {
            institution: i,
            person_id: 1,
            scope: vec![],
            redirect_uri: String::new(),
            code_challenge: None,
            client_info: String::new(),
            accounts: vec![],
            inquiry_agree: false,
            transfer_agree: false,
        };
        assert!(!format!("{grant:?}").contains("a-client-secret-3f9c"));
    }

    #[test]
    fn loopback_callback_accepts_any_port_but_the_same_path() {
        let i = institution(&["http://127.0.0.1/callback"]);
        assert!(i.accepts_redirect("http://127.0.0.1:53127/callback"));
        assert!(i.accepts_redirect("http://127.0.0.1/callback"));
        assert!(!i.accepts_redirect("http://127.0.0.1:53127/callback/evil"));
        assert!(!i.accepts_redirect("http://127.0.0.1:53127/other"));
        assert!(!i.accepts_redirect("http://127.0.0.1:abc/callback"));
        assert!(!i.accepts_redirect("http://127.0.0.1.evil.com/callback"));
        assert!(!i.accepts_redirect("http://127.0.0.1@evil.com/callback"));
    }

    #[test]
    fn other_callbacks_must_match_exactly() {
        let i = institution(&["https://moa.example/callback"]);
        assert!(i.accepts_redirect("https://moa.example/callback"));
        assert!(!i.accepts_redirect("https://moa.example/callback?x=1"));
        assert!(!i.accepts_redirect("https://moa.example:444/callback"));
        assert!(!i.accepts_redirect("http://moa.example/callback"));
    }
}
