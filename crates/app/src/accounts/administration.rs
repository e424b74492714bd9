//! What an administrator does to a citizen's account (`uslugi admin account
//! …`), on a verified request or in an incident: find it by a login, see
//! it, disable it (its sessions end at once and no new one opens),
//! enable it again, and erase it. Each writes an audit record by the administrator; none
//! holds the login searched for or the account's data.
use time::OffsetDateTime;
use uslugi_domain::{AccountId, AccountLevel, Email, FactorMethod, PhoneNumber, Snils, Token};

use super::{Accounts, InternalError, Profile};
use crate::audit::{Actor, action};

/// The login an administrator looks an account up by.
#[derive(Debug, Clone)]
pub enum AccountLookup {
    Phone(PhoneNumber),
    Email(Email),
    Snils(Snils),
}

/// What disabling an account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disabling {
    Disabled { sessions_ended: u64 },
    Already,
    NoSuchAccount,
}

/// What `admin account show` prints.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub profile: Profile,
    pub created_at: OffsetDateTime,
    pub failed_logins: u32,
    pub locked: bool,
    pub second_factor: Option<FactorMethod>,
    /// Sessions not yet ended.
    pub sessions: usize,
    pub disabled_at: Option<OffsetDateTime>,
    /// When the citizen's own deletion erases it, if one is asked.
    pub erase_after: Option<OffsetDateTime>,
}

impl AccountSummary {
    pub fn level(&self) -> AccountLevel {
        self.profile.level
    }
}

impl Accounts {
    /// The account with this login, if one has it.
    pub async fn find_account(
        &self,
        by: &AccountLookup,
    ) -> Result<Option<AccountId>, InternalError> {
        let (kind, index) = self.login_index(by);
        let searched_by = kind.as_str();
        let found = self
            .store
            .account_by_login(kind, &index)
            .await?
            .map(|a| a.id);
        let mut record = self
            .audit
            .record(
                Actor::Admin,
                action::ACCOUNT_SEARCHED,
                if found.is_some() {
                    "found"
                } else {
                    "not_found"
                },
                self.clock.now(),
            )
            .details(serde_json::json!({ "by": searched_by }));
        if let Some(id) = found {
            record = record.account(id);
        }
        self.store.append_audit(&record.write()).await?;
        Ok(found)
    }

    /// Everything `admin account show` prints of the account.
    pub async fn account_summary(
        &self,
        id: AccountId,
    ) -> Result<Option<AccountSummary>, InternalError> {
        let Some(account) = self.store.account(id).await? else {
            return Ok(None);
        };
        let Some(profile) = self.profile(id).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let sessions = self
            .store
            .account_sessions(id)
            .await?
            .into_iter()
            .filter(|s| now < s.expires_at && now < s.last_seen_at + s.idle_timeout)
            .count();
        let summary = AccountSummary {
            profile,
            created_at: account.created_at,
            failed_logins: account.failed_logins,
            locked: account.locked,
            second_factor: self.store.second_factor(id).await?.map(|f| f.method),
            sessions,
            disabled_at: self.store.account_disabled_at(id).await?,
            erase_after: self
                .store
                .pending_deletion(id)
                .await?
                .map(|d| d.erase_after),
        };
        let write = self
            .audit
            .record(Actor::Admin, action::ACCOUNT_VIEWED, "viewed", now)
            .account(id)
            .write();
        self.store.append_audit(&write).await?;
        Ok(Some(summary))
    }

    /// Disables the account: its sessions end in the same transaction and
    /// none opens until it is enabled (a login with the right password is
    /// told so). `reason` goes into the audit record: the request's
    /// reference, never personal data.
    pub async fn disable_account(
        &self,
        id: AccountId,
        reason: &str,
    ) -> Result<Disabling, InternalError> {
        if self.store.account(id).await?.is_none() {
            return Ok(Disabling::NoSuchAccount);
        }
        let now = self.clock.now();
        let write = self
            .audit
            .record(Actor::Admin, action::ACCOUNT_DISABLED, "disabled", now)
            .account(id)
            .details(serde_json::json!({ "reason": reason }))
            .write();
        Ok(match self.store.disable_account(id, now, &write).await? {
            Some(sessions_ended) => Disabling::Disabled { sessions_ended },
            None => Disabling::Already,
        })
    }

    /// Erases the account at once (an administrator acting on a verified
    /// request; no grace period): everything it holds goes in one
    /// transaction, and the audit log keeps what was done to it, by id.
    /// False when there is no such account.
    pub async fn delete_account(&self, id: AccountId) -> Result<bool, InternalError> {
        let write = self
            .audit
            .record(
                Actor::Admin,
                action::ACCOUNT_DELETED,
                "erased",
                self.clock.now(),
            )
            .account(id)
            .write();
        Ok(self.store.delete_account(id, &write).await?)
    }

    /// Enables a disabled account; false when it was not disabled.
    pub async fn enable_account(&self, id: AccountId) -> Result<bool, InternalError> {
        let write = self
            .audit
            .record(
                Actor::Admin,
                action::ACCOUNT_ENABLED,
                "enabled",
                self.clock.now(),
            )
            .account(id)
            .write();
        Ok(self.store.enable_account(id, &write).await?)
    }
}
