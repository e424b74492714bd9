//! Signing in and the sessions: log in with a password, find the session of a
//! request, log out, unlock a login, sweep what expired.

use time::{Duration, OffsetDateTime};
use uslugi_domain::AccountId;

use crate::crypto::{self, HashPurpose};
use crate::ports::{AccountRecord, SessionRecord, StoreError};

use super::*;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown login, wrong password, throttled or locked: one answer for all.
    #[error("wrong login or password")]
    BadCredentials,
    /// The right temporary password, after its 24 hours: said only to
    /// someone who typed it, so it tells a stranger nothing.
    #[error("the temporary password has expired")]
    TemporaryPasswordExpired,
    /// The right password of an account an administrator disabled: said
    /// only to someone who typed it.
    #[error("the account is disabled")]
    AccountDisabled,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(LoginError: StoreError);

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub account_id: AccountId,
    pub expires_at: OffsetDateTime,
    pub remember: bool,
    /// Logged in with a temporary password: the person must set their own
    /// before anything else.
    pub must_change_password: bool,
}

#[derive(Debug, Clone)]
pub struct AuthSession {
    pub account_id: AccountId,
    pub expires_at: OffsetDateTime,
    pub must_change_password: bool,
}

impl Accounts {
    pub(super) async fn find_login(
        &self,
        login: &str,
    ) -> Result<Option<AccountRecord>, StoreError> {
        for (kind, index) in self.login_candidates(login) {
            if let Some(account) = self.store.account_by_login(kind, &index).await? {
                return Ok(Some(account));
            }
        }
        Ok(None)
    }

    /// Logs in with a phone, e-mail or SNILS and a password. Unknown logins,
    /// wrong passwords, throttled and locked accounts all get the same answer
    /// after the same work: a password hash, one counted write, one audit
    /// record.
    pub async fn log_in(
        &self,
        login: &str,
        password: &str,
        remember: bool,
        client: &crate::security::ClientInfo,
    ) -> Result<crate::second_factor::LoginOutcome, LoginError> {
        use crate::second_factor::LoginOutcome;
        let result = self.password_step(login, password, remember, client).await;
        // Unknown, wrong and throttled are one answer here as in the reply.
        let [success, second_factor, refused, expired, disabled, error] = super::LOGIN_RESULTS;
        let counted = match &result {
            Ok(LoginOutcome::Session(_)) => success,
            Ok(LoginOutcome::SecondFactor(_)) => second_factor,
            Err(LoginError::BadCredentials) => refused,
            Err(LoginError::TemporaryPasswordExpired) => expired,
            Err(LoginError::AccountDisabled) => disabled,
            Err(LoginError::Internal(_)) => error,
        };
        metrics::counter!("uslugi_logins_total", "result" => counted).increment(1);
        result
    }

