//! Russian mobile phone numbers, the usual second factor and login.
use std::fmt;
use std::str::FromStr;

/// A Russian mobile number, held in E.164 form (`+79253910202`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number contains invalid characters")]
    InvalidCharacters,
    #[error("phone number has the wrong number of digits")]
    WrongLength,
    #[error("phone number is not a mobile number")]
    NotMobile,
    #[error("phone number is not Russian")]
    NotRussian,
}

impl PhoneNumber {
    /// Accepts the ways people type a number: `+7 (925) 391-02-02`,
    /// `89253910202`, `8 925 391 02 02`, `+79253910202`, `79253910202`,
    /// `9253910202`, with whitespace, hyphens, dots and parentheses anywhere.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (international, rest) = match input.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let mut digits = String::with_capacity(11);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '-' | '.' | '(' | ')' => {}
                // Pasted numbers often carry no-break or thin spaces.
                c if c.is_whitespace() => {}
                _ => return Err(PhoneError::InvalidCharacters),
            }
        }
        let national = if international {
            match digits.strip_prefix('7') {
                Some(national) => national,
                None if digits.is_empty() => return Err(PhoneError::WrongLength),
                None => return Err(PhoneError::NotRussian),
            }
        } else {
            match digits.len() {
                10 => digits.as_str(),
                // A leading 8 is the domestic trunk prefix, 7 the country code typed without +.
                11 if digits.starts_with(['7', '8']) => &digits[1..],
                _ => return Err(PhoneError::WrongLength),
            }
        };
        if national.len() != 10 {
            return Err(PhoneError::WrongLength);
        }
        if !national.starts_with('9') {
            return Err(PhoneError::NotMobile);
        }
        Ok(Self(format!("+7{national}")))
    }

    /// Reads back the stored E.164 form; anything not exactly
    /// `+79XXXXXXXXX` gives `None`.
    pub fn from_e164(stored: &str) -> Option<Self> {
        let national = stored.strip_prefix("+7")?;
        let valid = national.len() == 10
            && national.starts_with('9')
            && national.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| Self(stored.to_owned()))
    }

    /// `+79253910202`, the form that is stored.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// `9253910202`.
    pub fn national_digits(&self) -> &str {
        &self.0[2..]
    }

    /// `+7 (925) ***-**-02`: enough for the owner to recognise the number.
    pub fn masked(&self) -> String {
        let d = self.national_digits();
        format!("+7 ({}) ***-**-{}", &d[0..3], &d[8..10])
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.national_digits();
        write!(
            f,
            "+7 ({}) {}-{}-{}",
            &d[0..3],
            &d[3..6],
            &d[6..8],
            &d[8..10]
        )
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_spellings() {
        for input in [
            "+7 (925) 391-02-02",
            "89253910202",
            "8 925 391 02 02",
            "+79253910202",
            "79253910202",
            "9253910202",
            "8(925)391.02.02",
            " +7-925-391-02-02 ",
            "+7\u{a0}925\u{a0}391\u{a0}02\u{a0}02",
            "8 (9 2 5) 3910202",
        ] {
            let phone = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(phone.e164(), "+79253910202");
            assert_eq!(phone.national_digits(), "9253910202");
            assert_eq!(phone.to_string(), "+7 (925) 391-02-02");
            assert_eq!(phone.masked(), "+7 (925) ***-**-02");
        }
    }

    #[test]
    fn refuses_the_rest() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse(" \t"), Err(PhoneError::Empty));
        assert_eq!(
            PhoneNumber::parse("8 925 391 O2 02"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            PhoneNumber::parse("7+9253910202"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            PhoneNumber::parse("++79253910202"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            PhoneNumber::parse("+7 925 391 02 02 доб. 1"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            PhoneNumber::parse("925391020"),
            Err(PhoneError::WrongLength)
        );
        assert_eq!(
            PhoneNumber::parse("892539102021"),
            Err(PhoneError::WrongLength)
        );
        assert_eq!(
            PhoneNumber::parse("19253910202"),
            Err(PhoneError::WrongLength)
        );
        assert_eq!(
            PhoneNumber::parse("+7925391020"),
            Err(PhoneError::WrongLength)
        );
        assert_eq!(PhoneNumber::parse("+"), Err(PhoneError::WrongLength));
        assert_eq!(PhoneNumber::parse("()"), Err(PhoneError::WrongLength));
        assert_eq!(
            PhoneNumber::parse("+7 (495) 123-45-67"),
            Err(PhoneError::NotMobile)
        );
        assert_eq!(
            PhoneNumber::parse("84951234567"),
            Err(PhoneError::NotMobile)
        );
        assert_eq!(
            PhoneNumber::parse("+7 701 123 45 67"),
            Err(PhoneError::NotMobile)
        );
        assert_eq!(
            PhoneNumber::parse("+380 50 123 45 67"),
            Err(PhoneError::NotRussian)
        );
        assert_eq!(
            PhoneNumber::parse("+1 925 391 0202"),
            Err(PhoneError::NotRussian)
        );
        assert_eq!(
            PhoneNumber::parse("+8 925 391 02 02"),
            Err(PhoneError::NotRussian)
        );
    }

    #[test]
    fn reads_back_only_the_stored_form() {
        let phone = PhoneNumber::from_e164("+79253910202").unwrap();
        assert_eq!(phone, PhoneNumber::parse("8 925 391 02 02").unwrap());
        for bad in [
            "",
            "+7",
            "79253910202",
            "+7925391020",
            "+792539102021",
            "+74951234567",
            "+7925391020a",
            "+7 9253910202",
        ] {
            assert_eq!(PhoneNumber::from_e164(bad), None, "{bad}");
        }
    }

    fn spellings(n: &str) -> Vec<String> {
        let (a, b, c, d) = (&n[0..3], &n[3..6], &n[6..8], &n[8..10]);
        vec![
            format!("+7 ({a}) {b}-{c}-{d}"),
            format!("8{n}"),
            format!("8 {a} {b} {c} {d}"),
            format!("+7{n}"),
            format!("7{n}"),
            n.to_owned(),
            format!("8.{a}.{b}.{c}.{d}"),
            format!("  8-({a})-{b}-{c}-{d}\t"),
        ]
    }

    proptest! {
        #[test]
        fn every_spelling_gives_the_same_number(rest in 0u32..1_000_000_000) {
            let national = format!("9{rest:09}");
            let expected = format!("+7{national}");
            for spelling in spellings(&national) {
                let phone = PhoneNumber::parse(&spelling).unwrap();
                prop_assert_eq!(phone.e164(), expected.as_str());
                prop_assert_eq!(phone.national_digits(), national.as_str());
                prop_assert_eq!(PhoneNumber::parse(&phone.to_string()).unwrap(), phone.clone());
                prop_assert_eq!(PhoneNumber::from_e164(phone.e164()).unwrap(), phone.clone());
                prop_assert!(phone.masked().ends_with(&national[8..]));
                prop_assert!(!phone.masked().contains(&national[3..8]));
            }
        }

        #[test]
        fn separators_anywhere_are_ignored(
            rest in 0u32..1_000_000_000,
            seps in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-"), Just("."), Just("("), Just(")")], 11),
        ) {
            let national = format!("9{rest:09}");
            let typed: String = format!("8{national}")
                .chars()
                .zip(&seps)
                .flat_map(|(digit, sep)| [digit.to_string(), (*sep).to_owned()])
                .collect();
            let phone = PhoneNumber::parse(&typed).unwrap();
            prop_assert_eq!(phone.national_digits(), national.as_str());
        }

        #[test]
        fn never_panics(input in ".*") {
            let _ = PhoneNumber::parse(&input);
            let _ = PhoneNumber::from_e164(&input);
        }
    }
}
