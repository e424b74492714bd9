//! The ports the use cases talk to. Storage sees only sealed values and
//! keyed hashes: no plaintext personal data ever crosses this boundary.
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uslugi_domain::{AccountId, AccountLevel, OperatorId, OperatorRole, RegistrationId};

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

impl LoginKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Snils => "snils",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "phone" => Some(Self::Phone),
            "email" => Some(Self::Email),
            "snils" => Some(Self::Snils),
            _ => None,
        }
    }
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
    /// Keyed hash of the verified passport's series and number.
    pub passport_index: Option<KeyedHash>,
    pub password_hash: String,
    /// The password is a temporary one from a service center: it must be
    /// replaced at the first login, and works only until `password_expires_at`.
    pub must_change_password: bool,
    pub password_expires_at: Option<OffsetDateTime>,
    pub failed_logins: u32,
    pub throttled_until: Option<OffsetDateTime>,
    pub locked: bool,
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_via: Option<ConfirmedVia>,
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
    /// Opened with a temporary password: only the new password may be set.
    pub must_change_password: bool,
    /// Keyed hash of the device's id (the browser's device cookie, or the
    /// app's `device_id`).
    pub device_hash: Option<KeyedHash>,
    /// The browser or app, as it called itself (at most 256 characters).
    pub user_agent: Option<String>,
    /// The network the login came from: the address without its last part.
    pub network: Option<String>,
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
    /// transaction, if `continuation_hash` is its live continuation (which
    /// is thereby spent); `NotFound` otherwise.
    async fn complete_registration(
        &self,
        id: RegistrationId,
        continuation_hash: &[u8],
        now: OffsetDateTime,
        account: &AccountRecord,
    ) -> StoreResult<()>;
    async fn delete_registration(&self, id: RegistrationId) -> StoreResult<()>;
    async fn delete_expired_registrations(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

/// What an attempt leaves on the account while it is not known to be right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRestriction {
    pub throttled_until: Option<OffsetDateTime>,
    pub locked: bool,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn account(&self, id: AccountId) -> StoreResult<Option<AccountRecord>>;
    async fn account_by_login(
        &self,
        kind: LoginKind,
        index: &[u8],
    ) -> StoreResult<Option<AccountRecord>>;
    /// Takes one attempt at the account's password or code *before* it is
    /// evaluated: in one conditional statement, only if the account is not
    /// locked, not throttled at `now`, and still has `seen` failures in a
    /// row (so of concurrent attempts that saw the same state, one wins).
    /// The attempt counts as a failure, with the restriction that follows
    /// it (`next`), until it is given back or the failures are cleared.
    async fn take_login_attempt(
        &self,
        id: AccountId,
        seen: u32,
        now: OffsetDateTime,
        next: LoginRestriction,
    ) -> StoreResult<bool>;
    /// Gives back an attempt that turned out right: the count goes back to
    /// `taken - 1` and the throttle to `throttled_until`, if nothing else
    /// was counted meanwhile.
    async fn give_back_login_attempt(
        &self,
        id: AccountId,
        taken: u32,
        throttled_until: Option<OffsetDateTime>,
    ) -> StoreResult<()>;
    /// Clears failed logins, throttling and the lock.
    async fn clear_login_failures(&self, id: AccountId) -> StoreResult<()>;
}

/// What the account knows of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSeen {
    /// This device was used by the account before.
    pub this: bool,
    /// The account has used some device before (none: its first login).
    pub any: bool,
}

