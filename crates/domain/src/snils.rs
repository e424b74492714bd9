//! SNILS, the individual insurance account number of the Social Fund.
use std::fmt;
use std::str::FromStr;

/// Numbers up to 001-001-998 were issued before the check number existed, so
/// their last two digits are not derived from the rest.
const LAST_UNCHECKED_NUMBER: u32 = 1_001_998;

/// An 11-digit SNILS whose check number has been verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Snils(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SnilsError {
    #[error("SNILS is empty")]
    Empty,
    /// Characters other than digits, or separators outside the accepted
    /// `123-456-789 01` / `123 456 789 01` layouts.
    #[error("SNILS contains invalid characters")]
    InvalidCharacters,
    #[error("SNILS must have 11 digits")]
    WrongLength,
    #[error("SNILS check number does not match")]
    CheckNumberMismatch,
}

impl Snils {
    /// Accepts `12345678901`, `123-456-789 01` or `123 456 789 01`, with any
    /// whitespace around it.
    pub fn parse(input: &str) -> Result<Self, SnilsError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(SnilsError::Empty);
        }
        if !input
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
        {
            return Err(SnilsError::InvalidCharacters);
        }
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 11 {
            return Err(SnilsError::WrongLength);
        }
        if !has_accepted_layout(input.as_bytes()) {
            return Err(SnilsError::InvalidCharacters);
        }
        let (first_nine, check) = digits.split_at(9);
        if number_of(first_nine) > LAST_UNCHECKED_NUMBER {
            let expected = check_number_for(first_nine).ok_or(SnilsError::InvalidCharacters)?;
            let given: u8 = check.parse().map_err(|_| SnilsError::InvalidCharacters)?;
            if given != expected {
                return Err(SnilsError::CheckNumberMismatch);
            }
        }
        Ok(Self(digits))
    }

    /// The 11 digits without separators.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

/// The check number (0..=99) for the first nine digits of a SNILS, or `None`
/// unless `first_nine` is exactly nine ASCII digits.
///
/// It is computed for any nine digits, although [`Snils::parse`] does not
/// enforce it for numbers up to 001-001-998.
pub fn check_number_for(first_nine: &str) -> Option<u8> {
    let bytes = first_nine.as_bytes();
    if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip((1..=9u32).rev())
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    let check = match sum {
        0..100 => sum,
        100 | 101 => 0,
        _ => match sum % 101 {
            100 => 0,
            rest => rest,
        },
    };
    u8::try_from(check).ok()
}

fn number_of(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, digit| acc * 10 + u32::from(digit - b'0'))
}

/// `input` already holds only digits, hyphens and spaces, eleven digits in all.
fn has_accepted_layout(input: &[u8]) -> bool {
    match input.len() {
        11 => true,
        14 => {
            let separators = [input[3], input[7], input[11]];
            separators == [b'-', b'-', b' '] || separators == [b' ', b' ', b' ']
        }
        _ => false,
    }
}

impl fmt::Display for Snils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}-{}-{} {}", &d[0..3], &d[3..6], &d[6..9], &d[9..11])
    }
}

impl FromStr for Snils {
    type Err = SnilsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Serialised as it is shown (`123-456-789 01`); read back through [`Snils::parse`].
impl serde::Serialize for Snils {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

deserialize_by_parse!(Snils);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_three_spellings() {
        for input in [
            "11223344595",
            "112-233-445 95",
            "112 233 445 95",
            "  112-233-445 95\n",
        ] {
            let snils = Snils::parse(input).unwrap();
            assert_eq!(snils.digits(), "11223344595");
            assert_eq!(snils.to_string(), "112-233-445 95");
        }
    }

