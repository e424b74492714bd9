//! What every code or link of the system shares: how a typed code is read,
//! what a wrong try leaves, and the continuation that a confirmation hands
//! to whoever proved control of the contact.
//!
//! Registration, recovery, contact changes and the second factor each keep
//! their own row (their secrets have different lives and owners), but they
//! check a code or a link, count misses and issue continuations only
//! through here ([`verify`], [`Continuation`]).
//!
//! **Why a continuation.** A flow is started by anyone who types a login;
//! it is the code or the link that proves control of the contact. So the
//! right to take the next step (set the password) goes with the proof: the
//! confirmation returns a fresh random token (256 bits), only its keyed hash
//! is stored, it lives 30 minutes and is spent by the step it allows. The
//! `registration_id` or `recovery_id` alone, which the starter knows, is
//! never enough.
use std::future::Future;

use time::{Duration, OffsetDateTime};
use uslugi_domain::Channel;

use crate::crypto::{self, Crypto, HashPurpose};
use crate::ports::{ContinuationRecord, StoreError, StoreResult};

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

    /// What storage keeps of it: never the token.
    pub fn record(&self) -> ContinuationRecord {
        ContinuationRecord {
            hash: self.hash.clone(),
            expires_at: self.expires_at,
        }
    }
}

pub fn continuation_hash(crypto: &Crypto, token: &str) -> Vec<u8> {
    crypto.keyed_hash(HashPurpose::Continuation, token.trim().as_bytes())
}

/// Whether `token` is the live continuation stored as `stored`.
pub fn continuation_holds(
    crypto: &Crypto,
    stored: Option<&ContinuationRecord>,
    token: Option<&str>,
    now: OffsetDateTime,
) -> bool {
    match (stored, token) {
        (Some(stored), Some(token)) if now < stored.expires_at => {
            crypto::constant_time_eq(&stored.hash, &continuation_hash(crypto, token))
        }
        _ => false,
    }
}

/// The flow a code or a link belongs to. Each has hash purposes of its
/// own, so a secret issued for one flow never opens another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Registration,
    Recovery,
    ContactChange,
    /// The SMS code of a login's or a change's second step (SMS only).
    SecondFactor,
}

impl Flow {
    fn purpose(self, channel: Channel) -> HashPurpose {
        match (self, channel) {
            (Self::Registration, Channel::Sms) => HashPurpose::ConfirmationCode,
            (Self::Registration, Channel::Email) => HashPurpose::EmailToken,
            (Self::Recovery, Channel::Sms) => HashPurpose::RecoveryCode,
            (Self::Recovery, Channel::Email) => HashPurpose::RecoveryToken,
            (Self::ContactChange, Channel::Sms) => HashPurpose::ContactChangeCode,
            (Self::ContactChange, Channel::Email) => HashPurpose::ContactChangeToken,
            (Self::SecondFactor, _) => HashPurpose::FactorCode,
        }
    }

    /// The keyed hash a secret of this flow is stored and looked up by.
    pub fn secret_hash(self, crypto: &Crypto, channel: Channel, secret: &str) -> Vec<u8> {
        crypto.keyed_hash(self.purpose(channel), secret.trim().as_bytes())
    }

    /// A new secret: six digits for an SMS, a 256-bit token for a link.
    /// `decoy` issues one for a contact that must not receive it (someone
    /// else's, or an unknown login): the message still says what it says,
    /// but the stored hash is of another random token, so nothing ever
    /// matches it.
    pub fn issue(
        self,
        crypto: &Crypto,
        channel: Channel,
        ttl: Duration,
        now: OffsetDateTime,
        decoy: bool,
    ) -> Issued {
        let secret = match channel {
            Channel::Sms => crypto::random_six_digit_code(),
            Channel::Email => crypto::random_token(),
        };
        let hashed = if decoy {
            crypto::random_token()
        } else {
            secret.clone()
        };
        Issued {
            hash: self.secret_hash(crypto, channel, &hashed),
            secret,
            expires_at: now + ttl,
        }
    }
}

/// A secret as issued: `secret` goes into the message and nowhere else;
/// `hash` and `expires_at` go to storage.
#[derive(Debug, Clone)]
pub struct Issued {
    pub secret: String,
    pub hash: Vec<u8>,
    pub expires_at: OffsetDateTime,
}

/// Whether a new secret may be sent `interval` after the last one:
/// `Err(retry_at)` until then.
pub fn resend_due(
    sent_at: OffsetDateTime,
    interval: Duration,
    now: OffsetDateTime,
) -> Result<(), OffsetDateTime> {
    let retry_at = sent_at + interval;
    if now < retry_at {
        Err(retry_at)
    } else {
        Ok(())
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

/// A code or a link's token as the person sent it.
#[derive(Debug, Clone)]
pub enum Confirmation {
    Code(String),
    Token(String),
}

/// A flow's stored secret: what a confirmation is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Secret<'a> {
    pub channel: Channel,
    /// The keyed hash of the code or the token.
    pub hash: &'a [u8],
    pub expires_at: OffsetDateTime,
    /// The row stands in for a contact that is someone else's: it answers
    /// like a real one, and no secret ever matches it.
    pub decoy: bool,
}

/// Why a confirmation was refused, in the words every flow's error uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MalformedCode,
    CodeExpired,
    AttemptsExhausted,
    WrongCode { attempts_left: u32 },
    LinkInvalid,
    LinkExpired,
}

