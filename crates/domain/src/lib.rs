//! Value types and rules of the identity system. No I/O lives here: every
//! type is parsed once at the edge (`Snils::parse`, `PhoneNumber::parse`…)
//! and is valid from then on.

pub mod center;
pub mod contact;
pub mod email;
pub mod factor;
pub mod ids;
pub mod letter;
pub mod level;
pub mod name;
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
pub use letter::{CodeError, LetterCode, LetterStatus, PostStatus, TrackingError, TrackingNumber};
pub use level::AccountLevel;
pub use name::{NameError, PersonName};
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
