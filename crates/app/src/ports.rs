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

/// Everything the use cases need from storage, in one object.
pub trait Store:
    RegistrationStore + AccountStore + SessionStore + RateLimitStore + Send + Sync
{
}
impl<T: RegistrationStore + AccountStore + SessionStore + RateLimitStore + Send + Sync> Store
    for T
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
