//! Where a person's personal data and identity stand: the state of the
//! data, of each registry check, and how the identity was proven.
use strum::{EnumIter, EnumString, IntoStaticStr};

/// Where a person's personal data stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum VerificationStatus {
    /// Nothing submitted yet (perhaps a draft).
    Draft,
    /// The registries are checking the submitted data.
    InProgress,
    /// The last submission passed both checks.
    Verified,
    /// The last submission failed a check; it may be corrected and resubmitted.
    Failed,
}

/// Where the check at one registry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum CheckStatus {
    Pending,
    /// The gateway failed; the check runs again later.
    Retrying,
    Passed,
    Failed,
}

impl CheckStatus {
    /// The check still waits for an answer.
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Retrying)
    }
}

/// How an identity was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum ConfirmedVia {
    /// In person at a service center (or registered there).
    Center,
    /// The code of a registered letter.
    Letter,
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;
    use crate::Token;

    // These forms are stored in databases and sent in the API.
    #[test]
    fn string_forms_are_fixed() {
        assert_eq!(
            VerificationStatus::forms(),
            ["draft", "in_progress", "verified", "failed"]
        );
        assert_eq!(
            CheckStatus::forms(),
            ["pending", "retrying", "passed", "failed"]
        );
        assert_eq!(ConfirmedVia::forms(), ["center", "letter"]);
        assert_eq!(VerificationStatus::parse("inprogress"), None);
    }

    #[test]
    fn only_pending_and_retrying_checks_are_open() {
        let open: Vec<_> = CheckStatus::iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [CheckStatus::Pending, CheckStatus::Retrying]);
    }
}
