//! Use cases of the simplified account: register, confirm the contact, set a
//! password, log in and out, read one's data, unlock.
use std::net::IpAddr;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{
    AccountId, AccountLevel, Channel, Email, LoginKind, NewPassword, PasswordContext,
    PasswordProblem, PersonName, PhoneNumber, RegistrationId, Snils,
};

use crate::challenge::{self, Continuation, Miss};
use crate::clock::Clock;
use crate::crypto::{self, Crypto, CryptoError, HashPurpose, SealedField};
use crate::lang::Lang;
use crate::messages;
use crate::password_hasher::{HashError, PasswordHasher};
use crate::ports::{
    AccountRecord, ContinuationRecord, Message, Messenger, RateDecision, RegistrationRecord,
    SessionRecord, Store, StoreError, UniqueField,
};
use crate::settings::Policy;

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

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("too many requests; try again later")]
    RateLimited { retry_at: OffsetDateTime },
    #[error("registration not found or expired")]
    NotFound,
    #[error("the code is not six digits")]
    MalformedCode,
    #[error("wrong code")]
    WrongCode { attempts_left: u32 },
    #[error("the code has expired")]
    CodeExpired,
    #[error("the code was entered wrongly too many times")]
    AttemptsExhausted,
    #[error("the link is invalid or has been used")]
    LinkInvalid,
    #[error("the link has expired")]
    LinkExpired,
    #[error("confirm the contact first")]
    NotConfirmed,
    /// The password step came without the continuation that the
    /// confirmation handed to whoever proved control of the contact.
    #[error("the continuation token is missing, wrong, used or expired")]
    ContinuationRequired,
    #[error("the password does not meet the rules")]
    Password {
        problems: Vec<PasswordProblem>,
        mismatch: bool,
    },
    #[error("an account with this contact already exists")]
    AccountExists,
    #[error("the message could not be sent")]
    Undeliverable(#[source] crate::ports::DeliveryError),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<StoreError> for RegistrationError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}
impl From<CryptoError> for RegistrationError {
    fn from(e: CryptoError) -> Self {
        Self::Internal(e.into())
    }
}
impl From<HashError> for RegistrationError {
    fn from(e: HashError) -> Self {
        Self::Internal(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown login, wrong password, throttled or locked: one answer for all.
    #[error("wrong login or password")]
    BadCredentials,
    /// The right temporary password, after its 24 hours: said only to
    /// someone who typed it, so it tells a stranger nothing.
    #[error("the temporary password has expired")]
    TemporaryPasswordExpired,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is wrong")]
    WrongCurrent,
    /// Too many wrong passwords in a row (here or at the login): wait.
    #[error("too many wrong passwords; try again later")]
    Throttled,
    #[error("the new password does not meet the rules")]
    Password {
        problems: Vec<PasswordProblem>,
        mismatch: bool,
    },
    /// The new password is the one being replaced.
    #[error("the new password is the same as the old one")]
    Unchanged,
    #[error("the session has ended")]
    NoSession,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<StoreError> for PasswordChangeError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

pub struct StartRegistration {
    pub surname: PersonName,
    pub given_name: PersonName,
    pub contact: Contact,
    pub lang: Lang,
    pub client_ip: IpAddr,
}

#[derive(Debug, Clone)]
pub struct RegistrationStarted {
    pub id: RegistrationId,
    pub channel: Channel,
    /// Until when the code (SMS) or link (e-mail) is valid.
    pub secret_expires_at: OffsetDateTime,
    /// When a new code may be asked for.
    pub resend_at: OffsetDateTime,
}

/// What the confirmation and password pages show of a registration.
#[derive(Debug, Clone)]
pub struct RegistrationView {
    pub id: RegistrationId,
    pub channel: Channel,
    pub surname: PersonName,
    pub given_name: PersonName,
    pub contact: Contact,
    pub secret_expires_at: OffsetDateTime,
    pub resend_at: OffsetDateTime,
    pub confirmed: bool,
    pub attempts_left: u32,
}

#[derive(Debug, Clone)]
pub enum Confirmation {
    Code(String),
    Token(String),
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub account_id: AccountId,
    pub expires_at: OffsetDateTime,
    pub remember: bool,
    /// Logged in with a temporary password: the person must set their own
    /// before anything else.
    pub must_change_password: bool,
}

#[derive(Debug, Clone)]
pub struct AuthSession {
    pub account_id: AccountId,
    pub expires_at: OffsetDateTime,
    pub must_change_password: bool,
}

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
    store: &dyn Store,
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

pub struct Identity {
    pub(crate) store: Arc<dyn Store>,
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

impl Identity {
    pub fn new(
        store: Arc<dyn Store>,
        messenger: Arc<dyn Messenger>,
        hasher: Arc<PasswordHasher>,
        crypto: Crypto,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Self {
        Self {
            audit: crate::audit::AuditLog::new(Arc::new(crypto.clone())),
            places: Arc::new(crate::places::Places::default()),
            store,
            messenger,
            hasher,
            crypto,
            clock,
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

    fn contact_index(&self, contact: &Contact) -> Vec<u8> {
        match contact {
            Contact::Phone(p) => self
                .crypto
                .keyed_hash(HashPurpose::PhoneIndex, p.e164().as_bytes()),
            Contact::Email(e) => self
                .crypto
                .keyed_hash(HashPurpose::EmailIndex, e.canonical().as_bytes()),
        }
    }

    fn secret_hash(&self, channel: Channel, secret: &str) -> Vec<u8> {
        let purpose = match channel {
            Channel::Sms => HashPurpose::ConfirmationCode,
            Channel::Email => HashPurpose::EmailToken,
        };
        self.crypto.keyed_hash(purpose, secret.as_bytes())
    }

    fn secret_ttl(&self, channel: Channel) -> Duration {
        match channel {
            Channel::Sms => self.policy.sms_code_ttl,
            Channel::Email => self.policy.email_link_ttl,
        }
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

    async fn spend_send_quota(
        &self,
        contact_index: &[u8],
        ip: IpAddr,
    ) -> Result<(), RegistrationError> {
        match self.message_quota(contact_index, ip).await? {
            Some(retry_at) => Err(RegistrationError::RateLimited { retry_at }),
            None => Ok(()),
        }
    }

    /// Builds the message for a (re)send: a code or a link for a new contact;
    /// for a contact that already has an account, a note saying so instead.
    fn confirmation_message(
        &self,
        lang: Lang,
        contact: &Contact,
        given_name: &PersonName,
        existing_account: bool,
        secret: &str,
        expires_at: OffsetDateTime,
    ) -> Message {
        let base = &self.policy.base_url;
        match contact {
            Contact::Phone(phone) => Message {
                channel: Channel::Sms,
                to: phone.e164().to_owned(),
                subject: String::new(),
                body: if existing_account {
                    messages::already_registered_sms(lang, base)
                } else {
                    messages::registration_code_sms(lang, secret)
                },
                idempotency_key: None,
            },
            Contact::Email(email) => {
                let letter = if existing_account {
                    messages::already_registered_letter(lang, base)
                } else {
                    let link = format!("{base}/register/confirm-email?token={secret}");
                    let until =
                        messages::format_local(expires_at, self.policy.display_offset, lang);
                    messages::registration_link_letter(lang, given_name.as_str(), &link, &until)
                };
                Message {
                    channel: Channel::Email,
                    to: email.as_str().to_owned(),
                    subject: letter.subject,
                    body: letter.body,
                    idempotency_key: None,
                }
            }
        }
    }

    fn new_secret(channel: Channel) -> String {
        match channel {
            Channel::Sms => crypto::random_six_digit_code(),
            Channel::Email => crypto::random_token(),
        }
    }

    /// Starts a registration and sends the code or link. A contact that
    /// already has an account goes through the very same steps (so neither the
    /// answer nor its timing tells it apart) but is sent a note instead.
    pub async fn start_registration(
        &self,
        input: StartRegistration,
    ) -> Result<RegistrationStarted, RegistrationError> {
        let now = self.clock.now();
        let channel = input.contact.channel();
        let contact_index = self.contact_index(&input.contact);
        self.spend_send_quota(&contact_index, input.client_ip)
            .await?;

        let kind = match channel {
            Channel::Sms => LoginKind::Phone,
            Channel::Email => LoginKind::Email,
        };
        let existing_account = self
            .store
            .account_by_login(kind, &contact_index)
            .await?
            .is_some();
        let secret = Self::new_secret(channel);
        let secret_expires_at = now + self.secret_ttl(channel);
        let contact_plain = match &input.contact {
            Contact::Phone(p) => p.e164().to_owned(),
            Contact::Email(e) => e.as_str().to_owned(),
        };
        let id = RegistrationId::random();
        let record = RegistrationRecord {
            id,
            channel,
            lang: input.lang.code().to_owned(),
            surname: self
                .crypto
                .seal(SealedField::Surname, id, input.surname.as_str()),
            given_name: self
                .crypto
                .seal(SealedField::GivenName, id, input.given_name.as_str()),
            contact: self.crypto.seal(SealedField::Contact, id, &contact_plain),
            contact_index,
            existing_account,
            secret_hash: self.secret_hash(channel, &secret),
            secret_expires_at,
            attempts: 0,
            sent_at: now,
            sends: 1,
            confirmed_at: None,
            continuation: None,
            created_at: now,
            expires_at: now + self.policy.registration_ttl.max(self.secret_ttl(channel)),
        };
        self.store.insert_registration(&record).await?;
        let message = self.confirmation_message(
            input.lang,
            &input.contact,
            &input.given_name,
            existing_account,
            &secret,
            secret_expires_at,
        );
        if let Err(e) = self.messenger.deliver(&message).await {
            // Nothing half-done: without the message the registration is useless.
            self.store.delete_registration(record.id).await?;
            return Err(RegistrationError::Undeliverable(e));
        }
        Ok(RegistrationStarted {
            id: record.id,
            channel,
            secret_expires_at,
            resend_at: now + self.policy.resend_interval,
        })
    }

    async fn live_registration(
        &self,
        id: RegistrationId,
    ) -> Result<RegistrationRecord, RegistrationError> {
        let now = self.clock.now();
        match self.store.registration(id).await? {
            Some(r) if r.expires_at > now => Ok(r),
            _ => Err(RegistrationError::NotFound),
        }
    }

    fn open_contact(&self, r: &RegistrationRecord) -> Result<Contact, InternalError> {
        let plain = self.crypto.open(SealedField::Contact, r.id, &r.contact)?;
        match r.channel {
            Channel::Sms => PhoneNumber::from_e164(&plain)
                .map(Contact::Phone)
                .ok_or(InternalError::Corrupt("registration phone")),
            Channel::Email => Email::parse(&plain)
                .map(Contact::Email)
                .map_err(|_| InternalError::Corrupt("registration e-mail")),
        }
    }

    fn open_name(
        &self,
        field: SealedField,
        registration: RegistrationId,
        sealed: &[u8],
    ) -> Result<PersonName, InternalError> {
        let plain = self.crypto.open(field, registration, sealed)?;
        PersonName::parse(&plain).map_err(|_| InternalError::Corrupt("stored name"))
    }

    pub async fn registration(
        &self,
        id: RegistrationId,
    ) -> Result<RegistrationView, RegistrationError> {
        let r = self.live_registration(id).await?;
        Ok(RegistrationView {
            id: r.id,
            channel: r.channel,
            surname: self.open_name(SealedField::Surname, r.id, &r.surname)?,
            given_name: self.open_name(SealedField::GivenName, r.id, &r.given_name)?,
            contact: self.open_contact(&r)?,
            secret_expires_at: r.secret_expires_at,
            resend_at: r.sent_at + self.policy.resend_interval,
            confirmed: r.confirmed_at.is_some(),
            attempts_left: self.policy.code_max_attempts.saturating_sub(r.attempts),
        })
    }

    /// Sends a new code (or link), which voids the previous one.
    pub async fn resend(
        &self,
        id: RegistrationId,
        client_ip: IpAddr,
    ) -> Result<RegistrationStarted, RegistrationError> {
        let now = self.clock.now();
        let r = self.live_registration(id).await?;
        if r.confirmed_at.is_some() {
            return Err(RegistrationError::NotFound);
        }
        let resend_at = r.sent_at + self.policy.resend_interval;
        if now < resend_at {
            return Err(RegistrationError::RateLimited {
                retry_at: resend_at,
            });
        }
        self.spend_send_quota(&r.contact_index, client_ip).await?;
        let secret = Self::new_secret(r.channel);
        let secret_expires_at = now + self.secret_ttl(r.channel);
        let replaced = self
            .store
            .replace_registration_secret(
                id,
                r.sent_at,
                &self.secret_hash(r.channel, &secret),
                secret_expires_at,
                now,
            )
            .await?;
        if !replaced {
            // A concurrent resend won; its message is on the way.
            return Err(RegistrationError::RateLimited {
                retry_at: now + self.policy.resend_interval,
            });
        }
        let contact = self.open_contact(&r)?;
        let given_name = self.open_name(SealedField::GivenName, r.id, &r.given_name)?;
        let lang = Lang::parse(&r.lang).unwrap_or_default();
        let message = self.confirmation_message(
            lang,
            &contact,
            &given_name,
            r.existing_account,
            &secret,
            secret_expires_at,
        );
        self.messenger
            .deliver(&message)
            .await
            .map_err(RegistrationError::Undeliverable)?;
        Ok(RegistrationStarted {
            id,
            channel: r.channel,
            secret_expires_at,
            resend_at: now + self.policy.resend_interval,
        })
    }

    /// Confirms the contact of registration `id` with the SMS code or the
    /// e-mail token, and hands whoever did so the continuation that the
    /// password step needs. Confirming again with the right secret issues a
    /// new continuation (the earlier one is void): only a holder of the
    /// secret can, and a double press must not strand the person.
    pub async fn confirm(
        &self,
        id: RegistrationId,
        with: Confirmation,
    ) -> Result<Continuation, RegistrationError> {
        let now = self.clock.now();
        let r = self.live_registration(id).await?;
        match (r.channel, with) {
            (Channel::Sms, Confirmation::Code(code)) => {
                let code = challenge::read_code(&code).ok_or(RegistrationError::MalformedCode)?;
                if now > r.secret_expires_at {
                    return Err(RegistrationError::CodeExpired);
                }
                let max = self.policy.code_max_attempts;
                // The attempt is taken before the code is compared, so that
                // concurrent guesses can never exceed the limit.
                let Some(attempt) = self.store.take_code_attempt(id, max).await? else {
                    return Err(RegistrationError::AttemptsExhausted);
                };
                let matches = crypto::constant_time_eq(
                    &self.secret_hash(Channel::Sms, &code),
                    &r.secret_hash,
                );
                if !matches || r.existing_account {
                    return Err(match challenge::miss(attempt, max) {
                        Miss::Exhausted => RegistrationError::AttemptsExhausted,
                        Miss::Wrong { attempts_left } => {
                            RegistrationError::WrongCode { attempts_left }
                        }
                    });
                }
            }
            (Channel::Email, Confirmation::Token(token)) => {
                let matches = crypto::constant_time_eq(
                    &self.secret_hash(Channel::Email, token.trim()),
                    &r.secret_hash,
                );
                if !matches || r.existing_account {
                    return Err(RegistrationError::LinkInvalid);
                }
                if now > r.secret_expires_at {
                    return Err(RegistrationError::LinkExpired);
                }
            }
            (Channel::Sms, Confirmation::Token(_)) => return Err(RegistrationError::MalformedCode),
            (Channel::Email, Confirmation::Code(_)) => return Err(RegistrationError::LinkInvalid),
        }
        let continuation = Continuation::issue(&self.crypto, now);
        self.store
            .mark_registration_confirmed(
                id,
                now,
                &ContinuationRecord {
                    hash: continuation.hash.clone(),
                    expires_at: continuation.expires_at,
                },
            )
            .await?;
        Ok(continuation)
    }

    /// The registration an e-mail link stands for, to show what the button
    /// on the link's page confirms. Reading it confirms nothing: a mail
    /// scanner that opens the link must not confirm anything.
    pub async fn registration_by_link(
        &self,
        token: &str,
    ) -> Result<RegistrationView, RegistrationError> {
        let hash = self.secret_hash(Channel::Email, token.trim());
        let Some(r) = self.store.registration_by_secret(&hash).await? else {
            return Err(RegistrationError::LinkInvalid);
        };
        if r.channel != Channel::Email || r.existing_account || r.expires_at <= self.clock.now() {
            return Err(RegistrationError::LinkInvalid);
        }
        if self.clock.now() > r.secret_expires_at {
            return Err(RegistrationError::LinkExpired);
        }
        self.registration(r.id).await
    }

    /// Sets the password of a confirmed registration, which creates the
    /// account and ends the registration in one transaction.
    pub async fn set_password(
        &self,
        id: RegistrationId,
        continuation: Option<&str>,
        password: &str,
        confirmation: &str,
    ) -> Result<AccountId, RegistrationError> {
        let now = self.clock.now();
        let r = self.live_registration(id).await?;
        if r.confirmed_at.is_none() {
            return Err(RegistrationError::NotConfirmed);
        }
        let stored = r
            .continuation
            .as_ref()
            .map(|c| (c.hash.as_slice(), c.expires_at));
        if !challenge::continuation_holds(&self.crypto, stored, continuation, now) {
            return Err(RegistrationError::ContinuationRequired);
        }
        let continuation_hash =
            challenge::continuation_hash(&self.crypto, continuation.unwrap_or_default());
        let surname = self.open_name(SealedField::Surname, r.id, &r.surname)?;
        let given_name = self.open_name(SealedField::GivenName, r.id, &r.given_name)?;
        let contact = self.open_contact(&r)?;
        let ctx = PasswordContext {
            surname: Some(&surname),
            given_name: Some(&given_name),
            phone: match &contact {
                Contact::Phone(p) => Some(p),
                Contact::Email(_) => None,
            },
            email: match &contact {
                Contact::Email(e) => Some(e),
                Contact::Phone(_) => None,
            },
        };
        let mismatch = password != confirmation;
        let password = match NewPassword::parse(password, &ctx) {
            Ok(p) if !mismatch => p,
            Ok(_) => {
                return Err(RegistrationError::Password {
                    problems: Vec::new(),
                    mismatch,
                });
            }
            Err(problems) => return Err(RegistrationError::Password { problems, mismatch }),
        };
        let password_hash = self.hasher.hash(password.expose()).await?;
        // Sealed again for the account's row: a value belongs to one row.
        let account_id = AccountId::random();
        let (phone, phone_index, email, email_index) = match contact {
            Contact::Phone(p) => (
                Some(self.crypto.seal(SealedField::Phone, account_id, p.e164())),
                Some(r.contact_index.clone()),
                None,
                None,
            ),
            Contact::Email(e) => (
                None,
                None,
                Some(self.crypto.seal(SealedField::Email, account_id, e.as_str())),
                Some(r.contact_index.clone()),
            ),
        };
        let account = AccountRecord {
            id: account_id,
            level: AccountLevel::Simplified,
            surname: self
                .crypto
                .seal(SealedField::Surname, account_id, surname.as_str()),
            given_name: self
                .crypto
                .seal(SealedField::GivenName, account_id, given_name.as_str()),
            phone,
            phone_index,
            email,
            email_index,
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
        };
        match self
            .store
            .complete_registration(id, &continuation_hash, now, &account)
            .await
        {
            Ok(()) => Ok(account.id),
            Err(StoreError::Conflict(UniqueField::Phone | UniqueField::Email)) => {
                Err(RegistrationError::AccountExists)
            }
            // Gone, or its continuation spent by a concurrent press.
            Err(StoreError::NotFound) => Err(RegistrationError::ContinuationRequired),
            Err(e) => Err(e.into()),
        }
    }

    /// The ways a login may be read: a phone, an e-mail, a SNILS. Eleven
    /// digits may be both a phone and a SNILS, so both are tried.
    pub(crate) fn login_candidates(&self, login: &str) -> Vec<(LoginKind, Vec<u8>)> {
        let mut out = Vec::new();
        if let Ok(p) = PhoneNumber::parse(login) {
            out.push((
                LoginKind::Phone,
                self.crypto
                    .keyed_hash(HashPurpose::PhoneIndex, p.e164().as_bytes()),
            ));
        }
        if let Ok(e) = Email::parse(login) {
            out.push((
                LoginKind::Email,
                self.crypto
                    .keyed_hash(HashPurpose::EmailIndex, e.canonical().as_bytes()),
            ));
        }
        if let Ok(s) = Snils::parse(login) {
            out.push((
                LoginKind::Snils,
                self.crypto
                    .keyed_hash(HashPurpose::SnilsIndex, s.digits().as_bytes()),
            ));
        }
        out
    }

    async fn find_login(&self, login: &str) -> Result<Option<AccountRecord>, StoreError> {
        for (kind, index) in self.login_candidates(login) {
            if let Some(account) = self.store.account_by_login(kind, &index).await? {
                return Ok(Some(account));
            }
        }
        Ok(None)
    }

    /// Logs in with a phone, e-mail or SNILS and a password. Unknown logins,
    /// wrong passwords, throttled and locked accounts all get the same answer
    /// after the same work: a password hash, one counted write, one audit
    /// record.
    pub async fn log_in(
        &self,
        login: &str,
        password: &str,
        remember: bool,
        client: &crate::security::ClientInfo,
    ) -> Result<crate::second_factor::LoginOutcome, LoginError> {
        use crate::second_factor::LoginOutcome;
        let now = self.clock.now();
        let Some(account) = self.find_login(login).await? else {
            self.refuse_unknown_login(login, client, now).await?;
            self.hasher.verify_dummy(password).await;
            return Err(LoginError::BadCredentials);
        };
        // The attempt is counted before the password is compared: 200
        // concurrent guesses cannot all be evaluated, and a throttled or
        // locked account opens no session even with the right password.
        let attempt = match self.take_attempt(&account).await? {
            Ok(attempt) => attempt,
            Err(_) => {
                self.hasher.verify_dummy(password).await;
                self.audit_login(account.id, "refused_throttled", client, now)
                    .await?;
                return Err(LoginError::BadCredentials);
            }
        };
        let ok = self
            .hasher
            .verify(password, &account.password_hash)
            .await
            .map_err(InternalError::from)?;
        if !ok {
            self.audit_login(account.id, "wrong_password", client, now)
                .await?;
            return Err(LoginError::BadCredentials);
        }
        if account.must_change_password && account.password_expires_at.is_some_and(|at| now >= at) {
            self.give_back(attempt).await?;
            return Err(LoginError::TemporaryPasswordExpired);
        }
        // With a second factor the password alone proves too little to
        // forgive the wrong tries before it: they are cleared with the code.
        if let Some(factor) = self.store.second_factor(account.id).await? {
            self.give_back(attempt).await?;
            let step = self
                .start_factor_login(&account, &factor, remember, client)
                .await?;
            return Ok(LoginOutcome::SecondFactor(step));
        }
        let token = crypto::random_token();
        let (idle, lifetime) = if remember {
            (
                self.policy.session_remember_idle,
                self.policy.session_remember,
            )
        } else {
            (self.policy.session_idle, self.policy.session_absolute)
        };
        let session = SessionRecord {
            token_hash: self
                .crypto
                .keyed_hash(HashPurpose::SessionToken, token.as_bytes()),
            account_id: account.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
            idle_timeout: idle,
            remember,
            must_change_password: account.must_change_password,
            device_hash: Some(client.device_hash(&self.crypto)),
            user_agent: client.user_agent.clone(),
            network: Some(crate::security::network_of(client.ip)),
        };
        self.open_session(&account, &session, client, now).await?;
        Ok(LoginOutcome::Session(NewSession {
            token,
            account_id: account.id,
            expires_at: session.expires_at,
            remember,
            must_change_password: account.must_change_password,
        }))
    }

    /// Finds the live session a token stands for, and notes the activity.
    pub async fn authenticate(&self, token: &str) -> Result<Option<AuthSession>, InternalError> {
        let now = self.clock.now();
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        let Some(s) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        if now >= s.expires_at || now >= s.last_seen_at + s.idle_timeout {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        // Writing on every request would make reads pay for writes; a minute
        // of slack in the idle timeout costs nothing.
        if now - s.last_seen_at >= Duration::MINUTE {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Some(AuthSession {
            account_id: s.account_id,
            expires_at: s.expires_at.min(now + s.idle_timeout),
            must_change_password: s.must_change_password,
        }))
    }

    /// Sets a new password. With a temporary password (just typed to log
    /// in) the current one is not asked again and every other session
    /// ends; otherwise the current password is checked, and other sessions
    /// end when the person asks.
    pub async fn change_password(
        &self,
        token: &str,
        current: Option<&str>,
        new: &str,
        confirmation: &str,
        end_others: bool,
        lang: Lang,
    ) -> Result<(), PasswordChangeError> {
        let now = self.clock.now();
        let Some(session) = self.authenticate(token).await? else {
            return Err(PasswordChangeError::NoSession);
        };
        let Some(account) = self.store.account(session.account_id).await? else {
            return Err(PasswordChangeError::NoSession);
        };
        if !session.must_change_password {
            let Some(current) = current else {
                return Err(PasswordChangeError::WrongCurrent);
            };
            // Each try of the current password is taken and counted as at
            // the login: a stolen session is no unthrottled oracle.
            let attempt = match self.take_attempt(&account).await? {
                Ok(attempt) => attempt,
                Err(_) => return Err(PasswordChangeError::Throttled),
            };
            let ok = self
                .hasher
                .verify(current, &account.password_hash)
                .await
                .map_err(InternalError::from)?;
            if !ok {
                return Err(PasswordChangeError::WrongCurrent);
            }
            self.give_back(attempt).await?;
        }
        let profile = self
            .profile(account.id)
            .await?
            .ok_or(PasswordChangeError::NoSession)?;
        let password = self
            .new_account_password(&profile, account.snils_index.as_deref(), new, confirmation)
            .map_err(|(problems, mismatch)| PasswordChangeError::Password { problems, mismatch })?;
        if self
            .hasher
            .verify(password.expose(), &account.password_hash)
            .await
            .map_err(InternalError::from)?
        {
            return Err(PasswordChangeError::Unchanged);
        }
        let hash = self
            .hasher
            .hash(password.expose())
            .await
            .map_err(InternalError::from)?;
        let keep = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        let temporary = session.must_change_password;
        let audit = self
            .audit
            .record(
                crate::audit::Actor::Citizen(account.id),
                crate::audit::action::PASSWORD_CHANGED,
                if temporary {
                    "temporary_replaced"
                } else {
                    "changed"
                },
                now,
            )
            .write();
        // The first own password after a temporary one is no news to anyone.
        let notices = if temporary {
            Vec::new()
        } else {
            self.password_changed_notices(&account, lang, now)?
        };
        self.store
            .change_password(
                account.id,
                &hash,
                &keep,
                end_others || temporary,
                now,
                &notices,
                &audit,
            )
            .await?;
        Ok(())
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

    fn holds_snils(&self, snils_index: Option<&[u8]>, password: &str) -> bool {
        snils_index.is_some_and(|known| {
            uslugi_domain::eleven_digit_runs(password)
                .iter()
                .any(|run| {
                    crypto::constant_time_eq(
                        known,
                        &self
                            .crypto
                            .keyed_hash(HashPurpose::SnilsIndex, run.as_bytes()),
                    )
                })
        })
    }

    pub async fn log_out(&self, token: &str) -> Result<(), InternalError> {
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        Ok(self.store.delete_session(&hash).await?)
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

    /// Lifts throttling and the lock of the account with this login; returns
    /// whether such an account exists. For administrators.
    pub async fn unlock(&self, login: &str) -> Result<bool, InternalError> {
        match self.find_login(login).await? {
            Some(a) => {
                self.store.clear_login_failures(a.id).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes what has expired: registrations, sessions, recoveries, contact
    /// changes, old rate events.
    pub async fn sweep(&self) -> Result<(), InternalError> {
        let now = self.clock.now();
        self.store.delete_expired_registrations(now).await?;
        self.store.delete_expired_sessions(now).await?;
        self.store.delete_expired_recoveries(now).await?;
        self.store.delete_expired_factor_challenges(now).await?;
        self.store.delete_expired_contact_changes(now).await?;
        self.store.purge_rate_events(now - RATE_WINDOW * 2).await?;
        Ok(())
    }
}