impl DeviceSeen {
    /// New to an account that has used others: worth telling the person.
    pub fn is_news(self) -> bool {
        !self.this && self.any
    }
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()>;
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &[u8], at: OffsetDateTime) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    async fn delete_account_sessions(&self, account: AccountId) -> StoreResult<u64>;
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;
    /// The account's sessions, newest first.
    async fn account_sessions(&self, account: AccountId) -> StoreResult<Vec<SessionRecord>>;
    /// Ends one session of the account; false when it has no such session.
    async fn delete_account_session(
        &self,
        account: AccountId,
        token_hash: &[u8],
    ) -> StoreResult<bool>;
    /// Ends every session of the account but `keep`.
    async fn delete_other_sessions(&self, account: AccountId, keep: &[u8]) -> StoreResult<u64>;
    /// Whether the account has logged in from this device before, and
    /// from any device at all. One read, before the login is written.
    async fn device_seen(&self, account: AccountId, device_hash: &[u8]) -> StoreResult<DeviceSeen>;
    /// A login, in one transaction: the session, its device noted, the
    /// notice of a new device (if any) and the audit record.
    async fn open_session(
        &self,
        s: &SessionRecord,
        notice: Option<&OutboxRecord>,
        audit: &AuditWrite,
    ) -> StoreResult<()>;
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
    /// The registration address a passing Interior Ministry answer carried
    /// (sealed JSON of an `Address`), kept until the submission completes.
    pub registration_address: Option<Sealed>,
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
}

/// Where a letter is on the portal's side: waiting for the post, or handed
/// to it (then the post tells where it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterStatus {
    Queued,
    Sent,
}

impl LetterStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "sent" => Some(Self::Sent),
            _ => None,
        }
    }
}

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
}

/// A service-center operator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub id: OperatorId,
    pub center_id: String,
    pub role: OperatorRole,
    /// Sealed full name, given at enrolment.
    pub name: Option<Sealed>,
    /// Chosen at enrolment.
    pub login: Option<String>,
    pub password_hash: Option<String>,
    /// Sealed base32 TOTP key, made with the operator; shown only until the
    /// enrolment is complete.
    pub totp_secret: Sealed,
    /// The last time step whose code was accepted: a code works once.
    pub totp_last_step: Option<i64>,
    pub enrol_token_hash: Option<KeyedHash>,
    pub enrol_expires_at: Option<OffsetDateTime>,
    pub enrolled_at: Option<OffsetDateTime>,
    pub disabled_at: Option<OffsetDateTime>,
    pub failed_logins: u32,
    pub throttled_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSessionRecord {
    pub token_hash: KeyedHash,
    pub operator_id: OperatorId,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What an enrolment writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub name: Sealed,
    pub login: String,
    pub password_hash: String,
    pub totp_step: i64,
    pub at: OffsetDateTime,
}

#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Adds an operator and the audit record, in one transaction.
    /// `NotFound` when the center does not exist.
    async fn insert_operator(&self, op: &OperatorRecord, audit: &AuditWrite) -> StoreResult<()>;
    async fn operator(&self, id: OperatorId) -> StoreResult<Option<OperatorRecord>>;
    async fn operator_by_enrol_token(&self, hash: &[u8]) -> StoreResult<Option<OperatorRecord>>;
    async fn operator_by_login(&self, login: &str) -> StoreResult<Option<OperatorRecord>>;
    async fn operators(&self) -> StoreResult<Vec<OperatorRecord>>;
    /// Completes the enrolment of a not yet enrolled operator: the link dies.
    /// False when it was completed already; `Conflict(Other)` when the login
    /// is taken.
    async fn complete_enrolment(
        &self,
        id: OperatorId,
        enrolment: &Enrolment,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
    /// Takes a TOTP step if it is later than the last one taken: false for a
    /// replayed code (atomic across nodes).
    async fn take_totp_step(&self, id: OperatorId, step: i64) -> StoreResult<bool>;
    /// Takes one login attempt before the password and code are evaluated:
    /// only if the operator is not throttled at `now` and still has `seen`
    /// failures in a row; it counts as a failure (with `throttled_until`)
    /// until the failures are cleared.
    async fn take_operator_attempt(
        &self,
        id: OperatorId,
        seen: u32,
        now: OffsetDateTime,
        throttled_until: Option<OffsetDateTime>,
    ) -> StoreResult<bool>;
    async fn clear_operator_failures(&self, id: OperatorId) -> StoreResult<()>;
    /// Disables the operator and ends their sessions, in one transaction.
    async fn disable_operator(
        &self,
        id: OperatorId,
        at: OffsetDateTime,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
    async fn insert_operator_session(&self, s: &OperatorSessionRecord) -> StoreResult<()>;
    async fn operator_session(
        &self,
        token_hash: &[u8],
    ) -> StoreResult<Option<OperatorSessionRecord>>;
    async fn touch_operator_session(
        &self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn delete_operator_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    async fn delete_expired_operator_sessions(
        &self,
        now: OffsetDateTime,
        idle: Duration,
    ) -> StoreResult<u64>;
}

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

/// How an identity was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmedVia {
    /// In person at a service center (or registered there).
    Center,
    /// The code of a registered letter.
    Letter,
}

impl ConfirmedVia {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Center => "center",
            Self::Letter => "letter",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "center" => Some(Self::Center),
            "letter" => Some(Self::Letter),
            _ => None,
        }
    }
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
    async fn start_recovery(
        &self,
        r: &RecoveryRecord,
        message: Option<&OutboxRecord>,
    ) -> StoreResult<()>;
    async fn recovery(&self, id: uuid::Uuid) -> StoreResult<Option<RecoveryRecord>>;
    async fn recovery_by_secret(&self, secret_hash: &[u8]) -> StoreResult<Option<RecoveryRecord>>;
    /// Takes one attempt if fewer than `max` were taken (atomic).
    async fn take_recovery_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>>;
    /// Gives back an attempt taken by a code that turned out right, so
    /// only mistakes cost a try (never below zero).
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

