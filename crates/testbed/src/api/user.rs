//! `user/me`, `user/unlink` and `user/close`: the person as an institution knows them.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{AccountItem, authorized_json, authorized_query};
use crate::db::DbError;
use crate::state::{Caller, Registration, Testbed};
use crate::wire::{self, ApiError, Params, code};

/// `A0313`: the `user_seq_no` a request names is not a person the institution knows as such.
fn user_mismatch() -> ApiError {
    ApiError::new(code::USER_MISMATCH, "사용자일련번호가 일치하지 않습니다")
}

/// `A0313` unless `user_seq_no`, as a request names it, is the token's own person.
pub(crate) fn require_own_user(caller: &Caller, user_seq_no: &str) -> Result<(), ApiError> {
    if caller.user_seq_no.as_deref() == Some(user_seq_no) {
        Ok(())
    } else {
        Err(user_mismatch())
    }
}

/// The person's `user_seq_no` as the request names it; it must be the token's own person.
fn own_user_seq_no(caller: &Caller, params: &Params) -> Result<String, ApiError> {
    let user_seq_no = params.digits("user_seq_no", 10)?;
    require_own_user(caller, &user_seq_no)?;
    Ok(user_seq_no)
}

/// The person behind an enrolment, and their live registrations with this institution.
pub(crate) async fn person_and_accounts(
    testbed: &Testbed,
    institution_id: i64,
    user_seq_no: &str,
    include_cancelled: bool,
    newest_first: bool,
) -> Result<(String, String, Vec<Registration>), ApiError> {
    let user_seq_no = user_seq_no.to_owned();
    testbed
        .db()
        .read(move |conn| -> Result<_, ApiError> {
            let person = conn
                .query_row(
                    "SELECT p.user_name, p.user_ci, e.closed_at FROM enrollments e
                     JOIN people p ON p.id = e.person_id
                     WHERE e.user_seq_no = ?1 AND e.institution_id = ?2",
                    params![user_seq_no, institution_id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                        ))
                    },
                )
                .optional()
                .map_err(DbError::from)?;
            let (name, ci, closed) = person.ok_or_else(user_mismatch)?;
            if closed.is_some() {
                return Err(ApiError::new(code::WITHDRAWN_MEMBER, "탈퇴한 회원입니다"));
            }
            let sql = format!(
                "{} WHERE r.user_seq_no = ?1 AND r.institution_id = ?2 AND (?3 OR r.state = '01')
                 ORDER BY r.registered_at {order}, r.rowid {order}",
                Registration::SELECT,
                order = if newest_first { "DESC" } else { "ASC" },
            );
            let mut stmt = conn.prepare(&sql).map_err(DbError::from)?;
            let list = stmt
                .query_map(
                    params![user_seq_no, institution_id, include_cancelled],
                    Registration::from_row,
                )
                .map_err(DbError::from)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(DbError::from)?;
            Ok((name, ci, list))
        })
        .await
}

#[derive(Serialize)]
struct Me {
    user_seq_no: String,
    user_ci: String,
    user_name: String,
    res_cnt: String,
    res_list: Vec<AccountItem>,
    inquiry_card_cnt: String,
    inquiry_card_list: Vec<()>,
    inquiry_pay_cnt: String,
    inquiry_pay_list: Vec<()>,
    inquiry_insurance_cnt: String,
    inquiry_insurance_list: Vec<()>,
    inquiry_loan_cnt: String,
    inquiry_loan_list: Vec<()>,
}

/// `GET /v2.0/user/me`.
pub(crate) async fn me(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_query(&testbed, &headers, "login", query.as_deref()).await?;
    let user_seq_no = own_user_seq_no(&caller, &params)?;
    let (user_name, user_ci, accounts) =
        person_and_accounts(&testbed, caller.institution.id, &user_seq_no, false, false).await?;
    let res_list: Vec<AccountItem> = accounts
        .iter()
        .map(|r| AccountItem::new(r, false))
        .collect();
    let zero = || "0".to_owned();
    Ok(wire::ok(
        &testbed.now(),
        Me {
            user_seq_no,
            user_ci,
            user_name,
            res_cnt: res_list.len().to_string(),
            res_list,
            inquiry_card_cnt: zero(),
            inquiry_card_list: vec![],
            inquiry_pay_cnt: zero(),
            inquiry_pay_list: vec![],
            inquiry_insurance_cnt: zero(),
            inquiry_insurance_list: vec![],
            inquiry_loan_cnt: zero(),
            inquiry_loan_list: vec![],
        },
    ))
}

#[derive(Serialize)]
struct Unlinked {
    client_use_code: String,
    user_seq_no: String,
}

/// `POST /v2.0/user/unlink`: the person's link with this institution ends — every token of
/// theirs is revoked and every registered account cancelled.
pub(crate) async fn unlink(
    state: State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    end_link(state, headers, body, false).await
}

/// `POST /v2.0/user/close`: as unlink, and the person leaves the institution's service.
pub(crate) async fn close(
    state: State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    end_link(state, headers, body, true).await
}

async fn end_link(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    close: bool,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "login", body).await?;
    let client_use_code = params.text("client_use_code", 10)?;
    if client_use_code != caller.institution.client_use_code {
        return Err(ApiError::malformed(
            "client_use_code",
            "이용기관코드가 일치하지 않습니다",
        ));
    }
    let user_seq_no = own_user_seq_no(&caller, &params)?;
    let institution_id = caller.institution.id;
    let now = crate::clock::dtime(&testbed.now());
    let user = user_seq_no.clone();
    testbed
        .db()
        .write(move |conn| -> Result<(), DbError> {
            conn.execute(
                "UPDATE tokens SET revoked = 1 WHERE institution_id = ?1 AND user_seq_no = ?2",
                params![institution_id, user],
            )?;
            // A code issued before the person left must not bring them back.
            conn.execute(
                "UPDATE auth_codes SET used = 1 WHERE institution_id = ?1 AND user_seq_no = ?2",
                params![institution_id, user],
            )?;
            conn.execute(
                "UPDATE registrations SET state = '09', inquiry_agree_dtime = NULL,
                    transfer_agree_dtime = NULL
                 WHERE institution_id = ?1 AND user_seq_no = ?2",
                params![institution_id, user],
            )?;
            if close {
                conn.execute(
                    "UPDATE enrollments SET closed_at = ?2 WHERE user_seq_no = ?1",
                    params![user, now],
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(wire::ok(
        &testbed.now(),
        Unlinked {
            client_use_code,
            user_seq_no,
        },
    ))
}
