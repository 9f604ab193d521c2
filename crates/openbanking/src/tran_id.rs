//! Issuing `bank_tran_id`s: the institution's code, `U`, and 9 letters or digits, never repeated
//! by the same institution on the same (Korean) day — not even across a restart, since the
//! center refuses a reused id with `A0326`.
//!
//! The serial is a per-day counter written in base 36. The counter lives wherever the caller
//! keeps durable state, behind [`CounterStore`]. The issuer reserves counter values in blocks so
//! that a busy sync does not write to disk for every call; a restart simply abandons the rest of
//! its block, which costs a few unused ids out of 36⁹ per day.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use crate::clock::{Clock, SystemClock};
use crate::ids::{BankTranId, ClientUseCode};

/// The number of distinct serials per day: 36⁹.
pub const SERIALS_PER_DAY: u64 = 101_559_956_668_416;

/// Why a `bank_tran_id` could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CounterError {
    /// The store that keeps the counter failed.
    #[error("the bank_tran_id counter store failed: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Every serial of the day has been used.
    #[error("every bank_tran_id of {day} has been used")]
    Exhausted {
        /// The day whose serials ran out.
        day: NaiveDate,
    },
}

/// Durable storage for the per-day counters of `bank_tran_id` serials.
///
/// An implementation must be atomic: two calls never get overlapping ranges, and a value handed
/// out once is never handed out again for the same institution and day, even after the process
/// restarts. A SQLite row per (institution, day) updated in a transaction is enough.
pub trait CounterStore: Send + Sync {
    /// Reserves `count` consecutive counter values for `client_use_code` on `day` and returns the
    /// first. Values start at 0 on each new day.
    fn reserve(
        &self,
        client_use_code: &ClientUseCode,
        day: NaiveDate,
        count: u64,
    ) -> Result<u64, CounterError>;
}

/// A [`CounterStore`] in memory: durable only as long as it is alive. Share one (in an `Arc`)
/// between issuers to simulate a restart in tests.
#[derive(Debug, Default)]
pub struct MemoryCounterStore {
    next: Mutex<HashMap<(ClientUseCode, NaiveDate), u64>>,
}

impl MemoryCounterStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CounterStore for MemoryCounterStore {
    fn reserve(
        &self,
        client_use_code: &ClientUseCode,
        day: NaiveDate,
        count: u64,
    ) -> Result<u64, CounterError> {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let slot = next.entry((client_use_code.clone(), day)).or_insert(0);
        let first = *slot;
        *slot = first.saturating_add(count);
        Ok(first)
    }
}

struct Block {
    day: NaiveDate,
    next: u64,
    end: u64,
}

/// Issues fresh `bank_tran_id`s for one institution.
pub struct BankTranIdIssuer {
    code: ClientUseCode,
    store: Arc<dyn CounterStore>,
    clock: Arc<dyn Clock>,
    block_size: u64,
    block: Mutex<Option<Block>>,
}

impl fmt::Debug for BankTranIdIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankTranIdIssuer")
            .field("client_use_code", &self.code)
            .field("block_size", &self.block_size)
            .finish_non_exhaustive()
    }
}

impl BankTranIdIssuer {
    /// An issuer for `code` whose counters persist in `store`, reading the day from the system
    /// clock and reserving 100 serials at a time.
    pub fn new(code: ClientUseCode, store: Arc<dyn CounterStore>) -> Self {
        Self {
            code,
            store,
            clock: Arc::new(SystemClock),
            block_size: 100,
            block: Mutex::new(None),
        }
    }

    /// Uses `clock` to tell the day.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Reserves `size` serials per store write (at least 1). Larger blocks mean fewer writes and
    /// more serials skipped at each restart.
    pub fn with_block_size(mut self, size: u64) -> Self {
        self.block_size = size.max(1);
        self
    }

    /// The institution whose ids this issues.
    pub fn client_use_code(&self) -> &ClientUseCode {
        &self.code
    }

    /// The clock this issuer reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A fresh id for today (in Korea).
    pub fn issue(&self) -> Result<BankTranId, CounterError> {
        self.issue_on(self.clock.today_kst())
    }

