//! «Мои данные» → «Изменить» by the phone or the e-mail: a new contact is
//! confirmed (an SMS code, or a link to the new address) before it replaces
//! the old one, and the old contact is told of the change.
//!
//! The current password is asked first, so a session left open on a library
//! computer cannot move the account to someone else's phone. A contact that
//! already belongs to an account (this one too) takes the very same steps
//! and gets the very same answers, but is sent a note instead of a code, so
//! the feature cannot tell whose phone a number is.
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{AccountId, Channel, Email, LoginKind, PhoneNumber, Token};

use crate::accounts::{Accounts, Confirmation, Contact, InternalError};
use crate::audit::{Actor, action};
use crate::challenge::{Flow, Issued, Secret, resend_due};
use crate::crypto::{self, SealedField};
use crate::lang::Lang;
use crate::messages::{self, Letter};
use crate::notices::Contacts;
use crate::ports::{
    ContactChangeCompletion, ContactChangeRecord, RateDecision, StoreError, UniqueField,
};

/// How long an e-mail link works.
const LINK_TTL: Duration = Duration::hours(24);
/// How long a change by SMS may take, new codes included.
const SMS_CHANGE_TTL: Duration = Duration::HOUR;
/// Password checks per account and hour on this path: a stolen session must
/// not become a way to guess the password.
const STARTS_PER_ACCOUNT_PER_HOUR: u32 = 10;
const RATE_WINDOW: Duration = Duration::HOUR;
const BUCKET_ACCOUNT: &str = "contact-change-per-account";
// The same buckets as registration: a phone receives at most so many
// messages an hour, whichever feature sends them.

