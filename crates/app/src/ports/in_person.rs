//! What an operator does at the desk: registration, identity confirmation, a
//! SNILS moved after a passport check.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, ConfirmedVia, OperatorId};

use super::{
    AccountRecord, AuditWrite, CheckRecord, KeyedHash, OutboxRecord, StoreResult, SubmissionId,
    VerifiedIdentity,
};

/// A registration at a service center: who took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assisted {
    pub operator_id: OperatorId,
    pub center_id: String,
}

/// A temporary password, sent by SMS, to be replaced at the first login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryPassword {
    pub hash: String,
    pub expires_at: OffsetDateTime,
}

/// A SNILS moved by a service-center operator, who checked the passport of
/// the person at the desk, from the account that holds it to theirs.
#[derive(Debug, Clone)]
pub struct SnilsTransfer {
    /// The account that holds the SNILS: back to simplified, its SNILS and
    /// passport index and verified data cleared, confirmation gone.
    pub from: AccountId,
    /// Its SNILS index now: nothing is written if it changed meanwhile.
    pub snils_index: KeyedHash,
    /// The account of the person at the desk, whose `submission_id` passed
    /// both checks and failed only on the SNILS: it becomes standard.
    pub to: AccountId,
    pub submission_id: SubmissionId,
    pub verified: VerifiedIdentity,
    /// To the confirmed contacts of `from`.
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
    pub at: OffsetDateTime,
}

/// What the service centers do to citizens' accounts, each in one
/// transaction with its audit record.
#[async_trait]
pub trait InPersonStore: Send + Sync {
    /// Accounts whose verified passport has this keyed hash.
    async fn accounts_by_passport(&self, index: &[u8]) -> StoreResult<Vec<AccountRecord>>;
    /// Raises a standard account to confirmed; false (nothing written but
    /// the audit record) unless it was standard.
    async fn confirm_identity(
        &self,
        account: AccountId,
        via: ConfirmedVia,
        at: OffsetDateTime,
        message: Option<&OutboxRecord>,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
    /// Gives the account a temporary password: failed logins and the lock
    /// cleared, every session ended, the SMS in the outbox.
    async fn set_temporary_password(
        &self,
        account: AccountId,
        password: &TemporaryPassword,
        at: OffsetDateTime,
        message: &OutboxRecord,
        audit: &AuditWrite,
    ) -> StoreResult<()>;
    /// Moves a SNILS, all of it in one transaction; false (nothing written)
    /// when `from` no longer holds it or `to`'s submission is no longer the
    /// failed one.
    async fn transfer_snils(&self, t: &SnilsTransfer) -> StoreResult<bool>;
    /// The account, its personal data under check and both checks, in one
    /// transaction. `Conflict(Phone)` when the phone has an account.
    async fn register_in_person(
        &self,
        account: &AccountRecord,
        submission_id: SubmissionId,
        submitted: &[u8],
        checks: &[CheckRecord],
        assisted: &Assisted,
        audit: &AuditWrite,
    ) -> StoreResult<()>;
    /// Replaces the password (the temporary one, or after the current one
    /// was given): the must-change mark cleared on the account and on the
    /// session `keep`, every other session ended when `end_others`, the
    /// notices written.
    #[expect(
        clippy::too_many_arguments,
        reason = "one transaction of that many parts"
    )]
    async fn change_password(
        &self,
        account: AccountId,
        password_hash: &str,
        keep: &[u8],
        end_others: bool,
        at: OffsetDateTime,
        notices: &[OutboxRecord],
        audit: &AuditWrite,
    ) -> StoreResult<()>;
}
