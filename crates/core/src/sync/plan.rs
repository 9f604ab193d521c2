//! What a sync decides without asking anyone: which accounts it covers, which days of history
//! it asks for, through which day the history is then known whole, how long it waits when the
//! server says too many requests, and what a bank's refusal means. Pure functions, each with its
//! tests; the fetching and writing stay in [`super`].

use std::time::Duration;

use chrono::{Months, NaiveDate, TimeDelta};

use super::{BankState, StaleCode};
use crate::store::{AccountRecord, HistoryRow};

/// Whether a sync covers `account`: one with inquiry consent. (The store lists only the active
/// environment's active accounts.)
pub fn syncs(account: &AccountRecord) -> bool {
    account.details.inquiry_agreed_at.is_some()
}

/// What a bank's refusal means, given the state the center announces for it: a bank in outage,
/// not open yet or gone says so, as a balance refresh would; any other refusal is the bank's.
pub fn refusal_code(bank: Option<BankState>) -> StaleCode {
    match bank {
        Some(BankState::Down) => StaleCode::BankDown,
        Some(BankState::NotOpen) => StaleCode::BankNotOpen,
        Some(BankState::Terminated) => StaleCode::BankTerminated,
        _ => StaleCode::BankRefused,
    }
}

/// How far back the first sync reaches.
pub const HISTORY_MONTHS: u32 = 12;
/// How many days a later sync reads again.
pub const HISTORY_OVERLAP_DAYS: i64 = 3;

/// The days a history sync asks for: a year back the first time, later from three days before
/// the last sync's end, never after today.
pub fn history_window(
    synced_through: Option<NaiveDate>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let earliest = today
        .checked_sub_months(Months::new(HISTORY_MONTHS))
        .unwrap_or(today);
    let from = match synced_through {
        None => earliest,
        Some(day) => (day - TimeDelta::days(HISTORY_OVERLAP_DAYS))
            .max(earliest)
            .min(today),
    };
    (from, today)
}

/// How long to wait before asking again for a history page the server refused as too many
/// requests, after `refusals` refusals of it: 100 ms, doubling, six times (6.3 s in all); then
/// `None`, and the account waits for the next sync. The server's allowance refills every
/// second, and a first sync of a long history asks for many pages in a row.
pub fn rate_limited_pause(refusals: u32) -> Option<Duration> {
    (refusals < 6).then(|| Duration::from_millis(100 << refusals))
}

/// Through which day an account's history is known whole once `rows` of the window `from..=to`
/// are read. All of it when every page was read; when the pages ran out (`truncated`), the last
/// day read may be cut in the middle, so its rows are dropped and left for the next sync — the
/// store tells identical rows apart by counting them within whole days — and the history is
/// known through the day before. `None` when not even one whole day was read.
pub fn whole_days(
    rows: &mut Vec<HistoryRow>,
    from: NaiveDate,
    to: NaiveDate,
    truncated: bool,
) -> Option<NaiveDate> {
    if !truncated {
        return Some(to);
    }
    match rows.iter().map(|r| r.tran_date).max() {
        Some(last) if last > from => {
            rows.retain(|r| r.tran_date < last);
            Some(last - TimeDelta::days(1))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AccountDetails;

    #[test]
    fn a_page_refused_as_too_many_requests_is_asked_again_later_six_times_at_most() {
        let pauses: Vec<Duration> = (0..).map_while(rate_limited_pause).collect();
        assert_eq!(
            pauses.iter().map(Duration::as_millis).collect::<Vec<_>>(),
            vec![100, 200, 400, 800, 1_600, 3_200]
        );
    }

    #[test]
    fn a_refusal_from_a_bank_that_announces_its_state_says_that_state() {
        assert_eq!(refusal_code(Some(BankState::Down)), StaleCode::BankDown);
        assert_eq!(
            refusal_code(Some(BankState::NotOpen)),
            StaleCode::BankNotOpen
        );
        assert_eq!(
            refusal_code(Some(BankState::Terminated)),
            StaleCode::BankTerminated
        );
        for state in [Some(BankState::Available), Some(BankState::Unknown), None] {
            assert_eq!(refusal_code(state), StaleCode::BankRefused, "{state:?}");
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn the_first_sync_reaches_a_year_back_and_later_ones_overlap_three_days() {
        let today = day("2026-11-27");
        assert_eq!(history_window(None, today), (day("2025-11-27"), today));
        assert_eq!(
            history_window(Some(day("2026-11-20")), today),
            (day("2026-11-17"), today)
        );
        // Never before the first sync's reach, never after today.
        assert_eq!(
            history_window(Some(day("2024-01-01")), today),
            (day("2025-11-27"), today)
        );
        assert_eq!(
            history_window(Some(day("2026-12-31")), today),
            (today, today)
        );
        // Whole months: a leap day's year still reaches the same date.
        assert_eq!(history_window(None, day("2028-02-29")).0, day("2027-02-28"));
    }

    fn rows_on(days: &[&str]) -> Vec<HistoryRow> {
        days.iter()
            .map(|d| HistoryRow {
                tran_date: day(d),
                tran_time: chrono::NaiveTime::MIN,
                inout_type: "입금".into(),
                tran_type: String::new(),
                print_content: String::new(),
                tran_amt: 1,
                after_balance: 1,
                branch_name: String::new(),
            })
            .collect()
    }

    #[test]
    fn a_history_read_to_its_end_is_known_through_the_windows_last_day() {
        let mut rows = rows_on(&["2026-11-20", "2026-11-21"]);
        let through = whole_days(&mut rows, day("2026-11-17"), day("2026-11-27"), false);
        assert_eq!((through, rows.len()), (Some(day("2026-11-27")), 2));
    }

    #[test]
    fn a_history_cut_short_leaves_its_last_day_for_the_next_sync() {
        let mut rows = rows_on(&["2026-11-18", "2026-11-20", "2026-11-20"]);
        let through = whole_days(&mut rows, day("2026-11-17"), day("2026-11-27"), true);
        assert_eq!(through, Some(day("2026-11-19")));
        assert_eq!(rows, rows_on(&["2026-11-18"]));
        // Only the window's first day read, or nothing: no whole day is known, nothing dropped.
        let mut first = rows_on(&["2026-11-17", "2026-11-17"]);
        assert_eq!(
            whole_days(&mut first, day("2026-11-17"), day("2026-11-27"), true),
            None
        );
        assert_eq!(first.len(), 2);
        assert_eq!(
            whole_days(&mut Vec::new(), day("2026-11-17"), day("2026-11-27"), true),
            None
        );
    }

    #[test]
    fn a_sync_covers_only_accounts_with_inquiry_consent() {
        let account = |inquiry_agreed_at| AccountRecord {
            id: 1,
            environment_id: 1,
            details: AccountDetails {
                fintech_use_num: "1".into(),
                bank_code: "004".into(),
                bank_name: String::new(),
                alias: String::new(),
                account_num_masked: String::new(),
                holder_name: String::new(),
                account_type: "1".into(),
                inquiry_agreed_at,
                transfer_agreed_at: None,
            },
            state: "active".into(),
        };
        assert!(syncs(&account(Some(chrono::Utc::now()))));
        assert!(!syncs(&account(None)));
    }
}
