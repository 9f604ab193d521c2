//! The center's clock: real time plus an adjustable offset, in Korea Standard Time.
//!
//! Token expiry, consent expiry, daily limits and the daily uniqueness of `bank_tran_id` all read
//! this clock, so a test can move it forward instead of waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

/// Korea Standard Time, UTC+9, with no daylight saving.
pub fn kst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset")
}

/// A clock shared by every part of one testbed; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The center's time now.
    pub fn now(&self) -> DateTime<FixedOffset> {
        let offset = TimeDelta::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        (Utc::now() + offset).with_timezone(&kst())
    }

    /// How far the clock runs ahead of (or behind, when negative) real time.
    pub fn offset(&self) -> TimeDelta {
        TimeDelta::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock to run `offset` ahead of real time.
    pub fn set_offset(&self, offset: TimeDelta) {
        self.offset_ms
            .store(offset.num_milliseconds(), Ordering::Relaxed);
    }
}

/// `yyyyMMdd`.
pub fn date(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y%m%d").to_string()
}

/// `HHmmss`.
pub fn time(t: &DateTime<FixedOffset>) -> String {
    t.format("%H%M%S").to_string()
}

/// `yyyyMMddHHmmss`.
pub fn dtime(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

/// `yyyyMMddHHmmssSSS`, the form of `api_tran_dtm`.
pub fn dtm(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y%m%d%H%M%S%3f").to_string()
}
