use std::fmt;

/// The level of a citizen's account; each one opens more services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountLevel {
    /// Name and one confirmed contact.
    Simplified,
    /// Personal data checked at the Social Fund and the Interior Ministry.
    Standard,
    /// Identity proven in person, by letter or by a qualified signature.
    Confirmed,
}

impl AccountLevel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Simplified => "simplified",
            Self::Standard => "standard",
            Self::Confirmed => "confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "simplified" => Some(Self::Simplified),
            "standard" => Some(Self::Standard),
            "confirmed" => Some(Self::Confirmed),
            _ => None,
        }
    }
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
    }
}
