//! `inquiry/real_name`: whose is this account? Asked by institutions with their `oob` token.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{account_state_rules, bank_code_sub, json_body};
use crate::db::DbError;
use crate::state::Testbed;
use crate::wire::{self, ApiError, BankBlock};

/// Kinds of `account_holder_info` the center accepts.
const HOLDER_INFO_TYPES: &[&str] = &[" ", "1", "2", "3", "4", "5", "6", "N"];

#[derive(Serialize)]
struct RealName {
    #[serde(flatten)]
    bank: BankBlock,
    bank_code_std: String,
    bank_code_sub: String,
    bank_name: String,
    savings_bank_name: String,
    account_num: String,
    account_seq: String,
    account_holder_info_type: String,
    account_holder_info: String,
    account_holder_name: String,
    account_type: String,
}

/// An account found by bank and number, with what the real-name check needs.
pub(crate) struct Found {
    pub account_state: String,
    pub holder_name: String,
    pub account_type: String,
    pub birth_date: Option<String>,
}

/// The account `account_num` at `bank_code`, if the bank has it.
pub(crate) async fn find_account(
    testbed: &Testbed,
    bank_code: &str,
    account_num: &str,
) -> Result<Option<Found>, ApiError> {
    let (bank, number) = (bank_code.to_owned(), account_num.to_owned());
    Ok(testbed
        .db()
        .read(move |conn| -> Result<_, DbError> {
            Ok(conn
                .query_row(
                    "SELECT a.state, a.holder_name, a.account_type, p.birth_date
                     FROM accounts a LEFT JOIN people p ON p.id = a.person_id
                     WHERE a.bank_code = ?1 AND a.account_num = ?2",
                    params![bank, number],
                    |r| {
                        Ok(Found {
                            account_state: r.get(0)?,
                            holder_name: r.get(1)?,
                            account_type: r.get(2)?,
                            birth_date: r.get(3)?,
                        })
                    },
                )
                .optional()?)
        })
        .await?)
}

/// Whether `info` of kind `kind` identifies the holder born on `birth_date` (`yyyyMMdd`).
fn holder_matches(kind: &str, info: &str, birth_date: Option<&str>) -> bool {
    match (kind, birth_date) {
        ("N", _) => true,
        // A birth date in six digits, or a resident number that starts with it.
        (" ", Some(birth)) => info == &birth[2..],
        ("1", Some(birth)) => info.len() == 13 && info.starts_with(&birth[2..]),
        // Business numbers identify institutions' accounts, which have no birth date.
        ("6", None) => info.len() == 10,
        _ => false,
    }
}

/// `POST /v2.0/inquiry/real_name`.
pub(crate) async fn real_name(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = testbed.authorize(&headers, "oob").await?;
    let params = json_body(&headers, body)?;
    let bank_tran_id = params.bank_tran_id("bank_tran_id", &caller.institution.client_use_code)?;
    let bank_code = params.bank_code("bank_code_std")?;
    let account_num = params.account_num("account_num")?;
    let account_seq = params.opt_text("account_seq", 3)?.unwrap_or_default();
    let info_type = params.one_of("account_holder_info_type", HOLDER_INFO_TYPES)?;
    let info = if info_type == "N" {
        params
            .opt_text("account_holder_info", 13)?
            .unwrap_or_default()
    } else {
        params.text("account_holder_info", 13)?
    };
    params.dtime("tran_dtime")?;
    testbed.claim_bank_tran_id(&caller, &bank_tran_id)?;
    let now = testbed.now();
    let block = BankBlock::ok(&bank_tran_id, &bank_code, &now);
    testbed.reach_bank(&bank_code, &block).await?;
    let Some(found) = find_account(&testbed, &bank_code, &account_num).await? else {
        return Err(ApiError::bank(
            block.refused("412", "계좌번호 오류 (해당 계좌 없음)"),
        ));
    };
    account_state_rules(&found.account_state, &block)?;
    if !holder_matches(&info_type, &info, found.birth_date.as_deref()) {
        return Err(ApiError::bank(
            block.refused("463", "실명번호가 상이합니다"),
        ));
    }
    let bank_name = testbed.bank(&bank_code).map(|b| b.name).unwrap_or_default();
    Ok(wire::ok(
        &now,
        RealName {
            bank: block,
            bank_code_sub: bank_code_sub(&bank_code),
            bank_code_std: bank_code,
            bank_name,
            savings_bank_name: String::new(),
            account_num,
            account_seq,
            account_holder_info_type: info_type,
            account_holder_info: info,
            account_holder_name: found.holder_name,
            account_type: found.account_type,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::holder_matches;

    #[test]
    fn holder_info_is_matched_by_its_kind() {
        let birth = Some("19880101");
        assert!(holder_matches(" ", "880101", birth));
        assert!(!holder_matches(" ", "880102", birth));
        assert!(holder_matches("1", "8801011234567", birth));
        assert!(!holder_matches("1", "880101", birth));
        assert!(holder_matches("N", "", birth));
        assert!(holder_matches("6", "1234567890", None));
        assert!(!holder_matches("6", "1234567890", birth));
        assert!(!holder_matches(" ", "880101", None));
    }
}