/// How a confirmation proved control of the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proved {
    /// By a code: its attempt was taken (a flow may give it back).
    Code,
    Link,
}

/// Checks `with` against `secret`. A code is read, its life checked, and
/// then an attempt is taken by `take_attempt` — the flow's one conditional
/// update, `None` when no attempt is left — *before* the code is compared,
/// so that concurrent guesses can never exceed `max_attempts`. A link's
/// token is compared, then its life checked (a wrong token is not told
/// apart from an expired one's neighbour). `hash` is the flow's keyed hash
/// of a code or a token; comparisons take constant time.
pub async fn verify<E>(
    secret: &Secret<'_>,
    with: Confirmation,
    now: OffsetDateTime,
    max_attempts: u32,
    hash: impl Fn(Channel, &str) -> Vec<u8>,
    take_attempt: impl Future<Output = StoreResult<Option<u32>>>,
) -> Result<Proved, E>
where
    E: From<Refusal> + From<StoreError>,
{
    match (secret.channel, with) {
        (Channel::Sms, Confirmation::Code(code)) => {
            let code = read_code(&code).ok_or(Refusal::MalformedCode)?;
            if now > secret.expires_at {
                return Err(Refusal::CodeExpired.into());
            }
            let Some(attempt) = take_attempt.await? else {
                return Err(Refusal::AttemptsExhausted.into());
            };
            if !crypto::constant_time_eq(&hash(Channel::Sms, &code), secret.hash) || secret.decoy {
                return Err(match miss(attempt, max_attempts) {
                    Miss::Exhausted => Refusal::AttemptsExhausted,
                    Miss::Wrong { attempts_left } => Refusal::WrongCode { attempts_left },
                }
                .into());
            }
            Ok(Proved::Code)
        }
        (Channel::Email, Confirmation::Token(token)) => {
            if !crypto::constant_time_eq(&hash(Channel::Email, token.trim()), secret.hash)
                || secret.decoy
            {
                return Err(Refusal::LinkInvalid.into());
            }
            if now > secret.expires_at {
                return Err(Refusal::LinkExpired.into());
            }
            Ok(Proved::Link)
        }
        (Channel::Sms, Confirmation::Token(_)) => Err(Refusal::MalformedCode.into()),
        (Channel::Email, Confirmation::Code(_)) => Err(Refusal::LinkInvalid.into()),
    }
}

