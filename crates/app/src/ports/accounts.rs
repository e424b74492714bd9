//! Accounts: logins, levels, passwords and the login throttle.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, AccountLevel, ConfirmedVia, LoginKind};

use super::{AuditWrite, KeyedHash, Sealed, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub level: AccountLevel,
    pub surname: Sealed,
    pub given_name: Sealed,
    pub phone: Option<Sealed>,
    pub phone_index: Option<KeyedHash>,
    pub email: Option<Sealed>,
    pub email_index: Option<KeyedHash>,
    pub snils_index: Option<KeyedHash>,
    /// Keyed hash of the verified passport's series and number.
    pub passport_index: Option<KeyedHash>,
    pub password_hash: String,
    /// The password is a temporary one from a service center: it must be
    /// replaced at the first login, and works only until `password_expires_at`.
    pub must_change_password: bool,
    pub password_expires_at: Option<OffsetDateTime>,
    pub failed_logins: u32,
    pub throttled_until: Option<OffsetDateTime>,
    pub locked: bool,
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_via: Option<ConfirmedVia>,
    pub created_at: OffsetDateTime,
}

/// What an attempt leaves on the account while it is not known to be right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRestriction {
    pub throttled_until: Option<OffsetDateTime>,
    pub locked: bool,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn account(&self, id: AccountId) -> StoreResult<Option<AccountRecord>>;
    async fn account_by_login(
        &self,
        kind: LoginKind,
        index: &[u8],
    ) -> StoreResult<Option<AccountRecord>>;
    /// Takes one attempt at the account's password or code *before* it is
    /// evaluated: in one conditional statement, only if the account is not
    /// locked, not throttled at `now`, and still has `seen` failures in a
    /// row (so of concurrent attempts that saw the same state, one wins).
    /// The attempt counts as a failure, with the restriction that follows
    /// it (`next`), until it is given back or the failures are cleared.
    async fn take_login_attempt(
        &self,
        id: AccountId,
        seen: u32,
        now: OffsetDateTime,
        next: LoginRestriction,
    ) -> StoreResult<bool>;
    /// Gives back an attempt that turned out right: the count goes back to
    /// `taken - 1` and the throttle to `throttled_until`, if nothing else
    /// was counted meanwhile.
    async fn give_back_login_attempt(
        &self,
        id: AccountId,
        taken: u32,
        throttled_until: Option<OffsetDateTime>,
    ) -> StoreResult<()>;
    /// Clears failed logins, throttling and the lock.
    async fn clear_login_failures(&self, id: AccountId) -> StoreResult<()>;
    /// In one transaction: marks the account disabled at `at`, ends every
    /// session of it and appends `audit`. The sessions ended, or `None`
    /// when it was disabled already (nothing written).
    async fn disable_account(
        &self,
        id: AccountId,
        at: OffsetDateTime,
        audit: &AuditWrite,
    ) -> StoreResult<Option<u64>>;
    /// Lifts the mark and appends `audit`; false when there was none
    /// (nothing written).
    async fn enable_account(&self, id: AccountId, audit: &AuditWrite) -> StoreResult<bool>;
    /// When the account was disabled, if it is.
    async fn account_disabled_at(&self, id: AccountId) -> StoreResult<Option<OffsetDateTime>>;
    /// Erases the account in one transaction: its row and every row that
    /// belongs to it (sessions, personal data, checks, letters, messages,
    /// factors, devices, requests…), sealed values and blind indexes with
    /// them, and appends `audit`. The audit log keeps its records, which
    /// name the account by id only. False when there is no such account.
    async fn delete_account(&self, id: AccountId, audit: &AuditWrite) -> StoreResult<bool>;
}
