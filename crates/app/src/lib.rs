//! Use cases of uslugi, written against ports: storage, messages, clock,
//! the password hash. Nothing here knows about HTTP or SQL.

pub mod accounts;
mod attempts;
pub mod audit;
pub mod audit_export;
pub mod blind_index;
pub mod centers;
pub mod challenge;
pub mod clock;
pub mod contacts;
pub mod crypto;
mod deps;
pub mod desk;
pub mod jobs;
pub mod lang;
pub mod letters;
pub mod messages;
mod notices;
pub mod operators;
pub mod password_hasher;
pub mod places;
pub mod ports;
pub mod post;
pub mod recovery;
pub mod registries;
pub mod second_factor;
pub mod security;
pub mod settings;
pub mod subject;
pub mod totp;
pub mod verification;

pub use accounts::{
    Accounts, AuthSession, Confirmation, Contact, DeletionError, InternalError, LoginError,
    NewSession, PasswordChangeError, Profile, RegistrationError, RegistrationStarted,
    RegistrationView, StartRegistration,
};
pub use clock::{Clock, FakeClock, SystemClock};
pub use deps::Deps;
pub use lang::Lang;
pub use second_factor::{FactorError, LoginOutcome};
pub use settings::Policy;
