//! Time-based one-time passwords (RFC 6238 over RFC 4226) for the second
//! factor, and single-use backup codes for when the phone is lost.
//!
//! Parameters are the ones every authenticator app understands without
//! asking: HMAC-SHA1, six digits, 30-second steps. Anything else is
//! silently ignored by some apps, which then show codes that never match.
use hmac::{Hmac, Mac};
use rand::{RngCore, rngs::OsRng};
use sha1::Sha1;
use time::OffsetDateTime;

use crate::crypto::constant_time_eq;

type HmacSha1 = Hmac<Sha1>;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

const RFC4648_BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// 20 random bytes (160 bits, as RFC 4226 recommends), from the OS random source.
#[derive(Clone)]
pub struct TotpSecret([u8; 20]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut b = [0u8; 20];
        OsRng.fill_bytes(&mut b);
        Self(b)
    }

    /// Exactly 20 bytes: a shorter key would weaken the HMAC, and a longer
    /// one is something no code here generates, so it signals a mix-up.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Self(b.try_into().ok()?))
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// RFC 4648 base32 without padding: apps' key-URI parsers and manual
    /// entry fields both expect it this way.
    pub fn to_base32(&self) -> String {
        let mut out = String::with_capacity(32);
        let mut buffer: u32 = 0;
        let mut bits = 0u32;
        for &byte in &self.0 {
            buffer = (buffer << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(char::from(
                    RFC4648_BASE32[((buffer >> bits) & 0x1f) as usize],
                ));
            }
        }
        if bits > 0 {
            out.push(char::from(
                RFC4648_BASE32[((buffer << (5 - bits)) & 0x1f) as usize],
            ));
        }
        out
    }

    /// Case-insensitive and blind to whitespace and '=' padding, since keys
    /// are copied from apps, printouts and the grouped form by hand.
    pub fn from_base32(s: &str) -> Option<Self> {
        let mut bytes = Vec::with_capacity(20);
        let mut buffer: u32 = 0;
        let mut bits = 0u32;
        for c in s.chars() {
            if c == '=' || c.is_ascii_whitespace() {
                continue;
            }
            let upper = u8::try_from(c.to_ascii_uppercase()).ok()?;
            let value = RFC4648_BASE32.iter().position(|&a| a == upper)?;
            buffer = (buffer << 5) | value as u32;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        // Leftover bits must be fewer than one symbol and all zero, or two
        // different strings would decode to the same key.
        if bits >= 5 || buffer != 0 {
            return None;
        }
        Self::from_bytes(&bytes)
    }

    /// The key as people type it into an app by hand: groups of four, "ABCD EFGH …".
    pub fn grouped(&self) -> String {
        let plain = self.to_base32();
        let mut out = String::with_capacity(plain.len() + plain.len() / 4);
        for (i, c) in plain.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

/// The time step of a moment: floor(unix seconds / 30).
pub fn step_of(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(STEP_SECONDS)
}

/// RFC 4226 HOTP before the final modulo: the 31-bit number that dynamic
/// truncation picks out of the HMAC. Kept separate so the RFC's 8-digit test
/// vectors can be checked against it.
fn truncated(secret: &TotpSecret, counter: u64) -> u32 {
    let mut mac =
        <HmacSha1 as Mac>::new_from_slice(&secret.0).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let word = [
        hash[offset],
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ];
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// The 6-digit code of a step (HMAC-SHA1, dynamic truncation).
pub fn code_at_step(secret: &TotpSecret, step: i64) -> u32 {
    // Steps before 1970 never occur; the two's-complement cast keeps this
    // total instead of panicking on a broken clock.
    truncated(secret, step as u64) % 10u32.pow(DIGITS)
}

/// Checks a typed code at `now`, accepting the current step and one step either side (clock drift),
/// but only steps strictly after `last_used_step` (a code works once: replay protection).
/// Returns the matched step, which the caller stores as the new `last_used_step`.
/// The typed code may contain spaces; anything but exactly 6 digits fails.
pub fn verify(
    secret: &TotpSecret,
    typed: &str,
    now: OffsetDateTime,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut matched = None;
    // Every window step is checked, without stopping at the first match, so
    // the timing does not tell which step a guess hit. When two steps happen
    // to share a code, the latest is kept: storing an earlier one would let
    // the same code be replayed against the later step.
    for step in current - 1..=current + 1 {
        if last_used_step.is_some_and(|last| step <= last) {
            continue;
        }
        let expected = format!("{:06}", code_at_step(secret, step));
        if constant_time_eq(expected.as_bytes(), digits.as_bytes()) {
            matched = Some(step);
        }
    }
    matched
}

/// `otpauth://totp/{issuer}:{label}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`,
/// the key-URI format of Google Authenticator. The issuer is repeated as a
/// parameter because some apps read only the one and some only the other.
pub fn otpauth_uri(issuer: &str, label: &str, secret: &TotpSecret) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{label}?secret={secret}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        label = percent_encode(label),
        secret = secret.to_base32(),
    )
}

/// Percent-encodes every UTF-8 byte outside RFC 3986's unreserved set; a
/// ':' inside the label or issuer becomes %3A so it cannot be taken for the
/// separator between them, and a space is %20 because apps do not read '+'.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Lowercase letters and digits without the ones read as each other on
/// paper: 0/o, 1/i/l.
const BACKUP_ALPHABET: &[u8; 31] = b"abcdefghjkmnpqrstuvwxyz23456789";
const BACKUP_LEN: usize = 10;

/// `n` backup codes of 10 characters from an alphabet without look-alikes
/// (no 0/O, 1/I/L), grouped "abcde-fghij", lowercase.
pub fn backup_codes(n: usize) -> Vec<String> {
    (0..n).map(|_| backup_code()).collect()
}

fn backup_code() -> String {
    let mut out = String::with_capacity(BACKUP_LEN + 1);
    let mut written = 0;
    let mut pool = [0u8; 16];
    while written < BACKUP_LEN {
        OsRng.fill_bytes(&mut pool);
        for symbol in pool.iter().filter_map(|&b| backup_symbol(b)) {
            if written == BACKUP_LEN {
                break;
            }
            if written == BACKUP_LEN / 2 {
                out.push('-');
            }
            out.push(symbol);
            written += 1;
        }
    }
    out
}

/// 31 does not divide 256: bytes from the last, partial run of the alphabet
/// are refused so that every symbol is equally likely.
fn backup_symbol(byte: u8) -> Option<char> {
    let n = BACKUP_ALPHABET.len();
    let b = usize::from(byte);
    (b < 256 / n * n).then(|| char::from(BACKUP_ALPHABET[b % n]))
}

/// Normalises a typed backup code for hashing: lowercase, whitespace and
/// hyphens removed; None unless exactly 10 chars from the alphabet.
pub fn normalize_backup_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = code.len() == BACKUP_LEN && code.bytes().all(|b| BACKUP_ALPHABET.contains(&b));
    valid.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    #[test]
    fn rfc4226_appendix_d_hotp_values() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in expected.into_iter().enumerate() {
            assert_eq!(
                code_at_step(&rfc_secret(), counter as i64),
                want,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let vectors: [(i64, u32, u32); 6] = [
            (59, 94287082, 287082),
            (1111111109, 7081804, 81804),
            (1111111111, 14050471, 50471),
            (1234567890, 89005924, 5924),
            (2000000000, 69279037, 279037),
            (20000000000, 65353130, 353130),
        ];
        let secret = rfc_secret();
        for (t, eight, six) in vectors {
            let step = step_of(at(t));
            assert_eq!(
                truncated(&secret, step as u64) % 100_000_000,
                eight,
                "T={t}"
            );
            assert_eq!(code_at_step(&secret, step), six, "T={t}");
        }
        // Leading zeros are part of the code the person types.
        assert_eq!(
            verify(&secret, "081804", at(1111111109), None),
            Some(37037036)
        );
        assert_eq!(
            verify(&secret, "005924", at(1234567890), None),
            Some(41152263)
        );
    }

    #[test]
    fn step_is_floor_of_thirty_seconds() {
        assert_eq!(step_of(at(0)), 0);
        assert_eq!(step_of(at(29)), 0);
        assert_eq!(step_of(at(30)), 1);
        assert_eq!(step_of(at(59)), 1);
        assert_eq!(step_of(at(-1)), -1);
    }

    fn code_string(secret: &TotpSecret, step: i64) -> String {
        format!("{:06}", code_at_step(secret, step))
    }

    #[test]
    fn verify_accepts_one_step_of_drift_either_way_and_not_two() {
        let secret = TotpSecret::generate();
        let now = at(1_700_000_015);
        let current = step_of(now);
        for delta in [-1, 0, 1] {
            let code = code_string(&secret, current + delta);
            assert_eq!(verify(&secret, &code, now, None), Some(current + delta));
        }
        for delta in [-2, 2] {
            let code = code_string(&secret, current + delta);
            let hit = verify(&secret, &code, now, None);
            // A random key can, once in a million, give two steps one code.
            let collides = (-1..=1).any(|d| code == code_string(&secret, current + d));
            assert!(collides || hit.is_none(), "delta {delta} accepted");
        }
    }

    #[test]
    fn rfc_key_refuses_two_steps_of_drift() {
        let secret = rfc_secret();
        let now = at(59);
        assert_eq!(verify(&secret, "287082", now, None), Some(1));
        // Steps 3 and -1 are outside the window around step 1.
        assert_eq!(verify(&secret, &code_string(&secret, 3), now, None), None);
        assert_eq!(verify(&secret, &code_string(&secret, -1), now, None), None);
        // Step 2 and 0 are inside.
        assert_eq!(verify(&secret, "359152", now, None), Some(2));
        assert_eq!(verify(&secret, "755224", now, None), Some(0));
    }

    #[test]
    fn a_code_works_once() {
        let secret = rfc_secret();
        let now = at(59);
        let used = verify(&secret, "287082", now, None).unwrap();
        assert_eq!(verify(&secret, "287082", now, Some(used)), None);
        // After the next step's code, the current step's is refused too.
        let newer = verify(&secret, "359152", now, Some(used)).unwrap();
        assert_eq!(newer, 2);
        assert_eq!(verify(&secret, "287082", now, Some(newer)), None);
        assert_eq!(verify(&secret, "755224", now, Some(newer)), None);
    }

    #[test]
    fn verify_refuses_malformed_input_and_allows_spaces() {
        let secret = rfc_secret();
        let now = at(59);
        for typed in [
            "12345",
            "1234567",
            "12a456",
            "",
            "      ",
            "２８７０８２",
            "+87082",
        ] {
            assert_eq!(verify(&secret, typed, now, None), None, "{typed:?}");
        }
        assert_eq!(verify(&secret, "287 082", now, None), Some(1));
        assert_eq!(verify(&secret, " 287082\t", now, None), Some(1));
        assert_eq!(verify(&secret, "2870820", now, None), None);
    }

    #[test]
    fn base32_of_the_rfc_key() {
        let secret = rfc_secret();
        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(secret.grouped(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        for typed in [
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====",
        ] {
            let back = TotpSecret::from_base32(typed).unwrap();
            assert_eq!(back.as_bytes(), b"12345678901234567890", "{typed:?}");
        }
        for bad in [
            "",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJЖ",
        ] {
            assert!(TotpSecret::from_base32(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn from_bytes_wants_exactly_twenty() {
        assert!(TotpSecret::from_bytes(&[0; 19]).is_none());
        assert!(TotpSecret::from_bytes(&[0; 21]).is_none());
        assert_eq!(
            TotpSecret::from_bytes(&[9; 20]).unwrap().as_bytes(),
            &[9; 20]
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            TotpSecret::generate().as_bytes(),
            TotpSecret::generate().as_bytes()
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let secret = rfc_secret();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "TotpSecret(***)");
        assert!(!shown.contains("GEZD"));
        assert_eq!(format!("{:?}", Some(secret)), "Some(TotpSecret(***))");
    }

    #[test]
    fn otpauth_uri_encodes_issuer_and_label() {
        let uri = otpauth_uri("Госуслуги", "Оператор ЦОН: Иван", &rfc_secret());
        assert_eq!(
            uri,
            "otpauth://totp/\
             %D0%93%D0%BE%D1%81%D1%83%D1%81%D0%BB%D1%83%D0%B3%D0%B8:\
             %D0%9E%D0%BF%D0%B5%D1%80%D0%B0%D1%82%D0%BE%D1%80%20%D0%A6%D0%9E%D0%9D%3A%20%D0%98%D0%B2%D0%B0%D0%BD\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=%D0%93%D0%BE%D1%81%D1%83%D1%81%D0%BB%D1%83%D0%B3%D0%B8\
             &algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            otpauth_uri("uslugi", "a.b-c_d~e@x:y z", &rfc_secret()),
            "otpauth://totp/uslugi:a.b-c_d~e%40x%3Ay%20z\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=uslugi\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn backup_codes_have_the_promised_shape() {
        let codes = backup_codes(10);
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(&code[5..6], "-", "{code}");
            assert!(
                code.bytes()
                    .filter(|&b| b != b'-')
                    .all(|b| BACKUP_ALPHABET.contains(&b)),
                "{code}"
            );
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        assert!(backup_codes(0).is_empty());
    }

    #[test]
    fn every_backup_symbol_is_equally_likely() {
        let mut counts = [0usize; BACKUP_ALPHABET.len()];
        for byte in 0..=u8::MAX {
            if let Some(c) = backup_symbol(byte) {
                let i = BACKUP_ALPHABET
                    .iter()
                    .position(|&a| char::from(a) == c)
                    .unwrap();
                counts[i] += 1;
            }
        }
        assert!(counts.iter().all(|&c| c == counts[0]), "{counts:?}");
        assert_eq!(counts[0], 256 / BACKUP_ALPHABET.len());
    }

    #[test]
    fn backup_alphabet_has_no_look_alikes() {
        for c in b"0o1il" {
            assert!(!BACKUP_ALPHABET.contains(c), "{}", char::from(*c));
        }
        let mut sorted = BACKUP_ALPHABET.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), BACKUP_ALPHABET.len());
    }

    #[test]
    fn normalize_backup_code_refuses_what_is_not_a_code() {
        assert_eq!(
            normalize_backup_code(" ABCDE-fghjk ").as_deref(),
            Some("abcdefghjk")
        );
        assert_eq!(
            normalize_backup_code("ab cd ef gh jk").as_deref(),
            Some("abcdefghjk")
        );
        for bad in [
            "",
            "abcde-fghj",
            "abcde-fghjkm",
            "abcde-fghi1",
            "abcde-fgh0k",
            "abcde-fghjо",
        ] {
            assert_eq!(normalize_backup_code(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::array::uniform20(any::<u8>())) {
            let secret = TotpSecret::from_bytes(&bytes).unwrap();
            let encoded = secret.to_base32();
            prop_assert_eq!(encoded.len(), 32);
            prop_assert!(encoded.bytes().all(|b| RFC4648_BASE32.contains(&b)));
            let back = TotpSecret::from_base32(&encoded).unwrap();
            prop_assert_eq!(back.as_bytes(), &bytes);
            let back = TotpSecret::from_base32(&secret.grouped().to_lowercase()).unwrap();
            prop_assert_eq!(back.as_bytes(), &bytes);
        }

        #[test]
        fn backup_codes_normalise_back_to_themselves(n in 1usize..8) {
            for code in backup_codes(n) {
                let plain = code.replace('-', "");
                prop_assert_eq!(normalize_backup_code(&code), Some(plain.clone()));
                prop_assert_eq!(normalize_backup_code(&code.to_uppercase()), Some(plain.clone()));
                prop_assert_eq!(normalize_backup_code(&plain), Some(plain));
            }
        }
    }
}
