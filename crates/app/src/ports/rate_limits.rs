//! Counters that limit how often something may happen, kept in the database
//! so every node shares them.
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::StoreResult;

/// What a rate limit answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Refused; the earliest moment another try would pass.
    Refused {
        retry_at: OffsetDateTime,
    },
}

#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Records one event for (`bucket`, `key`) if fewer than `limit` were
    /// recorded in the `window` before `now`. Atomic across nodes.
    async fn hit_rate_limit(
        &self,
        bucket: &str,
        key: &[u8],
        now: OffsetDateTime,
        window: Duration,
        limit: u32,
    ) -> StoreResult<RateDecision>;
    async fn purge_rate_events(&self, before: OffsetDateTime) -> StoreResult<u64>;
}
