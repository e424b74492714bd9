//! Registration: a name and a phone or e-mail, confirmed by a code or a link,
//! then a password; the account is created with it.
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{
    AccountId, Channel, Email, LoginKind, NewPassword, PasswordContext, PasswordProblem,
    PersonName, PhoneNumber, RegistrationId,
};

use crate::challenge::{self, Continuation, Flow, Secret, resend_due};

/// What a person agrees to by ticking the box that starts a registration
/// (/terms and /privacy): recorded with the account's first audit record.
pub const CONSENTS: [&str; 2] = ["terms_of_use", "personal_data_processing"];
use crate::crypto::{CryptoError, HashPurpose, SealedField};
use crate::lang::Lang;
use crate::messages;
use crate::password_hasher::HashError;
use crate::ports::{
    AccountRecord, Message, OutboxRecord, RegistrationRecord, StoreError, UniqueField,
};

use super::*;

// With the refusals every code or link shares, worded as in the others.
crate::challenge::flow_error! {
    #[derive(Debug, thiserror::Error)]
    pub enum RegistrationError {
        #[error("too many requests; try again later")]
        RateLimited { retry_at: OffsetDateTime },
        #[error("registration not found or expired")]
        NotFound,
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
}

crate::accounts::into_internal!(RegistrationError: StoreError, CryptoError, HashError);

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

pub use crate::challenge::Confirmation;

/// How long a request holds the message it wrote while it tries it at
/// once: longer than a transport's timeout, so that no worker tries it too.
const FIRST_TRY_LEASE: Duration = Duration::minutes(1);

impl Accounts {
    /// The keyed hash a phone or an e-mail is found by, as a login and in
    /// the quotas of messages: the same for a registration and a change.
    pub(crate) fn contact_index(&self, contact: &Contact) -> Vec<u8> {
        match contact {
            Contact::Phone(p) => self
                .crypto
                .keyed_hash(HashPurpose::PhoneIndex, p.e164().as_bytes()),
            Contact::Email(e) => self
                .crypto
                .keyed_hash(HashPurpose::EmailIndex, e.canonical().as_bytes()),
        }
    }

    pub(super) fn secret_hash(&self, channel: Channel, secret: &str) -> Vec<u8> {
        Flow::Registration.secret_hash(&self.crypto, channel, secret)
    }

    pub(super) fn secret_ttl(&self, channel: Channel) -> Duration {
        match channel {
            Channel::Sms => self.policy.sms_code_ttl,
            Channel::Email => self.policy.email_link_ttl,
        }
    }

    pub(super) async fn spend_send_quota(
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
    pub(super) fn confirmation_message(
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

    /// `message` as an outbox row, held by this request for its first try:
    /// a worker takes it only if this node stops before the try ends.
    pub(super) fn queued(
        &self,
        dedupe_key: String,
        message: &Message,
        now: OffsetDateTime,
    ) -> OutboxRecord {
        OutboxRecord {
            leased_until: Some(now + FIRST_TRY_LEASE),
            ..crate::verification::outbox_message(
                &self.crypto,
                dedupe_key,
                None,
                message.channel,
                &message.to,
                &message.subject,
                &message.body,
                now,
            )
        }
    }

    /// The first try of a message just written to the outbox, at once, so
    /// that a code arrives within a second; its id is the idempotency key,
    /// as when a worker delivers it.
    pub(super) async fn first_try(
        &self,
        queued: &OutboxRecord,
        message: Message,
    ) -> Result<(), crate::ports::DeliveryError> {
        let message = Message {
            idempotency_key: Some(queued.id.to_string()),
            ..message
        };
        self.messenger.deliver(&message).await?;
        if let Err(e) = self
            .store
            .mark_outbox_delivered(queued.id, self.clock.now())
            .await
        {
            // Delivered all the same; a worker may hand it over again later,
            // under the same idempotency key.
            tracing::warn!(message = %queued.id, error = %e, "a delivered message could not be marked so");
        }
        Ok(())
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
        let issued =
            Flow::Registration.issue(&self.crypto, channel, self.secret_ttl(channel), now, false);
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
            secret_hash: issued.hash.clone(),
            secret_expires_at: issued.expires_at,
            attempts: 0,
            sent_at: now,
            sends: 1,
            confirmed_at: None,
            continuation: None,
            created_at: now,
            expires_at: now + self.policy.registration_ttl.max(self.secret_ttl(channel)),
        };
        let message = self.confirmation_message(
            input.lang,
            &input.contact,
            &input.given_name,
            existing_account,
            &issued.secret,
            issued.expires_at,
        );
        let queued = self.queued(format!("registration:{id}:1"), &message, now);
        self.store.insert_registration(&record, &queued).await?;
        if let Err(e) = self.first_try(&queued, message).await {
            // Nothing half-done: without the message the registration is
            // useless, and the person is told to try again.
            self.store
                .abandon_registration(record.id, queued.id)
                .await?;
            return Err(RegistrationError::Undeliverable(e));
        }
        Ok(RegistrationStarted {
            id: record.id,
            channel,
            secret_expires_at: issued.expires_at,
            resend_at: now + self.policy.resend_interval,
        })
    }

    pub(super) async fn live_registration(
        &self,
        id: RegistrationId,
    ) -> Result<RegistrationRecord, RegistrationError> {
        let now = self.clock.now();
        match self.store.registration(id).await? {
            Some(r) if r.expires_at > now => Ok(r),
            _ => Err(RegistrationError::NotFound),
        }
    }

    pub(super) fn open_contact(&self, r: &RegistrationRecord) -> Result<Contact, InternalError> {
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

    pub(super) fn open_name(
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
        resend_due(r.sent_at, self.policy.resend_interval, now)
            .map_err(|retry_at| RegistrationError::RateLimited { retry_at })?;
        self.spend_send_quota(&r.contact_index, client_ip).await?;
        let issued = Flow::Registration.issue(
            &self.crypto,
            r.channel,
            self.secret_ttl(r.channel),
            now,
            false,
        );
        let contact = self.open_contact(&r)?;
        let given_name = self.open_name(SealedField::GivenName, r.id, &r.given_name)?;
        let lang = Lang::parse(&r.lang).unwrap_or_default();
        let message = self.confirmation_message(
            lang,
            &contact,
            &given_name,
            r.existing_account,
            &issued.secret,
            issued.expires_at,
        );
        let queued = self.queued(format!("registration:{id}:{}", r.sends + 1), &message, now);
        let replaced = self
            .store
            .replace_registration_secret(
                id,
                r.sent_at,
                &issued.hash,
                issued.expires_at,
                now,
                &queued,
            )
            .await?;
        if !replaced {
            // A concurrent resend won; its message is on the way.
            return Err(RegistrationError::RateLimited {
                retry_at: now + self.policy.resend_interval,
            });
        }
        if let Err(e) = self.first_try(&queued, message).await {
            // The new code replaced the last one all the same: the person
            // asks again once the transport is back.
            self.store.abandon_outbox_message(queued.id).await?;
            return Err(RegistrationError::Undeliverable(e));
        }
        Ok(RegistrationStarted {
            id,
            channel: r.channel,
            secret_expires_at: issued.expires_at,
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
        let secret = Secret {
            channel: r.channel,
            hash: &r.secret_hash,
            expires_at: r.secret_expires_at,
            decoy: r.existing_account,
        };
        self.verify_secret::<RegistrationError, _>(Flow::Registration, &secret, with, now, |max| {
            self.store.take_code_attempt(id, max)
        })
        .await?;
        let continuation = Continuation::issue(&self.crypto, now);
        self.store
            .mark_registration_confirmed(id, now, &continuation.record())
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
        if !challenge::continuation_holds(&self.crypto, r.continuation.as_ref(), continuation, now)
        {
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
            phone,
            phone_index,
            email,
            email_index,
            ..AccountRecord::simplified(
                &self.crypto,
                account_id,
                &surname,
                &given_name,
                password_hash,
                now,
            )
        };
        // The account's first record: what its holder agreed to when they
        // registered (the box they ticked to start), for the history and
        // «Скачать мои данные».
        let registered = self
            .audit
            .record(
                crate::audit::Actor::Citizen(account.id),
                crate::audit::action::REGISTERED,
                "ok",
                now,
            )
            .details(serde_json::json!({ "consents": CONSENTS }))
            .write();
        match self
            .store
            .complete_registration(id, &continuation_hash, now, &account, &registered)
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
}