/// How a citizen's second factor is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorMethod {
    /// A code by SMS to the account's phone.
    Sms,
    /// A code from an authenticator app (TOTP, RFC 6238).
    Totp,
}

impl FactorMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Totp => "totp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(Self::Sms),
            "totp" => Some(Self::Totp),
            _ => None,
        }
    }
}

/// The second factor an account has turned on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorRecord {
    pub account_id: AccountId,
    pub method: FactorMethod,
    /// The app's key, sealed (TOTP only).
    pub totp_secret: Option<Sealed>,
    /// The last time step whose code was accepted: a code works once.
    pub totp_last_step: Option<i64>,
    pub enabled_at: OffsetDateTime,
    /// Backup codes not yet used.
    pub backup_codes_left: u32,
}

/// What a step waiting for the second factor is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorPurpose {
    /// A login whose password was right.
    Login,
    /// Turning the factor on: the first code proves the phone or the app.
    Enrol,
    /// Turning it off, or renewing the backup codes.
    Manage,
}

impl FactorPurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Enrol => "enrol",
            Self::Manage => "manage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "login" => Some(Self::Login),
            "enrol" => Some(Self::Enrol),
            "manage" => Some(Self::Manage),
            _ => None,
        }
    }
}

/// A step waiting for the second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorChallengeRecord {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    pub purpose: FactorPurpose,
    pub method: FactorMethod,
    /// An app being added: its new key, sealed.
    pub totp_secret: Option<Sealed>,
    /// Keyed hash of the SMS code sent, if one was.
    pub code_hash: Option<KeyedHash>,
    pub code_expires_at: Option<OffsetDateTime>,
    pub sent_at: Option<OffsetDateTime>,
    pub attempts: u32,
    /// A login: whether its session is to be remembered, and its device.
    pub remember: bool,
    pub device_hash: Option<KeyedHash>,
    pub user_agent: Option<String>,
    pub network: Option<String>,
    pub lang: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What a correct second factor spends, so that it works once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorProof {
    /// The challenge's SMS code: the challenge itself is used up.
    SmsCode,
    /// An app's code of this time step: taken only if later than the last.
    TotpStep(i64),
    /// One of the backup codes, by its keyed hash: taken only if unused.
    BackupCode(KeyedHash),
}

/// The factor to turn on, with its first backup codes.
#[derive(Debug, Clone)]
pub struct FactorEnrolment {
    pub challenge_id: uuid::Uuid,
    pub factor: SecondFactorRecord,
    pub backup_code_hashes: Vec<KeyedHash>,
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
}

