//! A phone confirmed at the desk by a code the operator reads back.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::OperatorId;

use super::{KeyedHash, OutboxRecord, Sealed, StoreResult};

/// A phone typed at a registration at a service center, until the citizen
/// reads out the code sent to it: no account exists before it is confirmed,
/// and the registration that follows uses this phone, not a typed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskPhoneRecord {
    pub id: uuid::Uuid,
    /// Only this operator continues it.
    pub operator_id: OperatorId,
    pub phone: Sealed,
    pub phone_index: KeyedHash,
    pub code_hash: KeyedHash,
    pub code_expires_at: OffsetDateTime,
    /// Tries at the current code, taken before each is compared.
    pub attempts: u32,
    pub sent_at: OffsetDateTime,
    pub confirmed_at: Option<OffsetDateTime>,
    /// When the registration it allowed created the account.
    pub used_at: Option<OffsetDateTime>,
    /// The whole of it, confirmed or not.
    pub expires_at: OffsetDateTime,
}

#[async_trait]
pub trait DeskPhoneStore: Send + Sync {
    /// The record and the SMS with its code, in one transaction.
    async fn start_desk_phone(&self, r: &DeskPhoneRecord, code: &OutboxRecord) -> StoreResult<()>;
    async fn desk_phone(&self, id: uuid::Uuid) -> StoreResult<Option<DeskPhoneRecord>>;
    /// Takes a try at the current code in one conditional statement — not
    /// confirmed, the code alive, fewer than `max` taken — and returns the
    /// count and the hash of the code the try is for (a resend may have
    /// replaced the one read before); `None` (nothing taken) otherwise.
    async fn take_desk_code_attempt(
        &self,
        id: uuid::Uuid,
        max: u32,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(u32, KeyedHash)>>;
    /// False when it was confirmed already.
    async fn confirm_desk_phone(&self, id: uuid::Uuid, at: OffsetDateTime) -> StoreResult<bool>;
    /// A new code (tries start again) and its SMS, in one transaction, if
    /// the last one is still the one sent at `previous_sent_at` and the
    /// phone is not confirmed; false (nothing written) otherwise.
    async fn replace_desk_code(
        &self,
        id: uuid::Uuid,
        previous_sent_at: OffsetDateTime,
        code_hash: &[u8],
        code_expires_at: OffsetDateTime,
        code: &OutboxRecord,
    ) -> StoreResult<bool>;
    /// Marks a confirmed, unused phone used; false otherwise.
    async fn use_desk_phone(&self, id: uuid::Uuid, at: OffsetDateTime) -> StoreResult<bool>;
    async fn delete_expired_desk_phones(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
