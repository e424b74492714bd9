//! Value types and rules of the identity system. No I/O lives here: every
//! type is parsed once at the edge (`Snils::parse`, `PhoneNumber::parse`…)
//! and is valid from then on.

/// `Deserialize` through the type's own `parse`, with its error's words:
/// a value is checked however it arrives. (Before the modules that use it.)
macro_rules! deserialize_by_parse {
    ($t:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod center;
pub mod contact;
pub mod email;
pub mod factor;
pub mod ids;
pub mod letter;
pub mod level;
pub mod name;
pub mod network;
pub mod operator;
pub mod password;
pub mod personal;
pub mod phone;
pub mod snils;
pub mod token;
pub mod verification;

pub use center::{
    CenterError, CenterKind, CenterService, DayHours, HoursError, ServiceCenter, WeekHours,
};
pub use contact::{Channel, LoginKind};
pub use email::{Email, EmailError};
pub use factor::{FactorMethod, FactorPurpose};
pub use ids::{AccountId, OperatorId, RegistrationId};
pub use letter::{
    CodeError, LetterCode, LetterStatus, PostStatus, TrackingError, TrackingNumber, TrackingRange,
    TrackingRangeError,
};
pub use level::AccountLevel;
pub use name::{NameError, PersonName};
pub use network::{IpNetwork, NetworkError};
pub use operator::{OperatorLogin, OperatorLoginError, OperatorRole, SearchBy};
pub use password::{
    NewPassword, PasswordAssessment, PasswordContext, PasswordProblem, PasswordStrength,
    assess_password, eleven_digit_runs,
};
pub use personal::{
    Address, AddressForm, Citizenship, DepartmentCode, DocumentForm, DocumentType, FieldProblem,
    FreeText, IdentityDocument, PassportNumber, PersonalData, PersonalDataForm, PostalCode,
    Problem, Sex, TextProblem,
};
pub use phone::{PhoneError, PhoneNumber};
pub use snils::{Snils, SnilsError};
pub use token::Token;
pub use verification::{CheckStatus, ConfirmedVia, VerificationStatus};
