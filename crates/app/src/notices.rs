//! Who a message about an account goes to: its confirmed contacts. Every
//! use case that tells the person something (a check's result, a
//! confirmation, a temporary password, a new device, a changed password,
//! recovered access, a changed contact) asks here, so the rule lives in one place: the SMS to
//! the phone, else the letter to the e-mail — or one to each, for the
//! notices that must reach every contact.
use time::OffsetDateTime;
use uslugi_domain::{AccountId, Channel};

use crate::accounts::InternalError;
use crate::crypto::{Crypto, SealedField};
use crate::messages::Letter;
use crate::ports::{AccountRecord, OutboxRecord};

/// An account's confirmed contacts, opened.
pub(crate) struct Contacts {
    account: AccountId,
    phone: Option<String>,
    email: Option<String>,
}

impl Contacts {
    pub(crate) fn of(crypto: &Crypto, a: &AccountRecord) -> Result<Self, InternalError> {
        Ok(Self {
            account: a.id,
            phone: a
                .phone
                .as_deref()
                .map(|p| crypto.open(SealedField::Phone, a.id, p))
                .transpose()?,
            email: a
                .email
                .as_deref()
                .map(|e| crypto.open(SealedField::Email, a.id, e))
                .transpose()?,
        })
    }

    pub(crate) fn new(account: AccountId, phone: Option<String>, email: Option<String>) -> Self {
        Self {
            account,
            phone,
            email,
        }
    }

    /// Only the phone (`phone`), or only the e-mail: a notice meant for
    /// one contact in particular.
    pub(crate) fn only(&self, phone: bool) -> Self {
        Self {
            account: self.account,
            phone: if phone { self.phone.clone() } else { None },
            email: if phone { None } else { self.email.clone() },
        }
    }

    /// The SMS to the phone, else the letter to the e-mail.
    pub(crate) fn first(
        &self,
        crypto: &Crypto,
        dedupe_key: String,
        letter: &Letter,
        now: OffsetDateTime,
    ) -> Option<OutboxRecord> {
        match (&self.phone, &self.email) {
            (Some(p), _) => Some(message(
                crypto,
                dedupe_key,
                self.account,
                Channel::Sms,
                p,
                letter,
                now,
            )),
            (None, Some(e)) => Some(message(
                crypto,
                dedupe_key,
                self.account,
                Channel::Email,
                e,
                letter,
                now,
            )),
            (None, None) => None,
        }
    }

    /// One to each contact: keys `{key}:sms` and `{key}:email`.
    pub(crate) fn every(
        &self,
        crypto: &Crypto,
        key: &str,
        letter: &Letter,
        now: OffsetDateTime,
    ) -> Vec<OutboxRecord> {
        let mut out = Vec::new();
        if let Some(p) = &self.phone {
            out.push(message(
                crypto,
                format!("{key}:sms"),
                self.account,
                Channel::Sms,
                p,
                letter,
                now,
            ));
        }
        if let Some(e) = &self.email {
            out.push(message(
                crypto,
                format!("{key}:email"),
                self.account,
                Channel::Email,
                e,
                letter,
                now,
            ));
        }
        out
    }
}

/// A message for the outbox, sealed, due now. An SMS has no subject.
pub(crate) fn message(
    crypto: &Crypto,
    dedupe_key: String,
    account: AccountId,
    channel: Channel,
    to: &str,
    letter: &Letter,
    now: OffsetDateTime,
) -> OutboxRecord {
    let subject = match channel {
        Channel::Sms => "",
        Channel::Email => letter.subject.as_str(),
    };
    crate::verification::outbox_message(
        crypto,
        dedupe_key,
        Some(account),
        channel,
        to,
        subject,
        &letter.body,
        now,
    )
}
