//! The clock the client reads: `tran_dtime`, token issue times and the day of a `bank_tran_id`
//! all come from here, so tests can set the time instead of sleeping.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::wire::kst;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// The current wall-clock time in Korea, as the center reads dates and times.
    fn now_kst(&self) -> NaiveDateTime {
        self.now().with_timezone(&kst()).naive_local()
    }

    /// Today's date in Korea: the day a `bank_tran_id` must be unique within.
    fn today_kst(&self) -> NaiveDate {
        self.now_kst().date()
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
}
