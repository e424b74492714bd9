//! What every code or link of the system shares: how a typed code is read,
//! what a wrong try leaves, and the continuation that a confirmation hands
//! to whoever proved control of the contact.
//!
//! Registration, recovery, contact changes and the second factor each keep
//! their own row (their secrets have different lives and owners), but they
//! read codes, count misses and issue continuations only through here.
//!
//! **Why a continuation.** A flow is started by anyone who types a login;
//! it is the code or the link that proves control of the contact. So the
//! right to take the next step (set the password) goes with the proof: the
//! confirmation returns a fresh random token (256 bits), only its keyed hash
//! is stored, it lives 30 minutes and is spent by the step it allows. The
//! `registration_id` or `recovery_id` alone, which the starter knows, is
//! never enough.
use time::{Duration, OffsetDateTime};

use crate::crypto::{self, Crypto, HashPurpose};

/// How long a continuation may wait for the step it allows.
pub const CONTINUATION_TTL: Duration = Duration::minutes(30);

/// A continuation as issued: the token goes to whoever confirmed (in the
/// API's answer, or a cookie of the browser that pressed the button), the
/// hash and the expiry go to storage.
#[derive(Debug, Clone)]
pub struct Continuation {
    pub token: String,
    pub hash: Vec<u8>,
    pub expires_at: OffsetDateTime,
}

impl Continuation {
    pub fn issue(crypto: &Crypto, now: OffsetDateTime) -> Self {
        let token = crypto::random_token();
        Self {
            hash: continuation_hash(crypto, &token),
            token,
            expires_at: now + CONTINUATION_TTL,
        }
    }
}

pub fn continuation_hash(crypto: &Crypto, token: &str) -> Vec<u8> {
    crypto.keyed_hash(HashPurpose::Continuation, token.trim().as_bytes())
}

/// Whether `token` is the live continuation stored as `stored`.
pub fn continuation_holds(
    crypto: &Crypto,
    stored: Option<(&[u8], OffsetDateTime)>,
    token: Option<&str>,
    now: OffsetDateTime,
) -> bool {
    match (stored, token) {
        (Some((hash, expires_at)), Some(token)) if now < expires_at => {
            crypto::constant_time_eq(hash, &continuation_hash(crypto, token))
        }
        _ => false,
    }
}

/// A code as the person typed it: spaces dropped; `None` unless six digits.
pub fn read_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// What a wrong try leaves of a challenge's attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    Wrong { attempts_left: u32 },
    Exhausted,
}

/// `attempt` is the number the store returned when the try was taken.
pub fn miss(attempt: u32, max: u32) -> Miss {
    if attempt >= max {
        Miss::Exhausted
    } else {
        Miss::Wrong {
            attempts_left: max - attempt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_with_spaces_and_only_as_six_digits() {
        assert_eq!(read_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(read_code("12345"), None);
        assert_eq!(read_code("12345a"), None);
        assert_eq!(read_code("１２３４５６"), None);
    }

    #[test]
    fn the_last_allowed_miss_exhausts() {
        assert_eq!(miss(1, 3), Miss::Wrong { attempts_left: 2 });
        assert_eq!(miss(3, 3), Miss::Exhausted);
    }

    #[test]
    fn a_continuation_holds_once_issued_and_not_after_its_time() {
        let crypto = Crypto::for_tests();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let c = Continuation::issue(&crypto, now);
        let stored = Some((c.hash.as_slice(), c.expires_at));
        assert!(continuation_holds(&crypto, stored, Some(&c.token), now));
        assert!(!continuation_holds(&crypto, stored, Some("other"), now));
        assert!(!continuation_holds(&crypto, stored, None, now));
        assert!(!continuation_holds(&crypto, None, Some(&c.token), now));
        assert!(!continuation_holds(
            &crypto,
            stored,
            Some(&c.token),
            now + CONTINUATION_TTL
        ));
        // 256 bits, URL-safe.
        assert_eq!(c.token.len(), 43);
    }
}
