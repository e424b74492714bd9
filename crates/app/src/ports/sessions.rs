//! Citizens' sessions and the devices they were opened on.
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uslugi_domain::AccountId;

use super::{AuditWrite, KeyedHash, OutboxRecord, StoreResult};

/// What a login writes beside its session, in the same transaction.
#[derive(Debug, Clone)]
pub struct LoginWrites {
    /// The notice of a new device, if any.
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
    /// A login cancels the account's pending deletion. Whether one is
    /// pending is decided by the login's own transaction (so a request
    /// committed a moment before is cancelled too); these are written only
    /// if it was.
    pub if_deletion_cancelled: Option<CancelledDeletion>,
}

/// What a cancelled deletion writes: the notices to the contacts and the
/// audit record.
#[derive(Debug, Clone)]
pub struct CancelledDeletion {
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: KeyedHash,
    pub account_id: AccountId,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub idle_timeout: Duration,
    pub remember: bool,
    /// Opened with a temporary password: only the new password may be set.
    pub must_change_password: bool,
    /// Keyed hash of the device's id (the browser's device cookie, or the
    /// app's `device_id`).
    pub device_hash: Option<KeyedHash>,
    /// The browser or app, as it called itself (at most 256 characters).
    pub user_agent: Option<String>,
    /// The network the login came from: the address without its last part.
    pub network: Option<String>,
}

/// What the account knows of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSeen {
    /// This device was used by the account before.
    pub this: bool,
    /// The account has used some device before (none: its first login).
    pub any: bool,
}

impl DeviceSeen {
    /// New to an account that has used others: worth telling the person.
    pub fn is_news(self) -> bool {
        !self.this && self.any
    }
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()>;
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &[u8], at: OffsetDateTime) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    async fn delete_account_sessions(&self, account: AccountId) -> StoreResult<u64>;
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;
    /// The account's sessions, newest first.
    async fn account_sessions(&self, account: AccountId) -> StoreResult<Vec<SessionRecord>>;
    /// Ends one session of the account; false when it has no such session.
    async fn delete_account_session(
        &self,
        account: AccountId,
        token_hash: &[u8],
    ) -> StoreResult<bool>;
    /// Ends every session of the account but `keep`.
    async fn delete_other_sessions(&self, account: AccountId, keep: &[u8]) -> StoreResult<u64>;
    /// Whether the account has logged in from this device before, and
    /// from any device at all. One read, before the login is written.
    async fn device_seen(&self, account: AccountId, device_hash: &[u8]) -> StoreResult<DeviceSeen>;
    /// A login, in one transaction: the session, its device noted, and
    /// what [`LoginWrites`] holds.
    async fn open_session(&self, s: &SessionRecord, writes: &LoginWrites) -> StoreResult<()>;
}
