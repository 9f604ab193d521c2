//! `inquiry/real_name`: whose is this account? Asked by institutions with their `oob` token.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{
    account_state_rules, ask_bank, authorized_json, bank_code_sub, bank_tran_id, no_such_account,
};
use crate::db::DbError;
use crate::history::{self, HistoryQuery};
use crate::state::{AccountView, Testbed, mask};
use crate::wire::{self, ApiError, BankBlock, Params};

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
    let (caller, params) = authorized_json(&testbed, &headers, "oob", body).await?;
    let bank_tran_id = bank_tran_id(&params, &caller)?;
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
    let block = ask_bank(&testbed, "real_name", &bank_tran_id, &bank_code, &now).await?;
    let Some(found) = find_account(&testbed, &bank_code, &account_num).await? else {
        return Err(no_such_account(block));
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

#[derive(Serialize)]
struct Receivable {
    bank_code_std: String,
    bank_code_sub: String,
    bank_name: String,
    savings_bank_name: String,
    account_num: String,
    account_seq: String,
    account_num_masked: String,
    print_content: String,
    account_holder_name: String,
    #[serde(flatten)]
    bank: BankBlock,
    wd_bank_code_std: String,
    wd_bank_name: String,
    wd_account_num: String,
    tran_amt: String,
    cms_num: String,
}

/// `POST /v2.0/inquiry/receive`: can this account receive a deposit, and whose is it? Asked
/// before a deposit to show the recipient's name.
pub(crate) async fn receive(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "oob", body).await?;
    let institution = caller.institution.clone();
    let bank_tran_id = bank_tran_id(&params, &caller)?;
    params.one_of("cntr_account_type", &["N", "C"])?;
    let cntr_account_num = params.account_num("cntr_account_num")?;
    let fintech = params.opt_text("fintech_use_num", 24)?;
    let by_number = match fintech {
        Some(_) => None,
        None => Some((
            params.bank_code("bank_code_std")?,
            params.account_num("account_num")?,
        )),
    };
    let account_seq = params.opt_text("account_seq", 3)?.unwrap_or_default();
    let print_content = params.text("print_content", 20)?;
    let amount = params.amount("tran_amt")?;
    params.text("req_client_name", 20)?;
    params.text("req_client_num", 20)?;
    params.one_of("transfer_purpose", &["TR", "ST", "AU"])?;
    let cms_num = params.opt_text("cms_num", 20)?.unwrap_or_default();
    testbed.claim_bank_tran_id(&caller, &bank_tran_id)?;
    let payout = testbed.contract_account(institution.payout_account).await?;
    if cntr_account_num != payout.account_num {
        return Err(ApiError::new("A0322", "등록되지 않은 약정계좌입니다"));
    }
    let now = testbed.now();
    // A registered account is found first and its bank asked after; an account named by number
    // is looked for by its bank, so the bank is asked first.
    let (account, shown_number, block): (AccountView, String, BankBlock) = match by_number {
        None => {
            let fintech = params.fintech_use_num("fintech_use_num")?;
            let registration = testbed.registration(&caller, &fintech).await?;
            let account = testbed.account_by_id(registration.account_id).await?;
            let block =
                ask_bank(&testbed, "receive", &bank_tran_id, &account.bank_code, &now).await?;
            (account, String::new(), block)
        }
        Some((bank, number)) => {
            let block = ask_bank(&testbed, "receive", &bank_tran_id, &bank, &now).await?;
            match testbed.account_by_number(&bank, &number).await? {
                Some(account) => (account, number, block),
                None => return Err(no_such_account(block)),
            }
        }
    };
    account_state_rules(&account.state, &block)?;
    Ok(wire::ok(
        &now,
        Receivable {
            bank_code_sub: bank_code_sub(&account.bank_code),
            bank_code_std: account.bank_code,
            bank_name: account.bank_name,
            savings_bank_name: String::new(),
            account_num: shown_number,
            account_seq,
            account_num_masked: mask(&account.account_num),
            print_content,
            account_holder_name: account.holder_name,
            bank: block,
            wd_bank_code_std: payout.bank_code,
            wd_bank_name: payout.bank_name,
            wd_account_num: mask(&payout.account_num),
            tran_amt: amount.to_string(),
            cms_num,
        },
    ))
}

