//! Password policy after NIST SP 800-63B: a length range, no composition
//! rules, and refusal of passwords that are common, repetitive or built from
//! the account holder's own data.
use std::fmt;

use strum::{EnumIter, EnumString, IntoStaticStr};

mod rules;
mod strength;
#[cfg(test)]
mod tests;

pub use rules::eleven_digit_runs;
use rules::problems_of;
pub use strength::estimated_bits;

use crate::Token;
use crate::email::Email;
use crate::name::PersonName;
use crate::phone::PhoneNumber;

/// Length limits count Unicode characters (code points), not bytes.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Below this many estimated bits an acceptable password is
/// [`PasswordStrength::Medium`]; at or above it, [`PasswordStrength::Strong`].
pub const STRONG_PASSWORD_BITS: f64 = 45.0;

/// What the account holder may know about, to keep out of the password.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    pub surname: Option<&'a PersonName>,
    pub given_name: Option<&'a PersonName>,
    pub phone: Option<&'a PhoneNumber>,
    pub email: Option<&'a Email>,
}

/// Why a password is refused. Listed in [`PasswordAssessment::problems`] in
/// the order of this enum, each at most once.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error, IntoStaticStr, EnumString, EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PasswordProblem {
    #[error("password is too short")]
    TooShort,
    #[error("password is too long")]
    TooLong,
    #[error("password is too common")]
    Common,
    #[error("password contains the phone number")]
    ContainsPhone,
    #[error("password contains the e-mail name")]
    ContainsEmailName,
    #[error("password contains the person's name")]
    ContainsName,
    #[error("password is a repetition or a sequence")]
    Repetitive,
    /// The portal's own name, give or take digits and punctuation: the
    /// first thing a guesser tries here.
    #[error("password is the service's name")]
    ServiceName,
    /// Contains the account's SNILS. Checked by the application against
    /// the account's blind index (the SNILS itself is not at hand), with
    /// the runs that [`eleven_digit_runs`] gives.
    #[error("password contains the SNILS")]
    ContainsSnils,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, IntoStaticStr, EnumString, EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PasswordStrength {
    /// Has at least one [`PasswordProblem`]; refused.
    Weak,
    /// Acceptable, under [`STRONG_PASSWORD_BITS`] by [`estimated_bits`].
    Medium,
    /// Acceptable, at or over [`STRONG_PASSWORD_BITS`] by [`estimated_bits`].
    Strong,
}

impl fmt::Display for PasswordStrength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAssessment {
    pub strength: PasswordStrength,
    pub problems: Vec<PasswordProblem>,
}

impl PasswordAssessment {
    pub fn is_acceptable(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a password against the policy and estimates its strength.
///
/// The rules, each giving one [`PasswordProblem`]:
/// - `TooShort` / `TooLong`: fewer than [`MIN_PASSWORD_CHARS`] or more than
///   [`MAX_PASSWORD_CHARS`] Unicode characters.
/// - `Common`: among the 10,000 most common passwords, compared lower-cased.
/// - `ContainsPhone`: with whitespace and `-.()+` removed, the password
///   contains the last seven national digits of the phone.
/// - `ContainsEmailName`: the password contains the e-mail local part, if that
///   has at least three characters.
/// - `ContainsName`: the password contains the surname or given name, or one
///   of their parts between spaces, hyphens and apostrophes, if that has at
///   least three characters.
/// - `Repetitive`: the password has at least three characters and, compared
///   lower-cased, has fewer than three distinct characters (`aaaaaaa1`), is
///   one chunk repeated whole (`abcabcabc`), or is a run along the digits,
///   the Latin or Cyrillic alphabet or a Latin or Russian keyboard row,
///   forwards or backwards (`12345678`, `hgfedcba`, `qwertyui`, `йцукенгш`).
///
/// Containment is compared lower-cased, with `ё` read as `е` and `’` as `'`.
///
/// Any problem makes the password [`PasswordStrength::Weak`]; otherwise the
/// strength follows [`estimated_bits`] and [`STRONG_PASSWORD_BITS`].
pub fn assess_password(password: &str, ctx: &PasswordContext<'_>) -> PasswordAssessment {
    let problems = problems_of(password, ctx);
    let strength = if !problems.is_empty() {
        PasswordStrength::Weak
    } else if estimated_bits(password) < STRONG_PASSWORD_BITS {
        PasswordStrength::Medium
    } else {
        PasswordStrength::Strong
    };
    PasswordAssessment { strength, problems }
}

/// A password that meets the policy, ready to be hashed. It never prints
/// itself: there is no `Display`, and `Debug` shows `NewPassword(***)`.
pub struct NewPassword(String);

impl NewPassword {
    /// Accepts the password exactly as typed, without trimming or other
    /// changes, so that it matches at login; otherwise returns every problem.
    pub fn parse(password: &str, ctx: &PasswordContext<'_>) -> Result<Self, Vec<PasswordProblem>> {
        let problems = problems_of(password, ctx);
        if problems.is_empty() {
            Ok(Self(password.to_owned()))
        } else {
            Err(problems)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}