/// A change of the factor that the factor itself must allow: it is
/// turned off, or its backup codes are renewed.
#[derive(Debug, Clone)]
pub struct FactorChange {
    pub account_id: AccountId,
    /// The challenge whose SMS code was typed, if that was the proof.
    pub challenge_id: Option<uuid::Uuid>,
    pub proof: FactorProof,
    /// `None`: turn the factor off. `Some`: these become the backup codes.
    pub new_backup_codes: Option<Vec<KeyedHash>>,
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
    pub at: OffsetDateTime,
}

#[async_trait]
pub trait SecondFactorStore: Send + Sync {
    async fn second_factor(&self, account: AccountId) -> StoreResult<Option<SecondFactorRecord>>;
    /// Writes the challenge (and its SMS, if any) in one transaction; an
    /// earlier challenge of the same account and purpose dies with it.
    async fn insert_factor_challenge(
        &self,
        c: &FactorChallengeRecord,
        message: Option<&OutboxRecord>,
    ) -> StoreResult<()>;
    async fn factor_challenge(&self, id: uuid::Uuid) -> StoreResult<Option<FactorChallengeRecord>>;
    /// The account's live challenge for `purpose`, if any.
    async fn account_factor_challenge(
        &self,
        account: AccountId,
        purpose: FactorPurpose,
    ) -> StoreResult<Option<FactorChallengeRecord>>;
    /// Takes one attempt if fewer than `max` were taken (atomic); the
    /// attempt's number, or `None` when they are used up.
    async fn take_factor_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>>;
    /// A new SMS code for the challenge if the last was sent at
    /// `previous_sent_at` (two resends cannot both win); attempts reset.
    async fn replace_factor_code(
        &self,
        id: uuid::Uuid,
        previous_sent_at: OffsetDateTime,
        code_hash: &[u8],
        code_expires_at: OffsetDateTime,
        sent_at: OffsetDateTime,
        message: &OutboxRecord,
    ) -> StoreResult<bool>;
    /// A login's second step, in one transaction: the challenge used up,
    /// the proof spent, failed logins cleared, the session opened with its
    /// device, the notice and the audit record. False, with nothing
    /// written, when the challenge is gone or the proof was spent already.
    async fn complete_factor_login(
        &self,
        challenge: uuid::Uuid,
        proof: &FactorProof,
        session: &SessionRecord,
        notice: Option<&OutboxRecord>,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
    /// Turns the factor on, in one transaction: the challenge used up, the
    /// factor and its backup codes written, the notices and the audit
    /// record. False, with nothing written, when the challenge is gone or
    /// the account has a factor already.
    async fn enable_second_factor(&self, e: &FactorEnrolment) -> StoreResult<bool>;
    /// Turns the factor off or renews its backup codes, in one transaction
    /// with the proof spent, the notices and the audit record. False, with
    /// nothing written, when the proof was spent already or there is no
    /// factor.
    async fn change_second_factor(&self, c: &FactorChange) -> StoreResult<bool>;
    /// Spends a proof on its own, for a change elsewhere that the factor
    /// must allow (a new phone or e-mail); false when it was spent already.
    async fn spend_factor_proof(
        &self,
        account: AccountId,
        challenge: Option<uuid::Uuid>,
        proof: &FactorProof,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn delete_expired_factor_challenges(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

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
    /// The new value, sealed under `crate::contacts::F_NEW_CONTACT`.
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

/// Everything the use cases need from storage, in one object.
pub trait Store:
    RegistrationStore
    + AccountStore
    + SessionStore
    + RateLimitStore
    + VerificationStore
    + CenterStore
    + LetterStore
    + AuditStore
    + OperatorStore
    + InPersonStore
    + RecoveryStore
    + SecondFactorStore
    + ContactChangeStore
    + DeskPhoneStore
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
        + LetterStore
        + AuditStore
        + OperatorStore
        + InPersonStore
        + RecoveryStore
        + SecondFactorStore
        + ContactChangeStore
        + DeskPhoneStore
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
