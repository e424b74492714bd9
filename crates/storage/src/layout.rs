//! Where the sealed values and the blind indexes live: table and column
//! names belong to storage alone. What the use cases know of them is the
//! [`SealedField`] a value is sealed for and what an index is [`Indexed`]
//! by; key rotation (`uslugi admin rotate-keys`) walks these lists, and a
//! test checks them against the migrations' columns.
use uslugi_app::blind_index::Indexed;
use uslugi_app::crypto::SealedField;

/// A sealed column of the database: where it is, and the field its values
/// are sealed for (the associated data that binds a value to its place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    /// The table's text primary key.
    pub key: &'static str,
    pub column: &'static str,
    pub field: SealedField,
}

const fn col(
    table: &'static str,
    key: &'static str,
    column: &'static str,
    field: SealedField,
) -> SealedColumn {
    SealedColumn {
        table,
        key,
        column,
        field,
    }
}

/// Every sealed column; a test checks it against the migrations' BLOB columns.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    col("desk_phones", "id", "phone", SealedField::DeskPhone),
    col(
        "contact_changes",
        "id",
        "new_contact",
        SealedField::NewContact,
    ),
    col("registrations", "id", "surname", SealedField::Surname),
    col("registrations", "id", "given_name", SealedField::GivenName),
    col("registrations", "id", "contact", SealedField::Contact),
    col("accounts", "id", "surname", SealedField::Surname),
    col("accounts", "id", "given_name", SealedField::GivenName),
    col("accounts", "id", "phone", SealedField::Phone),
    col("accounts", "id", "email", SealedField::Email),
    col(
        "personal_data",
        "account_id",
        "draft",
        SealedField::PersonalDataDraft,
    ),
    col(
        "personal_data",
        "account_id",
        "submitted",
        SealedField::PersonalData,
    ),
    col(
        "personal_data",
        "account_id",
        "verified",
        SealedField::PersonalData,
    ),
    col(
        "personal_data",
        "account_id",
        "addresses",
        SealedField::Addresses,
    ),
    col("checks", "id", "request", SealedField::CheckRequest),
    col(
        "checks",
        "id",
        "registration_address",
        SealedField::CheckAddress,
    ),
    col(
        "personal_data",
        "account_id",
        "registration_address",
        SealedField::RegisteredAddress,
    ),
    col("outbox", "id", "recipient", SealedField::MessageRecipient),
    col("outbox", "id", "subject", SealedField::MessageSubject),
    col("outbox", "id", "body", SealedField::MessageBody),
    col("identity_letters", "id", "code", SealedField::LetterCode),
    col(
        "identity_letters",
        "id",
        "recipient",
        SealedField::LetterRecipient,
    ),
    col(
        "identity_letters",
        "id",
        "address",
        SealedField::LetterAddress,
    ),
    col("operators", "id", "name", SealedField::OperatorName),
    col(
        "operators",
        "id",
        "totp_secret",
        SealedField::OperatorTotpSecret,
    ),
    col(
        "second_factors",
        "account_id",
        "totp_secret",
        SealedField::FactorSecret,
    ),
    col(
        "factor_challenges",
        "id",
        "totp_secret",
        SealedField::FactorSecret,
    ),
];

/// A blind index column, and where the value it indexes is sealed: in
/// `source_column` of the row of `source_table` whose `source_key` equals
/// this row's `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlindIndexColumn {
    pub table: &'static str,
    pub key: &'static str,
    pub column: &'static str,
    pub source_table: &'static str,
    pub source_key: &'static str,
    pub source_column: &'static str,
    /// The field the source's values are sealed for.
    pub field: SealedField,
    pub indexed: Indexed,
}

const fn same_row(
    table: &'static str,
    column: &'static str,
    source_column: &'static str,
    field: SealedField,
    indexed: Indexed,
) -> BlindIndexColumn {
    BlindIndexColumn {
        table,
        key: "id",
        column,
        source_table: table,
        source_key: "id",
        source_column,
        field,
        indexed,
    }
}

/// Every blind index; a test checks it against the migrations' columns.
pub const BLIND_INDEXES: &[BlindIndexColumn] = &[
    same_row(
        "accounts",
        "phone_index",
        "phone",
        SealedField::Phone,
        Indexed::Phone,
    ),
    same_row(
        "accounts",
        "email_index",
        "email",
        SealedField::Email,
        Indexed::Email,
    ),
    BlindIndexColumn {
        table: "accounts",
        key: "id",
        column: "snils_index",
        source_table: "personal_data",
        source_key: "account_id",
        source_column: "verified",
        field: SealedField::PersonalData,
        indexed: Indexed::Snils,
    },
    BlindIndexColumn {
        table: "accounts",
        key: "id",
        column: "passport_index",
        source_table: "personal_data",
        source_key: "account_id",
        source_column: "verified",
        field: SealedField::PersonalData,
        indexed: Indexed::Passport,
    },
    same_row(
        "registrations",
        "contact_index",
        "contact",
        SealedField::Contact,
        Indexed::Contact,
    ),
    same_row(
        "contact_changes",
        "contact_index",
        "new_contact",
        SealedField::NewContact,
        Indexed::Contact,
    ),
    same_row(
        "desk_phones",
        "phone_index",
        "phone",
        SealedField::DeskPhone,
        Indexed::Phone,
    ),
];
