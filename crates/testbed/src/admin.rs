//! The testbed's own admin API under `/testbed/admin`, guarded by the manifest's `admin_token`:
//! bank status and latency, whether an institution is a public client, scripted faults, the clock, account states, read-outs of the
//! ledger for tests that check money is conserved, the database writer's counters and
//! durability settings, and extra accounts and bulk history for
//! benchmarks that need more than the demo seed holds.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{Days, NaiveDate, NaiveTime, TimeDelta};
use rand::Rng as _;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::DbError;
use crate::faults::FaultRule;
use crate::harness::{CenterTransfer, Ledger, LedgerAccount, TransferKind, TransferStatus};
use crate::state::Testbed;

pub(crate) fn routes() -> Router<Testbed> {
    Router::new()
        .route("/testbed/admin/banks", get(banks))
        .route("/testbed/admin/banks/{code}", put(set_bank))
        .route(
            "/testbed/admin/institutions/{client_use_code}",
            put(set_institution),
        )
        .route(
            "/testbed/admin/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/testbed/admin/clock", get(clock).put(set_clock))
        .route("/testbed/admin/accounts/{bank}/{number}", put(set_account))
        .route(
            "/testbed/admin/people/{cell_no}/accounts",
            post(open_account),
        )
        .route(
            "/testbed/admin/accounts/{bank}/{number}/history",
            post(append_history),
        )
        .route("/testbed/admin/ledger", get(ledger))
        .route("/testbed/admin/transfers", get(transfers))
        .route("/testbed/admin/writer", get(writer))
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

/// `PUT /testbed/admin/institutions/{client_use_code}` with `{"public": bool}`: a public
/// institution must use PKCE.
async fn set_institution(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    Path(client_use_code): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<StatusCode, AdminError> {
    guard(&testbed, &headers)?;
    let Json(body) = body.map_err(|e| bad(e.body_text()))?;
    let Some(public) = body.get("public").and_then(Value::as_bool) else {
        return Err(bad("public: true or false"));
    };
    if testbed
        .set_institution_public(&client_use_code, public)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError(
            StatusCode::NOT_FOUND,
            format!("no institution {client_use_code}"),
        ))
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
    testbed.forget_accounts();
    if changed == 1 {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError(StatusCode::NOT_FOUND, "no such account".into()))
    }
}

#[derive(Deserialize)]
struct NewAccount {
    bank_code_std: String,
    #[serde(default)]
    balance: i64,
    #[serde(default = "demand")]
    account_type: String,
    #[serde(default)]
    product_name: Option<String>,
}

fn demand() -> String {
    "1".into()
}

#[derive(Serialize)]
struct OpenedAccount {
    bank_code_std: String,
    bank_name: String,
    account_num: String,
    account_holder_name: String,
    account_type: String,
    balance: i64,
}

