//! The service APIs under `/v2.0`, each running the center's checks in the order of
//! docs/protocol.md §5: method, bearer, token, scope, format, `bank_tran_id` reuse, fintech
//! number, consent, bank.

mod account;
mod bank;
mod inquiry;
mod transfer;
mod user;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use chrono::{DateTime, FixedOffset};

use crate::state::{Caller, Registration, Testbed, inquiry_fault, mask};
use crate::wire::{ApiError, BankBlock, Params, code};

pub(crate) fn routes() -> Router<Testbed> {
    Router::new()
        .route("/v2.0/user/me", get(user::me).fallback(method_not_allowed))
        .route(
            "/v2.0/user/unlink",
            post(user::unlink).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/user/close",
            post(user::close).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/account/list",
            get(account::list).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/account/update_info",
            post(account::update_info).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/account/cancel",
            post(account::cancel).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/account/balance/fin_num",
            get(account::balance).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/account/transaction_list/fin_num",
            get(account::transaction_list).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/inquiry/real_name",
            post(inquiry::real_name).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/bank/status",
            get(bank::status).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/inquiry/receive",
            post(inquiry::receive).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/inquiry/remit_list",
            post(inquiry::remit_list).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/transfer/withdraw/fin_num",
            post(transfer::withdraw).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/transfer/deposit/fin_num",
            post(transfer::deposit_fin_num).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/transfer/deposit/acnt_num",
            post(transfer::deposit_acnt_num).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/transfer/result",
            post(transfer::result).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/return/claim",
            post(transfer::return_claim).fallback(method_not_allowed),
        )
        .route(
            "/v2.0/return/result",
            post(transfer::return_result).fallback(method_not_allowed),
        )
}

/// `O0010`: the API exists, the HTTP method is wrong.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(code::METHOD_NOT_ALLOWED, "허용되지 않은 HTTP Method 입니다")
}

/// Paths the center does not serve.
pub(crate) async fn not_found() -> Response {
    let mut error = ApiError::new(code::NOT_SUBSCRIBED, "존재하지 않는 API 입니다");
    error.status = StatusCode::NOT_FOUND;
    error.into_response()
}

/// The caller and the fields of a JSON POST, checked in the center's order: the bearer token
/// and its `scope` first, then the body's format.
pub(crate) async fn authorized_json(
    testbed: &Testbed,
    headers: &HeaderMap,
    scope: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Caller, Params), ApiError> {
    let caller = testbed.authorize(headers, scope).await?;
    let params = json_body(headers, body)?;
    Ok((caller, params))
}

/// The caller and the query fields of a GET, checked in the center's order: the bearer token
/// and its `scope` first, then the query's format.
pub(crate) async fn authorized_query(
    testbed: &Testbed,
    headers: &HeaderMap,
    scope: &str,
    query: Option<&str>,
) -> Result<(Caller, Params), ApiError> {
    let caller = testbed.authorize(headers, scope).await?;
    let params = Params::from_query(query)?;
    Ok((caller, params))
}

/// The fields of a JSON POST body: `A0004` for another content type, an unreadable, oversized or
/// malformed body.
fn json_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Params, ApiError> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::malformed(
            "Content-Type",
            "application/json 이어야 합니다",
        ));
    }
    let body =
        body.map_err(|_| ApiError::malformed("body", "요청 전문이 너무 크거나 읽을 수 없습니다"))?;
    Params::from_json(&body)
}

/// The request's `bank_tran_id` field, which must begin with the caller's own client use code.
pub(crate) fn bank_tran_id(params: &Params, caller: &Caller) -> Result<String, ApiError> {
    params.bank_tran_id("bank_tran_id", &caller.institution.client_use_code)
}

/// Sends inquiry `api` to bank `bank_code`: the answer's bank block when the bank is open and no
/// scripted fault strikes, otherwise the refusal. An inquiry changes nothing, so every fault is
/// the answer.
pub(crate) async fn ask_bank(
    testbed: &Testbed,
    api: &str,
    bank_tran_id: &str,
    bank_code: &str,
    now: &DateTime<FixedOffset>,
) -> Result<BankBlock, ApiError> {
    let block = BankBlock::ok(bank_tran_id, bank_code, now);
    let fault = testbed.reach_bank(api, bank_code, &block).await?;
    inquiry_fault(fault, &block)?;
    Ok(block)
}

