//! The ports the use cases talk to. Storage sees only sealed values and
//! keyed hashes: no plaintext personal data ever crosses this boundary.
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uslugi_domain::{AccountId, AccountLevel, RegistrationId};

/// A value sealed by [`crate::crypto::Crypto::seal`].
pub type Sealed = Vec<u8>;
/// A keyed hash made by [`crate::crypto::Crypto::keyed_hash`].
pub type KeyedHash = Vec<u8>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(Self::Sms),
            "email" => Some(Self::Email),
            _ => None,
        }
    }
}

/// Which unique login of an account a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    Phone,
    Email,
    Snils,
}

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
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub level: AccountLevel,
    pub surname: Sealed,
    pub given_name: Sealed,
    pub phone: Option<Sealed>,
    pub phone_index: Option<KeyedHash>,
    pub email: Option<Sealed>,
    pub email_index: Option<KeyedHash>,
    pub snils_index: Option<KeyedHash>,
    pub password_hash: String,
    pub failed_logins: u32,
    pub throttled_until: Option<OffsetDateTime>,
    pub locked: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: KeyedHash,
    pub account_id: AccountId,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub idle_timeout: Duration,
    pub remember: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Phone,
    Email,
    Snils,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a record with this {0:?} already exists")]
    Conflict(UniqueField),
    #[error("record not found")]
    NotFound,
    #[error("storage failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a rate limit answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Refused; the earliest moment another try would pass.
    Refused {
        retry_at: OffsetDateTime,
    },
}

#[async_trait]
pub trait RegistrationStore: Send + Sync {
    async fn insert_registration(&self, r: &RegistrationRecord) -> StoreResult<()>;
    async fn registration(&self, id: RegistrationId) -> StoreResult<Option<RegistrationRecord>>;
    async fn registration_by_secret(
        &self,
        secret_hash: &[u8],
    ) -> StoreResult<Option<RegistrationRecord>>;
    /// Takes one attempt at the current code if fewer than `max` were taken;
    /// returns the attempt's number, or `None` when the code is used up.
    /// Atomic: concurrent guesses can never take more than `max`.
    async fn take_code_attempt(&self, id: RegistrationId, max: u32) -> StoreResult<Option<u32>>;
    async fn mark_registration_confirmed(
        &self,
        id: RegistrationId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Replaces the code or token if the last one was sent at `previous_sent_at`
    /// (so two concurrent resends cannot both win); resets the attempts.
    /// Returns false when another resend came first.
    async fn replace_registration_secret(
        &self,
        id: RegistrationId,
        previous_sent_at: OffsetDateTime,
        secret_hash: &[u8],
        secret_expires_at: OffsetDateTime,
        sent_at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Creates the account and removes the confirmed registration in one
    /// transaction; `NotFound` when the registration is gone or unconfirmed.
    async fn complete_registration(
        &self,
        id: RegistrationId,
        account: &AccountRecord,
    ) -> StoreResult<()>;
    async fn delete_registration(&self, id: RegistrationId) -> StoreResult<()>;
    async fn delete_expired_registrations(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn account(&self, id: AccountId) -> StoreResult<Option<AccountRecord>>;
    async fn account_by_login(
        &self,
        kind: LoginKind,
        index: &[u8],
    ) -> StoreResult<Option<AccountRecord>>;
    /// Adds one failed login and returns how many there now are in a row.
    async fn add_failed_login(&self, id: AccountId) -> StoreResult<u32>;
    async fn set_login_restriction(
        &self,
        id: AccountId,
        throttled_until: Option<OffsetDateTime>,
        locked: bool,
    ) -> StoreResult<()>;
    /// Clears failed logins, throttling and the lock.
    async fn clear_login_failures(&self, id: AccountId) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()>;
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &[u8], at: OffsetDateTime) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    async fn delete_account_sessions(&self, account: AccountId) -> StoreResult<u64>;
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Records one event for (`bucket`, `key`) if fewer than `limit` were
    /// recorded in the `window` before `now`. Atomic across nodes.
    async fn hit_rate_limit(
        &self,
        bucket: &str,
        key: &[u8],
        now: OffsetDateTime,
        window: Duration,
        limit: u32,
    ) -> StoreResult<RateDecision>;
    async fn purge_rate_events(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// Where a person's personal data stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationStatus {
    /// Nothing submitted yet (perhaps a draft).
    Draft,
    /// The registries are checking the submitted data.
    InProgress,
    /// The last submission passed both checks.
    Verified,
    /// The last submission failed a check; it may be corrected and resubmitted.
    Failed,
}

impl VerificationStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InProgress => "in_progress",
            Self::Verified => "verified",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "in_progress" => Some(Self::InProgress),
            "verified" => Some(Self::Verified),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

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
    pub updated_at: OffsetDateTime,
}

/// One submission of personal data to the registries.
pub type SubmissionId = uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Pending,
    /// The gateway failed; the check runs again later.
    Retrying,
    Passed,
    Failed,
}

impl CheckStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Retrying => "retrying",
            Self::Passed => "passed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "retrying" => Some(Self::Retrying),
            "passed" => Some(Self::Passed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub const fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Retrying)
    }
}

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
}

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

/// What the end of a submission writes, all at once.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub surname: Sealed,
    pub given_name: Sealed,
    pub snils_index: KeyedHash,
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
    /// dropped, and the checks inserted. `Conflict(Other)` when a submission
    /// is already in progress.
    async fn submit_personal_data(
        &self,
        account: AccountId,
        submission_id: SubmissionId,
        submitted: &[u8],
        checks: &[CheckRecord],
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
    /// Closes an open check. Returns false, changing nothing, when it was
    /// already closed: running a job twice has no second effect.
    async fn finish_check(
        &self,
        check: uuid::Uuid,
        status: CheckStatus,
        reason: Option<&str>,
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
    async fn reschedule_outbox(
        &self,
        id: uuid::Uuid,
        attempts: u32,
        next_attempt_at: OffsetDateTime,
    ) -> StoreResult<()>;
}

/// A service center as stored: its JSON, and the region to search by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenterRecord {
    pub id: String,
    pub region: String,
    pub json: String,
}

#[async_trait]
pub trait CenterStore: Send + Sync {
    /// Adds or replaces these centers, all in one transaction.
    async fn upsert_centers(&self, centers: &[CenterRecord], at: OffsetDateTime)
    -> StoreResult<()>;
    /// Every center, by id.
    async fn all_centers(&self) -> StoreResult<Vec<CenterRecord>>;
}

/// Everything the use cases need from storage, in one object.
pub trait Store:
    RegistrationStore
    + AccountStore
    + SessionStore
    + RateLimitStore
    + VerificationStore
    + CenterStore
    + Send
    + Sync
{
}
impl<
    T: RegistrationStore
        + AccountStore
        + SessionStore
        + RateLimitStore
        + VerificationStore
        + CenterStore
        + Send
        + Sync,
> Store for T
{
}

/// An SMS or e-mail to deliver.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub channel: Channel,
    /// E.164 phone or e-mail address.
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Set for messages from the outbox, which may be handed over more than
    /// once after a crash: transports pass it on (as the letter's Message-ID,
    /// the SMS gateway's `{id}`) so the person receives the message once.
    pub idempotency_key: Option<String>,
}

impl std::fmt::Debug for Message {
    // Bodies carry codes and links, recipients are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("message delivery failed: {reason}")]
pub struct DeliveryError {
    pub reason: String,
}

#[async_trait]
pub trait Messenger: Send + Sync {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError>;
}
