//! The code by registered letter: the code a citizen types, and the
//! tracking number (ШПИ) the post gives the letter.
use std::fmt;

use strum::{EnumIter, EnumString, IntoStaticStr};

/// The letters and digits of a code: no 0/O, 1/I/L, which people confuse.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("the code is empty")]
    Empty,
    #[error("the code has 8 characters")]
    WrongLength,
    #[error("the code holds only Latin capital letters and digits, without 0, O, 1, I and L")]
    InvalidCharacters,
}

/// A letter's confirmation code as typed: spaces and hyphens dropped, case
/// ignored.
#[derive(Clone, PartialEq, Eq)]
pub struct LetterCode(String);

impl fmt::Debug for LetterCode {
    // A code is a secret until used.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LetterCode(***)")
    }
}

impl LetterCode {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_uppercase();
        if code.is_empty() {
            return Err(CodeError::Empty);
        }
        if !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            return Err(CodeError::InvalidCharacters);
        }
        if code.len() != CODE_LEN {
            return Err(CodeError::WrongLength);
        }
        Ok(Self(code))
    }

    /// A code from `CODE_LEN` random indexes (the caller's secure source).
    pub fn from_indexes(indexes: [u8; CODE_LEN]) -> Self {
        Self(
            indexes
                .iter()
                .map(|i| CODE_ALPHABET[usize::from(*i) % CODE_ALPHABET.len()] as char)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `ABCD-EFGH`, as printed in the letter.
    pub fn grouped(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrackingError {
    #[error("a tracking number has 14 digits")]
    Format,
    #[error("the tracking number's check digit does not match")]
    CheckDigit,
}

/// A Russian Post domestic tracking number (ШПИ): the 6-digit index of the
/// office that accepted the letter, the month (2 digits), the letter's
/// number (5 digits) and a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingNumber(String);

/// The check digit of the first 13 digits: digits in odd places count three
/// times, in even places once; the digit brings the sum to a multiple of 10.
pub fn tracking_check_digit(first13: &[u8; 13]) -> u8 {
    let sum: u32 = first13
        .iter()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    u8::try_from((10 - sum % 10) % 10).expect("a digit")
}

impl TrackingNumber {
    pub fn parse(input: &str) -> Result<Self, TrackingError> {
        let digits: Vec<u8> = input
            .trim()
            .bytes()
            .filter(|b| *b != b' ')
            .map(|b| {
                if b.is_ascii_digit() {
                    Ok(b - b'0')
                } else {
                    Err(TrackingError::Format)
                }
            })
            .collect::<Result<_, _>>()?;
        let digits: [u8; 14] = digits.try_into().map_err(|_| TrackingError::Format)?;
        let first: [u8; 13] = digits[..13].try_into().expect("13 digits");
        if tracking_check_digit(&first) != digits[13] {
            return Err(TrackingError::CheckDigit);
        }
        Ok(Self(digits.iter().map(|d| char::from(b'0' + d)).collect()))
    }

    /// The number of the `serial`-th letter accepted at `office` (a 6-digit
    /// postal index) in `month` (1–12).
    pub fn assign(office: &str, month: u8, serial: u32) -> Option<Self> {
        if office.len() != 6
            || !office.bytes().all(|b| b.is_ascii_digit())
            || !(1..=12).contains(&month)
        {
            return None;
        }
        Self::of(&format!("{office}{month:02}"), serial % 100_000)
    }

    /// The number of `serial` after an 8-digit `prefix`, with its check
    /// digit; `None` unless the prefix is 8 digits and the serial 5.
    pub fn of(prefix: &str, serial: u32) -> Option<Self> {
        if prefix.len() != 8 || serial > 99_999 {
            return None;
        }
        let body = format!("{prefix}{serial:05}");
        let first: [u8; 13] = body
            .bytes()
            .map(|b| b.wrapping_sub(b'0'))
            .collect::<Vec<_>>()
            .try_into()
            .ok()?;
        first
            .iter()
            .all(|d| *d <= 9)
            .then(|| Self(format!("{body}{}", tracking_check_digit(&first))))
    }

    /// The first eight digits: the office's index and the two digits the
    /// post issues with a range.
    pub fn prefix(&self) -> &str {
        &self.0[..8]
    }

    /// The letter's five-digit serial.
    pub fn serial(&self) -> u32 {
        self.0[8..13].parse().expect("digits")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The tracking numbers the post allocated to a sender who prints its own
/// letters (`[post] mode = "print"`): an 8-digit prefix (the sending
/// office's index and the two digits the post issues with the range) and
/// the serials from `start` to `end`, 5 digits each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRange {
    prefix: String,
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrackingRangeError {
    #[error(
        "tracking_prefix must be 8 digits: the sending office's index and the two digits the post issued with the range"
    )]
    Prefix,
    #[error(
        "tracking_range_start and tracking_range_end must be serials of 5 digits (00000 to 99999)"
    )]
    Serial,
    #[error("tracking_range_start must not be above tracking_range_end")]
    Order,
}

impl TrackingRange {
    pub fn parse(prefix: &str, start: &str, end: &str) -> Result<Self, TrackingRangeError> {
        let prefix = prefix.trim();
        if prefix.len() != 8 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TrackingRangeError::Prefix);
        }
        let serial = |s: &str| {
            let s = s.trim();
            if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<u32>().map_err(|_| TrackingRangeError::Serial)
            } else {
                Err(TrackingRangeError::Serial)
            }
        };
        let (start, end) = (serial(start)?, serial(end)?);
        if start > end {
            return Err(TrackingRangeError::Order);
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            start,
            end,
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn start(&self) -> u32 {
        self.start
    }

    pub fn end(&self) -> u32 {
        self.end
    }

    /// How many numbers the range holds.
    pub fn count(&self) -> u32 {
        self.end - self.start + 1
    }

    /// The number of `serial`, if it is in the range.
    pub fn number(&self, serial: u32) -> Option<TrackingNumber> {
        (self.start..=self.end)
            .contains(&serial)
            .then(|| TrackingNumber::of(&self.prefix, serial))
            .flatten()
    }

    /// Whether `number` was taken from this range.
    pub fn contains(&self, number: &TrackingNumber) -> bool {
        number.prefix() == self.prefix && (self.start..=self.end).contains(&number.serial())
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a letter is on the portal's side: waiting for the post, or handed
/// to it (then the post tells where it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum LetterStatus {
    Queued,
    Sent,
}

/// Where a letter is, as the post reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum PostStatus {
    /// Принято в отделении связи.
    Accepted,
    /// В пути.
    InTransit,
    /// Прибыло в место вручения.
    Arrived,
    /// Вручено.
    HandedOver,
}

