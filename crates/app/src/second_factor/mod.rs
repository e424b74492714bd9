//! «Вход с подтверждением»: the citizens' optional second factor. Either an
//! SMS code to the account's phone or a code from an authenticator app
//! (TOTP, RFC 6238, added by a QR code), with ten single-use backup codes for
//! a lost phone. When it is on, a right password only opens a step that asks
//! for the code; turning it off or renewing the backup codes asks for the
//! password and the factor. Every change is told to every confirmed contact
//! and written to the audit log.
//!
//! Whatever a code unlocks is written in the transaction that spends it, so
//! an app's code, an SMS code and a backup code each work exactly once,
//! whichever node gets them. Wrong codes count against the account as wrong
//! passwords do: the same doubling wait, the same lock.
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{AccountId, Channel, FactorMethod, FactorPurpose, PhoneNumber};

use crate::accounts::{Accounts, InternalError, LoginError};
use crate::attempts::{Attempt, Refusal};
use crate::challenge::Flow;
use crate::crypto::{self, HashPurpose, SealedField};
use crate::lang::Lang;
use crate::messages;
use crate::ports::{
    AccountRecord, FactorChallengeRecord, OutboxRecord, SecondFactorRecord, StoreError,
};
use crate::security::ClientInfo;
use crate::totp;

mod enrolment;
mod login_step;
mod manage;

pub use enrolment::*;
pub use login_step::*;

/// How many backup codes an account gets at a time.
pub const BACKUP_CODES: usize = 10;

/// How long the code step of a login waits after the password.
const LOGIN_STEP_TTL: Duration = Duration::minutes(10);

/// Tries at an app's code (or a backup code) in one step. An SMS code has
/// the registration's limit (3).
const APP_MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    /// The step is gone (expired, used, or never was): start again.
    #[error("the step is over; start again")]
    NotFound,
    #[error("the code is neither six digits nor a backup code")]
    MalformedCode,
    #[error("wrong code")]
    /// How many tries the step has left, when it counts them.
    WrongCode { attempts_left: Option<u32> },
    #[error("the code has expired")]
    CodeExpired,
    #[error("the code was entered wrongly too many times")]
    AttemptsExhausted,
    /// Too many wrong codes or passwords in a row: wait.
    #[error("too many wrong tries; wait")]
    Throttled { retry_at: Option<OffsetDateTime> },
    #[error("too many codes sent; try again later")]
    RateLimited { retry_at: OffsetDateTime },
    #[error("a new code cannot be sent yet")]
    TooEarly { retry_at: OffsetDateTime },
    #[error("the password is wrong")]
    WrongPassword,
    #[error("the second factor is on already")]
    AlreadyOn,
    #[error("the second factor is off")]
    NotOn,
    /// SMS codes need a phone on the account.
    #[error("the account has no phone")]
    NoPhone,
    /// An app has no codes to send.
    #[error("the factor sends no codes")]
    NothingToSend,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(FactorError: crate::crypto::CryptoError, StoreError);

/// A step waiting for a code, as its page shows it.
#[derive(Debug, Clone)]
pub struct FactorStep {
    pub challenge_id: uuid::Uuid,
    pub method: FactorMethod,
    /// Until when the step as a whole waits.
    pub expires_at: OffsetDateTime,
    /// The SMS code's own end, and when a new one may be asked for.
    pub code_expires_at: Option<OffsetDateTime>,
    pub resend_at: Option<OffsetDateTime>,
    /// The phone the SMS went to, masked: +7 (926) ***-**-12.
    pub sent_to: Option<String>,
    pub attempts_left: u32,
}

/// What «Безопасность» shows of the second factor.
#[derive(Debug, Clone)]
pub struct FactorStatus {
    pub method: Option<FactorMethod>,
    pub enabled_at: Option<OffsetDateTime>,
    pub backup_codes_left: u32,
    /// The account's phone, masked: where SMS codes would go.
    pub phone: Option<String>,
}

fn max_attempts(identity: &Accounts, method: FactorMethod) -> u32 {
    match method {
        FactorMethod::Sms => identity.policy.code_max_attempts,
        FactorMethod::Totp => APP_MAX_ATTEMPTS,
    }
}

/// A wrong code, as what it leaves of the step's `max` tries
/// ([`crate::challenge::miss`]).
fn wrong_code(attempt: u32, max: u32) -> FactorError {
    match crate::challenge::miss(attempt, max) {
        crate::challenge::Miss::Exhausted => FactorError::AttemptsExhausted,
        crate::challenge::Miss::Wrong { attempts_left } => FactorError::WrongCode {
            attempts_left: Some(attempts_left),
        },
    }
}

/// What a typed code is: a backup code (ten letters and digits) or a
/// six-digit code; anything else is refused before any attempt is taken.
enum Typed {
    Backup(String),
    Digits(String),
}

/// Six digits are read as every code of the system is
/// ([`crate::challenge::read_code`]); anything else may be a backup code.
fn read_code(typed: &str) -> Result<Typed, FactorError> {
    if let Some(digits) = crate::challenge::read_code(typed) {
        return Ok(Typed::Digits(digits));
    }
    totp::normalize_backup_code(typed)
        .map(Typed::Backup)
        .ok_or(FactorError::MalformedCode)
}