/// Opens another account for the person with `cell_no`: a demo person has at most six, at six
/// banks, and a benchmark of many accounts at few banks needs more. The account has no history;
/// it can be registered like any other (the consent pages list it, the shortcut takes it).
async fn open_account(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    Path(cell_no): Path<String>,
    body: Result<Json<NewAccount>, JsonRejection>,
) -> Result<(StatusCode, Json<OpenedAccount>), AdminError> {
    guard(&testbed, &headers)?;
    let Json(body) = body.map_err(|e| bad(e.body_text()))?;
    let Some(bank) = testbed.bank(&body.bank_code_std) else {
        return Err(bad(format!("no bank {}", body.bank_code_std)));
    };
    if body.balance < 0 {
        return Err(bad("balance must not be negative"));
    }
    if !matches!(body.account_type.as_str(), "1" | "2" | "6") {
        return Err(bad("account_type must be 1, 2 or 6"));
    }
    let product = body.product_name.clone().unwrap_or_else(|| {
        if body.account_type == "2" {
            "적금".into()
        } else {
            "입출금통장".into()
        }
    });
    let today = crate::clock::date(&testbed.now());
    let opened = testbed
        .db()
        .write(move |conn| -> Result<OpenedAccount, AdminError> {
            let person: Option<(i64, String)> = conn
                .query_row(
                    "SELECT id, user_name FROM people WHERE cell_no = ?1",
                    [&cell_no],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(DbError::from)?;
            let Some((person_id, holder)) = person else {
                return Err(AdminError(
                    StatusCode::NOT_FOUND,
                    format!("no person with cell_no {cell_no}"),
                ));
            };
            // `7` and twelve random digits: a shape no seeded bank uses, so it never collides
            // with a demo account; retried in the unlikely case it collides with another.
            let mut rng = rand::thread_rng();
            for _ in 0..16 {
                let number = format!("7{:012}", rng.gen_range(0..1_000_000_000_000u64));
                let inserted = conn
                    .execute(
                        "INSERT OR IGNORE INTO accounts (bank_code, account_num, holder_name,
                            person_id, account_type, product_name, issue_date, balance)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            body.bank_code_std,
                            number,
                            holder,
                            person_id,
                            body.account_type,
                            product,
                            today,
                            body.balance
                        ],
                    )
                    .map_err(DbError::from)?;
                if inserted == 1 {
                    return Ok(OpenedAccount {
                        bank_code_std: body.bank_code_std,
                        bank_name: bank.name,
                        account_num: number,
                        account_holder_name: holder,
                        account_type: body.account_type,
                        balance: body.balance,
                    });
                }
            }
            Err(AdminError(
                StatusCode::CONFLICT,
                "no free account number".into(),
            ))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

#[derive(Deserialize)]
struct NewHistory {
    rows: u32,
    /// `yyyyMMdd`: the first day; the rows spread evenly from it to the center's today.
    from_date: String,
}

#[derive(Serialize)]
struct AppendedHistory {
    rows: u32,
    from_date: String,
    to_date: String,
    balance: i64,
}

/// The most rows one call appends: enough for any benchmark, small enough for one transaction.
const MAX_APPENDED_ROWS: u32 = 200_000;

/// What the synthetic rows say, in turn.
const SYNTHETIC: &[(&str, &str)] = &[
    ("카드", "GS25 역삼점"),
    ("카드", "스타벅스 강남R점"),
    ("이체", "관리비"),
    ("카드", "쿠팡(주)"),
    ("현금", "ATM 출금"),
    ("카드", "배달의민족"),
];

/// Appends `rows` synthetic rows to an account's history, spread from `from_date` to the center's
/// now, whose after-balances chain from the account's balance; the balance becomes the last
/// one. The rows must come after every row the account has, so the chain stays whole: `from_date`
/// must be later than the account's newest row and not later than today.
async fn append_history(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    Path((bank, number)): Path<(String, String)>,
    body: Result<Json<NewHistory>, JsonRejection>,
) -> Result<Json<AppendedHistory>, AdminError> {
    guard(&testbed, &headers)?;
    let Json(body) = body.map_err(|e| bad(e.body_text()))?;
    if body.rows == 0 || body.rows > MAX_APPENDED_ROWS {
        return Err(bad(format!("rows must be 1..={MAX_APPENDED_ROWS}")));
    }
    let from = NaiveDate::parse_from_str(&body.from_date, "%Y%m%d")
        .map_err(|_| bad("from_date must be yyyyMMdd"))?;
    let now = testbed.now().naive_local();
    let today = now.date();
    if from > today {
        return Err(bad("from_date is after the center's today"));
    }
    let appended = testbed
        .db()
        .write(move |conn| -> Result<AppendedHistory, AdminError> {
            let account: Option<(i64, i64, Option<String>)> = conn
                .query_row(
                    "SELECT id, balance, (SELECT MAX(tran_date) FROM transactions t
                        WHERE t.account_id = a.id)
                     FROM accounts a WHERE bank_code = ?1 AND account_num = ?2",
                    params![bank, number],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(DbError::from)?;
            let Some((account_id, mut balance, newest)) = account else {
                return Err(AdminError(StatusCode::NOT_FOUND, "no such account".into()));
            };
            let from_text = from.format("%Y%m%d").to_string();
            if newest.is_some_and(|n| n >= from_text) {
                return Err(bad("from_date must be later than the account's newest row"));
            }
            // From the first day's midnight to now, so no row is dated in the future.
            let span = (now - from.and_time(NaiveTime::MIN)).num_seconds().max(1) as u64;
            let mut insert = conn
                .prepare_cached(
                    "INSERT INTO transactions (account_id, tran_date, tran_time, inout_type,
                        tran_type, print_content, tran_amt, after_balance, branch_name)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '')",
                )
                .map_err(DbError::from)?;
            for i in 0..body.rows {
                // Evenly over that time, in order: the last rows fall on today.
                let at = u64::from(i) * span / u64::from(body.rows);
                let day = from + Days::new(at / 86_400);
                let time = NaiveTime::from_num_seconds_from_midnight_opt((at % 86_400) as u32, 0)
                    .unwrap_or(NaiveTime::MIN);
                // Mostly small spending, a deposit every fifth row; never below zero.
                let spend = 1_000 + i64::from(i % 97) * 100;
                let deposit = i % 5 == 0 || balance < spend;
                let (inout, tran_type, content, amount) = if deposit {
                    ("입금", "이체", "급여", 50_000 + i64::from(i % 13) * 1_000)
                } else {
                    let (kind, text) = SYNTHETIC[i as usize % SYNTHETIC.len()];
                    ("출금", kind, text, spend)
                };
                balance += if deposit { amount } else { -amount };
                insert
                    .execute(params![
                        account_id,
                        day.format("%Y%m%d").to_string(),
                        time.format("%H%M%S").to_string(),
                        inout,
                        tran_type,
                        content,
                        amount,
                        balance
                    ])
                    .map_err(DbError::from)?;
            }
            conn.execute(
                "UPDATE accounts SET balance = ?2 WHERE id = ?1",
                params![account_id, balance],
            )
            .map_err(DbError::from)?;
            Ok(AppendedHistory {
                rows: body.rows,
                from_date: from_text,
                to_date: today.format("%Y%m%d").to_string(),
                balance,
            })
        })
        .await?;
    Ok(Json(appended))
}

