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
use uslugi_domain::{AccountId, FactorMethod, FactorPurpose, PhoneNumber, Token};

use crate::attempts::{Attempt, Refusal};
use crate::audit::{Actor, action};
use crate::crypto::{self, HashPurpose, SealedField};
use crate::identity::{Identity, InternalError, LoginError, NewSession};
use crate::lang::Lang;
use crate::messages::{self, FactorNews};
use crate::notices::Contacts;
use crate::ports::{
    AccountRecord, FactorChallengeRecord, FactorChange, FactorEnrolment, FactorProof, OutboxRecord,
    SecondFactorRecord, SessionRecord, StoreError,
};
use crate::security::ClientInfo;
use crate::totp::{self, TotpSecret};

/// How many backup codes an account gets at a time.
pub const BACKUP_CODES: usize = 10;
/// How long the code step of a login waits after the password.
const LOGIN_STEP_TTL: Duration = Duration::minutes(10);
/// How long an enrolment waits for the first code.
const ENROL_TTL: Duration = Duration::minutes(15);
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

impl From<crate::crypto::CryptoError> for FactorError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        Self::Internal(e.into())
    }
}

impl From<StoreError> for FactorError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

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

/// An authenticator app being added: what the person scans or types.
#[derive(Debug, Clone)]
pub struct AppKey {
    /// The key in groups of four, for typing by hand.
    pub key_grouped: String,
    /// For the QR code.
    pub otpauth_uri: String,
}

/// An enrolment waiting for its first code.
#[derive(Debug, Clone)]
pub struct EnrolStep {
    pub step: FactorStep,
    pub app: Option<AppKey>,
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

/// What a login's password step led to.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Session(NewSession),
    /// The password was right; the second factor is asked next.
    SecondFactor(FactorStep),
}

fn max_attempts(identity: &Identity, method: FactorMethod) -> u32 {
    match method {
        FactorMethod::Sms => identity.policy.code_max_attempts,
        FactorMethod::Totp => APP_MAX_ATTEMPTS,
    }
}

/// What a typed code is: a backup code (ten letters and digits) or a
/// six-digit code; anything else is refused before any attempt is taken.
enum Typed {
    Backup(String),
    Digits(String),
}

fn read_code(typed: &str) -> Result<Typed, FactorError> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Typed::Digits(digits));
    }
    totp::normalize_backup_code(typed)
        .map(Typed::Backup)
        .ok_or(FactorError::MalformedCode)
}

impl Identity {
    fn backup_hash(&self, normalized: &str) -> Vec<u8> {
        self.crypto
            .keyed_hash(HashPurpose::BackupCode, normalized.as_bytes())
    }

