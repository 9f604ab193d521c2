//! The testbed's own admin API under `/testbed/admin`, guarded by the manifest's `admin_token`:
//! bank status and latency, scripted faults, the clock, account states, and read-outs of the
//! ledger for tests that check money is conserved.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::TimeDelta;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::DbError;
use crate::faults::FaultRule;
use crate::state::Testbed;

pub(crate) fn routes() -> Router<Testbed> {
    Router::new()
        .route("/testbed/admin/banks", get(banks))
        .route("/testbed/admin/banks/{code}", put(set_bank))
        .route(
            "/testbed/admin/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/testbed/admin/clock", get(clock).put(set_clock))
        .route("/testbed/admin/accounts/{bank}/{number}", put(set_account))
        .route("/testbed/admin/ledger", get(ledger))
        .route("/testbed/admin/transfers", get(transfers))
}

/// An admin failure: plain JSON with a status, since this API is the testbed's own.
struct AdminError(StatusCode, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<DbError> for AdminError {
    fn from(error: DbError) -> Self {
        Self(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

fn bad(message: impl Into<String>) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, message.into())
}

fn guard(testbed: &Testbed, headers: &HeaderMap) -> Result<(), AdminError> {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let expected = testbed.admin_token().as_bytes();
    let matches = presented.is_some_and(|p| {
        p.len() == expected.len()
            && p.bytes()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if matches {
        Ok(())
    } else {
        Err(AdminError(
            StatusCode::UNAUTHORIZED,
            "admin token required".into(),
        ))
    }
}

#[derive(Serialize)]
struct BankState {
    bank_code_std: String,
    bank_name: String,
    bank_status: String,
    latency_ms: Option<u64>,
}

async fn banks(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Json<Vec<BankState>>, AdminError> {
    guard(&testbed, &headers)?;
    Ok(Json(
        testbed
            .banks()
            .into_iter()
            .map(|(code, bank)| BankState {
                bank_code_std: code,
                bank_name: bank.name,
                bank_status: bank.status,
                latency_ms: bank.latency.map(|d| d.as_millis() as u64),
            })
            .collect(),
    ))
}

/// `{"status": "D"}` sets a status; `{"latency_ms": 150}` a latency, `null` back to the default.
async fn set_bank(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    Path(code): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<StatusCode, AdminError> {
    guard(&testbed, &headers)?;
    let Json(body) = body.map_err(|e| bad(e.body_text()))?;
    let status = match body.get("status") {
        None => None,
        Some(Value::String(s)) if matches!(s.as_str(), "Y" | "D" | "L" | "E") => Some(s.clone()),
        Some(other) => return Err(bad(format!("status {other} is not one of Y, D, L, E"))),
    };
    let latency = match body.get("latency_ms") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => match v.as_u64() {
            Some(ms) if ms <= 60_000 => Some(Some(Duration::from_millis(ms))),
            _ => return Err(bad("latency_ms must be 0..=60000 or null")),
        },
    };
    if testbed.set_bank(&code, status, latency).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError(StatusCode::NOT_FOUND, format!("no bank {code}")))
    }
}

async fn list_faults(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Json<Vec<FaultRule>>, AdminError> {
    guard(&testbed, &headers)?;
    Ok(Json(testbed.faults().list()))
}

async fn add_fault(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Json<FaultRule>, JsonRejection>,
) -> Result<StatusCode, AdminError> {
    guard(&testbed, &headers)?;
    let Json(rule) = body.map_err(|e| bad(e.body_text()))?;
    rule.validate().map_err(bad)?;
    testbed.faults().add(rule);
    Ok(StatusCode::CREATED)
}

async fn clear_faults(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<StatusCode, AdminError> {
    guard(&testbed, &headers)?;
    testbed.faults().clear();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize)]
struct ClockOffset {
    offset_seconds: i64,
}

async fn clock(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Json<Value>, AdminError> {
    guard(&testbed, &headers)?;
    Ok(Json(json!({
        "offset_seconds": testbed.clock().offset().num_seconds(),
        "now": crate::clock::dtime(&testbed.now()),
    })))
}

async fn set_clock(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Json<ClockOffset>, JsonRejection>,
) -> Result<StatusCode, AdminError> {
    guard(&testbed, &headers)?;
    let Json(body) = body.map_err(|e| bad(e.body_text()))?;
    // Ten years either way is more than any expiry the center knows.
    if body.offset_seconds.abs() > 10 * 366 * 86_400 {
        return Err(bad("offset_seconds is beyond ten years"));
    }
    testbed
        .clock()
        .set_offset(TimeDelta::seconds(body.offset_seconds));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct AccountState {
    state: String,
}

async fn set_account(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    Path((bank, number)): Path<(String, String)>,
    body: Result<Json<AccountState>, JsonRejection>,
) -> Result<StatusCode, AdminError> {
    guard(&testbed, &headers)?;
    let Json(body) = body.map_err(|e| bad(e.body_text()))?;
    if !matches!(
        body.state.as_str(),
        "active" | "closed" | "suspended" | "dormant"
    ) {
        return Err(bad("state must be active, closed, suspended or dormant"));
    }
    let changed = testbed
        .db()
        .write(move |conn| -> Result<usize, DbError> {
            Ok(conn.execute(
                "UPDATE accounts SET state = ?3 WHERE bank_code = ?1 AND account_num = ?2",
                params![bank, number, body.state],
            )?)
        })
        .await?;
    if changed == 1 {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError(StatusCode::NOT_FOUND, "no such account".into()))
    }
}

#[derive(Serialize)]
struct LedgerAccount {
    bank_code_std: String,
    account_num: String,
    account_holder_name: String,
    balance: i64,
}

#[derive(Serialize)]
struct Ledger {
    /// The sum of every balance: what no transfer may change.
    total: i64,
    /// The smallest balance: never below zero.
    min_balance: i64,
    accounts: Vec<LedgerAccount>,
}

/// Every balance, read in one transaction so the total is consistent.
async fn ledger(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Json<Ledger>, AdminError> {
    guard(&testbed, &headers)?;
    let accounts = testbed
        .db()
        .read(|conn| -> Result<Vec<LedgerAccount>, DbError> {
            let mut stmt = conn.prepare(
                "SELECT bank_code, account_num, holder_name, balance FROM accounts ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(LedgerAccount {
                    bank_code_std: r.get(0)?,
                    account_num: r.get(1)?,
                    account_holder_name: r.get(2)?,
                    balance: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(Ledger {
        total: accounts.iter().map(|a| a.balance).sum(),
        min_balance: accounts.iter().map(|a| a.balance).min().unwrap_or(0),
        accounts,
    }))
}

#[derive(Serialize)]
struct TransferRecord {
    client_use_code: String,
    bank_tran_date: String,
    bank_tran_id: String,
    kind: String,
    amount: i64,
    status: String,
    bank_rsp_code: String,
    /// History rows the transfer wrote: 2 when applied, 0 when refused.
    postings: i64,
    /// Their signed sum: 0 for every transfer.
    postings_sum: i64,
}

/// Every transfer that reached a bank, with its postings.
async fn transfers(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Json<Vec<TransferRecord>>, AdminError> {
    guard(&testbed, &headers)?;
    let records = testbed
        .db()
        .read(|conn| -> Result<Vec<TransferRecord>, DbError> {
            let mut stmt = conn.prepare(
                "SELECT i.client_use_code, t.bank_tran_date, t.bank_tran_id, t.kind, t.amount,
                    t.status, t.bank_rsp_code, COUNT(x.id),
                    COALESCE(SUM(CASE x.inout_type WHEN '입금' THEN x.tran_amt ELSE -x.tran_amt END), 0)
                 FROM transfers t JOIN institutions i ON i.id = t.institution_id
                 LEFT JOIN transactions x ON x.transfer_id = t.id
                 GROUP BY t.id ORDER BY t.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(TransferRecord {
                    client_use_code: r.get(0)?,
                    bank_tran_date: r.get(1)?,
                    bank_tran_id: r.get(2)?,
                    kind: r.get(3)?,
                    amount: r.get(4)?,
                    status: r.get(5)?,
                    bank_rsp_code: r.get(6)?,
                    postings: r.get(7)?,
                    postings_sum: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(records))
}
