//! The audit log: a hash chain of what was done to accounts and by whom.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, OperatorId};

use super::StoreResult;

/// One security-relevant event, as the use case describes it. No personal
/// data: people and operators appear by id only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub at: OffsetDateTime,
    /// `operator`, `citizen`, `admin` or `system`.
    pub actor: String,
    pub operator_id: Option<OperatorId>,
    pub center_id: Option<String>,
    pub account_id: Option<AccountId>,
    pub action: String,
    pub outcome: String,
    /// A JSON object with what else matters (never personal data).
    pub details: String,
}

/// A stored audit record: the entry, its place in the log and its link to
/// the record before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditEntry,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Computes the link of a record: a keyed hash over the previous record's
/// link and this record, so that changing, removing or inserting a record
/// anywhere breaks every link after it, and nobody without the key can
/// forge a new chain.
pub trait AuditChain: Send + Sync {
    fn link(&self, prev_hash: &[u8], seq: i64, entry: &AuditEntry) -> Vec<u8>;
}

/// An entry to append, with what links it into the chain.
#[derive(Clone)]
pub struct AuditWrite {
    pub entry: AuditEntry,
    pub chain: std::sync::Arc<dyn AuditChain>,
}

impl std::fmt::Debug for AuditWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.entry.fmt(f)
    }
}

/// Which records of the audit log to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    pub center_id: Option<String>,
    pub operator_id: Option<OperatorId>,
    pub account_id: Option<AccountId>,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one record (in a transaction of its own).
    async fn append_audit(&self, audit: &AuditWrite) -> StoreResult<i64>;
    /// Records matching `filter`, newest first, with `seq` below `before`.
    async fn audit_records(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Every record from `from_seq` on, oldest first: for checking the chain.
    async fn audit_chain(&self, from_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>>;
    /// Up to `limit` records written from `since` until before `until`, with
    /// `seq` above `after`, oldest first: for an export by dates.
    async fn audit_between(
        &self,
        since: OffsetDateTime,
        until: OffsetDateTime,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
}
