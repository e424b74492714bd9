//! Service-center staff: what an operator may do depends on the role, and
//! what a center may do on the services it offers.
use std::fmt;

use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::Token;

/// An operator serves citizens; a supervisor also reads the center's audit
/// records of every operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum OperatorRole {
    Operator,
    Supervisor,
}

impl fmt::Display for OperatorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operator may search citizens by: exact values only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum SearchBy {
    Snils,
    Phone,
    Passport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OperatorLoginError {
    #[error("the login is empty")]
    Empty,
    #[error("the login is 3 to 64 characters")]
    Length,
    #[error("the login holds Latin letters, digits, dots, hyphens and underscores")]
    Characters,
}

/// An operator's login: Latin letters, digits, `.`, `-`, `_`; compared
/// without case (stored lower-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorLogin(String);

impl OperatorLogin {
    pub fn parse(input: &str) -> Result<Self, OperatorLoginError> {
        let s = input.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(OperatorLoginError::Empty);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(OperatorLoginError::Characters);
        }
        if !(3..=64).contains(&s.len()) {
            return Err(OperatorLoginError::Length);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in [OperatorRole::Operator, OperatorRole::Supervisor] {
            assert_eq!(OperatorRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(OperatorRole::parse("admin"), None);
        assert_eq!(OperatorRole::forms(), ["operator", "supervisor"]);
        assert_eq!(SearchBy::forms(), ["snils", "phone", "passport"]);
    }

    #[test]
    fn logins_are_plain_and_caseless() {
        assert_eq!(
            OperatorLogin::parse(" Ivanova.A ").unwrap().as_str(),
            "ivanova.a"
        );
        assert_eq!(OperatorLogin::parse(""), Err(OperatorLoginError::Empty));
        assert_eq!(OperatorLogin::parse("ab"), Err(OperatorLoginError::Length));
        assert_eq!(
            OperatorLogin::parse("иванова"),
            Err(OperatorLoginError::Characters)
        );
        assert_eq!(
            OperatorLogin::parse("a b"),
            Err(OperatorLoginError::Characters)
        );
        assert!(OperatorLogin::parse(&"a".repeat(65)).is_err());
    }
}
