//! Keyed hashes, sealing of personal data, and secure randomness.
//!
//! Codes, tokens and session ids are stored only as keyed hashes, so a copy
//! of the database opens nothing. Contacts and names are sealed with an AEAD
//! under a key kept outside the database; lookups go through a blind index
//! (a keyed hash of the canonical value), never through the plaintext.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore, rngs::OsRng};
use sha2::Sha256;

mod field;

pub use field::SealedField;

type HmacSha256 = Hmac<Sha256>;

/// A 256-bit key.
#[derive(Clone)]
pub struct Key(pub [u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        Self(k)
    }

    pub fn from_base64(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim().trim_end_matches('='))
            .ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

/// Every secret the application holds, loaded once at start.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Keys the hashes of codes, tokens and sessions and the audit chain;
    /// the blind indexes too while no `index_key` is set.
    pub hmac_key: Key,
    /// Keys the blind indexes (phone, e-mail, SNILS, passport): the hashes
    /// that a leaked key would let anyone test guesses against, so this key
    /// can be replaced (`uslugi admin rotate-keys --keyed-hash`).
    pub index_key: Option<Key>,
    /// Encryption keys by id; values sealed under any of them can be opened.
    pub encryption_keys: Vec<(u8, Key)>,
    /// The key new values are sealed with.
    pub current_encryption_key: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value names unknown key {0}")]
    UnknownKey(u8),
    #[error("sealed value failed authentication")]
    Forged,
}

/// What a keyed hash is of; the purpose is mixed into the hash so that a
/// hash of one kind can never stand for another.
#[derive(Debug, Clone, Copy)]
pub enum HashPurpose {
    PhoneIndex,
    EmailIndex,
    SnilsIndex,
    ConfirmationCode,
    EmailToken,
    SessionToken,
    ClientIp,
    LetterCode,
    PassportIndex,
    OperatorEnrolment,
    OperatorSession,
    AuditChain,
    RecoveryCode,
    RecoveryToken,
    Device,
    /// An SMS code of the second factor.
    FactorCode,
    /// A backup code of the second factor.
    BackupCode,
    ContactChangeCode,
    ContactChangeToken,
    /// The right to take a flow's next step, handed to whoever confirmed.
    Continuation,
    /// A login no account has, as typed (for its counted attempt).
    LoginAttempt,
    /// The right of one console session to open one citizen's card, which
    /// a search (or a registration at the desk) hands out.
    CardGrant,
    /// A code sent to the phone typed at a registration at the desk.
    DeskPhoneCode,
}

impl HashPurpose {
    /// The blind indexes: keyed hashes of a person's phone, e-mail, SNILS
    /// or passport, which lookups go through.
    pub fn is_blind_index(self) -> bool {
        matches!(
            self,
            Self::PhoneIndex | Self::EmailIndex | Self::SnilsIndex | Self::PassportIndex
        )
    }

    fn label(self) -> &'static [u8] {
        match self {
            Self::PhoneIndex => b"phone-index",
            Self::EmailIndex => b"email-index",
            Self::SnilsIndex => b"snils-index",
            Self::ConfirmationCode => b"confirmation-code",
            Self::EmailToken => b"email-token",
            Self::SessionToken => b"session-token",
            Self::ClientIp => b"client-ip",
            Self::LetterCode => b"letter-code",
            Self::PassportIndex => b"passport-index",
            Self::OperatorEnrolment => b"operator-enrolment",
            Self::OperatorSession => b"operator-session",
            Self::AuditChain => b"audit-chain",
            Self::RecoveryCode => b"recovery-code",
            Self::RecoveryToken => b"recovery-token",
            Self::Device => b"device",
            Self::FactorCode => b"factor-code",
            Self::BackupCode => b"backup-code",
            Self::ContactChangeCode => b"contact-change-code",
            Self::ContactChangeToken => b"contact-change-token",
            Self::Continuation => b"continuation",
            Self::LoginAttempt => b"login-attempt",
            Self::CardGrant => b"card-grant",
            Self::DeskPhoneCode => b"desk-phone-code",
        }
    }
}

/// The format of values sealed now: the field and the row's key are both
/// associated data.
const SEAL_VERSION: u8 = 2;
/// Values sealed before the row was bound in: only the field. They open
/// only to be sealed again ([`Crypto::upgrade`]), which every node does to
/// the whole database once, at its first start on this format.
const LEGACY_SEAL_VERSION: u8 = 1;
/// The format the database notes once every value in it is sealed so.
pub const SEAL_FORMAT: i64 = SEAL_VERSION as i64;
const NONCE_LEN: usize = 24;