#[cfg(test)]
mod range_tests {
    use super::*;

    #[test]
    fn a_range_gives_numbers_with_their_check_digit_and_knows_its_own() {
        let r = TrackingRange::parse("10100012", "00001", "00003").unwrap();
        assert_eq!(r.count(), 3);
        let first = r.number(1).unwrap();
        assert_eq!(&first.as_str()[..13], "1010001200001");
        assert_eq!(TrackingNumber::parse(first.as_str()), Ok(first.clone()));
        assert_eq!((first.prefix(), first.serial()), ("10100012", 1));
        assert!(r.contains(&first));
        assert!(r.number(0).is_none() && r.number(4).is_none());
        let other = TrackingRange::parse("10100013", "00001", "00003").unwrap();
        assert!(!other.contains(&first));
        let wider = TrackingRange::parse("10100012", "00004", "99999").unwrap();
        assert!(!wider.contains(&first));
    }

    #[test]
    fn a_wrong_range_is_named() {
        use TrackingRangeError::*;
        for (prefix, start, end, error) in [
            ("1010001", "00001", "00002", Prefix),
            ("10100012a", "00001", "00002", Prefix),
            ("1010001a", "00001", "00002", Prefix),
            ("10100012", "1", "00002", Serial),
            ("10100012", "00001", "100000", Serial),
            ("10100012", "0000a", "00002", Serial),
            ("10100012", "00003", "00002", Order),
        ] {
            assert_eq!(
                TrackingRange::parse(prefix, start, end),
                Err(error),
                "{prefix} {start} {end}"
            );
        }
    }
}

