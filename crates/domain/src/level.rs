use std::fmt;

use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::Token;

/// The level of a citizen's account; each one opens more services.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, IntoStaticStr, EnumString, EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum AccountLevel {
    /// Name and one confirmed contact.
    Simplified,
    /// Personal data checked at the Social Fund and the Interior Ministry.
    Standard,
    /// Identity proven in person, by letter or by a qualified signature.
    Confirmed,
}

impl fmt::Display for AccountLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        for level in [
            AccountLevel::Simplified,
            AccountLevel::Standard,
            AccountLevel::Confirmed,
        ] {
            assert_eq!(AccountLevel::parse(level.as_str()), Some(level));
        }
        assert!(AccountLevel::Simplified < AccountLevel::Standard);
        assert!(AccountLevel::Standard < AccountLevel::Confirmed);
        assert_eq!(AccountLevel::parse("gold"), None);
        // Stored in databases and sent in the API.
        assert_eq!(
            AccountLevel::forms(),
            ["simplified", "standard", "confirmed"]
        );
    }
}
