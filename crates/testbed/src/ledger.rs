//! The ledger: money moves between accounts only as a transfer of balanced postings — one debit,
//! one credit, each with its history row and chained after-balance — written in one transaction
//! together with the transfer's record, so an acknowledged transfer is whole and durable, and a
//! refused one moves nothing.
//!
//! A transfer is filed under the business date of the call that made it (`bank_tran_date`),
//! but its postings carry the time the writer applied it: writes run one group after another,
//! so an account's history ordered by time is the order in which its balance changed, and its
//! after-balances chain even when calls overtake each other on the way to the writer.

use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::clock;
use crate::db::DbError;
use crate::wire::{ApiError, code};

/// What a person may withdraw through one institution in one transfer (`A0111`).
pub const USER_PER_TRANSFER_LIMIT: i64 = 5_000_000;
/// …and in one day (`A0112`).
pub const USER_DAILY_LIMIT: i64 = 10_000_000;
/// What an institution may withdraw in one day, all people together (`A0103`).
pub const INSTITUTION_DAILY_WITHDRAW_LIMIT: i64 = 1_000_000_000;
/// What an institution may deposit in one transfer (`A0106`)…
pub const INSTITUTION_PER_DEPOSIT_LIMIT: i64 = 10_000_000;
/// …and in one day (`A0101`).
pub const INSTITUTION_DAILY_DEPOSIT_LIMIT: i64 = 1_000_000_000;

/// Which way money moves relative to the institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// From a person's account into the institution's collection account.
    Withdraw,
    /// From the institution's payout account into an account.
    Deposit,
}

impl Kind {
    /// The name stored in the transfer table.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Withdraw => "withdraw",
            Kind::Deposit => "deposit",
        }
    }
}

/// A party of a transfer, as its history row names it.
#[derive(Debug, Clone, Default)]
pub struct Party {
    /// Name shown on the other side's history.
    pub name: String,
    /// Bank code.
    pub bank_code: String,
    /// Account number.
    pub account_num: String,
}

/// One transfer to apply.
#[derive(Debug, Clone)]
pub struct Movement {
    pub institution_id: i64,
    /// The business date the call arrived on: the transfer is filed under it.
    pub bank_tran_date: String,
    pub bank_tran_id: String,
    pub kind: Kind,
    pub from: i64,
    pub to: i64,
    pub amount: i64,
    /// The person whose withdraw consent was used (withdraws only).
    pub user_seq_no: Option<String>,
    pub fintech_use_num: Option<String>,
    /// Text on the debited account's history.
    pub wd_print_content: String,
    /// Text on the credited account's history.
    pub dps_print_content: String,
    /// Who the debited account's row names as the counterpart.
    pub debit_counterpart: Party,
    /// Who the credited account's row names as the counterpart (the remitter).
    pub credit_counterpart: Party,
    /// The bank refuses this transfer with this code, whatever the balances (a scripted fault).
    pub forced_refusal: Option<String>,
}

/// How a transfer ended at the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied: the balances after it.
    Done { from_balance: i64, to_balance: i64 },
    /// Refused by the bank with `bank_rsp_code`; nothing moved.
    Refused {
        bank_rsp_code: String,
        message: String,
    },
}

fn sqlite_error(error: rusqlite::Error) -> ApiError {
    ApiError::from(DbError::from(error))
}

/// Whether this institution used `bank_tran_id` on `date` for a transfer already.
fn already_used(conn: &Connection, m: &Movement) -> Result<bool, ApiError> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM transfers
         WHERE institution_id = ?1 AND bank_tran_date = ?2 AND bank_tran_id = ?3)",
    )
    .and_then(|mut stmt| {
        stmt.query_row(
            params![m.institution_id, m.bank_tran_date, m.bank_tran_id],
            |r| r.get(0),
        )
    })
    .map_err(sqlite_error)
}

/// The day's applied total of `kind` for one person (`user_seq_no`) or, with `""`, the
/// whole institution.
fn total_today(conn: &Connection, m: &Movement, user_seq_no: &str) -> Result<i64, ApiError> {
    conn.prepare_cached(
        "SELECT COALESCE((SELECT amount FROM daily_totals WHERE institution_id = ?1
            AND bank_tran_date = ?2 AND kind = ?3 AND user_seq_no = ?4), 0)",
    )
    .and_then(|mut stmt| {
        stmt.query_row(
            params![
                m.institution_id,
                m.bank_tran_date,
                m.kind.as_str(),
                user_seq_no
            ],
            |r| r.get(0),
        )
    })
    .map_err(sqlite_error)
}

