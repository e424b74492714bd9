//! Registered letters with an identity confirmation code.
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uslugi_domain::{AccountId, LetterStatus};

use super::{AuditWrite, KeyedHash, OutboxRecord, Sealed, StoreResult};

/// A letter with an identity confirmation code. Until the post has it, the
/// row is also the job that hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterRecord {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    /// The language of the notice sent when the code confirms the account.
    pub lang: String,
    /// Keyed hash of the code: what an entered code is checked against.
    pub code_hash: KeyedHash,
    /// The code itself, sealed, kept only to print the letter; wiped when
    /// the code is used, voided or expired.
    pub code: Option<Sealed>,
    /// Sealed full name of the addressee.
    pub recipient: Sealed,
    /// Sealed JSON of the address.
    pub address: Sealed,
    pub status: LetterStatus,
    pub tracking_number: Option<String>,
    /// A newer letter replaced this one: its code no longer works.
    pub voided: bool,
    /// Codes entered for this letter so far.
    pub attempts: u32,
    /// Failed hand-overs to the post so far.
    pub dispatch_attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub leased_until: Option<OffsetDateTime>,
    pub sent_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub used_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// How many letters an account may order: at most `count` in `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LetterLimit {
    pub count: u32,
    pub window: Duration,
}

/// What ordering a letter answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterOrder {
    Accepted,
    /// The limits allow the next letter only then; nothing was written.
    TooSoon(OffsetDateTime),
}

#[async_trait]
pub trait LetterStore: Send + Sync {
    /// In one transaction, serialised per account across nodes: checks the
    /// limits, voids the account's earlier unused letters, inserts this one
    /// and appends the audit record.
    async fn order_letter(
        &self,
        letter: &LetterRecord,
        limits: &[LetterLimit],
        audit: &AuditWrite,
    ) -> StoreResult<LetterOrder>;
    /// The account's newest letter that is not voided.
    async fn current_letter(&self, account: AccountId) -> StoreResult<Option<LetterRecord>>;
    /// Leases up to `limit` queued letters due at `now`.
    async fn lease_due_letters(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<LetterRecord>>;
    /// Records the post's tracking number; false when the letter was not
    /// queued any more (a second hand-over changes nothing).
    async fn mark_letter_sent(
        &self,
        id: uuid::Uuid,
        tracking_number: &str,
        sent_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn reschedule_letter(
        &self,
        id: uuid::Uuid,
        dispatch_attempts: u32,
        next_attempt_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Takes one attempt at the letter's code if fewer than `max` were taken;
    /// returns the attempt's number, or `None` when they are used up.
    async fn take_letter_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>>;
    /// In one transaction: marks the letter used (if it was not, and is not
    /// voided) and wipes its code, confirms the account, writes `message` to
    /// the outbox and appends the audit record. False, with nothing written,
    /// when the letter was already used or voided.
    async fn confirm_by_letter(
        &self,
        id: uuid::Uuid,
        at: OffsetDateTime,
        message: Option<&OutboxRecord>,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
    /// Letters handed to the post in `[from, to)`, oldest first: a day's
    /// batch for the mailing center.
    async fn letters_sent_between(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<LetterRecord>>;
    /// Wipes the sealed codes of letters whose code no longer works.
    async fn wipe_dead_letter_codes(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
