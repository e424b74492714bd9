//! The citizen's second factor: the method turned on, steps waiting for it,
//! backup codes.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, FactorMethod, FactorPurpose};

use super::{AuditWrite, KeyedHash, LoginWrites, OutboxRecord, Sealed, SessionRecord, StoreResult};

/// The second factor an account has turned on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorRecord {
    pub account_id: AccountId,
    pub method: FactorMethod,
    /// The app's key, sealed (TOTP only).
    pub totp_secret: Option<Sealed>,
    /// The last time step whose code was accepted: a code works once.
    pub totp_last_step: Option<i64>,
    pub enabled_at: OffsetDateTime,
    /// Backup codes not yet used.
    pub backup_codes_left: u32,
}

/// A step waiting for the second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorChallengeRecord {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    pub purpose: FactorPurpose,
    pub method: FactorMethod,
    /// An app being added: its new key, sealed.
    pub totp_secret: Option<Sealed>,
    /// Keyed hash of the SMS code sent, if one was.
    pub code_hash: Option<KeyedHash>,
    pub code_expires_at: Option<OffsetDateTime>,
    pub sent_at: Option<OffsetDateTime>,
    pub attempts: u32,
    /// A login: whether its session is to be remembered, and its device.
    pub remember: bool,
    pub device_hash: Option<KeyedHash>,
    pub user_agent: Option<String>,
    pub network: Option<String>,
    pub lang: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What a correct second factor spends, so that it works once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorProof {
    /// The challenge's SMS code: the challenge itself is used up.
    SmsCode,
    /// An app's code of this time step: taken only if later than the last.
    TotpStep(i64),
    /// One of the backup codes, by its keyed hash: taken only if unused.
    BackupCode(KeyedHash),
}

/// The factor to turn on, with its first backup codes.
#[derive(Debug, Clone)]
pub struct FactorEnrolment {
    pub challenge_id: uuid::Uuid,
    pub factor: SecondFactorRecord,
    pub backup_code_hashes: Vec<KeyedHash>,
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
}

/// A change of the factor that the factor itself must allow: it is
/// turned off, or its backup codes are renewed.
#[derive(Debug, Clone)]
pub struct FactorChange {
    pub account_id: AccountId,
    /// The challenge whose SMS code was typed, if that was the proof.
    pub challenge_id: Option<uuid::Uuid>,
    pub proof: FactorProof,
    /// `None`: turn the factor off. `Some`: these become the backup codes.
    pub new_backup_codes: Option<Vec<KeyedHash>>,
    pub notices: Vec<OutboxRecord>,
    pub audit: AuditWrite,
    pub at: OffsetDateTime,
}

#[async_trait]
pub trait SecondFactorStore: Send + Sync {
    async fn second_factor(&self, account: AccountId) -> StoreResult<Option<SecondFactorRecord>>;
    /// Writes the challenge (and its SMS, if any) in one transaction; an
    /// earlier challenge of the same account and purpose dies with it.
    async fn insert_factor_challenge(
        &self,
        c: &FactorChallengeRecord,
        message: Option<&OutboxRecord>,
    ) -> StoreResult<()>;
    async fn factor_challenge(&self, id: uuid::Uuid) -> StoreResult<Option<FactorChallengeRecord>>;
    /// The account's live challenge for `purpose`, if any.
    async fn account_factor_challenge(
        &self,
        account: AccountId,
        purpose: FactorPurpose,
    ) -> StoreResult<Option<FactorChallengeRecord>>;
    /// Takes one attempt if fewer than `max` were taken (atomic); the
    /// attempt's number, or `None` when they are used up.
    async fn take_factor_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>>;
    /// A new SMS code for the challenge if the last was sent at
    /// `previous_sent_at` (two resends cannot both win); attempts reset.
    async fn replace_factor_code(
        &self,
        id: uuid::Uuid,
        previous_sent_at: OffsetDateTime,
        code_hash: &[u8],
        code_expires_at: OffsetDateTime,
        sent_at: OffsetDateTime,
        message: &OutboxRecord,
    ) -> StoreResult<bool>;
    /// A login's second step, in one transaction: the challenge used up,
    /// the proof spent, failed logins cleared, the session opened with its
    /// device, and what `writes` holds. False, with nothing written, when
    /// the challenge is gone or the proof was spent already.
    async fn complete_factor_login(
        &self,
        challenge: uuid::Uuid,
        proof: &FactorProof,
        session: &SessionRecord,
        writes: &LoginWrites,
    ) -> StoreResult<bool>;
    /// Turns the factor on, in one transaction: the challenge used up, the
    /// factor and its backup codes written, the notices and the audit
    /// record. False, with nothing written, when the challenge is gone or
    /// the account has a factor already.
    async fn enable_second_factor(&self, e: &FactorEnrolment) -> StoreResult<bool>;
    /// Turns the factor off or renews its backup codes, in one transaction
    /// with the proof spent, the notices and the audit record. False, with
    /// nothing written, when the proof was spent already or there is no
    /// factor.
    async fn change_second_factor(&self, c: &FactorChange) -> StoreResult<bool>;
    /// Spends a proof on its own, for a change elsewhere that the factor
    /// must allow (a new phone or e-mail); false when it was spent already.
    async fn spend_factor_proof(
        &self,
        account: AccountId,
        challenge: Option<uuid::Uuid>,
        proof: &FactorProof,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn delete_expired_factor_challenges(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
