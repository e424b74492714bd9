//! The citizen's account (`Accounts`): register, confirm the contact, set
//! a password, log in and out, read one's data, unlock. Recovery, contact
//! changes and the second factor add to the same service in their own
//! modules. (Not "identity": in the glossary that is identity proofing.)
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{
    AccountId, AccountLevel, Channel, Email, LoginKind, NewPassword, PasswordContext,
    PasswordProblem, PersonName, PhoneNumber, Snils,
};

use crate::challenge::{self, Flow, Proved, Refusal, Secret};
use crate::clock::Clock;
use crate::crypto::{Crypto, CryptoError, HashPurpose, SealedField};
use crate::password_hasher::{HashError, PasswordHasher};
use crate::ports::{Messenger, RateDecision, StoreError, StoreResult};
use crate::settings::Policy;

mod administration;
mod deletion;
mod password;
mod registration;
mod sign_in;

pub use administration::*;
pub use deletion::*;
pub use password::*;
pub use registration::*;
pub use sign_in::*;

/// A phone or an e-mail: the contact a simplified account is built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Phone(PhoneNumber),
    Email(Email),
}

impl Contact {
    pub fn channel(&self) -> Channel {
        match self {
            Self::Phone(_) => Channel::Sms,
            Self::Email(_) => Channel::Email,
        }
    }
}

/// Something went wrong that the person cannot fix: storage, the hash pool,
/// a key, or the message transport. The cause goes to the log, not to them.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("stored value is corrupt: {0}")]
    Corrupt(&'static str),
}

/// `From` each cause for an error whose `Internal` variant holds an
/// [`InternalError`]: what the person cannot fix goes there, whichever use
/// case met it.
macro_rules! into_internal {
    ($error:ty: $($cause:ty),+) => {
        $(
            impl From<$cause> for $error {
                fn from(e: $cause) -> Self {
                    Self::Internal(e.into())
                }
            }
        )+
    };
}
pub(crate) use into_internal;

/// The `result` labels of `uslugi_logins_total`, every one of which the
/// metrics listener shows from the start (a rate needs its series).
pub const LOGIN_RESULTS: [&str; 6] = [
    "success",
    "second_factor",
    "refused",
    "temporary_password_expired",
    "disabled",
    "error",
];

#[derive(Debug, Clone)]
pub struct Profile {
    pub account_id: AccountId,
    pub level: AccountLevel,
    pub surname: String,
    pub given_name: String,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    /// When and how the identity was proven (a confirmed account).
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_via: Option<uslugi_domain::ConfirmedVia>,
}

const RATE_WINDOW: Duration = Duration::HOUR;
const BUCKET_CONTACT: &str = "sends-per-contact";
const BUCKET_IP: &str = "sends-per-ip";

/// Counts one message to `contact_index` against the limit per contact that
/// every flow shares (registration, recovery, contact change, the second
/// factor, the desk's code): `Some(retry_at)` when it refuses. One bucket,
/// so no flow adds to what another allows a phone to receive.
pub(crate) async fn contact_quota(
    store: &dyn crate::ports::RateLimitStore,
    contact_index: &[u8],
    now: OffsetDateTime,
    per_hour: u32,
) -> Result<Option<OffsetDateTime>, StoreError> {
    match store
        .hit_rate_limit(BUCKET_CONTACT, contact_index, now, RATE_WINDOW, per_hour)
        .await?
    {
        RateDecision::Refused { retry_at } => Ok(Some(retry_at)),
        RateDecision::Allowed => Ok(None),
    }
}

impl crate::ports::AccountRecord {
    /// A new simplified account of these names, sealed for its row: no
    /// contact yet, nothing proven, no try counted. A registration and a
    /// registration at a desk each add what they have.
    pub(crate) fn simplified(
        crypto: &Crypto,
        id: AccountId,
        surname: &PersonName,
        given_name: &PersonName,
        password_hash: String,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            level: AccountLevel::Simplified,
            surname: crypto.seal(SealedField::Surname, id, surname.as_str()),
            given_name: crypto.seal(SealedField::GivenName, id, given_name.as_str()),
            phone: None,
            phone_index: None,
            email: None,
            email_index: None,
            snils_index: None,
            passport_index: None,
            password_hash,
            must_change_password: false,
            password_expires_at: None,
            failed_logins: 0,
            throttled_until: None,
            locked: false,
            confirmed_at: None,
            confirmed_via: None,
            created_at: now,
        }
    }
}

pub struct Accounts {
    pub(crate) store: Arc<dyn crate::ports::AccountsPorts>,
    messenger: Arc<dyn Messenger>,
    pub(crate) hasher: Arc<PasswordHasher>,
    pub(crate) crypto: Crypto,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: Policy,
    /// Logins, password changes, recovery: linked by the same keys.
    pub(crate) audit: crate::audit::AuditLog,
    /// Places of networks, when the operator gave a file of them.
    pub(crate) places: Arc<crate::places::Places>,
}

impl Accounts {
    pub fn new(deps: &crate::Deps, policy: Policy) -> Self {
        Self {
            store: deps.store.clone(),
            messenger: Arc::clone(&deps.messenger),
            hasher: Arc::clone(&deps.hasher),
            crypto: deps.crypto.clone(),
            clock: Arc::clone(&deps.clock),
            audit: deps.audit.clone(),
            places: Arc::new(crate::places::Places::default()),
            policy,
        }
    }

