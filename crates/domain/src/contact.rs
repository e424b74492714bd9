//! Contacts: the channels a code or a message goes by, and the logins an
//! account is found by.
use strum::{EnumIter, EnumString, IntoStaticStr};

/// How a code or a message reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
}

/// Which unique login of an account a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum LoginKind {
    Phone,
    Email,
    Snils,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;

    // These forms are stored in databases and sent in the API.
    #[test]
    fn string_forms_are_fixed() {
        assert_eq!(Channel::forms(), ["sms", "email"]);
        assert_eq!(LoginKind::forms(), ["phone", "email", "snils"]);
        assert_eq!(Channel::parse("sms"), Some(Channel::Sms));
        assert_eq!(Channel::parse("SMS"), None);
        assert_eq!(LoginKind::parse(" phone"), None);
    }
}