/// Every balance, read in one transaction so the total is consistent. The answer is
/// [`crate::harness::Ledger`]'s JSON form, which the harness reads back.
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
    Ok(Json(Ledger::from_accounts(accounts)))
}

/// Every transfer that reached a bank, with its postings, oldest first, as
/// [`crate::harness::CenterTransfer`]s.
async fn transfers(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Json<Vec<CenterTransfer>>, AdminError> {
    guard(&testbed, &headers)?;
    let records = testbed
        .db()
        .read(|conn| -> Result<Vec<CenterTransfer>, DbError> {
            let mut stmt = conn.prepare(
                "SELECT i.client_use_code, t.bank_tran_date, t.bank_tran_id, t.kind, t.amount,
                    t.status, t.bank_rsp_code, COUNT(x.id),
                    COALESCE(SUM(CASE x.inout_type WHEN '입금' THEN x.tran_amt ELSE -x.tran_amt END), 0)
                 FROM transfers t JOIN institutions i ON i.id = t.institution_id
                 LEFT JOIN transactions x ON x.transfer_id = t.id
                 GROUP BY t.id ORDER BY t.id",
            )?;
            let rows = stmt.query_map([], |r| {
                let text = |i: usize| -> rusqlite::Result<String> { r.get(i) };
                let kind = match text(3)?.as_str() {
                    "withdraw" => TransferKind::Withdraw,
                    "deposit" => TransferKind::Deposit,
                    other => return Err(unreadable(3, "kind", other)),
                };
                // A transfer is pending only inside the transaction that applies it.
                let status = match text(5)?.as_str() {
                    "done" => TransferStatus::Done,
                    "refused" => TransferStatus::Refused,
                    other => return Err(unreadable(5, "status", other)),
                };
                Ok(CenterTransfer {
                    client_use_code: text(0)?,
                    bank_tran_date: text(1)?,
                    bank_tran_id: text(2)?,
                    kind,
                    amount: r.get(4)?,
                    status,
                    bank_rsp_code: text(6)?,
                    postings: r.get(7)?,
                    postings_sum: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(records))
}

/// A stored value the read-out has no word for.
fn unreadable(column: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("transfer {what} {value:?}").into(),
    )
}

#[derive(Serialize)]
struct Writer {
    #[serde(flatten)]
    stats: crate::db::WriterStats,
    #[serde(flatten)]
    pragmas: crate::db::Pragmas,
}

/// The database writer's counters and the settings that make its commits durable.
async fn writer(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Json<Writer>, AdminError> {
    guard(&testbed, &headers)?;
    // The pragmas first: reading them is a write job, and the counters then include it.
    let pragmas = testbed.writer_pragmas().await?;
    Ok(Json(Writer {
        stats: testbed.writer_stats(),
        pragmas,
    }))
}