impl FactorChallengeRecord {
    /// A new step of `purpose`, waiting `ttl`: no code sent, no key, no
    /// try taken, no device yet; each step fills in what it has.
    fn started(
        account_id: AccountId,
        purpose: FactorPurpose,
        method: FactorMethod,
        lang: Lang,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4(),
            account_id,
            purpose,
            method,
            totp_secret: None,
            code_hash: None,
            code_expires_at: None,
            sent_at: None,
            attempts: 0,
            remember: false,
            device_hash: None,
            user_agent: None,
            network: None,
            lang: lang.code().to_owned(),
            created_at: now,
            expires_at: now + ttl,
        }
    }
}

impl Accounts {
    /// An app's key as sealed for `row` (the enrolment's challenge, or the
    /// account once the factor is on); `what` names it in the error when it
    /// is missing or does not read as a key.
    fn app_key(
        &self,
        row: impl std::fmt::Display,
        sealed: Option<&[u8]>,
        what: &'static str,
    ) -> Result<totp::TotpSecret, FactorError> {
        let sealed = sealed.ok_or(InternalError::Corrupt(what))?;
        totp::TotpSecret::from_base32(&self.crypto.open(SealedField::FactorSecret, row, sealed)?)
            .ok_or_else(|| InternalError::Corrupt(what).into())
    }

    fn backup_hash(&self, normalized: &str) -> Vec<u8> {
        self.crypto
            .keyed_hash(HashPurpose::BackupCode, normalized.as_bytes())
    }

    fn factor_code_hash(&self, code: &str) -> Vec<u8> {
        Flow::SecondFactor.secret_hash(&self.crypto, Channel::Sms, code)
    }

