//! The blind indexes: keyed hashes of a phone, an e-mail, a SNILS or a
//! passport, which lookups go through. Each is computed again from the
//! sealed value it indexes, which is what a rotation of the index key
//! (`uslugi admin rotate-keys --keyed-hash`) walks.
use uslugi_domain::{Email, PhoneNumber};

use crate::crypto::{Crypto, HashPurpose};
use crate::identity::InternalError;

/// What kind of value a blind index is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexed {
    Phone,
    Email,
    /// A phone or an e-mail, by its shape (a registration's contact, a new
    /// contact waiting for its confirmation).
    Contact,
    /// The SNILS of the verified personal data.
    Snils,
    /// The passport of the verified personal data.
    Passport,
}

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
    /// The field sealed into the source's values.
    pub field: &'static str,
    pub indexed: Indexed,
}

const fn same_row(
    table: &'static str,
    column: &'static str,
    source_column: &'static str,
    field: &'static str,
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
        crate::identity::F_PHONE,
        Indexed::Phone,
    ),
    same_row(
        "accounts",
        "email_index",
        "email",
        crate::identity::F_EMAIL,
        Indexed::Email,
    ),
    BlindIndexColumn {
        table: "accounts",
        key: "id",
        column: "snils_index",
        source_table: "personal_data",
        source_key: "account_id",
        source_column: "verified",
        field: crate::verification::F_SUBMITTED,
        indexed: Indexed::Snils,
    },
    BlindIndexColumn {
        table: "accounts",
        key: "id",
        column: "passport_index",
        source_table: "personal_data",
        source_key: "account_id",
        source_column: "verified",
        field: crate::verification::F_SUBMITTED,
        indexed: Indexed::Passport,
    },
    same_row(
        "registrations",
        "contact_index",
        "contact",
        crate::identity::F_CONTACT,
        Indexed::Contact,
    ),
    same_row(
        "contact_changes",
        "contact_index",
        "new_contact",
        crate::contacts::F_NEW_CONTACT,
        Indexed::Contact,
    ),
    same_row(
        "desk_phones",
        "phone_index",
        "phone",
        crate::operators::F_DESK_PHONE,
        Indexed::Phone,
    ),
];

/// The blind index, under `crypto`'s index key, of the value sealed in
/// `sealed` for the row `row`: what the product computes when it writes it.
pub fn index_of(
    crypto: &Crypto,
    column: &BlindIndexColumn,
    row: &str,
    sealed: &[u8],
) -> Result<Vec<u8>, InternalError> {
    let phone = |plain: &str| {
        PhoneNumber::from_e164(plain)
            .map(|p| crypto.keyed_hash(HashPurpose::PhoneIndex, p.e164().as_bytes()))
            .ok_or(InternalError::Corrupt("an indexed phone"))
    };
    let email = |plain: &str| {
        Email::parse(plain)
            .map(|e| crypto.keyed_hash(HashPurpose::EmailIndex, e.canonical().as_bytes()))
            .map_err(|_| InternalError::Corrupt("an indexed e-mail"))
    };
    match column.indexed {
        Indexed::Phone => phone(&crypto.open(column.field, row, sealed)?),
        Indexed::Email => email(&crypto.open(column.field, row, sealed)?),
        Indexed::Contact => {
            let plain = crypto.open(column.field, row, sealed)?;
            if plain.contains('@') {
                email(&plain)
            } else {
                phone(&plain)
            }
        }
        Indexed::Snils => {
            let data = crate::verification::open_submitted(crypto, row, sealed)?;
            Ok(crypto.keyed_hash(HashPurpose::SnilsIndex, data.snils.digits().as_bytes()))
        }
        Indexed::Passport => {
            let data = crate::verification::open_submitted(crypto, row, sealed)?;
            Ok(crate::verification::passport_index(
                crypto,
                &data.document.series_number,
            ))
        }
    }
}
