//! Managing a factor that is on: turning it off and renewing the backup
//! codes, each proven by the factor itself.
use std::net::IpAddr;

use time::OffsetDateTime;
use uslugi_domain::{AccountId, FactorMethod, FactorPurpose, Token};

use crate::accounts::{Accounts, InternalError};
use crate::attempts::Attempt;
use crate::audit::{Actor, action};
use crate::lang::Lang;
use crate::messages::{self, FactorNews};
use crate::notices::Contacts;
use crate::ports::{
    AccountRecord, FactorChallengeRecord, FactorChange, FactorProof, OutboxRecord,
    SecondFactorRecord,
};
use crate::totp;

use super::*;

impl Accounts {
    pub(crate) fn factor_notices(
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
            code_hash: Some(hash),
            code_expires_at: Some(now + self.policy.sms_code_ttl),
            sent_at: Some(now),
            ..FactorChallengeRecord::started(
                account,
                FactorPurpose::Manage,
                FactorMethod::Sms,
                lang,
                now,
                self.policy.sms_code_ttl,
            )
        };
        self.store
            .insert_factor_challenge(&challenge, Some(&message))
            .await?;
        Ok(self.step_view(&challenge, Some(&phone)))
    }

    /// Checks the password and the factor for a change of the factor; the
    /// proof the store is to spend with the change.
    pub(super) async fn prove_factor(
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
    pub(crate) async fn prove_code(
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
    pub(super) async fn change_factor(
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