/// The bank's refusal of an account number it does not have (`412`).
pub(crate) fn no_such_account(block: BankBlock) -> ApiError {
    ApiError::bank(block.refused("412", "계좌번호 오류 (해당 계좌 없음)"))
}

/// The bank's own rules on an account: closed (`415`), suspended (`420`), dormant (`467`).
pub(crate) fn account_state_rules(state: &str, block: &BankBlock) -> Result<(), ApiError> {
    let refusal = match state {
        "active" => return Ok(()),
        "closed" => ("415", "해지된 계좌입니다"),
        "suspended" => ("420", "거래정지 계좌입니다"),
        "dormant" => ("467", "휴면 계좌입니다"),
        _ => ("499", "기타 오류 (해당 지점 문의)"),
    };
    Err(ApiError::bank(block.clone().refused(refusal.0, refusal.1)))
}

/// `bank_code_sub`: the account's branch, 7 digits.
pub(crate) fn bank_code_sub(bank_code: &str) -> String {
    format!("{bank_code}0001")
}

/// How answers name a person's account: by fintech number and alias where it is registered,
/// and by its bank and masked number.
#[derive(serde::Serialize, Default)]
pub(crate) struct NamedAccount {
    fintech_use_num: String,
    account_alias: String,
    bank_code_std: String,
    bank_code_sub: String,
    bank_name: String,
    savings_bank_name: String,
    account_num_masked: String,
}

impl NamedAccount {
    pub(crate) fn new(
        fintech_use_num: &str,
        alias: &str,
        bank_code: &str,
        bank_name: &str,
        account_num: &str,
    ) -> Self {
        Self {
            fintech_use_num: fintech_use_num.to_owned(),
            account_alias: alias.to_owned(),
            bank_code_std: bank_code.to_owned(),
            bank_code_sub: bank_code_sub(bank_code),
            bank_name: bank_name.to_owned(),
            savings_bank_name: String::new(),
            account_num_masked: mask(account_num),
        }
    }

    /// An account the answer cannot name: only the bank the verdict came from is known.
    pub(crate) fn unknown(bank_code: &str) -> Self {
        Self {
            bank_code_std: bank_code.to_owned(),
            ..Self::default()
        }
    }
}

/// A registered account's fields as `user/me` and `account/list` list them.
#[derive(serde::Serialize)]
pub(crate) struct AccountItem {
    #[serde(flatten)]
    account: NamedAccount,
    account_seq: String,
    account_holder_name: String,
    account_holder_type: String,
    account_type: String,
    inquiry_agree_yn: String,
    inquiry_agree_dtime: String,
    transfer_agree_yn: String,
    transfer_agree_dtime: String,
    payer_num: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_state: Option<String>,
}

impl AccountItem {
    pub(crate) fn new(r: &Registration, with_state: bool) -> Self {
        let yn = |d: &Option<String>| if d.is_some() { "Y" } else { "N" }.to_owned();
        Self {
            account: NamedAccount::new(
                &r.fintech_use_num,
                &r.account_alias,
                &r.bank_code,
                &r.bank_name,
                &r.account_num,
            ),
            account_seq: r.account_seq.clone(),
            account_holder_name: r.holder_name.clone(),
            account_holder_type: "P".into(),
            account_type: r.account_type.clone(),
            inquiry_agree_yn: yn(&r.inquiry_agree_dtime),
            inquiry_agree_dtime: r.inquiry_agree_dtime.clone().unwrap_or_default(),
            transfer_agree_yn: yn(&r.transfer_agree_dtime),
            transfer_agree_dtime: r.transfer_agree_dtime.clone().unwrap_or_default(),
            payer_num: r.payer_num.clone(),
            account_state: with_state.then(|| r.state.clone()),
        }
    }
}
