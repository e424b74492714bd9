//! The second step of a login: an SMS code, an app's code or a backup code,
//! each attempt taken before it is compared.
use std::net::IpAddr;

use time::OffsetDateTime;
use uslugi_domain::{AccountId, FactorMethod, FactorPurpose};

use crate::accounts::{Accounts, NewSession};
use crate::audit::{Actor, action};
use crate::crypto;
use crate::lang::Lang;
use crate::ports::{
    AccountRecord, FactorChallengeRecord, FactorProof, SecondFactorRecord, SessionRecord,
    StoreError,
};
use crate::totp;

use super::*;

/// What a login's password step led to.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Session(NewSession),
    /// The password was right; the second factor is asked next.
    SecondFactor(FactorStep),
}

impl Accounts {
    pub(super) async fn login_challenge(
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
                let writes = self
                    .login_writes(&account, &session, lang, now, Some(how))
                    .await?;
                // `NotFound`: an administrator disabled the account since
                // the password step, and the session's insert refused it
                // (the whole transaction, the proof's spending included,
                // is undone). The step is over; the next login says why.
                self.store
                    .complete_factor_login(c.id, proof, &session, &writes)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => FactorError::NotFound,
                        e => e.into(),
                    })?
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
            return Err(wrong_code(attempt, max));
        };
        Ok(NewSession {
            token,
            account_id: account.id,
            expires_at: session.expires_at,
            remember: session.remember,
            must_change_password: session.must_change_password,
        })
    }

    pub(super) fn factor_session(
        &self,
        account: &AccountRecord,
        c: &FactorChallengeRecord,
        token: &str,
        now: OffsetDateTime,
    ) -> SessionRecord {
        // The device is the one the password came from, kept by the step.
        SessionRecord {
            device_hash: c.device_hash.clone(),
            user_agent: c.user_agent.clone(),
            network: c.network.clone(),
            ..self.session_record(account, token, c.remember, now)
        }
    }

    /// The time step an app's code belongs to, if it is right and newer
    /// than the last one taken.
    pub(super) fn app_step(
        &self,
        factor: &SecondFactorRecord,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Option<i64>, FactorError> {
        let secret = self.app_key(
            factor.account_id,
            factor.totp_secret.as_deref(),
            "second factor key",
        )?;
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
            crate::challenge::resend_due(sent, self.policy.resend_interval, now)
                .map_err(|retry_at| FactorError::TooEarly { retry_at })?;
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
}
