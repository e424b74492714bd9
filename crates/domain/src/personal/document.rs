//! The identity document: its type, the passport's series and number, the
//! issuing department's code.
use serde::{Deserialize, Serialize};
use time::Date;

use super::Problem;
use super::dates::date_serde;
use super::text::FreeText;

/// Digits of `input`, if it holds exactly `n` digits and otherwise only
/// spaces and hyphens between them (a stray leading or trailing hyphen is
/// more likely a lost digit than a separator).
fn digits_only(input: &str, n: usize) -> Option<String> {
    let input = input.trim();
    let ends_with_digits = input.starts_with(|c: char| c.is_ascii_digit())
        && input.ends_with(|c: char| c.is_ascii_digit());
    if !ends_with_digits
        || !input
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return None;
    }
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == n).then_some(digits)
}

/// Series and number of a passport of a citizen of the Russian Federation:
/// four digits and six, shown `4510 123456`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

impl PassportNumber {
    /// Accepts the ten digits with any spaces or hyphens between them.
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let d = digits_only(input, 10).ok_or(Problem::PassportFormat)?;
        Ok(Self(format!("{} {}", &d[..4], &d[4..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn series(&self) -> &str {
        &self.0[..4]
    }

    pub fn number(&self) -> &str {
        &self.0[5..]
    }
}
string_serde!(PassportNumber);

/// Код подразделения: six digits, shown `770-001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DepartmentCode(String);

impl DepartmentCode {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let d = digits_only(input, 6).ok_or(Problem::DepartmentCodeFormat)?;
        Ok(Self(format!("{}-{}", &d[..3], &d[3..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_serde!(DepartmentCode);

/// The identity document. Only the passport of a citizen of the Russian
/// Federation for now; the type leaves room for others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    RfPassport,
}

impl DocumentType {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        match input.trim() {
            "rf_passport" => Ok(Self::RfPassport),
            "" => Err(Problem::Missing),
            _ => Err(Problem::UnsupportedDocument),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RfPassport => "rf_passport",
        }
    }
}
string_serde!(DocumentType);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDocument {
    #[serde(rename = "type")]
    pub kind: DocumentType,
    pub series_number: PassportNumber,
    #[serde(with = "date_serde")]
    pub issue_date: Date,
    pub issued_by: FreeText,
    pub department_code: DepartmentCode,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::personal::PostalCode;

    #[test]
    fn passports_and_codes_accept_the_usual_spellings() {
        for s in [
            "4510 123456",
            "4510123456",
            "45 10 123456",
            "45 10 123 456",
            " 4510-123456 ",
        ] {
            assert_eq!(
                PassportNumber::parse(s).unwrap().as_str(),
                "4510 123456",
                "{s}"
            );
        }
        for s in [
            "4510 12345",
            "4510 1234567",
            "45I0 123456",
            "",
            "4510_123456",
        ] {
            assert_eq!(
                PassportNumber::parse(s),
                Err(Problem::PassportFormat),
                "{s}"
            );
        }
        for s in ["770-001", "770001", "770 001"] {
            assert_eq!(DepartmentCode::parse(s).unwrap().as_str(), "770-001");
        }
        for s in ["77-0001x", "7700011", "77-001"] {
            assert_eq!(DepartmentCode::parse(s), Err(Problem::DepartmentCodeFormat));
        }
        assert_eq!(PostalCode::parse(" 248000 ").unwrap().as_str(), "248000");
        for s in ["24800", "2480000", "248 000", "24800a"] {
            assert_eq!(PostalCode::parse(s), Err(Problem::PostalCodeFormat));
        }
    }

    #[test]
    fn separators_stand_only_between_digits() {
        assert_eq!(
            PassportNumber::parse("4510--123456").unwrap().to_string(),
            "4510 123456"
        );
        for s in [
            "-4510123456",
            "4510123456-",
            "4510 123456 -",
            "- 4510 123456",
        ] {
            assert_eq!(
                PassportNumber::parse(s),
                Err(Problem::PassportFormat),
                "{s}"
            );
        }
        assert_eq!(
            DepartmentCode::parse(" 770 001 ").unwrap().to_string(),
            "770-001"
        );
        for s in ["-770001", "770001-", "770-00-"] {
            assert_eq!(
                DepartmentCode::parse(s),
                Err(Problem::DepartmentCodeFormat),
                "{s}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_ten_digits_make_a_passport_that_reparses(digits in "[0-9]{10}") {
            let p = PassportNumber::parse(&digits).unwrap();
            prop_assert_eq!(PassportNumber::parse(p.as_str()).unwrap(), p.clone());
            prop_assert_eq!(format!("{}{}", p.series(), p.number()), digits);
        }

        #[test]
        fn passports_read_any_separators_between_digits(
            digits in "[0-9]{10}",
            gaps in proptest::collection::vec("[ -]{0,2}", 9),
            before in "[ \t]{0,2}",
            after in "[ \t\n]{0,2}",
        ) {
            let mut spelled = before;
            for (i, digit) in digits.chars().enumerate() {
                spelled.push(digit);
                if let Some(gap) = gaps.get(i) {
                    spelled.push_str(gap);
                }
            }
            spelled.push_str(&after);
            let p = PassportNumber::parse(&spelled).unwrap();
            prop_assert_eq!(p.as_str(), format!("{} {}", &digits[..4], &digits[4..]));
        }
    }
}