/// Adds an applied transfer to the day's totals.
fn count_today(conn: &Connection, m: &Movement, user_seq_no: &str) -> Result<(), ApiError> {
    conn.prepare_cached(
        "INSERT INTO daily_totals (institution_id, bank_tran_date, kind, user_seq_no, amount)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET amount = amount + excluded.amount",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            m.institution_id,
            m.bank_tran_date,
            m.kind.as_str(),
            user_seq_no,
            m.amount
        ])
    })
    .map_err(sqlite_error)?;
    Ok(())
}

/// The center's limits, checked before the bank sees the transfer (`A01xx`).
fn check_limits(conn: &Connection, m: &Movement) -> Result<(), ApiError> {
    let institution_today = total_today(conn, m, "")?;
    match m.kind {
        Kind::Withdraw => {
            if m.amount > USER_PER_TRANSFER_LIMIT {
                return Err(ApiError::new("A0111", "사용자 1회 출금한도를 초과했습니다"));
            }
            if withdrawn_today(conn, m)? + m.amount > USER_DAILY_LIMIT {
                return Err(ApiError::new("A0112", "사용자 1일 출금한도를 초과했습니다"));
            }
            if institution_today + m.amount > INSTITUTION_DAILY_WITHDRAW_LIMIT {
                return Err(ApiError::new(
                    "A0103",
                    "이용기관 1일 출금한도를 초과했습니다",
                ));
            }
        }
        Kind::Deposit => {
            if m.amount > INSTITUTION_PER_DEPOSIT_LIMIT {
                return Err(ApiError::new(
                    "A0106",
                    "이용기관 1회 입금한도를 초과했습니다",
                ));
            }
            if institution_today + m.amount > INSTITUTION_DAILY_DEPOSIT_LIMIT {
                return Err(ApiError::new(
                    "A0101",
                    "이용기관 1일 입금한도를 초과했습니다",
                ));
            }
        }
    }
    Ok(())
}

/// What the movement's person withdrew today through its institution.
pub fn withdrawn_today(conn: &Connection, m: &Movement) -> Result<i64, ApiError> {
    match &m.user_seq_no {
        Some(user) => total_today(conn, m, user),
        None => Ok(0),
    }
}

/// The bank's refusal of an account in `state`, if any.
fn state_refusal(state: &str) -> Option<(&'static str, &'static str)> {
    match state {
        "active" => None,
        "closed" => Some(("415", "해지된 계좌입니다")),
        "suspended" => Some(("420", "거래정지 계좌입니다")),
        "dormant" => Some(("467", "휴면 계좌입니다")),
        _ => Some(("499", "기타 오류 (해당 지점 문의)")),
    }
}

