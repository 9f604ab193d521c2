//! Reading an account's history a page at a time, for `transaction_list` and `remit_list`.
//!
//! Rows are ordered by (date, time, id). The cursor `befor_inquiry_trace_info` names the last row
//! of the previous page, so a page never repeats or skips a row, even while new rows arrive.

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::DbError;
use crate::wire::ApiError;

/// Rows on one page.
pub const PAGE_ROWS: usize = 25;

/// A history query, validated.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub account_id: i64,
    /// `입금` or `출금` only; `None` for both.
    pub inout: Option<&'static str>,
    /// From (date, time), inclusive.
    pub from: (String, String),
    /// To (date, time), inclusive.
    pub to: (String, String),
    pub newest_first: bool,
    /// The id of the last row of the previous page.
    pub after_row: Option<i64>,
}

/// One stored history row.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub tran_date: String,
    pub tran_time: String,
    pub inout_type: String,
    pub tran_type: String,
    pub print_content: String,
    pub tran_amt: i64,
    pub after_balance: i64,
    pub branch_name: String,
    pub counterpart_name: String,
    pub counterpart_bank: String,
    pub counterpart_account: String,
}

/// One page of rows, and whether more follow.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Row>,
    pub more: bool,
}

impl Page {
    /// `next_page_yn`.
    pub fn next_page_yn(&self) -> String {
        if self.more { "Y" } else { "N" }.into()
    }

    /// `befor_inquiry_trace_info` for the next page; empty on the last.
    pub fn cursor(&self) -> String {
        match (self.more, self.rows.last()) {
            (true, Some(last)) => encode_cursor(last.id),
            _ => String::new(),
        }
    }
}

/// The cursor names the last row a page returned; it is opaque to clients.
pub fn encode_cursor(row_id: i64) -> String {
    format!("R{row_id}")
}

/// Reads a cursor back; `A0004` for text the center never gave out.
pub fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    cursor
        .strip_prefix('R')
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::malformed("befor_inquiry_trace_info", "알 수 없는 조회 위치"))
}

fn db(error: rusqlite::Error) -> ApiError {
    ApiError::from(DbError::from(error))
}

/// Reads the page `q` asks for.
pub fn page(conn: &Connection, q: &HistoryQuery) -> Result<Page, ApiError> {
    // The cursor must name a row of this account; its position continues the order.
    let position: Option<(String, String, i64)> = match q.after_row {
        None => None,
        Some(id) => Some(
            conn.query_row(
                "SELECT tran_date, tran_time, id FROM transactions WHERE id = ?1 AND account_id = ?2",
                params![id, q.account_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db)?
            .ok_or_else(|| {
                ApiError::malformed("befor_inquiry_trace_info", "알 수 없는 조회 위치")
            })?,
        ),
    };
    let (cmp, order) = if q.newest_first {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let sql = format!(
        "SELECT id, tran_date, tran_time, inout_type, tran_type, print_content, tran_amt,
            after_balance, branch_name, COALESCE(counterpart_name, ''),
            COALESCE(counterpart_bank, ''), COALESCE(counterpart_account, '')
         FROM transactions
         WHERE account_id = ?1
           AND (tran_date, tran_time) >= (?2, ?3) AND (tran_date, tran_time) <= (?4, ?5)
           AND (?6 IS NULL OR inout_type = ?6)
           AND (?7 IS NULL OR (tran_date, tran_time, id) {cmp} (?7, ?8, ?9))
         ORDER BY tran_date {order}, tran_time {order}, id {order}
         LIMIT ?10"
    );
    let (pd, pt, pid) = match position {
        Some((d, t, id)) => (Some(d), Some(t), Some(id)),
        None => (None, None, None),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(
            params![
                q.account_id,
                q.from.0,
                q.from.1,
                q.to.0,
                q.to.1,
                q.inout,
                pd,
                pt,
                pid,
                (PAGE_ROWS + 1) as i64
            ],
            |r| {
                Ok(Row {
                    id: r.get(0)?,
                    tran_date: r.get(1)?,
                    tran_time: r.get(2)?,
                    inout_type: r.get(3)?,
                    tran_type: r.get(4)?,
                    print_content: r.get(5)?,
                    tran_amt: r.get(6)?,
                    after_balance: r.get(7)?,
                    branch_name: r.get(8)?,
                    counterpart_name: r.get(9)?,
                    counterpart_bank: r.get(10)?,
                    counterpart_account: r.get(11)?,
                })
            },
        )
        .map_err(db)?;
    let mut rows = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
    let more = rows.len() > PAGE_ROWS;
    rows.truncate(PAGE_ROWS);
    Ok(Page { rows, more })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_round_trips_and_refuses_foreign_text() {
        assert_eq!(decode_cursor(&encode_cursor(4711)).unwrap(), 4711);
        assert!(decode_cursor("4711").is_err());
        assert!(decode_cursor("R-1").is_err());
        assert!(decode_cursor("Rabc").is_err());
        assert!(encode_cursor(i64::MAX).len() <= 20);
    }
}