    /// Whether `code` is the step's SMS code; `CodeExpired` past its 300 s.
    /// A step without a code (none could be sent) matches nothing.
    fn sms_code_matches(
        &self,
        c: &FactorChallengeRecord,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<bool, FactorError> {
        if c.code_expires_at.is_some_and(|at| now >= at) {
            return Err(FactorError::CodeExpired);
        }
        Ok(c.code_hash
            .as_deref()
            .is_some_and(|h| crypto::constant_time_eq(h, &self.factor_code_hash(code))))
    }

    fn account_phone(&self, account: &AccountRecord) -> Result<Option<PhoneNumber>, InternalError> {
        account
            .phone
            .as_deref()
            .map(|sealed| {
                PhoneNumber::from_e164(&self.crypto.open(SealedField::Phone, account.id, sealed)?)
                    .ok_or(InternalError::Corrupt("account phone"))
            })
            .transpose()
    }

    /// Counts one SMS to `phone` from `ip` against the sending limits.
    async fn spend_factor_send(&self, phone: &PhoneNumber, ip: IpAddr) -> Result<(), FactorError> {
        let contact = self
            .crypto
            .keyed_hash(HashPurpose::PhoneIndex, phone.e164().as_bytes());
        match self.message_quota(&contact, ip).await? {
            Some(retry_at) => Err(FactorError::RateLimited { retry_at }),
            None => Ok(()),
        }
    }

    /// A new SMS code for a step: the code, its hash and the message.
    fn factor_sms(
        &self,
        account: AccountId,
        phone: &PhoneNumber,
        purpose: FactorPurpose,
        lang: Lang,
        now: OffsetDateTime,
    ) -> (Vec<u8>, OutboxRecord) {
        let ttl = self.policy.sms_code_ttl;
        let issued = Flow::SecondFactor.issue(&self.crypto, Channel::Sms, ttl, now, false);
        let body = messages::factor_code_sms(lang, &issued.secret, purpose == FactorPurpose::Login);
        let message = crate::verification::outbox_message(
            &self.crypto,
            format!("factor-code:{}", uuid::Uuid::new_v4()),
            Some(account),
            Channel::Sms,
            phone.e164(),
            "",
            &body,
            now,
        );
        (issued.hash, message)
    }

    fn step_view(&self, c: &FactorChallengeRecord, phone: Option<&PhoneNumber>) -> FactorStep {
        let max = max_attempts(self, c.method);
        FactorStep {
            challenge_id: c.id,
            method: c.method,
            expires_at: c.expires_at,
            code_expires_at: c.code_expires_at,
            resend_at: c.sent_at.map(|at| at + self.policy.resend_interval),
            sent_to: if c.code_hash.is_some() {
                phone.map(PhoneNumber::masked)
            } else {
                None
            },
            attempts_left: max.saturating_sub(c.attempts),
        }
    }

    /// Takes an attempt at the account's secrets before a password or a
    /// code is evaluated (see [`crate::attempts`]): a wrong code counts as a
    /// wrong password would, and concurrent guesses are not all evaluated.
    async fn factor_attempt(&self, account: &AccountRecord) -> Result<Attempt, FactorError> {
        match self.take_attempt(account).await? {
            Ok(attempt) => Ok(attempt),
            Err(Refusal::Throttled(until)) => Err(FactorError::Throttled {
                retry_at: Some(until),
            }),
            Err(Refusal::Locked) => Err(FactorError::Throttled { retry_at: None }),
        }
    }

    // ---------------------------------------------------------------- login

    /// The password was right and the account has a second factor: the
    /// step that waits for its code (and, for SMS, the code sent).
    pub(crate) async fn start_factor_login(
        &self,
        account: &AccountRecord,
        factor: &SecondFactorRecord,
        remember: bool,
        client: &ClientInfo,
    ) -> Result<FactorStep, LoginError> {
        let now = self.clock.now();
        let mut challenge = FactorChallengeRecord {
            remember,
            device_hash: Some(client.device_hash(&self.crypto)),
            user_agent: client.user_agent.clone(),
            network: Some(crate::security::network_of(client.ip)),
            ..FactorChallengeRecord::started(
                account.id,
                FactorPurpose::Login,
                factor.method,
                client.lang,
                now,
                LOGIN_STEP_TTL,
            )
        };
        let mut message = None;
        let phone = self.account_phone(account)?;
        if factor.method == FactorMethod::Sms {
            // A factor by SMS is turned on only with a phone; a phone gone
            // since then leaves the backup codes.
            if let Some(phone) = &phone {
                match self.spend_factor_send(phone, client.ip).await {
                    Ok(()) => {
                        let (hash, m) = self.factor_sms(
                            account.id,
                            phone,
                            FactorPurpose::Login,
                            client.lang,
                            now,
                        );
                        challenge.code_hash = Some(hash);
                        challenge.code_expires_at = Some(now + self.policy.sms_code_ttl);
                        challenge.sent_at = Some(now);
                        message = Some(m);
                    }
                    // Over the limit: the step opens all the same, for a
                    // backup code or a resend later.
                    Err(FactorError::RateLimited { .. }) => {}
                    Err(FactorError::Internal(e)) => return Err(e.into()),
                    Err(_) => {}
                }
            }
        }
        self.store
            .insert_factor_challenge(&challenge, message.as_ref())
            .await?;
        self.audit_login(account.id, "second_factor_asked", client, now)
            .await?;
        Ok(self.step_view(&challenge, phone.as_ref()))
    }

    // ---------------------------------------------------------------- managing

    /// The factor of the account, for «Безопасность».
    pub async fn second_factor_status(
        &self,
        account: AccountId,
    ) -> Result<FactorStatus, InternalError> {
        let factor = self.store.second_factor(account).await?;
        let phone = match self.store.account(account).await? {
            Some(a) => self.account_phone(&a)?.map(|p| p.masked()),
            None => None,
        };
        Ok(FactorStatus {
            method: factor.as_ref().map(|f| f.method),
            enabled_at: factor.as_ref().map(|f| f.enabled_at),
            backup_codes_left: factor.map_or(0, |f| f.backup_codes_left),
            phone,
        })
    }

    pub(crate) async fn check_password(
        &self,
        account: &AccountRecord,
        password: &str,
    ) -> Result<(), FactorError> {
        // A session alone must not be a way to guess the password at
        // leisure: each try is taken and counted as at the login.
        let attempt = self.factor_attempt(account).await?;
        let ok = self.password_matches(account, password).await?;
        if ok {
            self.give_back(attempt).await?;
            Ok(())
        } else {
            Err(FactorError::WrongPassword)
        }
    }

    pub(crate) async fn own_account(
        &self,
        account: AccountId,
    ) -> Result<AccountRecord, FactorError> {
        self.store
            .account(account)
            .await?
            .ok_or(FactorError::NotFound)
    }

    /// The factor's consent to a change elsewhere (a new phone or e-mail):
    /// the typed code is checked and spent. `Ok(false)`: the account has no
    /// factor, nothing was asked.
    pub(crate) async fn consent_of_factor(
        &self,
        record: &AccountRecord,
        typed: Option<&str>,
    ) -> Result<bool, FactorError> {
        let Some(factor) = self.store.second_factor(record.id).await? else {
            return Ok(false);
        };
        let typed = typed.map(str::trim).filter(|t| !t.is_empty());
        let Some(typed) = typed else {
            return Err(FactorError::MalformedCode);
        };
        let (challenge, proof, attempt) = self.prove_code(record, &factor, typed).await?;
        if !self
            .store
            .spend_factor_proof(record.id, challenge, &proof, self.clock.now())
            .await?
        {
            // Replayed: the attempt stays counted.
            return Err(FactorError::WrongCode {
                attempts_left: None,
            });
        }
        self.give_back(attempt).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_digits_or_backup_codes() {
        assert!(matches!(read_code(" 123 456 "), Ok(Typed::Digits(d)) if d == "123456"));
        assert!(matches!(read_code("ABCDE-FGHJK"), Ok(Typed::Backup(b)) if b == "abcdefghjk"));
        assert!(matches!(
            read_code("12345"),
            Err(FactorError::MalformedCode)
        ));
        assert!(matches!(
            read_code("abcde-fghi1"),
            Err(FactorError::MalformedCode)
        ));
        assert!(matches!(read_code(""), Err(FactorError::MalformedCode)));
    }
}
