//! The ports the use cases talk to. Storage sees only sealed values and
//! keyed hashes: no plaintext personal data ever crosses this boundary.
//!
//! One file per aggregate; [`Store`] is all of them, which each engine
//! implements.
mod accounts;
mod audit;
mod centers;
mod contacts;
mod desk;
mod in_person;
mod letters;
mod messaging;
mod operators;
mod outbox;
mod rate_limits;
mod recovery;
mod registration;
mod second_factor;
mod sessions;
mod verification;

pub use accounts::*;
pub use audit::*;
pub use centers::*;
pub use contacts::*;
pub use desk::*;
pub use in_person::*;
pub use letters::*;
pub use messaging::*;
pub use operators::*;
pub use outbox::*;
pub use rate_limits::*;
pub use recovery::*;
pub use registration::*;
pub use second_factor::*;
pub use sessions::*;
pub use verification::*;

/// A value sealed by [`crate::crypto::Crypto::seal`].
pub type Sealed = Vec<u8>;
/// A keyed hash made by [`crate::crypto::Crypto::keyed_hash`].
pub type KeyedHash = Vec<u8>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Phone,
    Email,
    Snils,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a record with this {0:?} already exists")]
    Conflict(UniqueField),
    #[error("record not found")]
    NotFound,
    #[error("storage failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the use cases need from storage, in one object.
pub trait Store:
    RegistrationStore
    + AccountStore
    + SessionStore
    + RateLimitStore
    + VerificationStore
    + CenterStore
    + LetterStore
    + AuditStore
    + OperatorStore
    + InPersonStore
    + RecoveryStore
    + SecondFactorStore
    + ContactChangeStore
    + DeskPhoneStore
    + Send
    + Sync
{
}
impl<
    T: RegistrationStore
        + AccountStore
        + SessionStore
        + RateLimitStore
        + VerificationStore
        + CenterStore
        + LetterStore
        + AuditStore
        + OperatorStore
        + InPersonStore
        + RecoveryStore
        + SecondFactorStore
        + ContactChangeStore
        + DeskPhoneStore
        + Send
        + Sync,
> Store for T
{
}
