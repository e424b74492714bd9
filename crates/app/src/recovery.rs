//! «Не удаётся войти?» (seed 004): recovery of access by phone, e-mail or
//! SNILS. A code (SMS) or a link (e-mail) goes to the account's confirmed
//! contact; a standard or confirmed account must also give one more fact
//! (the passport, or the SNILS when the login was a phone or an e-mail), so
//! that a stolen phone alone does not open a verified identity. Then a new
//! password: the lockout is lifted, every session ends, a notice goes to
//! every confirmed contact, and the level stays as it was.
//!
//! A login no account has goes through the same steps (a row is written,
//! with a secret nobody knows, and no message), so neither the answers nor
//! their timing tell known and unknown logins apart.
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{
    AccountLevel, Channel, LoginKind, PassportNumber, PasswordProblem, Snils, Token,
};

use crate::accounts::{Accounts, Confirmation, InternalError};
use crate::audit::{Actor, action};
use crate::challenge::{self, Continuation, Flow, Issued, Proved, Secret, resend_due};
use crate::crypto::{self, HashPurpose, SealedField};
use crate::lang::Lang;
use crate::messages;
use crate::notices::Contacts;
use crate::ports::{AccountRecord, OutboxRecord, RecoveryCompletion, RecoveryRecord, StoreError};
use crate::settings::Policy;

/// How long after its code or link a person has to set the password.
const PASSWORD_WINDOW: Duration = Duration::minutes(30);

#[derive(Debug, Clone)]
pub struct RecoveryStarted {
    pub id: uuid::Uuid,
    pub channel: Channel,
    pub secret_expires_at: OffsetDateTime,
    pub resend_at: OffsetDateTime,
}

/// The second fact a verified account is asked for.
#[derive(Debug, Clone)]
pub enum RecoveryFact {
    Passport(String),
    Snils(String),
}

