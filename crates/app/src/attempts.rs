//! Attempts at an account's secrets: the password (at the login, and
//! wherever a page asks for it again) and the second factor's codes.
//!
//! An attempt is *taken before it is evaluated*: one conditional statement
//! checks that the account is neither locked nor throttled and counts the
//! attempt as a failure, with the throttle or lock that failure brings. Of
//! 200 concurrent guesses that saw the same state, one wins and is
//! evaluated; the others are refused unevaluated. A right secret then gives
//! its attempt back (or, at a completed login, clears the count).
use time::OffsetDateTime;
use uslugi_domain::AccountId;

use crate::accounts::Accounts;
use crate::ports::{AccountRecord, LoginRestriction, StoreError};

/// An attempt taken and counted; give it back if the secret was right.
#[derive(Debug, Clone, Copy)]
#[must_use = "a right secret must give its attempt back"]
pub(crate) struct Attempt {
    account: AccountId,
    /// The count of failures in a row, this attempt included.
    taken: u32,
    /// The throttle before this attempt, restored when it is given back.
    throttled_until: Option<OffsetDateTime>,
}

/// Why no attempt could be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Wait until then.
    Throttled(OffsetDateTime),
    /// Locked after too many failures (an administrator unlocks), or a
    /// concurrent attempt changed the account twice in a row.
    Locked,
}

impl Accounts {
    /// Takes one attempt at `account`'s secrets. A concurrent attempt that
    /// won the same state makes this one read the account again and try
    /// once more against what it left (throttle and lock included).
    pub(crate) async fn take_attempt(
        &self,
        account: &AccountRecord,
    ) -> Result<Result<Attempt, Refusal>, StoreError> {
        let mut seen = account.clone();
        for _ in 0..2 {
            let now = self.clock.now();
            if seen.locked {
                return Ok(Err(Refusal::Locked));
            }
            if let Some(until) = seen.throttled_until.filter(|until| now < *until) {
                return Ok(Err(Refusal::Throttled(until)));
            }
            let taken = seen.failed_logins + 1;
            let next = LoginRestriction {
                throttled_until: self.policy.throttle_delay(taken).map(|d| now + d),
                locked: taken >= self.policy.lock_after_failures,
            };
            if self
                .store
                .take_login_attempt(seen.id, seen.failed_logins, now, next)
                .await?
            {
                if next.locked {
                    tracing::warn!(account = %seen.id, "account locked after repeated failures");
                }
                return Ok(Ok(Attempt {
                    account: seen.id,
                    taken,
                    throttled_until: seen.throttled_until,
                }));
            }
            match self.store.account(seen.id).await? {
                Some(fresh) => seen = fresh,
                None => return Ok(Err(Refusal::Locked)),
            }
        }
        Ok(Err(Refusal::Locked))
    }

    /// The secret was right: the attempt was no failure.
    pub(crate) async fn give_back(&self, attempt: Attempt) -> Result<(), StoreError> {
        self.store
            .give_back_login_attempt(attempt.account, attempt.taken, attempt.throttled_until)
            .await
    }
}