/// Declares a flow's error: the variants given, then one for each
/// [`Refusal`] under its own name and in the words every flow's error uses
/// (the web pages and the API match on them), and `From<Refusal>`.
macro_rules! flow_error {
    ($(#[$meta:meta])* $vis:vis enum $error:ident { $($own:tt)* }) => {
        $(#[$meta])*
        $vis enum $error {
            $($own)*
            #[error("the code is not six digits")]
            MalformedCode,
            #[error("wrong code")]
            WrongCode { attempts_left: u32 },
            #[error("the code has expired")]
            CodeExpired,
            #[error("the code was entered wrongly too many times")]
            AttemptsExhausted,
            #[error("the link is invalid or has been used")]
            LinkInvalid,
            #[error("the link has expired")]
            LinkExpired,
        }

        impl From<$crate::challenge::Refusal> for $error {
            fn from(r: $crate::challenge::Refusal) -> Self {
                use $crate::challenge::Refusal;
                match r {
                    Refusal::MalformedCode => Self::MalformedCode,
                    Refusal::CodeExpired => Self::CodeExpired,
                    Refusal::AttemptsExhausted => Self::AttemptsExhausted,
                    Refusal::WrongCode { attempts_left } => Self::WrongCode { attempts_left },
                    Refusal::LinkInvalid => Self::LinkInvalid,
                    Refusal::LinkExpired => Self::LinkExpired,
                }
            }
        }
    };
}
pub(crate) use flow_error;

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
    fn a_secret_opens_only_its_own_flow_and_a_decoy_opens_nothing() {
        let crypto = Crypto::for_tests();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let flows = [
            Flow::Registration,
            Flow::Recovery,
            Flow::ContactChange,
            Flow::SecondFactor,
        ];
        for flow in flows {
            for channel in [Channel::Sms, Channel::Email] {
                let issued = flow.issue(&crypto, channel, Duration::minutes(5), now, false);
                assert_eq!(issued.expires_at, now + Duration::minutes(5));
                match channel {
                    Channel::Sms => assert!(read_code(&issued.secret).is_some()),
                    Channel::Email => assert_eq!(issued.secret.len(), 43),
                }
                assert_eq!(
                    issued.hash,
                    flow.secret_hash(&crypto, channel, &issued.secret)
                );
                for other in flows.into_iter().filter(|f| *f != flow) {
                    assert_ne!(
                        issued.hash,
                        other.secret_hash(&crypto, channel, &issued.secret)
                    );
                }
                let decoy = flow.issue(&crypto, channel, Duration::minutes(5), now, true);
                assert_ne!(
                    decoy.hash,
                    flow.secret_hash(&crypto, channel, &decoy.secret)
                );
            }
        }
    }

    #[test]
    fn a_new_secret_is_due_only_after_the_interval() {
        let sent = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let interval = Duration::minutes(1);
        assert_eq!(
            resend_due(sent, interval, sent + Duration::seconds(59)),
            Err(sent + interval)
        );
        assert_eq!(resend_due(sent, interval, sent + interval), Ok(()));
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
        let record = c.record();
        let stored = Some(&record);
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

    #[derive(Debug, PartialEq)]
    enum FlowError {
        Refused(Refusal),
        Store,
    }

    impl From<Refusal> for FlowError {
        fn from(r: Refusal) -> Self {
            Self::Refused(r)
        }
    }

    impl From<StoreError> for FlowError {
        fn from(_: StoreError) -> Self {
            Self::Store
        }
    }

    fn hash(channel: Channel, typed: &str) -> Vec<u8> {
        format!("{channel:?}:{typed}").into_bytes()
    }

    /// Checks `with` against a secret `right`; `attempt` is what taking an
    /// attempt returns, and whether it was taken is returned too.
    async fn check(
        channel: Channel,
        decoy: bool,
        with: Confirmation,
        now: OffsetDateTime,
        attempt: Option<u32>,
    ) -> (Result<Proved, FlowError>, bool) {
        let right = hash(
            channel,
            if channel == Channel::Sms {
                "123456"
            } else {
                "tok"
            },
        );
        let expires_at = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let secret = Secret {
            channel,
            hash: &right,
            expires_at,
            decoy,
        };
        let taken = std::sync::atomic::AtomicBool::new(false);
        let take = async {
            taken.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(attempt)
        };
        let result = verify::<FlowError>(&secret, with, now, 3, hash, take).await;
        (result, taken.into_inner())
    }

    #[tokio::test]
    async fn a_code_takes_its_attempt_before_it_is_compared() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let code = |c: &str| Confirmation::Code(c.into());
        let refused = |r| (Err(FlowError::Refused(r)), true);
        assert_eq!(
            check(Channel::Sms, false, code("123 456"), now, Some(1)).await,
            (Ok(Proved::Code), true)
        );
        assert_eq!(
            check(Channel::Sms, false, code("654321"), now, Some(1)).await,
            refused(Refusal::WrongCode { attempts_left: 2 })
        );
        assert_eq!(
            check(Channel::Sms, false, code("654321"), now, Some(3)).await,
            refused(Refusal::AttemptsExhausted)
        );
        // None left: even the right code is refused.
        assert_eq!(
            check(Channel::Sms, false, code("123456"), now, None).await,
            refused(Refusal::AttemptsExhausted)
        );
        // A decoy's row never matches, and costs its attempt like any other.
        assert_eq!(
            check(Channel::Sms, true, code("123456"), now, Some(1)).await,
            refused(Refusal::WrongCode { attempts_left: 2 })
        );
        // Malformed or expired: refused before any attempt is taken.
        assert_eq!(
            check(Channel::Sms, false, code("12345"), now, Some(1)).await,
            (Err(FlowError::Refused(Refusal::MalformedCode)), false)
        );
        assert_eq!(
            check(
                Channel::Sms,
                false,
                code("123456"),
                now + Duration::SECOND,
                Some(1)
            )
            .await,
            (Err(FlowError::Refused(Refusal::CodeExpired)), false)
        );
        assert_eq!(
            check(
                Channel::Sms,
                false,
                Confirmation::Token("tok".into()),
                now,
                Some(1)
            )
            .await,
            (Err(FlowError::Refused(Refusal::MalformedCode)), false)
        );
    }

    #[tokio::test]
    async fn a_link_is_compared_then_its_life_checked_and_takes_no_attempt() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let token = |t: &str| Confirmation::Token(t.into());
        assert_eq!(
            check(Channel::Email, false, token(" tok "), now, None).await,
            (Ok(Proved::Link), false)
        );
        assert_eq!(
            check(
                Channel::Email,
                false,
                token("other"),
                now + Duration::DAY,
                None
            )
            .await,
            (Err(FlowError::Refused(Refusal::LinkInvalid)), false)
        );
        assert_eq!(
            check(
                Channel::Email,
                false,
                token("tok"),
                now + Duration::DAY,
                None
            )
            .await,
            (Err(FlowError::Refused(Refusal::LinkExpired)), false)
        );
        assert_eq!(
            check(Channel::Email, true, token("tok"), now, None).await,
            (Err(FlowError::Refused(Refusal::LinkInvalid)), false)
        );
        assert_eq!(
            check(
                Channel::Email,
                false,
                Confirmation::Code("123456".into()),
                now,
                None
            )
            .await,
            (Err(FlowError::Refused(Refusal::LinkInvalid)), false)
        );
    }
}
