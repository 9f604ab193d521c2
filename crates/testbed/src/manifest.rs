//! The sandbox manifest: everything a client needs to find its way into a running testbed.
//!
//! It holds secrets — the admin token, each institution's client secret — so its `Debug` prints
//! `***` for them: a manifest, or a [`Spawned`](crate::Spawned) that carries one, may end up in
//! a log line or a test failure's message.

use std::fmt;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::state::Institution;

/// The JSON written by `moa-testbed serve --manifest-out`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Bearer token of the `/testbed/admin` API.
    pub admin_token: String,
    /// The institutions that may call the center, with their credentials.
    pub institutions: Vec<ManifestInstitution>,
    /// The demo people who can sign in on the consent pages.
    pub users: Vec<ManifestUser>,
}

/// An institution (이용기관) and its credentials.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestInstitution {
    /// Display name.
    pub name: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// 이용기관코드, the prefix of its `bank_tran_id`s.
    pub client_use_code: String,
    /// Registered callbacks; a loopback one without a port accepts any port.
    pub redirect_uris: Vec<String>,
    /// Contract account money is withdrawn into.
    pub collection_account: ContractAccount,
    /// Contract account deposits are paid from.
    pub payout_account: ContractAccount,
}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("base_url", &self.base_url)
            .field("admin_token", &"***")
            .field("institutions", &self.institutions)
            .field("users", &self.users)
            .finish()
    }
}

impl fmt::Debug for ManifestInstitution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestInstitution")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("client_use_code", &self.client_use_code)
            .field("redirect_uris", &self.redirect_uris)
            .field("collection_account", &self.collection_account)
            .field("payout_account", &self.payout_account)
            .finish()
    }
}

/// A contract account (약정계좌).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContractAccount {
    /// Bank code.
    pub bank_code_std: String,
    /// Account number.
    pub account_num: String,
}

/// A demo person and the identity the consent pages ask for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestUser {
    /// Name.
    pub user_name: String,
    /// `yyyyMMdd`.
    pub birth_date: String,
    /// Mobile number, digits only.
    pub cell_no: String,
    /// The person's accounts at participating banks.
    pub accounts: Vec<ManifestAccount>,
}

/// One of a demo person's accounts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestAccount {
    /// Bank code.
    pub bank_code_std: String,
    /// Bank name.
    pub bank_name: String,
    /// Account number.
    pub account_num: String,
    /// Holder's name.
    pub account_holder_name: String,
    /// `1` demand deposit, `2` savings.
    pub account_type: String,
}

fn contract_account(conn: &Connection, id: i64) -> Result<ContractAccount, DbError> {
    Ok(conn.query_row(
        "SELECT bank_code, account_num FROM accounts WHERE id = ?1",
        [id],
        |r| {
            Ok(ContractAccount {
                bank_code_std: r.get(0)?,
                account_num: r.get(1)?,
            })
        },
    )?)
}

/// Builds the manifest from the database.
pub(crate) fn build(
    conn: &Connection,
    base_url: String,
    admin_token: String,
    institutions: &[Institution],
) -> Result<Manifest, DbError> {
    let mut listed = Vec::with_capacity(institutions.len());
    for i in institutions {
        listed.push(ManifestInstitution {
            name: i.name.clone(),
            client_id: i.client_id.clone(),
            client_secret: i.client_secret.clone(),
            client_use_code: i.client_use_code.clone(),
            redirect_uris: i.redirect_uris.clone(),
            collection_account: contract_account(conn, i.collection_account)?,
            payout_account: contract_account(conn, i.payout_account)?,
        });
    }
    let mut people =
        conn.prepare("SELECT id, user_name, birth_date, cell_no FROM people ORDER BY id")?;
    let mut accounts = conn.prepare(
        "SELECT a.bank_code, b.name, a.account_num, a.holder_name, a.account_type
         FROM accounts a JOIN banks b ON b.code = a.bank_code
         WHERE a.person_id = ?1 ORDER BY a.id",
    )?;
    let mut users = Vec::new();
    let rows = people.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    for row in rows {
        let (id, user_name, birth_date, cell_no) = row?;
        let owned = accounts
            .query_map(params![id], |r| {
                Ok(ManifestAccount {
                    bank_code_std: r.get(0)?,
                    bank_name: r.get(1)?,
                    account_num: r.get(2)?,
                    account_holder_name: r.get(3)?,
                    account_type: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        users.push(ManifestUser {
            user_name,
            birth_date,
            cell_no,
            accounts: owned,
        });
    }
    Ok(Manifest {
        base_url,
        admin_token,
        institutions: listed,
        users,
    })
}

#[cfg(test)]
mod tests {
    use crate::{Config, spawn};

    #[tokio::test]
    async fn a_manifest_and_a_spawned_testbed_print_no_secret() {
        let spawned = spawn(Config::in_memory()).await.expect("a testbed");
        let manifest = &spawned.manifest;
        let secrets: Vec<&str> = std::iter::once(manifest.admin_token.as_str())
            .chain(
                manifest
                    .institutions
                    .iter()
                    .map(|i| i.client_secret.as_str()),
            )
            .collect();
        assert!(secrets.iter().all(|s| s.len() >= 8), "{}", secrets.len());
        for shown in [
            format!("{manifest:?}"),
            format!("{manifest:#?}"),
            format!("{:?}", manifest.institutions[0]),
            format!("{spawned:?}"),
        ] {
            for secret in &secrets {
                assert!(!shown.contains(secret), "{shown}");
            }
            assert!(shown.contains("***"), "{shown}");
        }
        // What a client needs to find the center still shows.
        assert!(format!("{manifest:?}").contains(&manifest.base_url));
        spawned.shutdown().await;
    }
}
