//! Registrations: a person's first steps before the account exists, and the
//! continuations that let only the browser which started a flow go on.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{Channel, RegistrationId};

use super::{AccountRecord, AuditWrite, KeyedHash, OutboxRecord, Sealed, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    pub id: RegistrationId,
    pub channel: Channel,
    pub lang: String,
    pub surname: Sealed,
    pub given_name: Sealed,
    pub contact: Sealed,
    pub contact_index: KeyedHash,
    /// The contact already belongs to an account: the person was told so
    /// instead of being sent a code, and no code will ever match.
    pub existing_account: bool,
    /// Keyed hash of the SMS code or of the e-mail token.
    pub secret_hash: KeyedHash,
    pub secret_expires_at: OffsetDateTime,
    pub attempts: u32,
    pub sent_at: OffsetDateTime,
    pub sends: u32,
    pub confirmed_at: Option<OffsetDateTime>,
    /// Issued to whoever confirmed; the password step needs it.
    pub continuation: Option<ContinuationRecord>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A continuation as storage keeps it: the keyed hash of the token handed
/// to whoever confirmed a flow, and until when it may be used (see
/// [`crate::challenge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinuationRecord {
    pub hash: KeyedHash,
    pub expires_at: OffsetDateTime,
}

#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Inserts the registration and its message to the contact (the code,
    /// the link or the note), in one transaction: the message goes out
    /// through the outbox whatever becomes of the request.
    async fn insert_registration(
        &self,
        r: &RegistrationRecord,
        message: &OutboxRecord,
    ) -> StoreResult<()>;
    async fn registration(&self, id: RegistrationId) -> StoreResult<Option<RegistrationRecord>>;
    async fn registration_by_secret(
        &self,
        secret_hash: &[u8],
    ) -> StoreResult<Option<RegistrationRecord>>;
    /// Takes one attempt at the current code if fewer than `max` were taken;
    /// returns the attempt's number, or `None` when the code is used up.
    /// Atomic: concurrent guesses can never take more than `max`.
    async fn take_code_attempt(&self, id: RegistrationId, max: u32) -> StoreResult<Option<u32>>;
    /// Marks the contact confirmed (first time only) and stores the
    /// continuation of whoever confirmed, replacing an earlier one.
    async fn mark_registration_confirmed(
        &self,
        id: RegistrationId,
        at: OffsetDateTime,
        continuation: &ContinuationRecord,
    ) -> StoreResult<()>;
    /// Replaces the code or token if the last one was sent at `previous_sent_at`
    /// (so two concurrent resends cannot both win); resets the attempts.
    /// Returns false when another resend came first (nothing written);
    /// otherwise `message`, the new code or link, is in the outbox.
    async fn replace_registration_secret(
        &self,
        id: RegistrationId,
        previous_sent_at: OffsetDateTime,
        secret_hash: &[u8],
        secret_expires_at: OffsetDateTime,
        sent_at: OffsetDateTime,
        message: &OutboxRecord,
    ) -> StoreResult<bool>;
    /// Creates the account and removes the confirmed registration in one
    /// transaction, if `continuation_hash` is its live continuation (which
    /// is thereby spent); `NotFound` otherwise.
    async fn complete_registration(
        &self,
        id: RegistrationId,
        continuation_hash: &[u8],
        now: OffsetDateTime,
        account: &AccountRecord,
        audit: &AuditWrite,
    ) -> StoreResult<()>;
    /// Removes a registration whose message could not be delivered when it
    /// was started, with that message, in one transaction: the person is
    /// told so and tries again; nothing is left half done.
    async fn abandon_registration(
        &self,
        id: RegistrationId,
        message: uuid::Uuid,
    ) -> StoreResult<()>;
    async fn delete_expired_registrations(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