#[derive(Serialize)]
struct Remittance {
    tran_date: String,
    tran_time: String,
    tran_type: String,
    printed_content: String,
    tran_amt: String,
    after_balance_amt: String,
    branch_name: String,
    remitter_name: String,
    remitter_bank_code: String,
    remitter_account_num: String,
}

#[derive(Serialize)]
struct Remittances {
    #[serde(flatten)]
    bank: BankBlock,
    bank_code_std: String,
    account_num: String,
    bank_name: String,
    balance_amt: String,
    total_record_cnt: String,
    page_record_cnt: String,
    next_page_yn: String,
    befor_inquiry_trace_info: String,
    res_list: Vec<Remittance>,
}

/// `POST /v2.0/inquiry/remit_list`: who sent money into one of the institution's contract
/// accounts, a page of 25 at a time.
pub(crate) async fn remit_list(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "oob", body).await?;
    let institution = caller.institution.clone();
    let bank_tran_id = bank_tran_id(&params, &caller)?;
    let bank_code = params.bank_code("bank_code_std")?;
    let account_num = params.account_num("account_num")?;
    let query = history_range(&params)?;
    params.dtime("tran_dtime")?;
    testbed.claim_bank_tran_id(&caller, &bank_tran_id)?;
    let mut own = None;
    for id in [institution.collection_account, institution.payout_account] {
        let account = testbed.contract_account(id).await?;
        if account.bank_code == bank_code && account.account_num == account_num {
            own = Some(account);
        }
    }
    let account = own.ok_or_else(|| ApiError::new("A0322", "등록되지 않은 약정계좌입니다"))?;
    let now = testbed.now();
    let block = ask_bank(&testbed, "remit_list", &bank_tran_id, &bank_code, &now).await?;
    let account_id = account.id;
    let (page, total, balance) = testbed
        .db()
        .read(move |conn| -> Result<_, ApiError> {
            let query = HistoryQuery {
                account_id,
                ..query
            };
            let page = history::page(conn, &query)?;
            let (total, balance): (i64, i64) = conn
                .query_row(
                    "SELECT (SELECT COUNT(*) FROM transactions WHERE account_id = ?1
                        AND inout_type = '입금' AND (tran_date, tran_time) >= (?2, ?3)
                        AND (tran_date, tran_time) <= (?4, ?5)),
                        balance FROM accounts WHERE id = ?1",
                    params![
                        account_id,
                        query.from.0,
                        query.from.1,
                        query.to.0,
                        query.to.1
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(DbError::from)?;
            Ok((page, total, balance))
        })
        .await?;
    Ok(wire::ok(
        &now,
        Remittances {
            bank: block,
            bank_code_std: bank_code,
            account_num,
            bank_name: account.bank_name,
            balance_amt: balance.to_string(),
            total_record_cnt: total.to_string(),
            page_record_cnt: page.rows.len().to_string(),
            next_page_yn: page.next_page_yn(),
            befor_inquiry_trace_info: page.cursor(),
            res_list: page
                .rows
                .into_iter()
                .map(|r| Remittance {
                    tran_date: r.tran_date,
                    tran_time: r.tran_time,
                    tran_type: r.tran_type,
                    printed_content: r.print_content,
                    tran_amt: r.tran_amt.to_string(),
                    after_balance_amt: r.after_balance.to_string(),
                    branch_name: r.branch_name,
                    remitter_name: r.counterpart_name,
                    remitter_bank_code: r.counterpart_bank,
                    remitter_account_num: r.counterpart_account,
                })
                .collect(),
        },
    ))
}

/// The date-and-time range, order and cursor of a remitter query (deposits only).
fn history_range(params: &Params) -> Result<HistoryQuery, ApiError> {
    let from = (
        params.date("from_date")?.format("%Y%m%d").to_string(),
        params.time("from_time")?.format("%H%M%S").to_string(),
    );
    let to = (
        params.date("to_date")?.format("%Y%m%d").to_string(),
        params.time("to_time")?.format("%H%M%S").to_string(),
    );
    if from > to {
        return Err(ApiError::malformed(
            "from_date",
            "조회 시작일시가 종료일시보다 늦습니다",
        ));
    }
    let newest_first = params.one_of("sort_order", &["D", "A"])? == "D";
    let cursor = params.opt_text("befor_inquiry_trace_info", 20)?;
    Ok(HistoryQuery {
        account_id: 0,
        inout: Some("입금"),
        from,
        to,
        newest_first,
        after_row: cursor.as_deref().map(history::decode_cursor).transpose()?,
    })
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
