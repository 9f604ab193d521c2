//! Transaction history: rows merged without duplicates, pages read back with filters, how far
//! each account is synced, and the breaks of the after-balance chain.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError, ts};

/// One history row as the API gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Date.
    pub tran_date: NaiveDate,
    /// Time.
    pub tran_time: NaiveTime,
    /// `입금`, `출금`, ….
    pub inout_type: String,
    /// `급여`, `이체`, ….
    pub tran_type: String,
    /// The text on the statement.
    pub print_content: String,
    /// Amount, whole won.
    pub tran_amt: i64,
    /// Balance after it.
    pub after_balance: i64,
    /// Branch.
    pub branch_name: String,
}

impl HistoryRow {
    /// Whether the row added money to the account.
    pub fn is_deposit(&self) -> bool {
        adds_money(&self.inout_type)
    }
}

/// Whether a row of this `inout_type` added money: the center writes it in Korean, `입금` for
/// money in. The one reading of it; the store's filter asks the same in SQL (`LIKE '%입금%'`).
fn adds_money(inout_type: &str) -> bool {
    inout_type.contains("입금")
}

/// A stored history row: the row as the API gave it, under the store's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// Row id.
    pub id: i64,
    /// The row.
    pub row: HistoryRow,
}

/// What merging a batch of history did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Merged {
    /// Rows new to the store.
    pub inserted: usize,
    /// Rows it already had.
    pub known: usize,
    /// Breaks in the after-balance chain found in the account's whole history afterwards.
    pub gaps: usize,
}

/// Which way money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Deposits.
    In,
    /// Withdrawals.
    Out,
}

/// Filters and paging for [`Store::history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// From this day, inclusive.
    pub from: Option<NaiveDate>,
    /// To this day, inclusive.
    pub to: Option<NaiveDate>,
    /// Only deposits or only withdrawals.
    pub direction: Option<Direction>,
    /// Text that the row's content or type contains.
    pub search: Option<String>,
    /// Rows to return at most.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            direction: None,
            search: None,
            limit: 100,
            offset: 0,
        }
    }
}

impl Store {
    /// Merges rows fetched from the API (any order) into an account's history. Rows already
    /// stored are recognised by their identity, so a re-sync never duplicates; identical rows
    /// within one fetch are told apart by their occurrence number, so real repeated purchases
    /// are never merged. The fetch must cover whole days. Afterwards the after-balance chain of
    /// the account is checked and its gaps recorded.
    pub fn merge_history(
        &self,
        account_id: i64,
        rows: &[HistoryRow],
        now: DateTime<Utc>,
    ) -> Result<Merged> {
        let mut sorted: Vec<&HistoryRow> = rows.iter().collect();
        // Oldest first, keeping the API's order within the same second.
        sorted.sort_by_key(|r| (r.tran_date, r.tran_time));
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut merged = Merged::default();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO transactions (account_id, tran_date, tran_time, inout_type,
                    tran_type, print_content, tran_amt, after_balance, branch_name, occurrence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut seen: std::collections::HashMap<
                (NaiveDate, NaiveTime, &str, i64, i64, &str),
                i64,
            > = std::collections::HashMap::new();
            for row in sorted {
                let key = (
                    row.tran_date,
                    row.tran_time,
                    row.inout_type.as_str(),
                    row.tran_amt,
                    row.after_balance,
                    row.print_content.as_str(),
                );
                let occurrence = seen.entry(key).and_modify(|n| *n += 1).or_insert(1);
                let changed = insert.execute(params![
                    account_id,
                    row.tran_date.to_string(),
                    row.tran_time.format("%H:%M:%S").to_string(),
                    row.inout_type,
                    row.tran_type,
                    row.print_content,
                    row.tran_amt,
                    row.after_balance,
                    row.branch_name,
                    *occurrence
                ])?;
                if changed == 1 {
                    merged.inserted += 1;
                } else {
                    merged.known += 1;
                }
            }
        }
        merged.gaps = check_chain(&tx, account_id, now)?;
        tx.commit()?;
        Ok(merged)
    }