#[cfg(test)]
mod status_tests {
    use super::*;
    use crate::Token;

    // These forms are stored in databases and sent in the API.
    #[test]
    fn string_forms_are_fixed() {
        assert_eq!(LetterStatus::forms(), ["queued", "sent"]);
        assert_eq!(
            PostStatus::forms(),
            ["accepted", "in_transit", "arrived", "handed_over"]
        );
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn codes_are_typed_loosely_and_checked_strictly() {
        assert_eq!(
            LetterCode::parse(" abcd-efgh ").unwrap().as_str(),
            "ABCDEFGH"
        );
        assert_eq!(
            LetterCode::parse("AB CD EF GH").unwrap().grouped(),
            "ABCD-EFGH"
        );
        assert_eq!(LetterCode::parse(""), Err(CodeError::Empty));
        assert_eq!(LetterCode::parse("ABCDEFG"), Err(CodeError::WrongLength));
        for lookalike in ["ABCDEFG0", "ABCDEFGO", "ABCDEFG1", "ABCDEFGI", "ABCDEFGL"] {
            assert_eq!(
                LetterCode::parse(lookalike),
                Err(CodeError::InvalidCharacters),
                "{lookalike}"
            );
        }
        assert_eq!(
            format!("{:?}", LetterCode::parse("ABCDEFGH").unwrap()),
            "LetterCode(***)"
        );
    }

    #[test]
    fn the_alphabet_has_no_lookalikes() {
        for c in b"0O1IL" {
            assert!(!CODE_ALPHABET.contains(c));
        }
        assert_eq!(CODE_ALPHABET.len(), 31);
    }

    #[test]
    fn a_known_tracking_number_checks() {
        // 2480 17 (Kaluga office 248017), month 03, letter 00001.
        let t = TrackingNumber::assign("248017", 3, 1).unwrap();
        assert_eq!(&t.as_str()[..13], "2480170300001");
        assert_eq!(TrackingNumber::parse(t.as_str()).unwrap(), t);
        // Hand computed: odd places 2,8,1,0,0,0,1 → 12×3 = 36; even 4,0,7,3,0,0 → 14; 50 → 0.
        assert_eq!(t.as_str(), "24801703000010");
        assert_eq!(
            TrackingNumber::parse("2480170300001 1"),
            Err(TrackingError::CheckDigit)
        );
        assert_eq!(
            TrackingNumber::parse("248017030000"),
            Err(TrackingError::Format)
        );
        assert!(TrackingNumber::assign("24801", 3, 1).is_none());
        assert!(TrackingNumber::assign("248017", 13, 1).is_none());
    }

    proptest! {
        #[test]
        fn every_assigned_number_checks(office in "[0-9]{6}", month in 1u8..=12, serial in 0u32..100_000) {
            let t = TrackingNumber::assign(&office, month, serial).unwrap();
            prop_assert_eq!(t.as_str().len(), 14);
            prop_assert_eq!(TrackingNumber::parse(t.as_str()).unwrap(), t);
        }

        #[test]
        fn one_changed_digit_is_caught(office in "[0-9]{6}", month in 1u8..=12, serial in 0u32..100_000, at in 0usize..14, by in 1u8..10) {
            let t = TrackingNumber::assign(&office, month, serial).unwrap();
            let mut digits: Vec<u8> = t.as_str().bytes().map(|b| b - b'0').collect();
            digits[at] = (digits[at] + by) % 10;
            let typo: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert_eq!(TrackingNumber::parse(&typo), Err(TrackingError::CheckDigit));
        }

        #[test]
        fn generated_codes_parse(indexes in proptest::array::uniform8(any::<u8>())) {
            let c = LetterCode::from_indexes(indexes);
            prop_assert_eq!(LetterCode::parse(c.as_str()).unwrap(), c.clone());
            prop_assert_eq!(LetterCode::parse(&c.grouped().to_lowercase()).unwrap(), c);
        }
    }
}
