//! Typed identifiers. They are random (UUID v4), so holding one tells
//! nothing about how many accounts exist or when they were made.
use std::fmt;
use std::str::FromStr;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        /// In JSON, the hyphenated UUID.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A citizen's account.
    AccountId
);
typed_id!(
    /// A registration in progress: contact given, not yet confirmed or without a password.
    RegistrationId
);
typed_id!(
    /// A service-center operator (or supervisor).
    OperatorId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = AccountId::random();
        assert_eq!(id.to_string().parse::<AccountId>().unwrap(), id);
        assert!("not-an-id".parse::<RegistrationId>().is_err());
        assert_ne!(AccountId::random(), AccountId::random());
    }
}