// With the refusals every code or link shares, worded as in the others.
crate::challenge::flow_error! {
    #[derive(Debug, thiserror::Error)]
    pub enum RecoveryError {
        #[error("the login is not a phone, an e-mail or a SNILS")]
        MalformedLogin,
        #[error("too many requests; try again later")]
        RateLimited { retry_at: OffsetDateTime },
        #[error("recovery not found or expired")]
        NotFound,
        /// The account is verified: the passport (or, after a phone or e-mail,
        /// the SNILS) is needed too.
        #[error("one more fact is needed")]
        FactRequired { snils_allowed: bool },
        #[error("the passport or SNILS is malformed")]
        FactMalformed { field: &'static str },
        #[error("the passport or SNILS does not match the account")]
        WrongFact { attempts_left: u32 },
        #[error("confirm the code or link first")]
        NotConfirmed,
        /// The password came without the continuation that the confirmation
        /// handed to whoever proved control of the contact.
        #[error("the continuation token is missing, wrong, used or expired")]
        ContinuationRequired,
        #[error("the password does not meet the rules")]
        Password {
            problems: Vec<PasswordProblem>,
            mismatch: bool,
        },
        #[error(transparent)]
        Internal(#[from] InternalError),
    }
}

crate::accounts::into_internal!(RecoveryError: StoreError);

/// What the confirmation page needs to know of a recovery.
#[derive(Debug, Clone)]
pub struct RecoveryView {
    pub id: uuid::Uuid,
    pub channel: Channel,
    pub secret_expires_at: OffsetDateTime,
    pub resend_at: OffsetDateTime,
    /// A recovery made before resends existed has no quota to spend.
    pub can_resend: bool,
    pub attempts_left: u32,
    pub confirmed: bool,
    /// The SNILS may stand for the second fact (the login was not one).
    pub snils_allowed: bool,
}

/// Only a contact the account has confirmed ever receives anything: the
/// one the person gave, or for a SNILS the phone (else the e-mail).
fn sends_to_email(account: Option<&AccountRecord>, kind: LoginKind) -> bool {
    match (account, kind) {
        (_, LoginKind::Email) => true,
        (Some(a), LoginKind::Snils) => a.phone.is_none(),
        _ => false,
    }
}

/// The blind index of the contact a recovery's messages go to; `None` for
/// a login no account has (its own index stands in).
fn destination_of(account: Option<&AccountRecord>, kind: LoginKind) -> Option<Vec<u8>> {
    let a = account?;
    if sends_to_email(Some(a), kind) {
        a.email_index.clone()
    } else {
        a.phone_index.clone()
    }
}

fn recovery_ttl(policy: &Policy, channel: Channel) -> Duration {
    match channel {
        Channel::Sms => policy.sms_code_ttl,
        Channel::Email => Duration::hours(24),
    }
}

impl Accounts {
    fn recovery_secret_hash(&self, channel: Channel, secret: &str) -> Vec<u8> {
        Flow::Recovery.secret_hash(&self.crypto, channel, secret)
    }

    /// «Не удаётся войти?»: sends a code or a link to the confirmed contact
    /// of the account with this phone, e-mail or SNILS.
    pub async fn start_recovery(
        &self,
        login: &str,
        lang: Lang,
        client_ip: IpAddr,
    ) -> Result<RecoveryStarted, RecoveryError> {
        let now = self.clock.now();
        let candidates = self.login_candidates(login.trim());
        let Some((first_kind, first_index)) = candidates.first().cloned() else {
            return Err(RecoveryError::MalformedLogin);
        };
        let mut found = None;
        for (kind, index) in &candidates {
            if let Some(a) = self.store.account_by_login(*kind, index).await? {
                found = Some((*kind, a));
                break;
            }
        }
        let (kind, account) = match found {
            Some((k, a)) => (k, Some(a)),
            None => (first_kind, None),
        };
        // The answer depends on what was typed, never on the account: a
        // phone or a SNILS gets a code, an e-mail a link. So a SNILS's answer
        // does not tell whether its account has a phone (or exists).
        let channel = match kind {
            LoginKind::Email => Channel::Email,
            LoginKind::Phone | LoginKind::Snils => Channel::Sms,
        };
        // One quota per destination across every flow that sends to it
        // (registration, recovery, contact changes, the second factor).
        let destination = destination_of(account.as_ref(), kind).unwrap_or(first_index);
        if let Some(retry_at) = self.message_quota(&destination, client_ip).await? {
            return Err(RecoveryError::RateLimited { retry_at });
        }
        let ttl = recovery_ttl(&self.policy, channel);
        // For an unknown login the secret is never sent: nothing matches.
        let issued = Flow::Recovery.issue(&self.crypto, channel, ttl, now, account.is_none());
        let id = uuid::Uuid::new_v4();
        let message = self.recovery_message(
            format!("recovery:{id}"),
            account.as_ref(),
            (kind, channel),
            lang,
            &issued,
            now,
        )?;
        let record = RecoveryRecord {
            id,
            account_id: account.as_ref().map(|a| a.id),
            login_kind: kind,
            channel,
            lang: lang.code().to_owned(),
            secret_hash: issued.hash.clone(),
            secret_expires_at: issued.expires_at,
            attempts: 0,
            confirmed_at: None,
            completed_at: None,
            continuation: None,
            created_at: now,
            expires_at: now + ttl + PASSWORD_WINDOW,
            sent_at: now,
            sends: 1,
            quota_key: Some(destination),
        };
        self.store.start_recovery(&record, &message).await?;
        Ok(RecoveryStarted {
            id,
            channel,
            secret_expires_at: record.secret_expires_at,
            resend_at: now + self.policy.resend_interval,
        })
    }

    /// The message that carries a recovery's code or link: to the confirmed
    /// contact of `account`, or for a login no account has a row that is
    /// never sent (delivered already, nothing in it), so that known and
    /// unknown logins write the same rows in the same transaction and the
    /// answer's time does not tell them apart.
    fn recovery_message(
        &self,
        dedupe_key: String,
        account: Option<&AccountRecord>,
        (kind, channel): (LoginKind, Channel),
        lang: Lang,
        issued: &Issued,
        now: OffsetDateTime,
    ) -> Result<OutboxRecord, RecoveryError> {
        let to_email = sends_to_email(account, kind);
        let Some(a) = account else {
            return Ok(OutboxRecord {
                delivered_at: Some(now),
                ..crate::verification::outbox_message(
                    &self.crypto,
                    dedupe_key,
                    None,
                    channel,
                    "",
                    "",
                    "",
                    now,
                )
            });
        };
        let secret = &issued.secret;
        let (to, subject, body) = if to_email {
            let letter = if channel == Channel::Sms {
                messages::recovery_code_letter(lang, secret)
            } else {
                let link = format!(
                    "{}/recover/confirm-email?token={secret}",
                    self.policy.base_url
                );
                let until =
                    messages::format_local(issued.expires_at, self.policy.display_offset, lang);
                messages::recovery_link_letter(lang, &link, &until)
            };
            let to = self
                .crypto
                .open(
                    SealedField::Email,
                    a.id,
                    a.email.as_deref().unwrap_or_default(),
                )
                .map_err(InternalError::from)?;
            (to, letter.subject, letter.body)
        } else {
            let to = self
                .crypto
                .open(
                    SealedField::Phone,
                    a.id,
                    a.phone.as_deref().unwrap_or_default(),
                )
                .map_err(InternalError::from)?;
            (to, String::new(), messages::recovery_code_sms(lang, secret))
        };
        Ok(crate::verification::outbox_message(
            &self.crypto,
            dedupe_key,
            Some(a.id),
            if to_email {
                Channel::Email
            } else {
                Channel::Sms
            },
            &to,
            &subject,
            &body,
            now,
        ))
    }

    /// «Получить новый код»: a new code or letter, which voids the last,
    /// once the resend interval is over; it spends the quota of the contact
    /// the recovery sends to. A login no account has is answered the same.
    pub async fn resend_recovery(
        &self,
        id: uuid::Uuid,
        client_ip: IpAddr,
    ) -> Result<RecoveryStarted, RecoveryError> {
        let now = self.clock.now();
        let r = self.live_recovery(id).await?;
        let (None, Some(destination)) = (r.confirmed_at, r.quota_key.as_deref()) else {
            return Err(RecoveryError::NotFound);
        };
        resend_due(r.sent_at, self.policy.resend_interval, now)
            .map_err(|retry_at| RecoveryError::RateLimited { retry_at })?;
        if let Some(retry_at) = self.message_quota(destination, client_ip).await? {
            return Err(RecoveryError::RateLimited { retry_at });
        }
        let account = match r.account_id {
            Some(a) => Some(
                self.store
                    .account(a)
                    .await?
                    .ok_or(RecoveryError::NotFound)?,
            ),
            None => None,
        };
        let ttl = recovery_ttl(&self.policy, r.channel);
        let issued = Flow::Recovery.issue(&self.crypto, r.channel, ttl, now, account.is_none());
        let message = self.recovery_message(
            format!("recovery:{id}:{}", r.sends + 1),
            account.as_ref(),
            (r.login_kind, r.channel),
            Lang::parse(&r.lang).unwrap_or_default(),
            &issued,
            now,
        )?;
        let replaced = self
            .store
            .replace_recovery_secret(id, r.sent_at, &issued.hash, issued.expires_at, &message)
            .await?;
        if !replaced {
            // A concurrent resend won; its message is on the way.
            return Err(RecoveryError::RateLimited {
                retry_at: now + self.policy.resend_interval,
            });
        }
        Ok(RecoveryStarted {
            id,
            channel: r.channel,
            secret_expires_at: issued.expires_at,
            resend_at: now + self.policy.resend_interval,
        })
    }

    async fn live_recovery(&self, id: uuid::Uuid) -> Result<RecoveryRecord, RecoveryError> {
        match self.store.recovery(id).await? {
            Some(r) if r.expires_at > self.clock.now() && r.completed_at.is_none() => Ok(r),
            _ => Err(RecoveryError::NotFound),
        }
    }

    pub async fn recovery(&self, id: uuid::Uuid) -> Result<RecoveryView, RecoveryError> {
        let r = self.live_recovery(id).await?;
        Ok(RecoveryView {
            id: r.id,
            channel: r.channel,
            secret_expires_at: r.secret_expires_at,
            resend_at: r.sent_at + self.policy.resend_interval,
            can_resend: r.quota_key.is_some(),
            attempts_left: self.policy.code_max_attempts.saturating_sub(r.attempts),
            confirmed: r.confirmed_at.is_some(),
            snils_allowed: r.login_kind != LoginKind::Snils,
        })
    }

    /// The recovery an e-mail link stands for (the letter may be opened in
    /// another browser).
    pub async fn recovery_by_link(&self, token: &str) -> Result<uuid::Uuid, RecoveryError> {
        let hash = self.recovery_secret_hash(Channel::Email, token.trim());
        match self.store.recovery_by_secret(&hash).await? {
            Some(r)
                if r.channel == Channel::Email
                    && r.expires_at > self.clock.now()
                    && r.completed_at.is_none() =>
            {
                Ok(r.id)
            }
            _ => Err(RecoveryError::LinkInvalid),
        }
    }

    /// Confirms the code or link and, for a verified account, the second
    /// fact; hands whoever did so the continuation the password step needs.
    pub async fn confirm_recovery(
        &self,
        id: uuid::Uuid,
        with: Confirmation,
        fact: Option<RecoveryFact>,
    ) -> Result<Continuation, RecoveryError> {
        let now = self.clock.now();
        let r = self.live_recovery(id).await?;
        let max = self.policy.code_max_attempts;
        // Each try of the code, and each wrong fact, takes an attempt before
        // anything is compared, so concurrent guesses never exceed `max`. A
        // right code gives its attempt back: the fact page sends the code
        // again with each try of the fact, and only mistakes cost a try.
        let secret = Secret {
            channel: r.channel,
            hash: &r.secret_hash,
            expires_at: r.secret_expires_at,
            decoy: r.account_id.is_none(),
        };
        let proved = self
            .verify_secret::<RecoveryError, _>(Flow::Recovery, &secret, with, now, |max| {
                self.store.take_recovery_attempt(id, max)
            })
            .await?;
        if proved == Proved::Code {
            self.store.give_back_recovery_attempt(id).await?;
        }
        let account = self
            .store
            .account(r.account_id.ok_or(RecoveryError::NotFound)?)
            .await?
            .ok_or(RecoveryError::NotFound)?;
        if account.level != AccountLevel::Simplified {
            let snils_allowed = r.login_kind != LoginKind::Snils;
            let matches = match fact {
                None => return Err(RecoveryError::FactRequired { snils_allowed }),
                Some(RecoveryFact::Passport(p)) => {
                    let p =
                        PassportNumber::parse(&p).map_err(|_| RecoveryError::FactMalformed {
                            field: "passport_series_number",
                        })?;
                    let index = crate::verification::passport_index(&self.crypto, &p);
                    account
                        .passport_index
                        .as_deref()
                        .is_some_and(|known| crypto::constant_time_eq(known, &index))
                }
                Some(RecoveryFact::Snils(s)) if snils_allowed => {
                    let s = Snils::parse(&s)
                        .map_err(|_| RecoveryError::FactMalformed { field: "snils" })?;
                    let index = self
                        .crypto
                        .keyed_hash(HashPurpose::SnilsIndex, s.digits().as_bytes());
                    account
                        .snils_index
                        .as_deref()
                        .is_some_and(|known| crypto::constant_time_eq(known, &index))
                }
                Some(RecoveryFact::Snils(_)) => {
                    return Err(RecoveryError::FactRequired { snils_allowed });
                }
            };
            if !matches {
                let attempt = self
                    .store
                    .take_recovery_attempt(id, max)
                    .await?
                    .ok_or(RecoveryError::AttemptsExhausted)?;
                return Err(if attempt >= max {
                    RecoveryError::AttemptsExhausted
                } else {
                    RecoveryError::WrongFact {
                        attempts_left: max - attempt,
                    }
                });
            }
        }
        let continuation = Continuation::issue(&self.crypto, now);
        self.store
            .mark_recovery_confirmed(id, now, &continuation.record())
            .await?;
        Ok(continuation)
    }

    /// The new password of a confirmed recovery.
    pub async fn finish_recovery(
        &self,
        id: uuid::Uuid,
        continuation: Option<&str>,
        password: &str,
        confirmation: &str,
    ) -> Result<(), RecoveryError> {
        let now = self.clock.now();
        let r = self.live_recovery(id).await?;
        let (Some(account_id), Some(_)) = (r.account_id, r.confirmed_at) else {
            return Err(RecoveryError::NotConfirmed);
        };
        if !challenge::continuation_holds(&self.crypto, r.continuation.as_ref(), continuation, now)
        {
            return Err(RecoveryError::ContinuationRequired);
        }
        let profile = self
            .profile(account_id)
            .await?
            .ok_or(RecoveryError::NotFound)?;
        let snils_index = self
            .store
            .account(account_id)
            .await?
            .and_then(|a| a.snils_index);
        let password = self
            .new_account_password(&profile, snils_index.as_deref(), password, confirmation)
            .map_err(|(problems, mismatch)| RecoveryError::Password { problems, mismatch })?;
        let hash = self
            .hasher
            .hash(password.expose())
            .await
            .map_err(InternalError::from)?;
        let lang = Lang::parse(&r.lang).unwrap_or_default();
        let ended = messages::RecoveryEnded {
            sessions: self.store.account_sessions(account_id).await?.len(),
            pending_requests: self.store.pending_requests(account_id, id, now).await?,
        };
        let letter = messages::access_recovered(lang, &self.policy.base_url, ended);
        let notices = Contacts::new(
            account_id,
            profile.phone.as_ref().map(|p| p.e164().to_owned()),
            profile.email.as_ref().map(|e| e.as_str().to_owned()),
        )
        .every(&self.crypto, &format!("recovered:{id}"), &letter, now);
        let audit = self
            .audit
            .record(
                Actor::Citizen(account_id),
                action::ACCESS_RECOVERED,
                "password_set",
                now,
            )
            .details(serde_json::json!({
                "by": r.login_kind.as_str(),
                "channel": r.channel.as_str(),
            }))
            .write();
        let done = self
            .store
            .complete_recovery(&RecoveryCompletion {
                recovery_id: id,
                continuation_hash: challenge::continuation_hash(
                    &self.crypto,
                    continuation.unwrap_or_default(),
                ),
                account_id,
                password_hash: hash,
                notices,
                audit,
                at: now,
            })
            .await?;
        if !done {
            // Its continuation was spent by a concurrent press.
            return Err(RecoveryError::ContinuationRequired);
        }
        tracing::info!(account = %account_id, "access recovered");
        Ok(())
    }
}
