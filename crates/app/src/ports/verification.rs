//! Personal data and the registry checks that verify them.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, CheckStatus, VerificationStatus};

use super::{
    Assisted, AuditWrite, KeyedHash, OutboxRecord, Sealed, StoreResult, TemporaryPassword,
};

/// One account's personal data: the draft, the submission under check (or
/// that failed) and the data in force, each sealed JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalDataRecord {
    pub account_id: AccountId,
    pub status: VerificationStatus,
    /// The form's raw entries kept by «Продолжить позже».
    pub draft: Option<Sealed>,
    /// The last submitted data (under check, or failed).
    pub submitted: Option<Sealed>,
    pub submission_id: Option<SubmissionId>,
    pub submitted_at: Option<OffsetDateTime>,
    /// The data that passed the checks; they stay in force while newer data
    /// are checked or after those fail.
    pub verified: Option<Sealed>,
    pub verified_at: Option<OffsetDateTime>,
    pub addresses: Option<Sealed>,
    /// The address of registration the Interior Ministry returned for the
    /// data in force (sealed JSON of an `Address`): the only address a
    /// letter with a code goes to. `None` when its record has none.
    pub registration_address: Option<Sealed>,
    /// The submission was made by an operator at a service center.
    pub assisted: Option<Assisted>,
    pub updated_at: OffsetDateTime,
}

/// One submission of personal data to the registries.
pub type SubmissionId = uuid::Uuid;

/// A check at one registry. The row is also the job that runs it: workers
/// lease due rows, so a crash only delays a check, never loses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    pub id: uuid::Uuid,
    pub submission_id: SubmissionId,
    pub account_id: AccountId,
    pub registry: crate::registries::Registry,
    pub status: CheckStatus,
    /// Why it failed, as a stable code (`snils_not_found`, `data_mismatch`…).
    pub reason: Option<String>,
    /// The sealed JSON of the [`crate::registries::RegistryRequest`].
    pub request: Sealed,
    /// The registry's handle once the request was accepted.
    pub gateway_request_id: Option<String>,
    /// Failed calls to the gateway so far.
    pub attempts: u32,
    pub next_run_at: OffsetDateTime,
    /// After this the check gives up as «не удалось проверить».
    pub deadline_at: OffsetDateTime,
    pub leased_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// The registration address a passing Interior Ministry answer carried
    /// (sealed JSON of an `Address`), kept until the submission completes.
    pub registration_address: Option<Sealed>,
}

/// What the end of a submission writes, all at once.
#[derive(Debug, Clone)]
pub struct Completion {
    pub account_id: AccountId,
    pub submission_id: SubmissionId,
    /// `Verified` or `Failed`.
    pub status: VerificationStatus,
    /// On success: the verified names (sealed) and the SNILS's keyed hash,
    /// which become the account's; the level rises to standard unless it
    /// is higher.
    pub verified: Option<VerifiedIdentity>,
    pub message: Option<OutboxRecord>,
    /// A registration at a service center that passed: the account is
    /// confirmed at once and gets this temporary password.
    pub in_person: Option<TemporaryPassword>,
    pub audit: Option<AuditWrite>,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub surname: Sealed,
    pub given_name: Sealed,
    pub snils_index: KeyedHash,
    pub passport_index: KeyedHash,
    /// The registration address of the Interior Ministry's answer, sealed
    /// for `personal_data`; replaces the one of the data in force.
    pub registration_address: Option<Sealed>,
}

#[async_trait]
pub trait VerificationStore: Send + Sync {
    async fn personal_data(&self, account: AccountId) -> StoreResult<Option<PersonalDataRecord>>;
    /// Keeps the form's entries (creating the row as a draft if needed).
    async fn save_draft(
        &self,
        account: AccountId,
        draft: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn save_addresses(
        &self,
        account: AccountId,
        addresses: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// In one transaction: the submitted data, status `in_progress`, the draft
    /// dropped, and the checks inserted; `assisted` names the operator who
    /// submitted for the citizen (none: the citizen did). `Conflict(Other)`
    /// when a submission is already in progress.
    async fn submit_personal_data(
        &self,
        account: AccountId,
        submission_id: SubmissionId,
        submitted: &[u8],
        checks: &[CheckRecord],
        assisted: Option<&Assisted>,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn checks_of_submission(&self, id: SubmissionId) -> StoreResult<Vec<CheckRecord>>;
    /// Whether any worker has something to do at `now`: a due check, a
    /// finished submission, a due message. One read, so an idle node's
    /// passes cost next to nothing.
    async fn has_due_work(&self, now: OffsetDateTime) -> StoreResult<bool>;
    /// Leases up to `limit` open checks that are due at `now` and not leased,
    /// until `lease_until`; concurrent workers never lease the same check.
    async fn lease_due_checks(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<CheckRecord>>;
    async fn record_gateway_request(
        &self,
        check: uuid::Uuid,
        gateway_request_id: Option<&str>,
    ) -> StoreResult<()>;
    /// Leaves an open check open: new status, attempts and time; lease released.
    async fn reschedule_check(
        &self,
        check: uuid::Uuid,
        status: CheckStatus,
        attempts: u32,
        next_run_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Closes an open check, with the registration address its answer
    /// carried (sealed). Returns false, changing nothing, when it was
    /// already closed: running a job twice has no second effect.
    async fn finish_check(
        &self,
        check: uuid::Uuid,
        status: CheckStatus,
        reason: Option<&str>,
        registration_address: Option<&[u8]>,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Submissions still `in_progress` whose checks have all closed.
    async fn submissions_to_complete(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<(AccountId, SubmissionId)>>;
    /// Applies a completion in one transaction, if the submission is still the
    /// account's and in progress; returns false (nothing written) otherwise.
    /// `Conflict(Snils)` when the SNILS was verified for another account
    /// meanwhile (nothing written).
    async fn complete_submission(&self, c: &Completion) -> StoreResult<bool>;
    /// Leases up to `limit` undelivered messages due at `now`.
    async fn lease_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxRecord>>;
    async fn mark_outbox_delivered(&self, id: uuid::Uuid, at: OffsetDateTime) -> StoreResult<()>;
    /// Empties the sealed body (codes, links, temporary passwords) of every
    /// message delivered before `delivered_before`; how many were emptied.
    /// The row stays, for its idempotency key.
    async fn wipe_delivered_outbox_bodies(
        &self,
        delivered_before: OffsetDateTime,
    ) -> StoreResult<u64>;
    async fn reschedule_outbox(
        &self,
        id: uuid::Uuid,
        attempts: u32,
        next_attempt_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Removes a message not delivered yet: one whose sender tried it at
    /// once, failed, and told the person so.
    async fn abandon_outbox_message(&self, id: uuid::Uuid) -> StoreResult<()>;
}
