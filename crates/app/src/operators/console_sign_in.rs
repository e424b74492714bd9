//! The console's login: password and authenticator code in one step, then a
//! session bound to the operator's center.

use time::{Duration, OffsetDateTime};
use uslugi_domain::OperatorLogin;

use crate::accounts::InternalError;
use crate::audit::action;
use crate::crypto::{self, HashPurpose, SealedField};
use crate::ports::{OperatorSessionRecord, StoreError};
use crate::totp;

use super::*;

#[derive(Debug, thiserror::Error)]
pub enum OperatorLoginFailure {
    /// Unknown login, wrong password, wrong or replayed code, throttled,
    /// disabled or not enrolled: one answer for all.
    #[error("wrong login, password or code")]
    BadCredentials,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(OperatorLoginFailure: StoreError);

#[derive(Debug, Clone)]
pub struct NewOperatorSession {
    pub token: String,
    pub expires_at: OffsetDateTime,
}

impl Operators {
    // ------------------------------------------------------------ sessions

    /// Logs in with login, password and the app's code, all at once: there
    /// is no half-logged-in state to attack. One answer for every failure,
    /// after the same work.
    pub async fn log_in(
        &self,
        login: &str,
        password: &str,
        code: &str,
    ) -> Result<NewOperatorSession, OperatorLoginFailure> {
        let now = self.clock.now();
        let op = match OperatorLogin::parse(login) {
            Ok(l) => self.store.operator_by_login(l.as_str()).await?,
            Err(_) => None,
        };
        let usable = op.filter(|o| {
            o.enrolled_at.is_some() && o.disabled_at.is_none() && o.password_hash.is_some()
        });
        let Some(op) = usable else {
            self.hasher.verify_dummy(password).await;
            return Err(OperatorLoginFailure::BadCredentials);
        };
        // The attempt is taken (throttle checked, failure counted) before the
        // password and code are evaluated: 40 concurrent guesses at a code
        // cannot all be tried. The count is cleared once both are right.
        let until = self
            .policy
            .throttle_delay(op.failed_logins + 1)
            .map(|wait| now + wait);
        if !self
            .store
            .take_operator_attempt(op.id, op.failed_logins, now, until)
            .await?
        {
            self.hasher.verify_dummy(password).await;
            return Err(OperatorLoginFailure::BadCredentials);
        }
        let password_ok = self
            .hasher
            .verify(password, op.password_hash.as_deref().unwrap_or_default())
            .await
            .map_err(InternalError::from)?;
        let step = if password_ok {
            totp::verify(&self.secret_of(&op)?, code, now, op.totp_last_step)
        } else {
            None
        };
        // Taking the step in the database makes a code work once, even when
        // two nodes see it at the same moment.
        let ok = match step {
            Some(s) => self.store.take_totp_step(op.id, s).await?,
            None => false,
        };
        if !ok {
            let reason = if password_ok {
                "wrong_code"
            } else {
                "wrong_password"
            };
            self.store
                .append_audit(
                    &self
                        .audit
                        .by_operator(op.id, &op.center_id, action::OPERATOR_LOGIN, "refused", now)
                        .details(serde_json::json!({ "reason": reason }))
                        .write(),
                )
                .await?;
            return Err(OperatorLoginFailure::BadCredentials);
        }
        self.store.clear_operator_failures(op.id).await?;
        let token = crypto::random_token();
        let session = OperatorSessionRecord {
            token_hash: self
                .crypto
                .keyed_hash(HashPurpose::OperatorSession, token.as_bytes()),
            operator_id: op.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.policy.session_absolute,
        };
        self.store.insert_operator_session(&session).await?;
        self.store
            .append_audit(
                &self
                    .audit
                    .by_operator(op.id, &op.center_id, action::OPERATOR_LOGIN, "ok", now)
                    .write(),
            )
            .await?;
        Ok(NewOperatorSession {
            token,
            expires_at: session.expires_at,
        })
    }

    /// The operator a console token stands for; `None` after 15 minutes
    /// without a request, at the end of the day, or once disabled.
    pub async fn authenticate(&self, token: &str) -> Result<Option<OperatorAuth>, InternalError> {
        let now = self.clock.now();
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::OperatorSession, token.as_bytes());
        let Some(s) = self.store.operator_session(&hash).await? else {
            return Ok(None);
        };
        if now >= s.expires_at || now >= s.last_seen_at + self.policy.session_idle {
            self.store.delete_operator_session(&hash).await?;
            return Ok(None);
        }
        let Some(op) = self.store.operator(s.operator_id).await? else {
            return Ok(None);
        };
        if op.disabled_at.is_some() || op.enrolled_at.is_none() {
            self.store.delete_operator_session(&hash).await?;
            return Ok(None);
        }
        // A few seconds of slack in a 15-minute timeout cost nothing and
        // save a write on every click.
        if now - s.last_seen_at >= Duration::seconds(10) {
            self.store.touch_operator_session(&hash, now).await?;
        }
        let center = self.centers.center(&op.center_id).await?;
        Ok(Some(OperatorAuth {
            id: op.id,
            center_name: center
                .as_ref()
                .map_or_else(|| op.center_id.clone(), |c| c.name.clone()),
            services: center.map(|c| c.services).unwrap_or_default(),
            session: hash,
            center_id: op.center_id,
            role: op.role,
            name: op
                .name
                .as_deref()
                .map(|n| self.crypto.open(SealedField::OperatorName, op.id, n))
                .transpose()?
                .unwrap_or_default(),
        }))
    }

    pub async fn log_out(&self, token: &str) -> Result<(), InternalError> {
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::OperatorSession, token.as_bytes());
        Ok(self.store.delete_operator_session(&hash).await?)
    }

    /// Removes console sessions and phone confirmations that ran out.
    pub async fn sweep(&self) -> Result<u64, InternalError> {
        let now = self.clock.now();
        let sessions = self
            .store
            .delete_expired_operator_sessions(now, self.policy.session_idle)
            .await?;
        Ok(sessions + self.store.delete_expired_desk_phones(now).await?)
    }
}