/// The associated data of a sealed value: the field and the row, each
/// length-prefixed so no two places share an encoding, then the format and
/// the key's id. A value moved to another row, or another column, fails to
/// open.
fn associated_data(version: u8, field: SealedField, row: &str, key_id: u8) -> Vec<u8> {
    bound_data(version, field.label(), row, key_id)
}

fn bound_data(version: u8, field: &str, row: &str, key_id: u8) -> Vec<u8> {
    if version == LEGACY_SEAL_VERSION {
        return [field.as_bytes(), &[version, key_id]].concat();
    }
    let mut aad = Vec::with_capacity(field.len() + row.len() + 10);
    for part in [field.as_bytes(), row.as_bytes()] {
        aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad.extend_from_slice(&[version, key_id]);
    aad
}

#[derive(Debug, Clone)]
pub struct Crypto {
    secrets: Secrets,
}

impl Crypto {
    /// Fixed keys, for unit tests of the modules that hash or seal.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self::new(Secrets {
            hmac_key: Key([7; 32]),
            index_key: None,
            encryption_keys: vec![(1, Key([1; 32]))],
            current_encryption_key: 1,
        })
    }

    pub fn new(secrets: Secrets) -> Self {
        Self { secrets }
    }

    pub fn keyed_hash(&self, purpose: HashPurpose, value: &[u8]) -> Vec<u8> {
        let key = match &self.secrets.index_key {
            Some(k) if purpose.is_blind_index() => k,
            _ => &self.secrets.hmac_key,
        };
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&key.0).expect("HMAC takes keys of any length");
        mac.update(purpose.label());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().to_vec()
    }

    /// Seals `plaintext` for column `field` of the row whose key is `row`
    /// (the text of the table's key column: an account's id for its
    /// personal data). Both are associated data: a sealed surname cannot be
    /// passed off as a sealed phone, nor one person's phone moved to
    /// another's row by someone who can write to the database.
    pub fn seal(
        &self,
        field: SealedField,
        row: impl std::fmt::Display,
        plaintext: &str,
    ) -> Vec<u8> {
        self.seal_in(field, &row.to_string(), plaintext)
    }

    /// A value in the legacy format (bound to its field only), as nodes
    /// before the row was bound in wrote them: for the tests of the upgrade.
    #[doc(hidden)]
    pub fn seal_legacy(&self, field: SealedField, plaintext: &str) -> Vec<u8> {
        self.seal_as(LEGACY_SEAL_VERSION, field, "", plaintext)
    }

    fn seal_in(&self, field: SealedField, row: &str, plaintext: &str) -> Vec<u8> {
        self.seal_as(SEAL_VERSION, field, row, plaintext)
    }

    fn seal_as(&self, version: u8, field: SealedField, row: &str, plaintext: &str) -> Vec<u8> {
        let key_id = self.secrets.current_encryption_key;
        let key = self
            .key(key_id)
            .expect("the current encryption key is among the keys");
        let cipher = XChaCha20Poly1305::new((&key.0).into());
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(version, field, row, key_id);
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory value cannot fail");
        let mut out = Vec::with_capacity(2 + NONCE_LEN + ciphertext.len());
        out.push(version);
        out.push(key_id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens a value sealed for column `field` of row `row`. A value of the
    /// legacy format is refused: every node upgrades them at its first
    /// start, so one found later was put there behind the node's back.
    pub fn open(
        &self,
        field: SealedField,
        row: impl std::fmt::Display,
        sealed: &[u8],
    ) -> Result<String, CryptoError> {
        self.open_as(SEAL_VERSION, field, &row.to_string(), sealed)
    }

    fn open_as(
        &self,
        version: u8,
        field: SealedField,
        row: &str,
        sealed: &[u8],
    ) -> Result<String, CryptoError> {
        if sealed.len() < 2 + NONCE_LEN || sealed[0] != version {
            return Err(CryptoError::Malformed);
        }
        let key_id = sealed[1];
        let key = self.key(key_id).ok_or(CryptoError::UnknownKey(key_id))?;
        let cipher = XChaCha20Poly1305::new((&key.0).into());
        let aad = associated_data(version, field, row, key_id);
        let plaintext = cipher
            .decrypt(
                XNonce::from_slice(&sealed[2..2 + NONCE_LEN]),
                Payload {
                    msg: &sealed[2 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Forged)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Malformed)
    }

    /// Seals `sealed` again under the current key, or `None` when it already
    /// is: what `uslugi admin rotate-keys` does to every sealed value. A
    /// legacy value is sealed again in the current format, bound to `row`.
    pub fn reseal(
        &self,
        field: SealedField,
        row: &str,
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>, CryptoError> {
        if sealed.first() == Some(&LEGACY_SEAL_VERSION) {
            return self.upgrade(field, row, sealed);
        }
        if sealed.len() > 1 && sealed[1] == self.secrets.current_encryption_key {
            return Ok(None);
        }
        let plain = self.open_as(SEAL_VERSION, field, row, sealed)?;
        Ok(Some(self.seal_in(field, row, &plain)))
    }

    /// Seals a legacy value (bound to its field only) again in the current
    /// format, bound to `row`; `None` for a value of the current format.
    pub fn upgrade(
        &self,
        field: SealedField,
        row: &str,
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>, CryptoError> {
        if sealed.first() != Some(&LEGACY_SEAL_VERSION) {
            return Ok(None);
        }
        let plain = self.open_as(LEGACY_SEAL_VERSION, field, row, sealed)?;
        Ok(Some(self.seal_in(field, row, &plain)))
    }

    fn key(&self, id: u8) -> Option<&Key> {
        self.secrets
            .encryption_keys
            .iter()
            .find(|(kid, _)| *kid == id)
            .map(|(_, k)| k)
    }
}

/// Links audit records: HMAC over the previous link, the record's place and
/// its fields, each length-prefixed so no two records share an encoding.
impl crate::ports::AuditChain for Crypto {
    fn link(&self, prev_hash: &[u8], seq: i64, e: &crate::ports::AuditEntry) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(256);
        let mut field = |b: &[u8]| {
            bytes.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
            bytes.extend_from_slice(b);
        };
        field(prev_hash);
        field(&seq.to_be_bytes());
        field(e.id.as_bytes());
        field(&e.at.unix_timestamp().to_be_bytes());
        field(e.actor.as_bytes());
        field(
            e.operator_id
                .map(|o| o.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(e.center_id.as_deref().unwrap_or("").as_bytes());
        field(
            e.account_id
                .map(|a| a.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(e.action.as_bytes());
        field(e.outcome.as_bytes());
        field(e.details.as_bytes());
        self.keyed_hash(HashPurpose::AuditChain, &bytes)
    }
}

/// A temporary password for an SMS: ten characters a person can read off a
/// phone and type without mistaking one for another (lower case, no 0/o,
/// 1/l/i): 31 symbols, about 49 bits, drawn without modulo bias.
pub fn random_temporary_password() -> String {
    const ALPHABET: &[u8; 31] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(10);
    while out.len() < 10 {
        let mut b = [0u8; 1];
        OsRng.fill_bytes(&mut b);
        // 248 = 31 × 8: bytes above would favour the first symbols.
        if b[0] < 248 {
            out.push(char::from(ALPHABET[usize::from(b[0] % 31)]));
        }
    }
    out
}

/// A token of 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Bytes as URL-safe base64 without padding.
pub fn url_safe(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A numeric one-time code of six digits, uniform over 000000–999999.
pub fn random_six_digit_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// Compares secrets without revealing by timing where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto() -> Crypto {
        Crypto::new(Secrets {
            hmac_key: Key([7; 32]),
            index_key: None,
            encryption_keys: vec![(1, Key([1; 32])), (2, Key([2; 32]))],
            current_encryption_key: 2,
        })
    }

    #[test]
    fn sealed_values_open_and_are_bound_to_their_field_and_row() {
        let c = crypto();
        let sealed = c.seal(SealedField::Phone, "row-1", "+79253910202");
        assert_eq!(
            c.open(SealedField::Phone, "row-1", &sealed).unwrap(),
            "+79253910202"
        );
        assert!(matches!(
            c.open(SealedField::Email, "row-1", &sealed),
            Err(CryptoError::Forged)
        ));
        assert!(
            matches!(
                c.open(SealedField::Phone, "row-2", &sealed),
                Err(CryptoError::Forged)
            ),
            "a value moved to another row does not open"
        );
        assert_ne!(
            c.seal(SealedField::Phone, "row-1", "+79253910202"),
            sealed,
            "nonces differ"
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(matches!(
            c.open(SealedField::Phone, "row-1", &tampered),
            Err(CryptoError::Forged)
        ));
        assert!(matches!(
            c.open(SealedField::Phone, "row-1", &[2, 9]),
            Err(CryptoError::Malformed)
        ));
        // Field and row are length-prefixed: moving a character between
        // them gives other associated data.
        assert_ne!(bound_data(2, "ab", "c", 1), bound_data(2, "a", "bc", 1));
    }

    #[test]
    fn legacy_values_open_only_to_be_upgraded_and_then_belong_to_their_row() {
        let c = crypto();
        let legacy = c.seal_legacy(SealedField::Surname, "Иванов");
        assert_eq!(legacy[0], LEGACY_SEAL_VERSION);
        assert!(
            matches!(
                c.open(SealedField::Surname, "row-1", &legacy),
                Err(CryptoError::Malformed)
            ),
            "a legacy value is never read as it is"
        );
        let upgraded = c
            .upgrade(SealedField::Surname, "row-1", &legacy)
            .unwrap()
            .unwrap();
        assert_eq!(
            c.open(SealedField::Surname, "row-1", &upgraded).unwrap(),
            "Иванов"
        );
        assert!(c.open(SealedField::Surname, "row-2", &upgraded).is_err());
        assert!(
            c.upgrade(SealedField::Surname, "row-1", &upgraded)
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            c.upgrade(SealedField::GivenName, "row-1", &legacy),
            Err(CryptoError::Forged)
        ));
        let resealed = c
            .reseal(SealedField::Surname, "row-1", &legacy)
            .unwrap()
            .unwrap();
        assert_eq!(
            c.open(SealedField::Surname, "row-1", &resealed).unwrap(),
            "Иванов"
        );
    }

    #[test]
    fn values_sealed_under_an_older_key_still_open() {
        let old = Crypto::new(Secrets {
            current_encryption_key: 1,
            ..crypto().secrets
        });
        let sealed = old.seal(SealedField::Surname, "row-1", "Иванов");
        assert_eq!(sealed[1], 1);
        assert_eq!(
            crypto()
                .open(SealedField::Surname, "row-1", &sealed)
                .unwrap(),
            "Иванов"
        );
        let resealed = crypto()
            .reseal(SealedField::Surname, "row-1", &sealed)
            .unwrap()
            .unwrap();
        assert_eq!(resealed[1], 2);
        assert!(
            crypto()
                .reseal(SealedField::Surname, "row-1", &resealed)
                .unwrap()
                .is_none()
        );
        let without_old = Crypto::new(Secrets {
            encryption_keys: vec![(2, Key([2; 32]))],
            ..crypto().secrets
        });
        assert!(matches!(
            without_old.open(SealedField::Surname, "row-1", &sealed),
            Err(CryptoError::UnknownKey(1))
        ));
    }

    #[test]
    fn keyed_hashes_depend_on_purpose_and_key() {
        let c = crypto();
        let a = c.keyed_hash(HashPurpose::PhoneIndex, b"+79253910202");
        assert_eq!(a, c.keyed_hash(HashPurpose::PhoneIndex, b"+79253910202"));
        assert_ne!(a, c.keyed_hash(HashPurpose::EmailIndex, b"+79253910202"));
        let other = Crypto::new(Secrets {
            hmac_key: Key([8; 32]),
            ..c.secrets.clone()
        });
        assert_ne!(
            a,
            other.keyed_hash(HashPurpose::PhoneIndex, b"+79253910202")
        );
    }

    #[test]
    fn an_index_key_keys_the_blind_indexes_only() {
        let c = crypto();
        let indexed = Crypto::new(Secrets {
            index_key: Some(Key([9; 32])),
            ..c.secrets.clone()
        });
        for p in [
            HashPurpose::PhoneIndex,
            HashPurpose::EmailIndex,
            HashPurpose::SnilsIndex,
            HashPurpose::PassportIndex,
        ] {
            assert!(p.is_blind_index());
            assert_ne!(c.keyed_hash(p, b"v"), indexed.keyed_hash(p, b"v"));
        }
        for p in [
            HashPurpose::SessionToken,
            HashPurpose::ConfirmationCode,
            HashPurpose::AuditChain,
            HashPurpose::BackupCode,
        ] {
            assert!(!p.is_blind_index());
            assert_eq!(c.keyed_hash(p, b"v"), indexed.keyed_hash(p, b"v"));
        }
    }

    #[test]
    fn codes_and_tokens_have_the_promised_shape() {
        for _ in 0..200 {
            let code = random_six_digit_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        let token = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
        assert_ne!(random_token(), token);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn keys_round_trip_through_base64() {
        let k = Key::generate();
        assert_eq!(Key::from_base64(&k.to_base64()).unwrap().0, k.0);
        assert!(Key::from_base64("short").is_none());
        assert_eq!(format!("{k:?}"), "Key(***)");
    }
}