/// Applies `m` inside the caller's transaction at `at`, the writer's time for it (see
/// [`crate::db::Db::write_at`]): the record's creation and the postings carry it. `Err` means
/// the center refused before the bank saw it (a reused `bank_tran_id`, a limit) and nothing
/// was written; a bank refusal is an `Outcome::Refused`, recorded so that `transfer/result` can
/// tell it.
pub fn apply(
    conn: &Connection,
    m: &Movement,
    at: &DateTime<FixedOffset>,
) -> Result<Outcome, ApiError> {
    if already_used(conn, m)? {
        return Err(ApiError::new(
            code::DUPLICATE_BANK_TRAN_ID,
            "은행거래고유번호(bank_tran_id)가 중복되었습니다",
        ));
    }
    check_limits(conn, m)?;
    let inserted = conn.prepare_cached(
        "INSERT INTO transfers (institution_id, bank_tran_date, bank_tran_id, kind, from_account,
            to_account, amount, user_seq_no, fintech_use_num, wd_print_content, dps_print_content,
            status, bank_rsp_code, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', '', ?12)",
    ).and_then(|mut stmt| stmt.execute(
        params![
            m.institution_id,
            m.bank_tran_date,
            m.bank_tran_id,
            m.kind.as_str(),
            m.from,
            m.to,
            m.amount,
            m.user_seq_no,
            m.fintech_use_num,
            m.wd_print_content,
            m.dps_print_content,
            clock::dtime(at)
        ],
    ));
    match inserted {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
            return Err(ApiError::new(
                code::DUPLICATE_BANK_TRAN_ID,
                "은행거래고유번호(bank_tran_id)가 중복되었습니다",
            ));
        }
        Err(e) => return Err(sqlite_error(e)),
    }
    let transfer_id = conn.last_insert_rowid();
    let refuse = |bank_rsp_code: &str, message: &str| -> Result<Outcome, ApiError> {
        conn.execute(
            "UPDATE transfers SET status = 'refused', bank_rsp_code = ?2, bank_rsp_message = ?3
             WHERE id = ?1",
            params![transfer_id, bank_rsp_code, message],
        )
        .map_err(sqlite_error)?;
        Ok(Outcome::Refused {
            bank_rsp_code: bank_rsp_code.to_owned(),
            message: message.to_owned(),
        })
    };
    if let Some(code) = &m.forced_refusal {
        return refuse(code, "참가은행 거절");
    }
    let account = |id: i64| -> Result<(i64, String, String), ApiError> {
        conn.prepare_cached("SELECT balance, state, account_type FROM accounts WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .map_err(sqlite_error)
    };
    let (balance, from_state, from_type) = account(m.from)?;
    let (_, to_state, _) = account(m.to)?;
    if let Some((code, message)) = state_refusal(&from_state).or(state_refusal(&to_state)) {
        return refuse(code, message);
    }
    if from_type != "1" {
        return refuse("454", "출금가능잔액이 부족합니다");
    }
    if balance < m.amount {
        return refuse("453", "잔액이 부족합니다");
    }
    let from_balance = post(
        conn,
        at,
        transfer_id,
        m.from,
        -m.amount,
        &m.wd_print_content,
        &m.debit_counterpart,
    )?;
    let to_balance = post(
        conn,
        at,
        transfer_id,
        m.to,
        m.amount,
        &m.dps_print_content,
        &m.credit_counterpart,
    )?;
    conn.prepare_cached(
        "UPDATE transfers SET status = 'done', bank_rsp_code = '000' WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute([transfer_id]))
    .map_err(sqlite_error)?;
    count_today(conn, m, "")?;
    if let Some(user) = &m.user_seq_no {
        count_today(conn, m, user)?;
    }
    Ok(Outcome::Done {
        from_balance,
        to_balance,
    })
}

/// One posting at `at`: the balance change and its history row. Returns the balance after it.
fn post(
    conn: &Connection,
    at: &DateTime<FixedOffset>,
    transfer_id: i64,
    account: i64,
    delta: i64,
    content: &str,
    counterpart: &Party,
) -> Result<i64, ApiError> {
    let after: i64 = conn
        .prepare_cached(
            "UPDATE accounts SET balance = balance + ?2 WHERE id = ?1 RETURNING balance",
        )
        .and_then(|mut stmt| stmt.query_row(params![account, delta], |r| r.get(0)))
        .map_err(sqlite_error)?;
    conn.prepare_cached(
        "INSERT INTO transactions (account_id, tran_date, tran_time, inout_type, tran_type,
            print_content, tran_amt, after_balance, branch_name, counterpart_name,
            counterpart_bank, counterpart_account, transfer_id)
         VALUES (?1, ?2, ?3, ?4, '이체', ?5, ?6, ?7, '오픈뱅킹', ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            account,
            clock::date(at),
            clock::time(at),
            if delta > 0 { "입금" } else { "출금" },
            content,
            delta.abs(),
            after,
            counterpart.name,
            counterpart.bank_code,
            counterpart.account_num,
            transfer_id
        ])
    })
    .map_err(sqlite_error)?;
    Ok(after)
}

/// A transfer as `transfer/result` reports it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub kind: String,
    pub amount: i64,
    pub bank_rsp_code: String,
    pub bank_rsp_message: String,
    pub from: i64,
    pub to: i64,
    pub fintech_use_num: Option<String>,
    pub wd_print_content: String,
    pub dps_print_content: String,
}

/// The institution's transfer `bank_tran_id` of `date`, if it reached a bank.
pub fn find(
    conn: &Connection,
    institution_id: i64,
    date: &str,
    bank_tran_id: &str,
) -> Result<Option<Recorded>, DbError> {
    Ok(conn
        .query_row(
            "SELECT kind, amount, bank_rsp_code, bank_rsp_message, from_account,
                to_account, fintech_use_num, wd_print_content, dps_print_content
             FROM transfers WHERE institution_id = ?1 AND bank_tran_date = ?2 AND bank_tran_id = ?3",
            params![institution_id, date, bank_tran_id],
            |r| {
                Ok(Recorded {
                    kind: r.get(0)?,
                    amount: r.get(1)?,
                    bank_rsp_code: r.get(2)?,
                    bank_rsp_message: r.get(3)?,
                    from: r.get(4)?,
                    to: r.get(5)?,
                    fintech_use_num: r.get(6)?,
                    wd_print_content: r.get(7)?,
                    dps_print_content: r.get(8)?,
                })
            },
        )
        .optional()?)
}
