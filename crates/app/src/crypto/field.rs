//! The fields a value is sealed for. A field's label is associated data of
//! every value sealed for it, together with the row: a value opens only in
//! the field and the row it was sealed for. The labels are therefore fixed
//! for good — a changed label would leave every stored value unreadable —
//! and a test pins each one.
use strum::{EnumIter, IntoStaticStr};

/// What a sealed value is. Storage knows where each field lives (its table
/// and column); the use cases know only the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, EnumIter)]
pub enum SealedField {
    /// A person's surname (a registration's and an account's).
    #[strum(serialize = "surname")]
    Surname,
    /// A person's given name (a registration's and an account's).
    #[strum(serialize = "given_name")]
    GivenName,
    /// A registration's phone or e-mail, by its shape.
    #[strum(serialize = "contact")]
    Contact,
    /// An account's phone.
    #[strum(serialize = "phone")]
    Phone,
    /// An account's e-mail.
    #[strum(serialize = "email")]
    Email,
    /// A new phone or e-mail while it waits for its confirmation.
    #[strum(serialize = "new_contact")]
    NewContact,
    /// The personal-data form's raw entries («Продолжить позже»).
    #[strum(serialize = "personal_data.draft")]
    PersonalDataDraft,
    /// Personal data as submitted, and as verified.
    #[strum(serialize = "personal_data.submitted")]
    PersonalData,
    /// The addresses of the personal data.
    #[strum(serialize = "personal_data.addresses")]
    Addresses,
    /// The registration address the Interior Ministry returned for the data
    /// in force: where a letter with a code may go.
    #[strum(serialize = "personal_data.registration_address")]
    RegisteredAddress,
    /// What a registry check asks.
    #[strum(serialize = "checks.request")]
    CheckRequest,
    /// The registration address a check returned.
    #[strum(serialize = "checks.registration_address")]
    CheckAddress,
    /// A message's recipient, subject and body, in the outbox.
    #[strum(serialize = "outbox.recipient")]
    MessageRecipient,
    #[strum(serialize = "outbox.subject")]
    MessageSubject,
    #[strum(serialize = "outbox.body")]
    MessageBody,
    /// A letter's code, its addressee and the address, kept to print it.
    #[strum(serialize = "identity_letters.code")]
    LetterCode,
    #[strum(serialize = "identity_letters.recipient")]
    LetterRecipient,
    #[strum(serialize = "identity_letters.address")]
    LetterAddress,
    /// An operator's full name.
    #[strum(serialize = "operators.name")]
    OperatorName,
    /// An operator's authenticator key.
    #[strum(serialize = "operators.totp_secret")]
    OperatorTotpSecret,
    /// A phone confirmed at the desk.
    #[strum(serialize = "desk_phones.phone")]
    DeskPhone,
    /// A citizen's authenticator key, in a step turning it on and then in
    /// the factor alike: the key sealed at enrolment moves as it is.
    #[strum(serialize = "second_factors.totp_secret")]
    FactorSecret,
}

impl SealedField {
    /// The label bound into the field's sealed values.
    pub fn label(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    // Every stored value is bound to its label: these may never change.
    #[test]
    fn labels_are_fixed() {
        let labels: Vec<_> = SealedField::iter().map(SealedField::label).collect();
        assert_eq!(
            labels,
            [
                "surname",
                "given_name",
                "contact",
                "phone",
                "email",
                "new_contact",
                "personal_data.draft",
                "personal_data.submitted",
                "personal_data.addresses",
                "personal_data.registration_address",
                "checks.request",
                "checks.registration_address",
                "outbox.recipient",
                "outbox.subject",
                "outbox.body",
                "identity_letters.code",
                "identity_letters.recipient",
                "identity_letters.address",
                "operators.name",
                "operators.totp_secret",
                "desk_phones.phone",
                "second_factors.totp_secret",
            ]
        );
    }
}
