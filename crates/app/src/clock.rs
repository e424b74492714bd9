//! Time is a port: the product reads a real clock, tests move a fake one.
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Whole seconds: storage keeps seconds, so what is compared in memory
    /// and what is read back are the same instant.
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}

/// A clock that stands still until a test moves it; whole seconds are
/// enough for every rule we test (code lifetimes, limits, sessions).
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<AtomicI64>);

impl FakeClock {
    pub fn at(start: OffsetDateTime) -> Self {
        Self(Arc::new(AtomicI64::new(start.unix_timestamp())))
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }

    pub fn set(&self, to: OffsetDateTime) {
        self.0.store(to.unix_timestamp(), Ordering::SeqCst);
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::at(time::macros::datetime!(2026-03-02 09:00 UTC))
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.load(Ordering::SeqCst))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_told() {
        let clock = FakeClock::default();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::seconds(299));
        assert_eq!(clock.now() - start, Duration::seconds(299));
        let shared = clock.clone();
        shared.advance(Duration::seconds(1));
        assert_eq!(clock.now() - start, Duration::seconds(300));
    }
}
