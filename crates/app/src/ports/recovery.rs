//! Access recovery.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, Channel, LoginKind};

use super::{AuditWrite, ContinuationRecord, KeyedHash, OutboxRecord, StoreResult};

/// A recovery of access in progress. For a login no account has, the row
/// is written all the same (without an account, with a secret nobody
/// knows), so known and unknown logins take the same steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRecord {
    pub id: uuid::Uuid,
    pub account_id: Option<AccountId>,
    /// What the person gave: a SNILS is no second fact when it was the login.
    pub login_kind: LoginKind,
    pub channel: Channel,
    pub lang: String,
    /// Keyed hash of the SMS code or of the e-mail token.
    pub secret_hash: KeyedHash,
    pub secret_expires_at: OffsetDateTime,
    pub attempts: u32,
    pub confirmed_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    /// Issued to whoever confirmed; the password step needs it.
    pub continuation: Option<ContinuationRecord>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When the code or link was last sent, and how many times.
    pub sent_at: OffsetDateTime,
    pub sends: u32,
    /// Blind index of the contact the messages go to (for a login no
    /// account has, of what was typed): a resend spends its quota. `None`
    /// for a recovery made before resends existed, which cannot be resent.
    pub quota_key: Option<KeyedHash>,
}

/// What the end of a recovery writes, all at once.
#[derive(Debug, Clone)]
pub struct RecoveryCompletion {
    pub recovery_id: uuid::Uuid,
    /// The continuation the password came with; spent by the completion.
    pub continuation_hash: KeyedHash,
    pub account_id: AccountId,
    pub password_hash: String,
    /// A notice to every confirmed contact of the account.
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
    pub at: OffsetDateTime,
}

#[async_trait]
pub trait RecoveryStore: Send + Sync {
    /// The recovery and, for a known account, the message with its code or
    /// link, in one transaction.
    async fn start_recovery(&self, r: &RecoveryRecord, message: &OutboxRecord) -> StoreResult<()>;
    async fn recovery(&self, id: uuid::Uuid) -> StoreResult<Option<RecoveryRecord>>;
    async fn recovery_by_secret(&self, secret_hash: &[u8]) -> StoreResult<Option<RecoveryRecord>>;
    /// Takes one attempt if fewer than `max` were taken (atomic).
    async fn take_recovery_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>>;
    /// Gives back an attempt taken by a code that turned out right, so
    /// only mistakes cost a try (never below zero).
    /// Replaces the code or link of a recovery not completed, only if it was last sent at `previous_sent_at` (of two
    /// concurrent resends one wins), with the attempts reset, the sends
    /// counted and `message` written in the same transaction. False, with
    /// nothing written, otherwise.
    async fn replace_recovery_secret(
        &self,
        id: uuid::Uuid,
        previous_sent_at: OffsetDateTime,
        secret_hash: &[u8],
        secret_expires_at: OffsetDateTime,
        message: &OutboxRecord,
    ) -> StoreResult<bool>;
    async fn give_back_recovery_attempt(&self, id: uuid::Uuid) -> StoreResult<()>;
    /// Marks the recovery confirmed (first time only) and stores the
    /// continuation of whoever confirmed, replacing an earlier one.
    async fn mark_recovery_confirmed(
        &self,
        id: uuid::Uuid,
        at: OffsetDateTime,
        continuation: &ContinuationRecord,
    ) -> StoreResult<()>;
    /// In one transaction, if the recovery is confirmed, not completed and
    /// `continuation_hash` is its live continuation (as of `at`): the new
    /// password, failed logins and the lock cleared, a temporary password's
    /// mark removed, every session, every other recovery and every pending
    /// contact change of the account ended, the recovery completed, the
    /// notices and the audit record written. False, with nothing written,
    /// otherwise. The level and the second factor are never touched.
    async fn complete_recovery(&self, c: &RecoveryCompletion) -> StoreResult<bool>;
    /// How many live recoveries (other than `except`) and unconfirmed
    /// contact changes the account has: what a completed recovery ends.
    async fn pending_requests(
        &self,
        account: AccountId,
        except: uuid::Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<usize>;
    async fn delete_expired_recoveries(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