    /// The places of networks the sessions page and the notices name.
    #[must_use]
    pub fn with_places(mut self, places: crate::places::Places) -> Self {
        self.places = Arc::new(places);
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Counts one message sent to `contact_index` from `ip` against the
    /// limits every message of the system shares (per client address, per
    /// contact); `Some(retry_at)` when one of them refuses it.
    pub(crate) async fn message_quota(
        &self,
        contact_index: &[u8],
        ip: IpAddr,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let now = self.clock.now();
        let ip_key = self.crypto.keyed_hash(
            HashPurpose::ClientIp,
            crate::security::limit_key(ip).as_bytes(),
        );
        if let RateDecision::Refused { retry_at } = self
            .store
            .hit_rate_limit(
                BUCKET_IP,
                &ip_key,
                now,
                RATE_WINDOW,
                self.policy.sends_per_ip_per_hour,
            )
            .await?
        {
            return Ok(Some(retry_at));
        }
        contact_quota(
            &*self.store,
            contact_index,
            now,
            self.policy.sends_per_contact_per_hour,
        )
        .await
    }

    /// Checks `with` against a flow's stored `secret` ([`challenge::verify`])
    /// with the tries every code of a citizen's flow is allowed;
    /// `take_attempt` is the flow's conditional update, given that limit.
    pub(crate) async fn verify_secret<E, F>(
        &self,
        flow: Flow,
        secret: &Secret<'_>,
        with: Confirmation,
        now: OffsetDateTime,
        take_attempt: impl FnOnce(u32) -> F,
    ) -> Result<Proved, E>
    where
        E: From<Refusal> + From<StoreError>,
        F: Future<Output = StoreResult<Option<u32>>>,
    {
        let max = self.policy.code_max_attempts;
        challenge::verify(
            secret,
            with,
            now,
            max,
            |channel, typed| flow.secret_hash(&self.crypto, channel, typed),
            take_attempt(max),
        )
        .await
    }

    /// Whether `password` is the account's, by the hash pool.
    pub(crate) async fn password_matches(
        &self,
        account: &crate::ports::AccountRecord,
        password: &str,
    ) -> Result<bool, InternalError> {
        Ok(self.hasher.verify(password, &account.password_hash).await?)
    }

    /// The ways a login may be read: a phone, an e-mail, a SNILS. Eleven
    /// digits may be both a phone and a SNILS, so both are tried.
    pub(crate) fn login_candidates(&self, login: &str) -> Vec<(LoginKind, Vec<u8>)> {
        let lookups = [
            PhoneNumber::parse(login).ok().map(AccountLookup::Phone),
            Email::parse(login).ok().map(AccountLookup::Email),
            Snils::parse(login).ok().map(AccountLookup::Snils),
        ];
        lookups
            .into_iter()
            .flatten()
            .map(|l| self.login_index(&l))
            .collect()
    }

    /// The blind index an account with this login is found by.
    pub(crate) fn login_index(&self, by: &AccountLookup) -> (LoginKind, Vec<u8>) {
        match by {
            AccountLookup::Phone(p) => (
                LoginKind::Phone,
                self.crypto
                    .keyed_hash(HashPurpose::PhoneIndex, p.e164().as_bytes()),
            ),
            AccountLookup::Email(e) => (
                LoginKind::Email,
                self.crypto
                    .keyed_hash(HashPurpose::EmailIndex, e.canonical().as_bytes()),
            ),
            AccountLookup::Snils(s) => (
                LoginKind::Snils,
                self.crypto
                    .keyed_hash(HashPurpose::SnilsIndex, s.digits().as_bytes()),
            ),
        }
    }

    /// A new password of an existing account, by every rule: the domain's
    /// (its names, phone, e-mail) and its own SNILS, compared with the
    /// account's blind index since the SNILS itself is sealed elsewhere.
    /// `Err((problems, mismatch))` when refused.
    pub(crate) fn new_account_password(
        &self,
        profile: &Profile,
        snils_index: Option<&[u8]>,
        password: &str,
        confirmation: &str,
    ) -> Result<NewPassword, (Vec<PasswordProblem>, bool)> {
        let surname = PersonName::parse(&profile.surname).ok();
        let given_name = PersonName::parse(&profile.given_name).ok();
        let ctx = PasswordContext {
            surname: surname.as_ref(),
            given_name: given_name.as_ref(),
            phone: profile.phone.as_ref(),
            email: profile.email.as_ref(),
        };
        let mismatch = password != confirmation;
        let mut problems = match NewPassword::parse(password, &ctx) {
            Ok(p) if !mismatch && !self.holds_snils(snils_index, password) => return Ok(p),
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        };
        if self.holds_snils(snils_index, password) {
            problems.push(PasswordProblem::ContainsSnils);
        }
        Err((problems, mismatch))
    }

    pub async fn profile(&self, id: AccountId) -> Result<Option<Profile>, InternalError> {
        let Some(a) = self.store.account(id).await? else {
            return Ok(None);
        };
        let phone = match &a.phone {
            Some(sealed) => Some(
                PhoneNumber::from_e164(&self.crypto.open(SealedField::Phone, a.id, sealed)?)
                    .ok_or(InternalError::Corrupt("account phone"))?,
            ),
            None => None,
        };
        let email = match &a.email {
            Some(sealed) => Some(
                Email::parse(&self.crypto.open(SealedField::Email, a.id, sealed)?)
                    .map_err(|_| InternalError::Corrupt("account e-mail"))?,
            ),
            None => None,
        };
        Ok(Some(Profile {
            account_id: a.id,
            level: a.level,
            surname: self.crypto.open(SealedField::Surname, a.id, &a.surname)?,
            given_name: self
                .crypto
                .open(SealedField::GivenName, a.id, &a.given_name)?,
            phone,
            email,
            confirmed_at: a.confirmed_at,
            confirmed_via: a.confirmed_via,
        }))
    }
}
