//! A change of an account's phone or e-mail, confirmed by a code or a link.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, LoginKind};

use super::{AuditWrite, KeyedHash, OutboxRecord, Sealed, StoreResult};

/// A new phone or e-mail of an account, waiting for its code or link. A
/// contact that already has an account gets a row too (`taken`, with a
/// secret nobody knows), so the answers never tell whose contact it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChangeRecord {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    /// `Phone` or `Email`.
    pub kind: LoginKind,
    pub lang: String,
    /// The new value, sealed for `SealedField::NewContact`.
    pub new_contact: Sealed,
    /// The blind index the account will be found by.
    pub contact_index: KeyedHash,
    pub taken: bool,
    /// Keyed hash of the SMS code or of the e-mail token.
    pub secret_hash: KeyedHash,
    pub secret_expires_at: OffsetDateTime,
    pub attempts: u32,
    pub sent_at: OffsetDateTime,
    pub sends: u32,
    pub completed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What a confirmed change writes, all at once.
#[derive(Debug, Clone)]
pub struct ContactChangeCompletion {
    pub change_id: uuid::Uuid,
    pub account_id: AccountId,
    pub kind: LoginKind,
    /// The new value sealed as the account's phone or e-mail.
    pub sealed: Sealed,
    pub index: KeyedHash,
    /// The notice to the old contact (or, for an added one, the other).
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
    pub at: OffsetDateTime,
}

#[async_trait]
pub trait ContactChangeStore: Send + Sync {
    /// In one transaction: voids the account's live changes of this kind,
    /// writes the new one and its message (code, link or note).
    async fn start_contact_change(
        &self,
        c: &ContactChangeRecord,
        message: &OutboxRecord,
    ) -> StoreResult<()>;
    async fn contact_change(&self, id: uuid::Uuid) -> StoreResult<Option<ContactChangeRecord>>;
    async fn contact_change_by_secret(
        &self,
        secret_hash: &[u8],
    ) -> StoreResult<Option<ContactChangeRecord>>;
    /// Takes one attempt at the code if fewer than `max` were taken;
    /// returns the attempt's number, or `None` when they are used up.
    /// Atomic: concurrent guesses never take more than `max`.
    async fn take_contact_change_attempt(
        &self,
        id: uuid::Uuid,
        max: u32,
    ) -> StoreResult<Option<u32>>;
    /// A new code or link if the last one was sent at `previous_sent_at`
    /// and the change is not completed: sent when `message` was made,
    /// attempts reset, the message written, in one transaction. False, with
    /// nothing written, when another resend came first.
    async fn replace_contact_change_secret(
        &self,
        id: uuid::Uuid,
        previous_sent_at: OffsetDateTime,
        secret_hash: &[u8],
        secret_expires_at: OffsetDateTime,
        message: &OutboxRecord,
    ) -> StoreResult<bool>;
    /// In one transaction, if the change is not completed: the account's
    /// contact and its index replaced, the change completed, the notices
    /// and the audit record written. False, with nothing written, when it
    /// was completed already; `Conflict(Phone | Email)`, with nothing
    /// written, when another account has the contact now.
    async fn complete_contact_change(&self, c: &ContactChangeCompletion) -> StoreResult<bool>;
    async fn delete_expired_contact_changes(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
