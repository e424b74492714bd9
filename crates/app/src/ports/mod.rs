//! The ports the use cases talk to. Storage sees only sealed values and
//! keyed hashes: no plaintext personal data ever crosses this boundary.
//!
//! One file per aggregate; [`Store`] is all of them, which each engine
//! implements.
mod accounts;
mod audit;
mod centers;
mod contacts;
mod deletions;
mod desk;
mod in_person;
mod letters;
mod messaging;
mod operators;
mod outbox;
mod post;
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
pub use deletions::*;
pub use desk::*;
pub use in_person::*;
pub use letters::*;
pub use messaging::*;
pub use operators::*;
pub use outbox::*;
pub use post::*;
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

/// Declares a bundle of ports (a trait with those supertraits and the
/// blanket impl): what one service may touch of storage.
macro_rules! ports {
    ($(#[$doc:meta])* $name:ident: $($port:path),+) => {
        $(#[$doc])*
        pub trait $name: $($port +)+ Send + Sync {}
        impl<T: ?Sized + $($port +)+ Send + Sync> $name for T {}
    };
}

ports!(
    /// What the citizen's account service reaches (registration, sign-in,
    /// sessions, passwords, recovery, contact changes, the second factor):
    /// not the letters', the centers' or the operators' tables.
    AccountsPorts: RegistrationStore, AccountStore, SessionStore, RateLimitStore,
        RecoveryStore, SecondFactorStore, ContactChangeStore, VerificationStore,
        InPersonStore, AuditStore, DeletionStore
);
ports!(
    /// What identity proofing reaches: personal data, the registry checks,
    /// in-person confirmation and the outbox it delivers.
    VerificationPorts: AccountStore, VerificationStore, InPersonStore, AuditStore,
        RateLimitStore
);
ports!(
    /// What the service-center console reaches.
    OperatorsPorts: OperatorStore, AccountStore, VerificationStore, InPersonStore,
        AuditStore, RateLimitStore, DeskPhoneStore
);
ports!(
    /// What the letters with a confirmation code reach.
    LettersPorts: LetterStore, AccountStore, VerificationStore, RateLimitStore
);

ports!(
    /// Everything the use cases need from storage, in one object: what an
    /// engine implements. A service holds only its own bundle (a `dyn Store`
    /// coerces to any of them: they are its supertraits).
    Store: AccountsPorts, VerificationPorts, OperatorsPorts, LettersPorts, RegistrationStore,
        AccountStore, SessionStore, RateLimitStore, VerificationStore, CenterStore, LetterStore,
        AuditStore, OperatorStore, InPersonStore, RecoveryStore, SecondFactorStore,
        ContactChangeStore, DeskPhoneStore, PostNumberStore, DeletionStore
);