    async fn password_step(
        &self,
        login: &str,
        password: &str,
        remember: bool,
        client: &crate::security::ClientInfo,
    ) -> Result<crate::second_factor::LoginOutcome, LoginError> {
        use crate::second_factor::LoginOutcome;
        let now = self.clock.now();
        let Some(account) = self.find_login(login).await? else {
            self.refuse_unknown_login(login, client, now).await?;
            self.hasher.verify_dummy(password).await;
            return Err(LoginError::BadCredentials);
        };
        // The attempt is counted before the password is compared: 200
        // concurrent guesses cannot all be evaluated, and a throttled or
        // locked account opens no session even with the right password.
        let attempt = match self.take_attempt(&account).await? {
            Ok(attempt) => attempt,
            Err(_) => {
                self.hasher.verify_dummy(password).await;
                self.audit_login(account.id, "refused_throttled", client, now)
                    .await?;
                return Err(LoginError::BadCredentials);
            }
        };
        let ok = self.password_matches(&account, password).await?;
        if !ok {
            self.audit_login(account.id, "wrong_password", client, now)
                .await?;
            return Err(LoginError::BadCredentials);
        }
        if self.store.account_disabled_at(account.id).await?.is_some() {
            self.give_back(attempt).await?;
            self.audit_login(account.id, "refused_disabled", client, now)
                .await?;
            return Err(LoginError::AccountDisabled);
        }
        if account.must_change_password && account.password_expires_at.is_some_and(|at| now >= at) {
            self.give_back(attempt).await?;
            return Err(LoginError::TemporaryPasswordExpired);
        }
        // With a second factor the password alone proves too little to
        // forgive the wrong tries before it: they are cleared with the code.
        if let Some(factor) = self.store.second_factor(account.id).await? {
            self.give_back(attempt).await?;
            let step = self
                .start_factor_login(&account, &factor, remember, client)
                .await?;
            return Ok(LoginOutcome::SecondFactor(step));
        }
        let token = crypto::random_token();
        let session = SessionRecord {
            device_hash: Some(client.device_hash(&self.crypto)),
            user_agent: client.user_agent.clone(),
            network: Some(crate::security::network_of(client.ip)),
            ..self.session_record(&account, &token, remember, now)
        };
        match self.open_session(&account, &session, client, now).await {
            Ok(()) => {}
            // An administrator disabled the account after the check above:
            // the session's insert refused it and nothing was written.
            Err(InternalError::Store(StoreError::NotFound)) => {
                self.give_back(attempt).await?;
                self.audit_login(account.id, "refused_disabled", client, now)
                    .await?;
                return Err(LoginError::AccountDisabled);
            }
            Err(e) => return Err(e.into()),
        }
        Ok(LoginOutcome::Session(NewSession {
            token,
            account_id: account.id,
            expires_at: session.expires_at,
            remember,
            must_change_password: account.must_change_password,
        }))
    }

    /// A new session of `account` for `token`, with the lifetimes the
    /// policy gives a remembered or an ordinary one; the device it was
    /// opened on is for the caller to fill in (none here).
    pub(crate) fn session_record(
        &self,
        account: &AccountRecord,
        token: &str,
        remember: bool,
        now: OffsetDateTime,
    ) -> SessionRecord {
        let (idle, lifetime) = if remember {
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
            remember,
            must_change_password: account.must_change_password,
            device_hash: None,
            user_agent: None,
            network: None,
        }
    }

    /// Finds the live session a token stands for, and notes the activity.
    pub async fn authenticate(&self, token: &str) -> Result<Option<AuthSession>, InternalError> {
        let now = self.clock.now();
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        let Some(s) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        if now >= s.expires_at || now >= s.last_seen_at + s.idle_timeout {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        // Writing on every request would make reads pay for writes; a minute
        // of slack in the idle timeout costs nothing.
        if now - s.last_seen_at >= Duration::MINUTE {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Some(AuthSession {
            account_id: s.account_id,
            expires_at: s.expires_at.min(now + s.idle_timeout),
            must_change_password: s.must_change_password,
        }))
    }

    pub async fn log_out(&self, token: &str) -> Result<(), InternalError> {
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        Ok(self.store.delete_session(&hash).await?)
    }

    /// Lifts throttling and the lock of the account with this login; returns
    /// whether such an account exists. For administrators.
    pub async fn unlock(&self, login: &str) -> Result<bool, InternalError> {
        match self.find_login(login).await? {
            Some(a) => {
                self.store.clear_login_failures(a.id).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes what has expired: registrations, sessions, recoveries, contact
    /// changes, old rate events; erases the accounts whose deletion is due.
    pub async fn sweep(&self) -> Result<(), InternalError> {
        let now = self.clock.now();
        self.store.delete_expired_registrations(now).await?;
        self.store.delete_expired_sessions(now).await?;
        self.store.delete_expired_recoveries(now).await?;
        self.store.delete_expired_factor_challenges(now).await?;
        self.store.delete_expired_contact_changes(now).await?;
        self.store.purge_rate_events(now - RATE_WINDOW * 2).await?;
        self.erase_due_deletions().await?;
        Ok(())
    }
}
