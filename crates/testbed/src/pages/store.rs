//! What the consent pages read from the database: the person behind an identity, their accounts
//! to choose from, and the ids of the chosen ones.

use rusqlite::{OptionalExtension, params};

use super::form::Identity;
use crate::db::DbError;
use crate::state::Testbed;
use crate::wire::ApiError;

/// A person's account as the selection page lists it.
pub(super) struct Choice {
    pub bank_code: String,
    pub bank_name: String,
    pub account_num: String,
    pub product: String,
    /// Whether it is already registered with the asking institution.
    pub registered: bool,
}

impl Choice {
    /// The form value that names it: `bank-number`.
    pub fn value(&self) -> String {
        format!("{}-{}", self.bank_code, self.account_num)
    }
}

/// The person with exactly this name, birth date and mobile number, if any.
pub(super) async fn person(testbed: &Testbed, identity: Identity) -> Result<Option<i64>, DbError> {
    let Identity {
        user_name,
        birth_date,
        cell_no,
    } = identity;
    testbed
        .db()
        .read(move |conn| -> Result<Option<i64>, DbError> {
            Ok(conn
                .query_row(
                    "SELECT id FROM people WHERE user_name = ?1 AND birth_date = ?2 AND cell_no = ?3",
                    params![user_name, birth_date, cell_no],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await
}

/// The person's open accounts, each marked whether the institution has it registered.
pub(super) async fn choices(
    testbed: &Testbed,
    institution_id: i64,
    person_id: i64,
) -> Result<Vec<Choice>, ApiError> {
    Ok(testbed
        .db()
        .read(move |conn| -> Result<Vec<Choice>, DbError> {
            let mut stmt = conn.prepare(
                "SELECT a.bank_code, b.name, a.account_num, a.product_name,
                    EXISTS (SELECT 1 FROM registrations r WHERE r.account_id = a.id
                            AND r.institution_id = ?2 AND r.state = '01')
                 FROM accounts a JOIN banks b ON b.code = a.bank_code
                 WHERE a.person_id = ?1 AND a.state != 'closed' ORDER BY a.id",
            )?;
            let rows = stmt.query_map(params![person_id, institution_id], |r| {
                Ok(Choice {
                    bank_code: r.get(0)?,
                    bank_name: r.get(1)?,
                    account_num: r.get(2)?,
                    product: r.get(3)?,
                    registered: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?)
}

/// The ids of the accounts named by (bank code, account number).
pub(super) async fn account_ids(
    testbed: &Testbed,
    wanted: Vec<(String, String)>,
) -> Result<Vec<i64>, DbError> {
    testbed
        .db()
        .read(move |conn| -> Result<Vec<i64>, DbError> {
            let mut ids = Vec::new();
            for (bank, number) in wanted {
                ids.push(conn.query_row(
                    "SELECT id FROM accounts WHERE bank_code = ?1 AND account_num = ?2",
                    params![bank, number],
                    |r| r.get(0),
                )?);
            }
            Ok(ids)
        })
        .await
}
