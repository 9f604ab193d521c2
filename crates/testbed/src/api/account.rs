//! Registered accounts: listing, alias, cancellation, balance and history.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::params;
use serde::Serialize;

use chrono::{DateTime, FixedOffset};

use super::user::{person_and_accounts, require_own_user};
use super::{
    AccountItem, account_state_rules, ask_bank, authorized_json, authorized_query, bank_tran_id,
};
use crate::db::DbError;
use crate::history::{self, HistoryQuery};
use crate::state::{Caller, Registration, Testbed};
use crate::wire::{self, ApiError, BankBlock};

#[derive(Serialize)]
struct AccountList {
    user_name: String,
    res_cnt: String,
    res_list: Vec<AccountItem>,
}

/// `GET /v2.0/account/list`.
pub(crate) async fn list(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_query(&testbed, &headers, "login", query.as_deref()).await?;
    let user_seq_no = params.digits("user_seq_no", 10)?;
    let include_cancelled = params.one_of("include_cancel_yn", &["Y", "N"])? == "Y";
    let newest_first = params.one_of("sort_order", &["D", "A"])? == "D";
    require_own_user(&caller, &user_seq_no)?;
    let (user_name, _, accounts) = person_and_accounts(
        &testbed,
        caller.institution.id,
        &user_seq_no,
        include_cancelled,
        newest_first,
    )
    .await?;
    let res_list: Vec<AccountItem> = accounts.iter().map(|r| AccountItem::new(r, true)).collect();
    Ok(wire::ok(
        &testbed.now(),
        AccountList {
            user_name,
            res_cnt: res_list.len().to_string(),
            res_list,
        },
    ))
}

#[derive(Serialize)]
struct AliasChanged {
    fintech_use_num: String,
    account_alias: String,
}

/// `POST /v2.0/account/update_info`: the person's own name for an account.
pub(crate) async fn update_info(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "login", body).await?;
    let fintech_use_num = params.fintech_use_num("fintech_use_num")?;
    let account_alias = params.opt_text("account_alias", 50)?.unwrap_or_default();
    testbed.registration(&caller, &fintech_use_num).await?;
    let (fintech, alias) = (fintech_use_num.clone(), account_alias.clone());
    testbed
        .db()
        .write(move |conn| -> Result<(), DbError> {
            conn.execute(
                "UPDATE registrations SET account_alias = ?2 WHERE fintech_use_num = ?1",
                params![fintech, alias],
            )?;
            Ok(())
        })
        .await?;
    Ok(wire::ok(
        &testbed.now(),
        AliasChanged {
            fintech_use_num,
            account_alias,
        },
    ))
}

/// `POST /v2.0/account/cancel`: withdraws the inquiry or the transfer consent of an account; with
/// neither left, the registration is cancelled (`09`).
pub(crate) async fn cancel(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "login", body).await?;
    let bank_tran_id = bank_tran_id(&params, &caller)?;
    let scope = params.one_of("scope", &["inquiry", "transfer"])?;
    let fintech_use_num = params.fintech_use_num("fintech_use_num")?;
    testbed.claim_bank_tran_id(&caller, &bank_tran_id)?;
    let registration = testbed.registration(&caller, &fintech_use_num).await?;
    let now = testbed.now();
    let block = BankBlock::ok(&bank_tran_id, &registration.bank_code, &now);
    testbed
        .db()
        .write(move |conn| -> Result<(), DbError> {
            let column = if scope == "inquiry" {
                "inquiry_agree_dtime"
            } else {
                "transfer_agree_dtime"
            };
            conn.execute(
                &format!("UPDATE registrations SET {column} = NULL WHERE fintech_use_num = ?1"),
                [&fintech_use_num],
            )?;
            conn.execute(
                "UPDATE registrations SET state = '09' WHERE fintech_use_num = ?1
                 AND inquiry_agree_dtime IS NULL AND transfer_agree_dtime IS NULL",
                [&fintech_use_num],
            )?;
            Ok(())
        })
        .await?;
    Ok(wire::ok(&now, block))
}

#[derive(Serialize)]
struct Balance {
    #[serde(flatten)]
    bank: BankBlock,
    bank_name: String,
    savings_bank_name: String,
    fintech_use_num: String,
    balance_amt: String,
    available_amt: String,
    account_type: String,
    product_name: String,
    account_issue_date: String,
    maturity_date: String,
    last_tran_date: String,
}

