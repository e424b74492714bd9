//! The person: sex, citizenship, and the personal data as a whole.
use serde::{Deserialize, Serialize};
use time::Date;

use super::Problem;
use super::dates::date_serde;
use super::document::IdentityDocument;
use super::text::FreeText;
use crate::name::PersonName;
use crate::snils::Snils;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "male" => Some(Self::Male),
            "female" => Some(Self::Female),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
        }
    }
}

/// Citizenship, as an ISO 3166 alpha-3 code. Only Russia for now; the type
/// leaves room for others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Citizenship {
    Rus,
}

impl Citizenship {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        match input.trim().to_ascii_uppercase().as_str() {
            "RUS" => Ok(Self::Rus),
            "" => Err(Problem::Missing),
            _ => Err(Problem::UnsupportedCitizenship),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rus => "RUS",
        }
    }
}
string_serde!(Citizenship);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalData {
    pub surname: PersonName,
    pub given_name: PersonName,
    pub patronymic: Option<PersonName>,
    pub sex: Sex,
    #[serde(with = "date_serde")]
    pub birth_date: Date,
    pub birth_place: FreeText,
    pub snils: Snils,
    pub citizenship: Citizenship,
    pub document: IdentityDocument,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personal::DocumentType;

    #[test]
    fn sex_citizenship_and_document_are_closed_sets() {
        assert_eq!(Sex::parse(" Female "), Some(Sex::Female));
        assert_eq!(Sex::parse("м"), None);
        assert_eq!(Citizenship::parse("rus"), Ok(Citizenship::Rus));
        assert_eq!(
            Citizenship::parse("BLR"),
            Err(Problem::UnsupportedCitizenship)
        );
        assert_eq!(
            DocumentType::parse("rf_passport"),
            Ok(DocumentType::RfPassport)
        );
        assert_eq!(
            DocumentType::parse("foreign_passport"),
            Err(Problem::UnsupportedDocument)
        );
    }

    #[test]
    fn closed_sets_read_their_codes_and_serialize_as_them() {
        for (s, sex) in [
            ("male", Sex::Male),
            ("MALE", Sex::Male),
            (" male\t", Sex::Male),
            ("Female", Sex::Female),
        ] {
            assert_eq!(Sex::parse(s), Some(sex), "{s}");
        }
        assert_eq!(Sex::parse(""), None);
        assert_eq!(Sex::parse("m"), None);
        assert_eq!(Sex::Male.as_str(), "male");
        assert_eq!(Sex::Female.as_str(), "female");
        assert_eq!(serde_json::to_string(&Sex::Female).unwrap(), "\"female\"");
        assert_eq!(serde_json::from_str::<Sex>("\"male\"").unwrap(), Sex::Male);

        assert_eq!(Citizenship::parse("RUS"), Ok(Citizenship::Rus));
        assert_eq!(Citizenship::parse(" rus "), Ok(Citizenship::Rus));
        assert_eq!(
            Citizenship::parse("RU"),
            Err(Problem::UnsupportedCitizenship)
        );
        assert_eq!(Citizenship::parse("  "), Err(Problem::Missing));
        assert_eq!(Citizenship::Rus.as_str(), "RUS");
        assert_eq!(serde_json::to_string(&Citizenship::Rus).unwrap(), "\"RUS\"");
        assert!(serde_json::from_str::<Citizenship>("\"BLR\"").is_err());

        assert_eq!(DocumentType::RfPassport.as_str(), "rf_passport");
        assert_eq!(DocumentType::parse(""), Err(Problem::Missing));
        assert_eq!(
            serde_json::to_string(&DocumentType::RfPassport).unwrap(),
            "\"rf_passport\""
        );
    }
}
