//! Turning the second factor on: the first code proves the phone or the app;
//! the backup codes are shown once.
use std::net::IpAddr;

use time::Duration;
use uslugi_domain::{AccountId, FactorMethod, FactorPurpose, PhoneNumber, Token};

use crate::accounts::{Accounts, InternalError};
use crate::audit::{Actor, action};
use crate::crypto::SealedField;
use crate::lang::Lang;
use crate::messages::FactorNews;
use crate::ports::{AccountRecord, FactorChallengeRecord, FactorEnrolment, SecondFactorRecord};
use crate::totp::{self, TotpSecret};

use super::*;

/// How long an enrolment waits for the first code.
const ENROL_TTL: Duration = Duration::minutes(15);

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

impl Accounts {
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
        let mut challenge = FactorChallengeRecord::started(
            account,
            FactorPurpose::Enrol,
            method,
            lang,
            now,
            ENROL_TTL,
        );
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

    pub(super) fn enrol_view(
        &self,
        account: &AccountRecord,
        c: &FactorChallengeRecord,
        phone: Option<&PhoneNumber>,
    ) -> Result<EnrolStep, FactorError> {
        let app = match &c.totp_secret {
            Some(sealed) => {
                let secret = self.app_key(c.id, Some(sealed), "second factor key")?;
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

    pub(super) async fn own_challenge(
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
                let secret = self.app_key(c.id, c.totp_secret.as_deref(), "enrolment key")?;
                totp::verify(&secret, &code, now, None).map(Some)
            }
            FactorMethod::Sms => self.sms_code_matches(&c, &code, now)?.then_some(None),
        };
        let Some(last_step) = last_step else {
            return Err(wrong_code(attempt, max));
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

    pub(super) fn hash_backup_codes(&self, codes: &[String]) -> Vec<Vec<u8>> {
        codes
            .iter()
            .filter_map(|c| totp::normalize_backup_code(c))
            .map(|c| self.backup_hash(&c))
            .collect()
    }
}
