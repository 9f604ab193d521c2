//! How long the app took to show the person something: the time from the process's start to the
//! dashboard's first paint from the store, logged once. `BENCHMARKS.md` measures the same moment
//! from outside the process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Managed by Tauri; made first thing in [`crate::run`].
#[derive(Debug)]
pub struct Startup {
    at: Instant,
    painted: AtomicBool,
}

impl Startup {
    /// The process's start, as near as the shell can tell: now.
    pub fn now() -> Self {
        Self {
            at: Instant::now(),
            painted: AtomicBool::new(false),
        }
    }

    /// The UI painted the dashboard: answers the milliseconds since the start the first time,
    /// and `None` after (coming back to the dashboard is not a start).
    pub fn painted(&self) -> Option<u128> {
        (!self.painted.swap(true, Ordering::Relaxed)).then(|| self.at.elapsed().as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_paint_is_the_start() {
        let startup = Startup::now();
        assert!(startup.painted().is_some());
        assert_eq!(startup.painted(), None);
    }
}