// With the refusals every code or link shares, worded as in the others.
crate::challenge::flow_error! {
    #[derive(Debug, thiserror::Error)]
    pub enum ContactChangeError {
        #[error("the current password is wrong")]
        WrongPassword,
        /// Too many wrong passwords in a row (here or at the login): wait.
        #[error("too many wrong passwords; try again later")]
        Throttled,
        #[error("too many requests; try again later")]
        RateLimited { retry_at: OffsetDateTime },
        #[error("contact change not found or expired")]
        NotFound,
        /// Another account got the contact between the request and the code.
        #[error("the contact belongs to another account")]
        ContactTaken,
        /// The account has «Вход с подтверждением»: a new phone or e-mail needs
        /// its code too (a missing one is `MalformedCode` inside).
        #[error("the second factor refused")]
        SecondFactor(crate::second_factor::FactorError),
        #[error(transparent)]
        Internal(#[from] InternalError),
    }
}

crate::accounts::into_internal!(ContactChangeError: StoreError, crypto::CryptoError);

#[derive(Debug, Clone)]
pub struct ContactChangeStarted {
    pub id: uuid::Uuid,
    pub channel: Channel,
    /// Until when the code (SMS) or link (e-mail) works.
    pub secret_expires_at: OffsetDateTime,
    /// When a new code or letter may be asked for.
    pub resend_at: OffsetDateTime,
}

/// What the code page shows of a change.
#[derive(Debug, Clone)]
pub struct ContactChangeView {
    pub id: uuid::Uuid,
    pub channel: Channel,
    pub new_contact: Contact,
    pub secret_expires_at: OffsetDateTime,
    pub resend_at: OffsetDateTime,
    pub attempts_left: u32,
}

fn kind_of(contact: &Contact) -> LoginKind {
    match contact {
        Contact::Phone(_) => LoginKind::Phone,
        Contact::Email(_) => LoginKind::Email,
    }
}

fn channel_of(kind: LoginKind) -> Channel {
    match kind {
        LoginKind::Email => Channel::Email,
        LoginKind::Phone | LoginKind::Snils => Channel::Sms,
    }
}

fn plain(contact: &Contact) -> &str {
    match contact {
        Contact::Phone(p) => p.e164(),
        Contact::Email(e) => e.as_str(),
    }
}

/// `+7 *** ***-**-12`, `iv***@example.org`: enough for the owner to
/// recognise, too little for anyone else.
pub fn masked(contact: &Contact) -> String {
    match contact {
        Contact::Phone(p) => format!("+7 *** ***-**-{}", &p.national_digits()[8..]),
        Contact::Email(e) => e.masked(),
    }
}

impl Accounts {
    fn change_secret_hash(&self, channel: Channel, secret: &str) -> Vec<u8> {
        Flow::ContactChange.secret_hash(&self.crypto, channel, secret)
    }

    async fn hit(
        &self,
        bucket: &str,
        key: &[u8],
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<(), ContactChangeError> {
        match self
            .store
            .hit_rate_limit(bucket, key, now, RATE_WINDOW, limit)
            .await?
        {
            RateDecision::Allowed => Ok(()),
            RateDecision::Refused { retry_at } => Err(ContactChangeError::RateLimited { retry_at }),
        }
    }

    /// One message to `index` from `ip`, against the same limits as any.
    async fn spend_change_quota(&self, index: &[u8], ip: IpAddr) -> Result<(), ContactChangeError> {
        match self.message_quota(index, ip).await? {
            Some(retry_at) => Err(ContactChangeError::RateLimited { retry_at }),
            None => Ok(()),
        }
    }

    /// The code or link for a free contact; the note for a taken one.
    fn change_message(
        &self,
        lang: Lang,
        contact: &Contact,
        taken: bool,
        secret: &str,
        expires_at: OffsetDateTime,
    ) -> Letter {
        let base = &self.policy.base_url;
        if taken {
            return messages::contact_in_use(lang, base);
        }
        match contact {
            Contact::Phone(_) => Letter {
                subject: String::new(),
                body: messages::contact_change_code_sms(lang, secret),
            },
            Contact::Email(_) => {
                // From the configured address only: a forged Host header
                // must never make a link to somewhere else.
                let link = format!("{base}/me/contacts/confirm-email?token={secret}");
                let until = messages::format_local(expires_at, self.policy.display_offset, lang);
                messages::contact_change_link_letter(lang, &link, &until)
            }
        }
    }

    fn outbox_for(
        &self,
        key: String,
        account: AccountId,
        contact: &Contact,
        letter: &Letter,
        now: OffsetDateTime,
    ) -> crate::ports::OutboxRecord {
        crate::notices::message(
            &self.crypto,
            key,
            account,
            contact.channel(),
            plain(contact),
            letter,
            now,
        )
    }

    /// A secret for a taken contact is one nobody was sent (the message
    /// is a note): nothing matches it.
    fn issue_change_secret(&self, channel: Channel, taken: bool, now: OffsetDateTime) -> Issued {
        let ttl = self.change_secret_ttl(channel);
        Flow::ContactChange.issue(&self.crypto, channel, ttl, now, taken)
    }

    fn change_secret_ttl(&self, channel: Channel) -> Duration {
        match channel {
            Channel::Sms => self.policy.sms_code_ttl,
            Channel::Email => LINK_TTL,
        }
    }

    /// Starts a change of the account's phone or e-mail: checks the current
    /// password and sends the new contact a code or a link (or, when it
    /// already belongs to an account, a note). Nothing changes yet.
    pub async fn start_contact_change(
        &self,
        account_id: AccountId,
        new: Contact,
        password: &str,
        factor_code: Option<&str>,
        lang: Lang,
        client_ip: IpAddr,
    ) -> Result<ContactChangeStarted, ContactChangeError> {
        let now = self.clock.now();
        let Some(account) = self.store.account(account_id).await? else {
            return Err(ContactChangeError::NotFound);
        };
        self.hit(
            BUCKET_ACCOUNT,
            account_id.to_string().as_bytes(),
            STARTS_PER_ACCOUNT_PER_HOUR,
            now,
        )
        .await?;
        // Taken and counted as at the login before it is compared.
        let attempt = match self.take_attempt(&account).await? {
            Ok(attempt) => attempt,
            Err(_) => return Err(ContactChangeError::Throttled),
        };
        let ok = self.password_matches(&account, password).await?;
        if !ok {
            return Err(ContactChangeError::WrongPassword);
        }
        self.give_back(attempt).await?;
        // With a second factor on, a stolen session and password must not be
        // enough to move the phone (and with it the SMS codes) elsewhere.
        self.consent_of_factor(&account, factor_code)
            .await
            .map_err(|e| match e {
                crate::second_factor::FactorError::Internal(e) => ContactChangeError::Internal(e),
                other => ContactChangeError::SecondFactor(other),
            })?;
        let index = self.contact_index(&new);
        self.spend_change_quota(&index, client_ip).await?;
        let kind = kind_of(&new);
        let taken = self.store.account_by_login(kind, &index).await?.is_some();
        let channel = new.channel();
        let issued = self.issue_change_secret(channel, taken, now);
        let id = uuid::Uuid::new_v4();
        let letter = self.change_message(lang, &new, taken, &issued.secret, issued.expires_at);
        let message = self.outbox_for(
            format!("contact-change:{id}:1"),
            account_id,
            &new,
            &letter,
            now,
        );
        let record = ContactChangeRecord {
            id,
            account_id,
            kind,
            lang: lang.code().to_owned(),
            new_contact: self.crypto.seal(SealedField::NewContact, id, plain(&new)),
            contact_index: index,
            taken,
            secret_hash: issued.hash.clone(),
            secret_expires_at: issued.expires_at,
            attempts: 0,
            sent_at: now,
            sends: 1,
            completed_at: None,
            created_at: now,
            expires_at: now
                + match channel {
                    Channel::Sms => SMS_CHANGE_TTL,
                    Channel::Email => LINK_TTL,
                },
        };
        self.store.start_contact_change(&record, &message).await?;
        Ok(ContactChangeStarted {
            id,
            channel,
            secret_expires_at: record.secret_expires_at,
            resend_at: now + self.policy.resend_interval,
        })
    }

    async fn live_change(
        &self,
        account_id: AccountId,
        id: uuid::Uuid,
    ) -> Result<ContactChangeRecord, ContactChangeError> {
        match self.store.contact_change(id).await? {
            Some(c)
                if c.account_id == account_id
                    && c.completed_at.is_none()
                    && c.expires_at > self.clock.now() =>
            {
                Ok(c)
            }
            _ => Err(ContactChangeError::NotFound),
        }
    }

    fn open_new_contact(&self, c: &ContactChangeRecord) -> Result<Contact, InternalError> {
        let plain = self
            .crypto
            .open(SealedField::NewContact, c.id, &c.new_contact)?;
        match c.kind {
            LoginKind::Email => Email::parse(&plain)
                .map(Contact::Email)
                .map_err(|_| InternalError::Corrupt("new e-mail")),
            LoginKind::Phone | LoginKind::Snils => PhoneNumber::from_e164(&plain)
                .map(Contact::Phone)
                .ok_or(InternalError::Corrupt("new phone")),
        }
    }

    /// The change as its code page shows it.
    pub async fn contact_change(
        &self,
        account_id: AccountId,
        id: uuid::Uuid,
    ) -> Result<ContactChangeView, ContactChangeError> {
        let c = self.live_change(account_id, id).await?;
        Ok(ContactChangeView {
            id: c.id,
            channel: channel_of(c.kind),
            new_contact: self.open_new_contact(&c)?,
            secret_expires_at: c.secret_expires_at,
            resend_at: c.sent_at + self.policy.resend_interval,
            attempts_left: self.policy.code_max_attempts.saturating_sub(c.attempts),
        })
    }

    /// «Получить новый код»: a new code or letter, which voids the last.
    pub async fn resend_contact_change(
        &self,
        account_id: AccountId,
        id: uuid::Uuid,
        client_ip: IpAddr,
    ) -> Result<ContactChangeStarted, ContactChangeError> {
        let now = self.clock.now();
        let c = self.live_change(account_id, id).await?;
        resend_due(c.sent_at, self.policy.resend_interval, now)
            .map_err(|retry_at| ContactChangeError::RateLimited { retry_at })?;
        self.spend_change_quota(&c.contact_index, client_ip).await?;
        let contact = self.open_new_contact(&c)?;
        let channel = channel_of(c.kind);
        let issued = self.issue_change_secret(channel, c.taken, now);
        let lang = Lang::parse(&c.lang).unwrap_or_default();
        let letter =
            self.change_message(lang, &contact, c.taken, &issued.secret, issued.expires_at);
        let message = self.outbox_for(
            format!("contact-change:{id}:{}", c.sends + 1),
            account_id,
            &contact,
            &letter,
            now,
        );
        let replaced = self
            .store
            .replace_contact_change_secret(id, c.sent_at, &issued.hash, issued.expires_at, &message)
            .await?;
        if !replaced {
            // A concurrent resend won; its message is on the way.
            return Err(ContactChangeError::RateLimited {
                retry_at: now + self.policy.resend_interval,
            });
        }
        Ok(ContactChangeStarted {
            id,
            channel,
            secret_expires_at: issued.expires_at,
            resend_at: now + self.policy.resend_interval,
        })
    }

    /// Confirms a change of the logged-in person with the SMS code or the
    /// e-mail token; on success the new contact is the account's.
    pub async fn confirm_contact_change(
        &self,
        account_id: AccountId,
        id: uuid::Uuid,
        with: Confirmation,
    ) -> Result<Contact, ContactChangeError> {
        let c = self.live_change(account_id, id).await?;
        self.check_and_complete(c, with).await
    }

    /// The live change an e-mail link names (by its token alone: the letter
    /// may be opened in another browser, or without logging in).
    async fn change_by_link(&self, token: &str) -> Result<ContactChangeRecord, ContactChangeError> {
        let hash = self.change_secret_hash(Channel::Email, token);
        let Some(c) = self.store.contact_change_by_secret(&hash).await? else {
            return Err(ContactChangeError::LinkInvalid);
        };
        if c.kind != LoginKind::Email
            || c.completed_at.is_some()
            || c.expires_at <= self.clock.now()
            || c.taken
        {
            return Err(ContactChangeError::LinkInvalid);
        }
        if self.clock.now() > c.secret_expires_at {
            return Err(ContactChangeError::LinkExpired);
        }
        Ok(c)
    }

    /// The new address an e-mail link would confirm, for the page that
    /// shows it with a button. Reading it changes nothing: a mail scanner
    /// that opens the link must not move the address to anyone's account.
    pub async fn contact_change_by_link(&self, token: &str) -> Result<Contact, ContactChangeError> {
        let c = self.change_by_link(token.trim()).await?;
        Ok(self.open_new_contact(&c)?)
    }

    /// The button on the e-mail link's page: confirms the change.
    pub async fn confirm_contact_change_link(
        &self,
        token: &str,
    ) -> Result<(AccountId, Contact), ContactChangeError> {
        let token = token.trim();
        let c = self.change_by_link(token).await?;
        let account = c.account_id;
        let contact = self
            .check_and_complete(c, Confirmation::Token(token.to_owned()))
            .await?;
        Ok((account, contact))
    }

    async fn check_and_complete(
        &self,
        c: ContactChangeRecord,
        with: Confirmation,
    ) -> Result<Contact, ContactChangeError> {
        let now = self.clock.now();
        let secret = Secret {
            channel: channel_of(c.kind),
            hash: &c.secret_hash,
            expires_at: c.secret_expires_at,
            decoy: c.taken,
        };
        self.verify_secret::<ContactChangeError, _>(
            Flow::ContactChange,
            &secret,
            with,
            now,
            |max| self.store.take_contact_change_attempt(c.id, max),
        )
        .await?;
        let contact = self.open_new_contact(&c)?;
        self.complete_change(&c, &contact, now).await?;
        Ok(contact)
    }

    /// The new contact becomes the account's, with the notice and the audit
    /// record, in one transaction.
    async fn complete_change(
        &self,
        c: &ContactChangeRecord,
        contact: &Contact,
        now: OffsetDateTime,
    ) -> Result<(), ContactChangeError> {
        let Some(account) = self.store.account(c.account_id).await? else {
            return Err(ContactChangeError::NotFound);
        };
        let old = Contacts::of(&self.crypto, &account)?;
        let (field, phone) = match contact {
            Contact::Phone(_) => (SealedField::Phone, true),
            Contact::Email(_) => (SealedField::Email, false),
        };
        let had = match contact {
            Contact::Phone(_) => account.phone.is_some(),
            Contact::Email(_) => account.email.is_some(),
        };
        // The old contact hears of it; a contact added where there was none
        // is told to the account's other contact.
        let to = if had {
            old.only(phone)
        } else {
            old.only(!phone)
        };
        let lang = Lang::parse(&c.lang).unwrap_or_default();
        let letter =
            messages::contact_changed(lang, phone, !had, &masked(contact), &self.policy.base_url);
        let notices: Vec<_> = to
            .first(
                &self.crypto,
                format!("contact-changed:{}", c.id),
                &letter,
                now,
            )
            .into_iter()
            .collect();
        let kind = c.kind.as_str();
        let audit = self
            .audit
            .record(
                Actor::Citizen(c.account_id),
                action::CONTACT_CHANGED,
                kind,
                now,
            )
            .details(serde_json::json!({ "kind": kind }))
            .write();
        let completion = ContactChangeCompletion {
            change_id: c.id,
            account_id: c.account_id,
            kind: c.kind,
            sealed: self.crypto.seal(field, c.account_id, plain(contact)),
            index: c.contact_index.clone(),
            notices,
            audit,
            at: now,
        };
        match self.store.complete_contact_change(&completion).await {
            Ok(true) => {
                tracing::info!(account = %c.account_id, kind, "contact changed");
                Ok(())
            }
            Ok(false) => Err(ContactChangeError::NotFound),
            Err(StoreError::Conflict(UniqueField::Phone | UniqueField::Email)) => {
                Err(ContactChangeError::ContactTaken)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_leave_the_last_digits_and_the_domain() {
        let p = Contact::Phone(PhoneNumber::parse("+7 (925) 391-02-12").unwrap());
        assert_eq!(masked(&p), "+7 *** ***-**-12");
        let e = Contact::Email(Email::parse("ivanov@example.org").unwrap());
        assert_eq!(masked(&e), "iv***@example.org");
    }
}