/// The balance and last transaction date of an account, read now.
async fn current_balance(testbed: &Testbed, account_id: i64) -> Result<(i64, String), ApiError> {
    Ok(testbed
        .db()
        .read(move |conn| -> Result<_, DbError> {
            Ok(conn.query_row(
                "SELECT balance, COALESCE((SELECT MAX(tran_date) FROM transactions
                    WHERE account_id = ?1), '') FROM accounts WHERE id = ?1",
                [account_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await?)
}

/// What the opening of an inquiry on a registered account settles: the registration, the bank's
/// block of the answer and the moment it is answered.
struct Inquiry {
    registration: Registration,
    block: BankBlock,
    now: DateTime<FixedOffset>,
}

/// The opening both inquiries on a registered account share, once their fields are read:
/// claims `bank_tran_id`, finds the caller's registration under `fintech_use_num`, requires its
/// inquiry consent, asks its bank (`api`) and applies the bank's rules on the account's state.
async fn inquire_registered(
    testbed: &Testbed,
    caller: &Caller,
    api: &str,
    bank_tran_id: &str,
    fintech_use_num: &str,
) -> Result<Inquiry, ApiError> {
    testbed.claim_bank_tran_id(caller, bank_tran_id)?;
    let registration = testbed.registration(caller, fintech_use_num).await?;
    let now = testbed.now();
    registration.require_inquiry_consent(&now)?;
    let block = ask_bank(testbed, api, bank_tran_id, &registration.bank_code, &now).await?;
    account_state_rules(&registration.account_state, &block)?;
    Ok(Inquiry {
        registration,
        block,
        now,
    })
}

/// `GET /v2.0/account/balance/fin_num`.
pub(crate) async fn balance(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (caller, params) =
        authorized_query(&testbed, &headers, "inquiry", query.as_deref()).await?;
    let bank_tran_id = bank_tran_id(&params, &caller)?;
    let fintech_use_num = params.fintech_use_num("fintech_use_num")?;
    params.dtime("tran_dtime")?;
    let Inquiry {
        registration,
        block,
        now,
    } = inquire_registered(
        &testbed,
        &caller,
        "balance",
        &bank_tran_id,
        &fintech_use_num,
    )
    .await?;
    let (balance, last_tran_date) = current_balance(&testbed, registration.account_id).await?;
    // Installment savings cannot be withdrawn before maturity.
    let available = if registration.account_type == "1" {
        balance
    } else {
        0
    };
    Ok(wire::ok(
        &now,
        Balance {
            bank: block,
            bank_name: registration.bank_name,
            savings_bank_name: String::new(),
            fintech_use_num,
            balance_amt: balance.to_string(),
            available_amt: available.to_string(),
            account_type: registration.account_type,
            product_name: registration.product_name,
            account_issue_date: registration.issue_date,
            maturity_date: registration.maturity_date.unwrap_or_default(),
            last_tran_date,
        },
    ))
}

#[derive(Serialize)]
struct HistoryRow {
    tran_date: String,
    tran_time: String,
    inout_type: String,
    tran_type: String,
    print_content: String,
    tran_amt: String,
    after_balance_amt: String,
    branch_name: String,
}

impl From<history::Row> for HistoryRow {
    fn from(r: history::Row) -> Self {
        Self {
            tran_date: r.tran_date,
            tran_time: r.tran_time,
            inout_type: r.inout_type,
            tran_type: r.tran_type,
            print_content: r.print_content,
            tran_amt: r.tran_amt.to_string(),
            after_balance_amt: r.after_balance.to_string(),
            branch_name: r.branch_name,
        }
    }
}

#[derive(Serialize)]
struct History {
    #[serde(flatten)]
    bank: BankBlock,
    bank_name: String,
    savings_bank_name: String,
    fintech_use_num: String,
    balance_amt: String,
    page_record_cnt: String,
    next_page_yn: String,
    befor_inquiry_trace_info: String,
    res_list: Vec<HistoryRow>,
}

/// `GET /v2.0/account/transaction_list/fin_num`: 25 rows a page, continued with
/// `befor_inquiry_trace_info` and a new `bank_tran_id`.
pub(crate) async fn transaction_list(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (caller, params) =
        authorized_query(&testbed, &headers, "inquiry", query.as_deref()).await?;
    let bank_tran_id = bank_tran_id(&params, &caller)?;
    let fintech_use_num = params.fintech_use_num("fintech_use_num")?;
    let inout = match params.one_of("inquiry_type", &["A", "I", "O"])?.as_str() {
        "I" => Some("입금"),
        "O" => Some("출금"),
        _ => None,
    };
    let by_time = params.one_of("inquiry_base", &["D", "T"])? == "T";
    let from_date = params.date("from_date")?;
    let to_date = params.date("to_date")?;
    let (from_time, to_time) = if by_time {
        (
            params.time("from_time")?.format("%H%M%S").to_string(),
            params.time("to_time")?.format("%H%M%S").to_string(),
        )
    } else {
        ("000000".to_owned(), "235959".to_owned())
    };
    let newest_first = params.one_of("sort_order", &["D", "A"])? == "D";
    params.dtime("tran_dtime")?;
    let cursor = params.opt_text("befor_inquiry_trace_info", 20)?;
    let after_row = cursor.as_deref().map(history::decode_cursor).transpose()?;
    let from = (from_date.format("%Y%m%d").to_string(), from_time);
    let to = (to_date.format("%Y%m%d").to_string(), to_time);
    if from > to {
        return Err(ApiError::malformed(
            "from_date",
            "조회 시작일시가 종료일시보다 늦습니다",
        ));
    }
    let Inquiry {
        registration,
        block,
        now,
    } = inquire_registered(
        &testbed,
        &caller,
        "transaction_list",
        &bank_tran_id,
        &fintech_use_num,
    )
    .await?;
    let query = HistoryQuery {
        account_id: registration.account_id,
        inout,
        from,
        to,
        newest_first,
        after_row,
    };
    let page = testbed
        .db()
        .read(move |conn| history::page(conn, &query))
        .await?;
    let (balance, _) = current_balance(&testbed, registration.account_id).await?;
    Ok(wire::ok(
        &now,
        History {
            bank: block,
            bank_name: registration.bank_name,
            savings_bank_name: String::new(),
            fintech_use_num,
            balance_amt: balance.to_string(),
            page_record_cnt: page.rows.len().to_string(),
            next_page_yn: page.next_page_yn(),
            befor_inquiry_trace_info: page.cursor(),
            res_list: page.rows.into_iter().map(HistoryRow::from).collect(),
        },
    ))
}
