//! Service-center operators and their sessions.
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uslugi_domain::{OperatorId, OperatorRole};

use super::{AuditWrite, KeyedHash, Sealed, StoreResult};

/// A service-center operator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub id: OperatorId,
    pub center_id: String,
    pub role: OperatorRole,
    /// Sealed full name, given at enrolment.
    pub name: Option<Sealed>,
    /// Chosen at enrolment.
    pub login: Option<String>,
    pub password_hash: Option<String>,
    /// Sealed base32 TOTP key, made with the operator; shown only until the
    /// enrolment is complete.
    pub totp_secret: Sealed,
    /// The last time step whose code was accepted: a code works once.
    pub totp_last_step: Option<i64>,
    pub enrol_token_hash: Option<KeyedHash>,
    pub enrol_expires_at: Option<OffsetDateTime>,
    pub enrolled_at: Option<OffsetDateTime>,
    pub disabled_at: Option<OffsetDateTime>,
    pub failed_logins: u32,
    pub throttled_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSessionRecord {
    pub token_hash: KeyedHash,
    pub operator_id: OperatorId,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What an enrolment writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub name: Sealed,
    pub login: String,
    pub password_hash: String,
    pub totp_step: i64,
    pub at: OffsetDateTime,
}

#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Adds an operator and the audit record, in one transaction.
    /// `NotFound` when the center does not exist.
    async fn insert_operator(&self, op: &OperatorRecord, audit: &AuditWrite) -> StoreResult<()>;
    async fn operator(&self, id: OperatorId) -> StoreResult<Option<OperatorRecord>>;
    async fn operator_by_enrol_token(&self, hash: &[u8]) -> StoreResult<Option<OperatorRecord>>;
    async fn operator_by_login(&self, login: &str) -> StoreResult<Option<OperatorRecord>>;
    async fn operators(&self) -> StoreResult<Vec<OperatorRecord>>;
    /// Completes the enrolment of a not yet enrolled operator: the link dies.
    /// False when it was completed already; `Conflict(Other)` when the login
    /// is taken.
    async fn complete_enrolment(
        &self,
        id: OperatorId,
        enrolment: &Enrolment,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
    /// Takes a TOTP step if it is later than the last one taken: false for a
    /// replayed code (atomic across nodes).
    async fn take_totp_step(&self, id: OperatorId, step: i64) -> StoreResult<bool>;
    /// Takes one login attempt before the password and code are evaluated:
    /// only if the operator is not throttled at `now` and still has `seen`
    /// failures in a row; it counts as a failure (with `throttled_until`)
    /// until the failures are cleared.
    async fn take_operator_attempt(
        &self,
        id: OperatorId,
        seen: u32,
        now: OffsetDateTime,
        throttled_until: Option<OffsetDateTime>,
    ) -> StoreResult<bool>;
    async fn clear_operator_failures(&self, id: OperatorId) -> StoreResult<()>;
    /// Disables the operator and ends their sessions, in one transaction.
    async fn disable_operator(
        &self,
        id: OperatorId,
        at: OffsetDateTime,
        audit: &AuditWrite,
    ) -> StoreResult<bool>;
    async fn insert_operator_session(&self, s: &OperatorSessionRecord) -> StoreResult<()>;
    async fn operator_session(
        &self,
        token_hash: &[u8],
    ) -> StoreResult<Option<OperatorSessionRecord>>;
    async fn touch_operator_session(
        &self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn delete_operator_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    async fn delete_expired_operator_sessions(
        &self,
        now: OffsetDateTime,
        idle: Duration,
    ) -> StoreResult<u64>;
}
