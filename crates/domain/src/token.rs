//! The fixed string forms of the domain's closed sets (states, channels,
//! methods, roles): how a value is stored, sent in the API and written to
//! the audit log. The forms are derived by strum from the variant names, so
//! a value's string and its parsing can never disagree, and a renamed
//! variant shows in the tests that pin every form a database may hold.
use std::str::FromStr;

use strum::IntoEnumIterator;

/// A closed set of values with one string form each. Implemented for every
/// enum deriving `strum::IntoStaticStr`, `strum::EnumString` and
/// `strum::EnumIter`.
pub trait Token: Copy + Into<&'static str> + FromStr + IntoEnumIterator {
    /// The value's string form.
    fn as_str(self) -> &'static str {
        self.into()
    }

    /// The value of an exact string form; anything else is `None`.
    fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// Every string form, in the order the variants are declared.
    fn forms() -> Vec<&'static str> {
        Self::iter().map(Token::as_str).collect()
    }
}

impl<T: Copy + Into<&'static str> + FromStr + IntoEnumIterator> Token for T {}