    fn factor_code_hash(&self, code: &str) -> Vec<u8> {
        self.crypto
            .keyed_hash(HashPurpose::FactorCode, code.as_bytes())
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
        let code = crypto::random_six_digit_code();
        let body = messages::factor_code_sms(lang, &code, purpose == FactorPurpose::Login);
        let message = crate::verification::outbox_message(
            &self.crypto,
            format!("factor-code:{}", uuid::Uuid::new_v4()),
            account,
            uslugi_domain::Channel::Sms,
            phone.e164(),
            "",
            &body,
            now,
        );
        (self.factor_code_hash(&code), message)
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
            id: uuid::Uuid::new_v4(),
            account_id: account.id,
            purpose: FactorPurpose::Login,
            method: factor.method,
            totp_secret: None,
            code_hash: None,
            code_expires_at: None,
            sent_at: None,
            attempts: 0,
            remember,
            device_hash: Some(client.device_hash(&self.crypto)),
            user_agent: client.user_agent.clone(),
            network: Some(crate::security::network_of(client.ip)),
            lang: client.lang.code().to_owned(),
            created_at: now,
            expires_at: now + LOGIN_STEP_TTL,
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

    async fn login_challenge(
        &self,
        id: uuid::Uuid,
    ) -> Result<(FactorChallengeRecord, AccountRecord), FactorError> {
        let now = self.clock.now();
        let Some(c) = self.store.factor_challenge(id).await? else {
            return Err(FactorError::NotFound);
        };
        if c.purpose != FactorPurpose::Login || now >= c.expires_at {
            return Err(FactorError::NotFound);
        }
        let Some(account) = self.store.account(c.account_id).await? else {
            return Err(FactorError::NotFound);
        };
        Ok((c, account))
    }

    /// The code step of a login, for its page.
    pub async fn factor_login_step(&self, id: uuid::Uuid) -> Result<FactorStep, FactorError> {
        let (c, account) = self.login_challenge(id).await?;
        let phone = self.account_phone(&account)?;
        Ok(self.step_view(&c, phone.as_ref()))
    }

    /// The second step of a login: the code from the SMS or the app, or a
    /// backup code. Opens the session the password step described.
    pub async fn complete_factor_login(
        &self,
        id: uuid::Uuid,
        typed: &str,
    ) -> Result<NewSession, FactorError> {
        let now = self.clock.now();
        let (c, account) = self.login_challenge(id).await?;
        let typed = read_code(typed)?;
        let Some(factor) = self.store.second_factor(account.id).await? else {
            // Turned off (at a service center) since the password step.
            return Err(FactorError::NotFound);
        };
        // Counted as a failure now; the session's transaction clears it.
        let counted = self.factor_attempt(&account).await?;
        let max = max_attempts(self, c.method);
        let Some(attempt) = self.store.take_factor_attempt(c.id, max).await? else {
            self.give_back(counted).await?;
            return Err(FactorError::AttemptsExhausted);
        };
        let proof = match typed {
            Typed::Backup(code) => Some(FactorProof::BackupCode(self.backup_hash(&code))),
            Typed::Digits(code) => match factor.method {
                FactorMethod::Totp => self
                    .app_step(&factor, &code, now)?
                    .map(FactorProof::TotpStep),
                FactorMethod::Sms => self
                    .sms_code_matches(&c, &code, now)?
                    .then_some(FactorProof::SmsCode),
            },
        };
        let lang = Lang::parse(&c.lang).unwrap_or_default();
        let opened = match &proof {
            Some(proof) => {
                let token = crypto::random_token();
                let session = self.factor_session(&account, &c, &token, now);
                let how = match proof {
                    FactorProof::SmsCode => "sms",
                    FactorProof::TotpStep(_) => "totp",
                    FactorProof::BackupCode(_) => "backup_code",
                };
                let (notice, audit) = self
                    .login_writes(&account, &session, lang, now, Some(how))
                    .await?;
                self.store
                    .complete_factor_login(c.id, proof, &session, notice.as_ref(), &audit)
                    .await?
                    .then_some((token, session))
            }
            None => None,
        };
        let Some((token, session)) = opened else {
            let write = self
                .audit
                .record(
                    Actor::Citizen(account.id),
                    action::LOGIN,
                    "wrong_second_factor",
                    now,
                )
                .details(serde_json::json!({ "network": c.network }))
                .write();
            self.store.append_audit(&write).await?;
            let attempts_left = max.saturating_sub(attempt);
            return Err(if attempts_left == 0 {
                FactorError::AttemptsExhausted
            } else {
                FactorError::WrongCode {
                    attempts_left: Some(attempts_left),
                }
            });
        };
        Ok(NewSession {
            token,
            account_id: account.id,
            expires_at: session.expires_at,
            remember: session.remember,
            must_change_password: session.must_change_password,
        })
    }

    fn factor_session(
        &self,
        account: &AccountRecord,
        c: &FactorChallengeRecord,
        token: &str,
        now: OffsetDateTime,
    ) -> SessionRecord {
        let (idle, lifetime) = if c.remember {
            (
                self.policy.session_remember_idle,
                self.policy.session_remember,
            )
        } else {
            (self.policy.session_idle, self.policy.session_absolute)
        };
        SessionRecord {
            token_hash: self
                .crypto
                .keyed_hash(HashPurpose::SessionToken, token.as_bytes()),
            account_id: account.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
            idle_timeout: idle,
            remember: c.remember,
            must_change_password: account.must_change_password,
            device_hash: c.device_hash.clone(),
            user_agent: c.user_agent.clone(),
            network: c.network.clone(),
        }
    }

    /// The time step an app's code belongs to, if it is right and newer
    /// than the last one taken.
    fn app_step(
        &self,
        factor: &SecondFactorRecord,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Option<i64>, FactorError> {
        let sealed = factor
            .totp_secret
            .as_deref()
            .ok_or(InternalError::Corrupt("second factor key"))?;
        let secret = TotpSecret::from_base32(&self.crypto.open(
            SealedField::FactorSecret,
            factor.account_id,
            sealed,
        )?)
        .ok_or(InternalError::Corrupt("second factor key"))?;
        Ok(totp::verify(&secret, code, now, factor.totp_last_step))
    }

    /// «Получить новый код» of a login's or a change's SMS step.
    pub async fn resend_factor_code(
        &self,
        id: uuid::Uuid,
        account_of_session: Option<AccountId>,
        ip: IpAddr,
    ) -> Result<FactorStep, FactorError> {
        let now = self.clock.now();
        let Some(c) = self.store.factor_challenge(id).await? else {
            return Err(FactorError::NotFound);
        };
        // A login's step is the caller's by its id; the others belong to
        // the session's account only.
        let owned = match c.purpose {
            FactorPurpose::Login => true,
            _ => account_of_session == Some(c.account_id),
        };
        if !owned || now >= c.expires_at {
            return Err(FactorError::NotFound);
        }
        let Some(account) = self.store.account(c.account_id).await? else {
            return Err(FactorError::NotFound);
        };
        let Some(phone) = self.account_phone(&account)? else {
            return Err(FactorError::NoPhone);
        };
        if c.method != FactorMethod::Sms {
            return Err(FactorError::NothingToSend);
        }
        if let Some(sent) = c.sent_at {
            let resend_at = sent + self.policy.resend_interval;
            if now < resend_at {
                return Err(FactorError::TooEarly {
                    retry_at: resend_at,
                });
            }
        }
        self.spend_factor_send(&phone, ip).await?;
        let lang = Lang::parse(&c.lang).unwrap_or_default();
        let (hash, message) = self.factor_sms(account.id, &phone, c.purpose, lang, now);
        let code_expires_at = now + self.policy.sms_code_ttl;
        let replaced = match c.sent_at {
            Some(previous) => {
                self.store
                    .replace_factor_code(c.id, previous, &hash, code_expires_at, now, &message)
                    .await?
            }
            // Nothing was sent (over the limit then): the step starts anew.
            None => {
                let fresh = FactorChallengeRecord {
                    code_hash: Some(hash),
                    code_expires_at: Some(code_expires_at),
                    sent_at: Some(now),
                    attempts: 0,
                    ..c.clone()
                };
                self.store
                    .insert_factor_challenge(&fresh, Some(&message))
                    .await?;
                true
            }
        };
        if !replaced {
            return Err(FactorError::TooEarly {
                retry_at: now + self.policy.resend_interval,
            });
        }
        let c = self
            .store
            .factor_challenge(id)
            .await?
            .ok_or(FactorError::NotFound)?;
        Ok(self.step_view(&c, Some(&phone)))
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

    async fn check_password(
        &self,
        account: &AccountRecord,
        password: &str,
    ) -> Result<(), FactorError> {
        // A session alone must not be a way to guess the password at
        // leisure: each try is taken and counted as at the login.
        let attempt = self.factor_attempt(account).await?;
        let ok = self
            .hasher
            .verify(password, &account.password_hash)
            .await
            .map_err(InternalError::from)?;
        if ok {
            self.give_back(attempt).await?;
            Ok(())
        } else {
            Err(FactorError::WrongPassword)
        }
    }

    async fn own_account(&self, account: AccountId) -> Result<AccountRecord, FactorError> {
        self.store
            .account(account)
            .await?
            .ok_or(FactorError::NotFound)
    }

    /// «Включить»: after the password, a code by SMS to the account's phone,
    /// or a new key for an app (shown as a QR code). The factor is on once
    /// the first code is typed.
    pub async fn start_factor_enrolment(
        &self,
        account: AccountId,
        method: FactorMethod,
        password: &str,
        lang: Lang,
        ip: IpAddr,
    ) -> Result<EnrolStep, FactorError> {
        let now = self.clock.now();
        let record = self.own_account(account).await?;
        self.check_password(&record, password).await?;
        if self.store.second_factor(account).await?.is_some() {
            return Err(FactorError::AlreadyOn);
        }
        let phone = self.account_phone(&record)?;
        let mut challenge = FactorChallengeRecord {
            id: uuid::Uuid::new_v4(),
            account_id: account,
            purpose: FactorPurpose::Enrol,
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
            expires_at: now + ENROL_TTL,
        };
        let mut message = None;
        match method {
            FactorMethod::Sms => {
                let Some(phone) = &phone else {
                    return Err(FactorError::NoPhone);
                };
                self.spend_factor_send(phone, ip).await?;
                let (hash, m) = self.factor_sms(account, phone, FactorPurpose::Enrol, lang, now);
                challenge.code_hash = Some(hash);
                challenge.code_expires_at = Some(now + self.policy.sms_code_ttl);
                challenge.sent_at = Some(now);
                message = Some(m);
            }
            FactorMethod::Totp => {
                let secret = TotpSecret::generate();
                challenge.totp_secret = Some(self.crypto.seal(
                    SealedField::FactorSecret,
                    challenge.id,
                    &secret.to_base32(),
                ));
            }
        }
        self.store
            .insert_factor_challenge(&challenge, message.as_ref())
            .await?;
        self.enrol_view(&record, &challenge, phone.as_ref())
    }

    fn enrol_view(
        &self,
        account: &AccountRecord,
        c: &FactorChallengeRecord,
        phone: Option<&PhoneNumber>,
    ) -> Result<EnrolStep, FactorError> {
        let app = match &c.totp_secret {
            Some(sealed) => {
                let secret = TotpSecret::from_base32(&self.crypto.open(
                    SealedField::FactorSecret,
                    c.id,
                    sealed,
                )?)
                .ok_or(InternalError::Corrupt("second factor key"))?;
                // The app shows the label beside the code: the portal and a
                // hint of whose account it is, never the whole phone.
                let label = phone.map_or_else(
                    || format!("uslugi {}", &account.id.to_string()[..8]),
                    PhoneNumber::masked,
                );
                Some(AppKey {
                    key_grouped: secret.grouped(),
                    otpauth_uri: totp::otpauth_uri("uslugi", &label, &secret),
                })
            }
            None => None,
        };
        Ok(EnrolStep {
            step: self.step_view(c, phone),
            app,
        })
    }

    async fn own_challenge(
        &self,
        account: AccountId,
        id: uuid::Uuid,
        purpose: FactorPurpose,
    ) -> Result<FactorChallengeRecord, FactorError> {
        let now = self.clock.now();
        match self.store.factor_challenge(id).await? {
            Some(c) if c.account_id == account && c.purpose == purpose && now < c.expires_at => {
                Ok(c)
            }
            _ => Err(FactorError::NotFound),
        }
    }

    /// The enrolment step, for its page (the QR code again after a wrong code).
    pub async fn factor_enrolment(
        &self,
        account: AccountId,
        id: uuid::Uuid,
    ) -> Result<EnrolStep, FactorError> {
        let c = self
            .own_challenge(account, id, FactorPurpose::Enrol)
            .await?;
        let record = self.own_account(account).await?;
        let phone = self.account_phone(&record)?;
        self.enrol_view(&record, &c, phone.as_ref())
    }

    /// The first code from the phone or the app: the factor is on, and the
    /// ten backup codes (shown this once) are returned.
    pub async fn confirm_factor_enrolment(
        &self,
        account: AccountId,
        id: uuid::Uuid,
        typed: &str,
        lang: Lang,
    ) -> Result<Vec<String>, FactorError> {
        let now = self.clock.now();
        let c = self
            .own_challenge(account, id, FactorPurpose::Enrol)
            .await?;
        let Typed::Digits(code) = read_code(typed)? else {
            // Backup codes do not exist before the factor does.
            return Err(FactorError::MalformedCode);
        };
        let max = max_attempts(self, c.method);
        let Some(attempt) = self.store.take_factor_attempt(c.id, max).await? else {
            return Err(FactorError::AttemptsExhausted);
        };
        let last_step = match c.method {
            FactorMethod::Totp => {
                let sealed = c
                    .totp_secret
                    .as_deref()
                    .ok_or(InternalError::Corrupt("enrolment key"))?;
                let secret = TotpSecret::from_base32(&self.crypto.open(
                    SealedField::FactorSecret,
                    c.id,
                    sealed,
                )?)
                .ok_or(InternalError::Corrupt("enrolment key"))?;
                totp::verify(&secret, &code, now, None).map(Some)
            }
            FactorMethod::Sms => self.sms_code_matches(&c, &code, now)?.then_some(None),
        };
        let Some(last_step) = last_step else {
            let attempts_left = max.saturating_sub(attempt);
            return Err(if attempts_left == 0 {
                FactorError::AttemptsExhausted
            } else {
                FactorError::WrongCode {
                    attempts_left: Some(attempts_left),
                }
            });
        };
        let record = self.own_account(account).await?;
        let codes = totp::backup_codes(BACKUP_CODES);
        let news = match c.method {
            FactorMethod::Sms => FactorNews::OnSms,
            FactorMethod::Totp => FactorNews::OnApp,
        };
        let enrolment = FactorEnrolment {
            challenge_id: c.id,
            factor: SecondFactorRecord {
                account_id: account,
                method: c.method,
                // The key moves from the challenge's row to the factor's:
                // sealed again, for the row it now belongs to.
                totp_secret: c
                    .totp_secret
                    .as_deref()
                    .map(|sealed| {
                        self.crypto
                            .open(SealedField::FactorSecret, c.id, sealed)
                            .map(|key| self.crypto.seal(SealedField::FactorSecret, account, &key))
                    })
                    .transpose()
                    .map_err(InternalError::from)?,
                // The code that proved the app is spent like any other.
                totp_last_step: last_step,
                enabled_at: now,
                backup_codes_left: BACKUP_CODES as u32,
            },
            backup_code_hashes: self.hash_backup_codes(&codes),
            notices: self.factor_notices(&record, news, lang, now)?,
            audit: self
                .audit
                .record(
                    Actor::Citizen(account),
                    action::SECOND_FACTOR_ENABLED,
                    c.method.as_str(),
                    now,
                )
                .write(),
        };
        if !self.store.enable_second_factor(&enrolment).await? {
            return Err(FactorError::AlreadyOn);
        }
        Ok(codes)
    }

    fn hash_backup_codes(&self, codes: &[String]) -> Vec<Vec<u8>> {
        codes
            .iter()
            .filter_map(|c| totp::normalize_backup_code(c))
            .map(|c| self.backup_hash(&c))
            .collect()
    }

    fn factor_notices(
        &self,
        account: &AccountRecord,
        news: FactorNews,
        lang: Lang,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxRecord>, InternalError> {
        let when = messages::format_local(now, self.policy.display_offset, lang);
        let letter = messages::second_factor_changed(lang, news, &when, &self.policy.base_url);
        let key = format!("second-factor:{}:{}", account.id, uuid::Uuid::new_v4());
        Ok(Contacts::of(&self.crypto, account)?.every(&self.crypto, &key, &letter, now))
    }

    /// «Получить код» before turning an SMS factor off or renewing its
    /// backup codes.
    pub async fn send_manage_code(
        &self,
        account: AccountId,
        lang: Lang,
        ip: IpAddr,
    ) -> Result<FactorStep, FactorError> {
        let now = self.clock.now();
        let record = self.own_account(account).await?;
        let Some(factor) = self.store.second_factor(account).await? else {
            return Err(FactorError::NotOn);
        };
        if factor.method != FactorMethod::Sms {
            return Err(FactorError::NothingToSend);
        }
        let Some(phone) = self.account_phone(&record)? else {
            return Err(FactorError::NoPhone);
        };
        if let Some(open) = self
            .store
            .account_factor_challenge(account, FactorPurpose::Manage)
            .await?
            && let Some(sent) = open.sent_at
            && now < sent + self.policy.resend_interval
        {
            return Err(FactorError::TooEarly {
                retry_at: sent + self.policy.resend_interval,
            });
        }
        self.spend_factor_send(&phone, ip).await?;
        let (hash, message) = self.factor_sms(account, &phone, FactorPurpose::Manage, lang, now);
        let challenge = FactorChallengeRecord {
            id: uuid::Uuid::new_v4(),
            account_id: account,
            purpose: FactorPurpose::Manage,
            method: FactorMethod::Sms,
            totp_secret: None,
            code_hash: Some(hash),
            code_expires_at: Some(now + self.policy.sms_code_ttl),
            sent_at: Some(now),
            attempts: 0,
            remember: false,
            device_hash: None,
            user_agent: None,
            network: None,
            lang: lang.code().to_owned(),
            created_at: now,
            expires_at: now + self.policy.sms_code_ttl,
        };
        self.store
            .insert_factor_challenge(&challenge, Some(&message))
            .await?;
        Ok(self.step_view(&challenge, Some(&phone)))
    }

    /// Checks the password and the factor for a change of the factor; the
    /// proof the store is to spend with the change.
    async fn prove_factor(
        &self,
        record: &AccountRecord,
        password: &str,
        typed: &str,
    ) -> Result<(SecondFactorRecord, Option<uuid::Uuid>, FactorProof, Attempt), FactorError> {
        let Some(factor) = self.store.second_factor(record.id).await? else {
            return Err(FactorError::NotOn);
        };
        self.check_password(record, password).await?;
        let (challenge, proof, attempt) = self.prove_code(record, &factor, typed).await?;
        Ok((factor, challenge, proof, attempt))
    }

    /// Checks a typed code against the account's factor (an app's code, the
    /// SMS code of its open «manage» step, or a backup code); the attempt is
    /// counted first, and stays counted unless the caller, having spent the
    /// proof, gives it back. Nothing is spent yet.
    async fn prove_code(
        &self,
        record: &AccountRecord,
        factor: &SecondFactorRecord,
        typed: &str,
    ) -> Result<(Option<uuid::Uuid>, FactorProof, Attempt), FactorError> {
        let now = self.clock.now();
        let typed = read_code(typed)?;
        let attempt = self.factor_attempt(record).await?;
        let proof = match typed {
            Typed::Backup(code) => Some((None, FactorProof::BackupCode(self.backup_hash(&code)))),
            Typed::Digits(code) => match factor.method {
                FactorMethod::Totp => self
                    .app_step(factor, &code, now)?
                    .map(|step| (None, FactorProof::TotpStep(step))),
                FactorMethod::Sms => {
                    let Some(c) = self
                        .store
                        .account_factor_challenge(record.id, FactorPurpose::Manage)
                        .await?
                        .filter(|c| now < c.expires_at)
                    else {
                        self.give_back(attempt).await?;
                        return Err(FactorError::CodeExpired);
                    };
                    let max = max_attempts(self, c.method);
                    if self.store.take_factor_attempt(c.id, max).await?.is_none() {
                        self.give_back(attempt).await?;
                        return Err(FactorError::AttemptsExhausted);
                    }
                    self.sms_code_matches(&c, &code, now)?
                        .then_some((Some(c.id), FactorProof::SmsCode))
                }
            },
        };
        match proof {
            Some((challenge, proof)) => Ok((challenge, proof, attempt)),
            None => Err(FactorError::WrongCode {
                attempts_left: None,
            }),
        }
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

    /// «Отключить»: asks the password and the factor (or a backup code).
    pub async fn disable_second_factor(
        &self,
        account: AccountId,
        password: &str,
        typed: &str,
        lang: Lang,
    ) -> Result<(), FactorError> {
        self.change_factor(account, password, typed, lang, None)
            .await
            .map(|_| ())
    }

    /// «Новые резервные коды»: the password and the factor; the old codes die.
    pub async fn renew_backup_codes(
        &self,
        account: AccountId,
        password: &str,
        typed: &str,
        lang: Lang,
    ) -> Result<Vec<String>, FactorError> {
        let codes = totp::backup_codes(BACKUP_CODES);
        self.change_factor(account, password, typed, lang, Some(&codes))
            .await?;
        Ok(codes)
    }

    /// A change the factor must allow: off (`new_codes` none) or new backup
    /// codes, written with the proof spent, the notices and the audit record.
    async fn change_factor(
        &self,
        account: AccountId,
        password: &str,
        typed: &str,
        lang: Lang,
        new_codes: Option<&[String]>,
    ) -> Result<(), FactorError> {
        let now = self.clock.now();
        let record = self.own_account(account).await?;
        let (factor, challenge_id, proof, attempt) =
            self.prove_factor(&record, password, typed).await?;
        let (news, what) = match new_codes {
            None => (FactorNews::Off, action::SECOND_FACTOR_DISABLED),
            Some(_) => (FactorNews::NewBackupCodes, action::BACKUP_CODES_RENEWED),
        };
        let change = FactorChange {
            account_id: account,
            challenge_id,
            proof,
            new_backup_codes: new_codes.map(|c| self.hash_backup_codes(c)),
            notices: self.factor_notices(&record, news, lang, now)?,
            audit: self
                .audit
                .record(Actor::Citizen(account), what, factor.method.as_str(), now)
                .write(),
            at: now,
        };
        if !self.store.change_second_factor(&change).await? {
            // Replayed: the attempt stays counted.
            return Err(FactorError::WrongCode {
                attempts_left: None,
            });
        }
        self.give_back(attempt).await?;
        Ok(())
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
