//! The transactional outbox: a message written in the same transaction as the
//! change it tells about.
use time::OffsetDateTime;
use uslugi_domain::{AccountId, Channel};

use super::Sealed;

/// A notification written in the same transaction as the state change it
/// tells about; delivered at least once by a worker, with its id as the
/// idempotency key downstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub id: uuid::Uuid,
    /// At most one message per key, whatever retries happen.
    pub dedupe_key: String,
    pub account_id: Option<AccountId>,
    pub channel: Channel,
    pub recipient: Sealed,
    pub subject: Sealed,
    pub body: Sealed,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub attempts: u32,
    pub leased_until: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
}
