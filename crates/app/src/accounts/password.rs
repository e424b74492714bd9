//! A password change by its holder: the current password is checked, the new
//! one must pass the policy, other sessions end.

use uslugi_domain::PasswordProblem;

use crate::crypto::{self, HashPurpose};
use crate::lang::Lang;
use crate::ports::StoreError;

use super::*;

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is wrong")]
    WrongCurrent,
    /// Too many wrong passwords in a row (here or at the login): wait.
    #[error("too many wrong passwords; try again later")]
    Throttled,
    #[error("the new password does not meet the rules")]
    Password {
        problems: Vec<PasswordProblem>,
        mismatch: bool,
    },
    /// The new password is the one being replaced.
    #[error("the new password is the same as the old one")]
    Unchanged,
    #[error("the session has ended")]
    NoSession,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(PasswordChangeError: StoreError);

impl Accounts {
    /// Sets a new password. With a temporary password (just typed to log
    /// in) the current one is not asked again and every other session
    /// ends; otherwise the current password is checked, and other sessions
    /// end when the person asks.
    pub async fn change_password(
        &self,
        token: &str,
        current: Option<&str>,
        new: &str,
        confirmation: &str,
        end_others: bool,
        lang: Lang,
    ) -> Result<(), PasswordChangeError> {
        let now = self.clock.now();
        let Some(session) = self.authenticate(token).await? else {
            return Err(PasswordChangeError::NoSession);
        };
        let Some(account) = self.store.account(session.account_id).await? else {
            return Err(PasswordChangeError::NoSession);
        };
        if !session.must_change_password {
            let Some(current) = current else {
                return Err(PasswordChangeError::WrongCurrent);
            };
            // Each try of the current password is taken and counted as at
            // the login: a stolen session is no unthrottled oracle.
            let attempt = match self.take_attempt(&account).await? {
                Ok(attempt) => attempt,
                Err(_) => return Err(PasswordChangeError::Throttled),
            };
            let ok = self.password_matches(&account, current).await?;
            if !ok {
                return Err(PasswordChangeError::WrongCurrent);
            }
            self.give_back(attempt).await?;
        }
        let profile = self
            .profile(account.id)
            .await?
            .ok_or(PasswordChangeError::NoSession)?;
        let password = self
            .new_account_password(&profile, account.snils_index.as_deref(), new, confirmation)
            .map_err(|(problems, mismatch)| PasswordChangeError::Password { problems, mismatch })?;
        if self.password_matches(&account, password.expose()).await? {
            return Err(PasswordChangeError::Unchanged);
        }
        let hash = self
            .hasher
            .hash(password.expose())
            .await
            .map_err(InternalError::from)?;
        let keep = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        let temporary = session.must_change_password;
        let audit = self
            .audit
            .record(
                crate::audit::Actor::Citizen(account.id),
                crate::audit::action::PASSWORD_CHANGED,
                if temporary {
                    "temporary_replaced"
                } else {
                    "changed"
                },
                now,
            )
            .write();
        // The first own password after a temporary one is no news to anyone.
        let notices = if temporary {
            Vec::new()
        } else {
            self.password_changed_notices(&account, lang, now)?
        };
        self.store
            .change_password(
                account.id,
                &hash,
                &keep,
                end_others || temporary,
                now,
                &notices,
                &audit,
            )
            .await?;
        Ok(())
    }

    pub(super) fn holds_snils(&self, snils_index: Option<&[u8]>, password: &str) -> bool {
        snils_index.is_some_and(|known| {
            uslugi_domain::eleven_digit_runs(password)
                .iter()
                .any(|run| {
                    crypto::constant_time_eq(
                        known,
                        &self
                            .crypto
                            .keyed_hash(HashPurpose::SnilsIndex, run.as_bytes()),
                    )
                })
        })
    }
}
