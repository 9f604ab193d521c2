//! The clock the client reads: `tran_dtime`, token issue times and the day of a `bank_tran_id`
//! all come from here, so tests can set the time instead of sleeping.
//!
//! It is also the one place Korea's time is defined ([`KST`], [`today_kst`], [`from_kst`]): the
//! center files every call under a Korean business day, and moa-server and the app read the
//! day from here.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Korea Standard Time (UTC+9, no daylight saving): the clock every date on the wire is read
/// in, and the day a `bank_tran_id` must be unique within.
pub const KST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    // Evaluated when compiling: a constant that is always in range.
    None => panic!("UTC+9 is a valid offset"),
};

/// [`KST`], for code that takes the offset by value.
pub fn kst() -> FixedOffset {
    KST
}

/// The date in Korea at `now`: the center's business day.
pub fn today_kst(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&KST).date_naive()
}

/// The instant of a Korean wall-clock time, as the center's `yyyyMMddHHmmss` fields give it.
/// A fixed offset has no gaps or folds, so every local time is exactly one instant; only a time
/// within nine hours of the earliest chrono represents has none, and reads as that earliest.
pub fn from_kst(local: NaiveDateTime) -> DateTime<Utc> {
    KST.from_local_datetime(&local)
        .single()
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
}

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// The current wall-clock time in Korea, as the center reads dates and times.
    fn now_kst(&self) -> NaiveDateTime {
        self.now().with_timezone(&KST).naive_local()
    }

    /// Today's date in Korea: the day a `bank_tran_id` must be unique within.
    fn today_kst(&self) -> NaiveDate {
        today_kst(self.now())
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to, for tests.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn korean_date_turns_at_15_utc() {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 3, 1, 14, 59, 59).unwrap());
        assert_eq!(clock.today_kst().to_string(), "2024-03-01");
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(clock.today_kst().to_string(), "2024-03-02");
    }

    #[test]
    fn kst_is_nine_hours_east() {
        assert_eq!(KST.local_minus_utc(), 9 * 3600);
        assert_eq!(kst(), KST);
    }

    #[test]
    fn a_korean_wall_clock_time_is_the_instant_nine_hours_earlier_in_utc() {
        let local = NaiveDate::from_ymd_opt(2024, 3, 2)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a time");
        let instant = from_kst(local);
        assert_eq!(instant, Utc.with_ymd_and_hms(2024, 3, 1, 15, 0, 0).unwrap());
        assert_eq!(today_kst(instant), local.date());
        assert_eq!(
            today_kst(instant - chrono::Duration::seconds(1)).to_string(),
            "2024-03-01"
        );
    }
}
