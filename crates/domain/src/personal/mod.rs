//! A citizen's personal data as the standard account holds them: the
//! values, their rules, and the form they are typed into.
//!
//! The form keeps raw strings (a draft is kept as typed); [`PersonalDataForm::parse`]
//! turns it into [`PersonalData`] or names every problem at once, one per
//! field, in the order of the form.

macro_rules! string_serde {
    ($t:ty) => {
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                <$t>::parse(&s)
                    .map_err(|_| ::serde::de::Error::custom(concat!("invalid ", stringify!($t))))
            }
        }
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod address;
mod dates;
mod document;
mod form;
mod person;
mod problem;
mod text;

pub use address::{Address, AddressForm, PostalCode};
pub use dates::{MIN_AGE, birthday, format_iso, parse_date};
pub use document::{DepartmentCode, DocumentType, IdentityDocument, PassportNumber};
pub use form::{DocumentForm, PersonalDataForm};
pub use person::{Citizenship, PersonalData, Sex};
pub use problem::{FieldProblem, Problem};
pub use text::{FreeText, TextProblem};

#[cfg(test)]
mod tests;
