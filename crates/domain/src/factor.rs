//! The second factor: how it is given and what a step waiting for it is for.
use strum::{EnumIter, EnumString, IntoStaticStr};

/// How a citizen's second factor is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum FactorMethod {
    /// A code by SMS to the account's phone.
    Sms,
    /// A code from an authenticator app (TOTP, RFC 6238).
    Totp,
}

/// What a step waiting for the second factor is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum FactorPurpose {
    /// A login whose password was right.
    Login,
    /// Turning the factor on: the first code proves the phone or the app.
    Enrol,
    /// Turning it off, or renewing the backup codes.
    Manage,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;

    // These forms are stored in databases and sent in the API.
    #[test]
    fn string_forms_are_fixed() {
        assert_eq!(FactorMethod::forms(), ["sms", "totp"]);
        assert_eq!(FactorPurpose::forms(), ["login", "enrol", "manage"]);
    }
}