    /// A fresh id for `day`.
    pub fn issue_on(&self, day: NaiveDate) -> Result<BankTranId, CounterError> {
        let mut guard = self.block.lock().unwrap_or_else(|p| p.into_inner());
        let needs_block = match guard.as_ref() {
            Some(b) => b.day != day || b.next >= b.end,
            None => true,
        };
        if needs_block {
            let first = self.store.reserve(&self.code, day, self.block_size)?;
            *guard = Some(Block {
                day,
                next: first,
                end: first.saturating_add(self.block_size),
            });
        }
        let Some(block) = guard.as_mut() else {
            return Err(CounterError::Exhausted { day });
        };
        let n = block.next;
        block.next += 1;
        let serial = serial(n).ok_or(CounterError::Exhausted { day })?;
        BankTranId::from_parts(&self.code, &serial).map_err(|e| CounterError::Store(Box::new(e)))
    }
}

/// Writes counter value `n` as 9 base-36 characters (`0-9A-Z`), or `None` past the last one.
pub fn serial(n: u64) -> Option<String> {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if n >= SERIALS_PER_DAY {
        return None;
    }
    let mut out = [b'0'; 9];
    let mut rest = n;
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(rest % 36) as usize];
        rest /= 36;
    }
    Some(out.iter().map(|&b| b as char).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn code() -> ClientUseCode {
        ClientUseCode::parse("T991589220").expect("valid")
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, d).expect("date")
    }

    #[test]
    fn serials_are_nine_base36_characters() {
        assert_eq!(serial(0).as_deref(), Some("000000000"));
        assert_eq!(serial(35).as_deref(), Some("00000000Z"));
        assert_eq!(serial(36).as_deref(), Some("000000010"));
        assert_eq!(serial(SERIALS_PER_DAY - 1).as_deref(), Some("ZZZZZZZZZ"));
        assert_eq!(serial(SERIALS_PER_DAY), None);
    }

    #[test]
    fn issued_ids_carry_the_institution_prefix_and_marker() {
        let issuer = BankTranIdIssuer::new(code(), Arc::new(MemoryCounterStore::new()));
        let id = issuer.issue_on(day(1)).expect("issue");
        assert_eq!(id.as_str(), "T991589220U000000000");
        assert_eq!(
            issuer.issue_on(day(1)).expect("issue").as_str(),
            "T991589220U000000001"
        );
    }

    #[test]
    fn a_restart_continues_after_the_abandoned_block() {
        let store: Arc<dyn CounterStore> = Arc::new(MemoryCounterStore::new());
        let first = BankTranIdIssuer::new(code(), store.clone()).with_block_size(10);
        let a = first.issue_on(day(1)).expect("issue");
        drop(first);
        let second = BankTranIdIssuer::new(code(), store).with_block_size(10);
        let b = second.issue_on(day(1)).expect("issue");
        assert_ne!(a, b);
        assert_eq!(b.serial(), "00000000A");
    }

    #[test]
    fn each_day_starts_again_and_uses_the_clock() {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap(),
        ));
        let issuer = BankTranIdIssuer::new(code(), Arc::new(MemoryCounterStore::new()))
            .with_clock(clock.clone());
        issuer.issue().expect("issue");
        clock.advance(chrono::Duration::days(1));
        assert_eq!(issuer.issue().expect("issue").serial(), "000000000");
    }

    #[derive(Debug, Clone)]
    enum Step {
        Issue(u32),
        Restart(u64),
        Day(u32),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (1u32..20).prop_map(Step::Issue),
            2 => (1u64..30).prop_map(Step::Restart),
            1 => (1u32..4).prop_map(Step::Day),
        ]
    }

    proptest! {
        #[test]
        fn no_id_repeats_within_a_day_across_restarts(
            steps in proptest::collection::vec(step(), 1..40),
            first_block in 1u64..30,
        ) {
            let store: Arc<dyn CounterStore> = Arc::new(MemoryCounterStore::new());
            let mut issuer = BankTranIdIssuer::new(code(), store.clone()).with_block_size(first_block);
            let mut today = day(1);
            let mut seen: HashSet<(NaiveDate, BankTranId)> = HashSet::new();
            for s in steps {
                match s {
                    Step::Issue(n) => {
                        for _ in 0..n {
                            let id = issuer.issue_on(today).expect("issue");
                            prop_assert_eq!(id.client_use_code(), code());
                            prop_assert!(BankTranId::parse(id.as_str()).is_ok());
                            prop_assert!(seen.insert((today, id)), "repeated id");
                        }
                    }
                    Step::Restart(block) => {
                        issuer = BankTranIdIssuer::new(code(), store.clone()).with_block_size(block);
                    }
                    Step::Day(d) => today = day(d),
                }
            }
        }
    }
}
