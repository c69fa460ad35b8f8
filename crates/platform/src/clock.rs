//! An injectable clock, so time windows and expiries are tested without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, Utc};

/// The time source of a service. Timestamps are truncated to microseconds, the precision both
/// MySQL `DATETIME(6)` and our SQLite text columns keep, so a value reads back exactly as written.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    /// A clock that stands still until moved with [`ManualClock::advance`].
    pub fn manual(start: DateTime<Utc>) -> (Self, ManualClock) {
        let now = Arc::new(Mutex::new(start));
        let read = now.clone();
        (
            Self(Arc::new(move || *read.lock().expect("clock lock"))),
            ManualClock(now),
        )
    }

    pub fn now(&self) -> DateTime<Utc> {
        let t = (self.0)();
        t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// The handle that moves a manual clock.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }
}
