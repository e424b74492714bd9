//! «Удалить учётную запись»: the citizen's own deletion (152-ФЗ, art. 21).
//!
//! Asked with the password and, when the account has one, the second
//! factor: a stolen session alone must not erase a person's account. Every
//! session ends with the request, the contacts are told the date, and for
//! [`DELETION_GRACE`] a login cancels it (the login's transaction removes
//! the request; see `login_writes`). Then the sweep erases the account as
//! `admin account delete` does: every row of it goes, sealed values with
//! it, and the audit log keeps what was done, by id, without personal data.
use time::{Duration, OffsetDateTime};
use uslugi_domain::AccountId;

use crate::accounts::{Accounts, InternalError};
use crate::audit::{Actor, action};
use crate::lang::Lang;
use crate::messages;
use crate::notices::Contacts;
use crate::ports::{
    AccountRecord, CancelledDeletion, DeletionRequest, OutboxRecord, PendingDeletion,
};
use crate::second_factor::FactorError;

/// How long a deletion waits, cancellable by a login.
pub const DELETION_GRACE: Duration = Duration::days(30);

/// How many accounts one sweep erases at the most.
const ERASE_BATCH: u32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    /// The password or the factor refused it (the same answers as a
    /// change of the factor).
    #[error(transparent)]
    Proof(FactorError),
    /// The account has a second factor and no code was given.
    #[error("the second factor's code is needed")]
    CodeRequired,
    /// Asked already, from another session a moment before this one ended.
    #[error("the deletion is asked already")]
    Pending,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<FactorError> for DeletionError {
    fn from(e: FactorError) -> Self {
        match e {
            FactorError::Internal(e) => Self::Internal(e),
            e => Self::Proof(e),
        }
    }
}

crate::accounts::into_internal!(DeletionError: crate::crypto::CryptoError, crate::ports::StoreError);

impl Accounts {
    /// Asks for the account's deletion: the password, and the factor's code
    /// (an app's, the SMS code of «Получить код», or a backup code) when
    /// the account has a factor. Every session ends; the date of erasure is
    /// returned.
    pub async fn request_deletion(
        &self,
        account: AccountId,
        password: &str,
        code: Option<&str>,
        lang: Lang,
    ) -> Result<PendingDeletion, DeletionError> {
        let now = self.clock.now();
        let record = self.own_account(account).await?;
        let factor = self.store.second_factor(account).await?;
        let code = code.map(str::trim).filter(|c| !c.is_empty());
        if factor.is_some() && code.is_none() {
            return Err(DeletionError::CodeRequired);
        }
        self.check_password(&record, password).await?;
        let (proof, attempt) = match (&factor, code) {
            (Some(factor), Some(code)) => {
                let (challenge, proof, attempt) = self.prove_code(&record, factor, code).await?;
                (Some((challenge, proof)), Some(attempt))
            }
            _ => (None, None),
        };
        let pending = PendingDeletion {
            requested_at: now,
            erase_after: now + DELETION_GRACE,
        };
        let erase_on =
            messages::format_local(pending.erase_after, self.policy.display_offset, lang);
        let letter = messages::deletion_scheduled(lang, &erase_on, &self.policy.base_url);
        let request = DeletionRequest {
            account_id: account,
            requested_at: now,
            erase_after: pending.erase_after,
            proof,
            notices: self.deletion_notices(&record, &letter, now)?,
            audit: self
                .audit
                .record(
                    Actor::Citizen(account),
                    action::DELETION_REQUESTED,
                    "scheduled",
                    now,
                )
                .details(serde_json::json!({
                    "erase_after": pending.erase_after.unix_timestamp(),
                }))
                .write(),
        };
        if !self.store.schedule_deletion(&request).await? {
            // Asked twice at once, or the code was spent by another request
            // meanwhile (a replay): the attempt stays counted.
            return Err(match self.store.pending_deletion(account).await? {
                Some(_) => DeletionError::Pending,
                None => FactorError::WrongCode {
                    attempts_left: None,
                }
                .into(),
            });
        }
        if let Some(attempt) = attempt {
            self.give_back(attempt).await?;
        }
        Ok(pending)
    }

    /// The deletion the account waits for, if any.
    pub async fn pending_deletion(
        &self,
        account: AccountId,
    ) -> Result<Option<PendingDeletion>, InternalError> {
        Ok(self.store.pending_deletion(account).await?)
    }

    /// What a login of `account` writes if it cancels a pending deletion:
    /// the notices and the audit record. Prepared for every login (a few
    /// seals, no read): the login's transaction decides whether a deletion
    /// was pending, so one asked a moment before the login is cancelled too.
    pub(crate) fn cancelled_deletion(
        &self,
        account: &AccountRecord,
        lang: Lang,
        now: OffsetDateTime,
    ) -> Result<CancelledDeletion, InternalError> {
        let when = messages::format_local(now, self.policy.display_offset, lang);
        let letter = messages::deletion_cancelled(lang, &when, &self.policy.base_url);
        Ok(CancelledDeletion {
            notices: self.deletion_notices(account, &letter, now)?,
            audit: self
                .audit
                .record(
                    Actor::Citizen(account.id),
                    action::DELETION_CANCELLED,
                    "login",
                    now,
                )
                .write(),
        })
    }

    /// Erases the accounts whose grace is over. A login that cancels one
    /// meanwhile wins: the erasure checks the request is still there in
    /// its own transaction. Returns how many were erased.
    pub async fn erase_due_deletions(&self) -> Result<u64, InternalError> {
        let now = self.clock.now();
        let mut erased = 0;
        for account in self.store.due_deletions(now, ERASE_BATCH).await? {
            let audit = self
                .audit
                .record(
                    Actor::System,
                    action::ACCOUNT_DELETED,
                    "erased_on_request",
                    now,
                )
                .account(account)
                .write();
            if self.store.erase_if_due(account, now, &audit).await? {
                erased += 1;
            }
        }
        Ok(erased)
    }

    fn deletion_notices(
        &self,
        account: &AccountRecord,
        letter: &messages::Letter,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxRecord>, InternalError> {
        let key = format!("deletion:{}:{}", account.id, uuid::Uuid::new_v4());
        Ok(Contacts::of(&self.crypto, account)?.every(&self.crypto, &key, letter, now))
    }
}
