//! The citizen's own deletion of the account: asked with the password
//! (and the factor), erased after a grace period in which a login cancels
//! it.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::AccountId;

use super::{AuditWrite, FactorProof, OutboxRecord, StoreResult};

/// A deletion as asked, for [`DeletionStore::schedule_deletion`].
#[derive(Debug, Clone)]
pub struct DeletionRequest {
    pub account_id: AccountId,
    pub requested_at: OffsetDateTime,
    pub erase_after: OffsetDateTime,
    /// The factor's proof (with the SMS step it belongs to), spent with the
    /// request; none when the account has no factor.
    pub proof: Option<(Option<uuid::Uuid>, FactorProof)>,
    /// What the contacts are told.
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
}

/// A deletion waiting for its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingDeletion {
    pub requested_at: OffsetDateTime,
    pub erase_after: OffsetDateTime,
}

#[async_trait]
pub trait DeletionStore {
    /// The request, in one transaction: the proof spent, the deletion
    /// recorded, every session of the account ended, the notices and the
    /// audit record. False, with nothing written, when the proof was spent
    /// already or a deletion is pending.
    async fn schedule_deletion(&self, r: &DeletionRequest) -> StoreResult<bool>;
    async fn pending_deletion(&self, account: AccountId) -> StoreResult<Option<PendingDeletion>>;
    /// The accounts whose grace is over at `now`, at most `limit`.
    async fn due_deletions(&self, now: OffsetDateTime, limit: u32) -> StoreResult<Vec<AccountId>>;
    /// Erases the account (every row of it goes, as `delete_account`) if
    /// its deletion is still due at `now`, with the audit record; false
    /// when a login cancelled it meanwhile, or it is gone.
    async fn erase_if_due(
        &self,
        account: AccountId,
        now: OffsetDateTime,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
}