    #[test]
    fn refuses_other_input() {
        assert_eq!(Snils::parse(""), Err(SnilsError::Empty));
        assert_eq!(Snils::parse("   "), Err(SnilsError::Empty));
        assert_eq!(
            Snils::parse("112-233-445-95"),
            Err(SnilsError::InvalidCharacters)
        );
        assert_eq!(
            Snils::parse("112233445 95"),
            Err(SnilsError::InvalidCharacters)
        );
        assert_eq!(
            Snils::parse("112 233-445 95"),
            Err(SnilsError::InvalidCharacters)
        );
        assert_eq!(
            Snils::parse("112-233-445  95"),
            Err(SnilsError::InvalidCharacters)
        );
        assert_eq!(
            Snils::parse("112.233.445 95"),
            Err(SnilsError::InvalidCharacters)
        );
        assert_eq!(
            Snils::parse("１１２２３３４４５９５"),
            Err(SnilsError::InvalidCharacters)
        );
        assert_eq!(Snils::parse("1122334459"), Err(SnilsError::WrongLength));
        assert_eq!(Snils::parse("112233445950"), Err(SnilsError::WrongLength));
        assert_eq!(Snils::parse("---"), Err(SnilsError::WrongLength));
        assert_eq!(
            Snils::parse("112-233-445 96"),
            Err(SnilsError::CheckNumberMismatch)
        );
    }

    #[test]
    fn check_number_rule() {
        assert_eq!(check_number_for("112233445"), Some(95));
        assert_eq!(check_number_for("000000000"), Some(0));
        // Sum exactly 100 and 101.
        assert_eq!(check_number_for("000586006"), Some(0));
        assert_eq!(check_number_for("000902766"), Some(0));
        // 9·9+8·9+…+1·9 = 405; 405 mod 101 = 1.
        assert_eq!(check_number_for("999999999"), Some(1));
        // Sums 201 and 302 leave 100 after mod 101, which becomes 00.
        assert_eq!(check_number_for("007998190"), Some(0));
        assert_eq!(check_number_for("299749988"), Some(0));
        assert_eq!(check_number_for("12345678"), None);
        assert_eq!(check_number_for("1234567890"), None);
        assert_eq!(check_number_for("12345678a"), None);
    }

    #[test]
    fn early_numbers_carry_no_check() {
        assert!(Snils::parse("001-001-998 00").is_ok());
        assert!(Snils::parse("001-001-998 57").is_ok());
        assert!(Snils::parse("000-000-001 99").is_ok());
        let expected = check_number_for("001001999").unwrap();
        let wrong = (expected + 1) % 100;
        assert_eq!(
            Snils::parse(&format!("001-001-999 {wrong:02}")),
            Err(SnilsError::CheckNumberMismatch)
        );
    }

    fn spellings(first_nine: &str, check: u8) -> [String; 3] {
        let (a, b, c) = (&first_nine[0..3], &first_nine[3..6], &first_nine[6..9]);
        [
            format!("{first_nine}{check:02}"),
            format!("{a}-{b}-{c} {check:02}"),
            format!("{a} {b} {c} {check:02}"),
        ]
    }

    proptest! {
        #[test]
        fn every_prefix_with_its_check_parses(number in 0u32..=999_999_999) {
            let first_nine = format!("{number:09}");
            let check = check_number_for(&first_nine).unwrap();
            prop_assert!(check < 100);
            let canonical = format!(
                "{}-{}-{} {check:02}",
                &first_nine[0..3], &first_nine[3..6], &first_nine[6..9]
            );
            for spelling in spellings(&first_nine, check) {
                let snils = Snils::parse(&spelling).unwrap();
                prop_assert_eq!(snils.to_string(), canonical.clone());
                prop_assert_eq!(snils.digits(), format!("{first_nine}{check:02}"));
                prop_assert_eq!(Snils::parse(&snils.to_string()).unwrap(), snils);
            }
        }

        #[test]
        fn a_changed_check_digit_is_refused(
            number in (LAST_UNCHECKED_NUMBER + 1)..=999_999_999,
            position in 0usize..2,
            shift in 1u8..10,
        ) {
            let first_nine = format!("{number:09}");
            let mut check = format!("{:02}", check_number_for(&first_nine).unwrap()).into_bytes();
            check[position] = b'0' + (check[position] - b'0' + shift) % 10;
            let check = String::from_utf8(check).unwrap();
            prop_assert_eq!(
                Snils::parse(&format!("{first_nine}{check}")),
                Err(SnilsError::CheckNumberMismatch)
            );
        }

        #[test]
        fn never_panics(input in ".*") {
            let _ = Snils::parse(&input);
        }
    }
}
