//! The blind indexes: keyed hashes of a phone, an e-mail, a SNILS or a
//! passport, which lookups go through. Each is computed again from the
//! sealed value it indexes, which is what a rotation of the index key
//! (`uslugi admin rotate-keys --keyed-hash`) walks.
use uslugi_domain::{Email, PhoneNumber};

use crate::accounts::InternalError;
use crate::crypto::{Crypto, HashPurpose, SealedField};

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

/// The blind index, under `crypto`'s index key, of the value sealed in
/// `sealed` for `field` of the row `row`: what the product computes when it writes it.
pub fn index_of(
    crypto: &Crypto,
    field: SealedField,
    indexed: Indexed,
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
    match indexed {
        Indexed::Phone => phone(&crypto.open(field, row, sealed)?),
        Indexed::Email => email(&crypto.open(field, row, sealed)?),
        Indexed::Contact => {
            let plain = crypto.open(field, row, sealed)?;
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