    /// A page of an account's stored history, newest first, with filters.
    pub fn history(&self, account_id: i64, query: &HistoryQuery) -> Result<Vec<StoredRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, tran_date, tran_time, inout_type, tran_type, print_content, tran_amt,
                after_balance, branch_name
             FROM transactions
             WHERE account_id = ?1
               AND (?2 IS NULL OR tran_date >= ?2) AND (?3 IS NULL OR tran_date <= ?3)
               AND (?4 IS NULL OR (?4 = 'in' AND inout_type LIKE '%입금%')
                               OR (?4 = 'out' AND inout_type NOT LIKE '%입금%'))
               AND (?5 IS NULL OR print_content LIKE '%' || ?5 || '%' OR tran_type LIKE '%' || ?5 || '%')
             ORDER BY tran_date DESC, tran_time DESC, id DESC
             LIMIT ?6 OFFSET ?7",
        )?;
        let direction = query.direction.map(|d| match d {
            Direction::In => "in",
            Direction::Out => "out",
        });
        let search = query
            .search
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| s.replace(['%', '_'], ""));
        let rows = stmt.query_map(
            params![
                account_id,
                query.from.map(|d| d.to_string()),
                query.to.map(|d| d.to_string()),
                direction,
                search,
                i64::from(query.limit),
                i64::from(query.offset)
            ],
            stored_row,
        )?;
        rows.map(|r| r?).collect()
    }

    /// How many rows an account's history holds, and the newest date.
    pub fn history_extent(&self, account_id: i64) -> Result<(u64, Option<NaiveDate>)> {
        let conn = self.lock();
        let (count, newest): (i64, Option<String>) = conn.query_row(
            "SELECT COUNT(*), MAX(tran_date) FROM transactions WHERE account_id = ?1",
            [account_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let newest = newest
            .map(|d| {
                d.parse::<NaiveDate>()
                    .map_err(|_| StoreError::Corrupt("date"))
            })
            .transpose()?;
        Ok((count.max(0) as u64, newest))
    }

    /// The balance at the end of every day the account's history has rows for, oldest first:
    /// the after-balance of each day's last row.
    pub fn daily_balances(&self, account_id: i64) -> Result<Vec<(NaiveDate, i64)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT tran_date, after_balance FROM transactions t
             WHERE account_id = ?1 AND id = (
                SELECT id FROM transactions WHERE account_id = ?1 AND tran_date = t.tran_date
                ORDER BY tran_time DESC, id DESC LIMIT 1)
             ORDER BY tran_date",
        )?;
        let rows = stmt.query_map([account_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (date, balance) = row?;
            Ok((
                date.parse().map_err(|_| StoreError::Corrupt("date"))?,
                balance,
            ))
        })
        .collect()
    }

    /// Through which day an account's history is known complete, if it was ever synced.
    pub fn synced_through(&self, account_id: i64) -> Result<Option<NaiveDate>> {
        let value: Option<String> = self
            .lock()
            .query_row(
                "SELECT synced_through FROM history_sync WHERE account_id = ?1",
                [account_id],
                |r| r.get(0),
            )
            .optional()?;
        value
            .map(|d| d.parse().map_err(|_| StoreError::Corrupt("date")))
            .transpose()
    }

    /// Records that an account's history is known through `day`.
    pub fn set_synced_through(
        &self,
        account_id: i64,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO history_sync (account_id, synced_through, synced_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id) DO UPDATE SET synced_through = excluded.synced_through,
                synced_at = excluded.synced_at",
            params![account_id, day.to_string(), ts(&now)],
        )?;
        Ok(())
    }

    /// The recorded gaps of an account's history: `(before_row, after_row, missing_amount)`.
    pub fn history_gaps(&self, account_id: i64) -> Result<Vec<(i64, i64, i64)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT before_row, after_row, missing_amount FROM history_gaps WHERE account_id = ?1 ORDER BY before_row",
        )?;
        let rows = stmt.query_map([account_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

fn stored_row(r: &Row<'_>) -> rusqlite::Result<Result<StoredRow>> {
    let date: String = r.get(1)?;
    let time: String = r.get(2)?;
    Ok((|| {
        Ok(StoredRow {
            id: r.get(0)?,
            row: HistoryRow {
                tran_date: date.parse().map_err(|_| StoreError::Corrupt("date"))?,
                tran_time: NaiveTime::parse_from_str(&time, "%H:%M:%S")
                    .map_err(|_| StoreError::Corrupt("time"))?,
                inout_type: r.get(3)?,
                tran_type: r.get(4)?,
                print_content: r.get(5)?,
                tran_amt: r.get(6)?,
                after_balance: r.get(7)?,
                branch_name: r.get(8)?,
            },
        })
    })())
}

/// One row of an account's history, as the after-balance chain sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChainLink {
    id: i64,
    deposit: bool,
    amount: i64,
    after_balance: i64,
}

/// The breaks in a history's after-balance chain, rows oldest first: every pair of neighbours
/// where the later row's after-balance does not follow from the earlier one's and its own
/// amount, as `(before_row, after_row, missing_amount)` — the amount the missing rows moved,
/// negative when money left.
fn chain_breaks(rows: &[ChainLink]) -> Vec<(i64, i64, i64)> {
    rows.windows(2)
        .filter_map(|pair| {
            let (before, row) = (pair[0], pair[1]);
            let delta = if row.deposit { row.amount } else { -row.amount };
            let expected = before.after_balance + delta;
            (expected != row.after_balance).then_some((
                before.id,
                row.id,
                row.after_balance - expected,
            ))
        })
        .collect()
}

/// Walks an account's history oldest first and records every place where a row's
/// after-balance does not follow from the previous one: rows are missing there.
fn check_chain(conn: &Connection, account_id: i64, now: DateTime<Utc>) -> Result<usize> {
    conn.execute(
        "DELETE FROM history_gaps WHERE account_id = ?1",
        [account_id],
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, inout_type, tran_amt, after_balance FROM transactions
         WHERE account_id = ?1 ORDER BY tran_date, tran_time, id",
    )?;
    let rows = stmt.query_map([account_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let rows = rows
        .map(|row| {
            row.map(|(id, inout, amount, after)| ChainLink {
                id,
                deposit: adds_money(&inout),
                amount,
                after_balance: after,
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let gaps = chain_breaks(&rows);
    let mut insert = conn.prepare_cached(
        "INSERT INTO history_gaps (account_id, before_row, after_row, missing_amount, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (before, after, missing) in &gaps {
        insert.execute(params![account_id, before, after, missing, ts(&now)])?;
    }
    Ok(gaps.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;

    fn row(day: u32, time: &str, deposit: bool, amount: i64, after: i64, text: &str) -> HistoryRow {
        HistoryRow {
            tran_date: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            tran_time: NaiveTime::parse_from_str(time, "%H%M%S").unwrap(),
            inout_type: if deposit { "입금" } else { "출금" }.into(),
            tran_type: "체크카드".into(),
            print_content: text.into(),
            tran_amt: amount,
            after_balance: after,
            branch_name: String::new(),
        }
    }

    #[test]
    fn history_merges_without_duplicates_and_keeps_identical_purchases_apart() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        let day1 = vec![
            row(1, "090000", true, 10_000, 10_000, "급여"),
            // Two identical coffees in the same second: after-balances differ, so both stay.
            row(1, "100000", false, 4_500, 5_500, "스타벅스"),
            row(1, "100000", false, 4_500, 1_000, "스타벅스"),
        ];
        let merged = store.merge_history(id, &day1, now()).unwrap();
        assert_eq!((merged.inserted, merged.known, merged.gaps), (3, 0, 0));
        // A re-sync with overlap adds only what is new.
        let mut again = day1.clone();
        again.push(row(2, "080000", false, 1_000, 0, "GS25"));
        let merged = store.merge_history(id, &again, now()).unwrap();
        assert_eq!((merged.inserted, merged.known, merged.gaps), (1, 3, 0));
        assert_eq!(store.history_extent(id).unwrap().0, 4);
    }

    #[test]
    fn rows_truly_identical_are_kept_by_their_occurrence() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        // A bank that reports a zero-balance account's two identical rows.
        let rows = vec![
            row(1, "100000", true, 500, 500, "이자"),
            row(1, "100000", true, 500, 500, "이자"),
        ];
        let merged = store.merge_history(id, &rows, now()).unwrap();
        assert_eq!(merged.inserted, 2);
        assert_eq!(store.merge_history(id, &rows, now()).unwrap().inserted, 0);
    }

    #[test]
    fn a_break_in_the_after_balance_chain_is_recorded_as_a_gap() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        let rows = vec![
            row(1, "090000", true, 10_000, 10_000, "급여"),
            // 3,000 went out somewhere in between and is missing.
            row(2, "090000", false, 1_000, 6_000, "GS25"),
        ];
        let merged = store.merge_history(id, &rows, now()).unwrap();
        assert_eq!(merged.gaps, 1);
        let gaps = store.history_gaps(id).unwrap();
        assert_eq!(gaps[0].2, -3_000);
    }

    #[test]
    fn history_filters_by_direction_text_and_dates() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        let rows = vec![
            row(1, "090000", true, 10_000, 10_000, "급여"),
            row(2, "100000", false, 4_500, 5_500, "스타벅스"),
            row(3, "100000", false, 500, 5_000, "GS25"),
        ];
        store.merge_history(id, &rows, now()).unwrap();
        let q = |direction, search: Option<&str>, from: Option<u32>| HistoryQuery {
            direction,
            search: search.map(str::to_owned),
            from: from.map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap()),
            ..HistoryQuery::default()
        };
        assert_eq!(
            store
                .history(id, &q(Some(Direction::In), None, None))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .history(id, &q(Some(Direction::Out), None, None))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            store.history(id, &q(None, Some("스타"), None)).unwrap()[0]
                .row
                .tran_amt,
            4_500
        );
        let newest_first = store.history(id, &q(None, None, Some(2))).unwrap();
        assert_eq!(
            newest_first
                .iter()
                .map(|r| r.row.tran_amt)
                .collect::<Vec<_>>(),
            vec![500, 4_500]
        );
    }

    #[test]
    fn a_chain_break_says_between_which_rows_and_how_much_went_missing() {
        let link = |id, deposit, amount, after_balance| ChainLink {
            id,
            deposit,
            amount,
            after_balance,
        };
        assert_eq!(chain_breaks(&[]), vec![]);
        assert_eq!(chain_breaks(&[link(1, true, 10_000, 10_000)]), vec![]);
        let rows = [
            link(1, true, 10_000, 10_000),
            link(2, false, 4_500, 5_500),
            // 3,000 left between rows 2 and 3.
            link(3, false, 500, 2_000),
            // 1,000 arrived between rows 3 and 4.
            link(4, true, 1_000, 4_000),
            link(5, false, 4_000, 0),
        ];
        assert_eq!(chain_breaks(&rows), vec![(2, 3, -3_000), (3, 4, 1_000)]);
    }
}
