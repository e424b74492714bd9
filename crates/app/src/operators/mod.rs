//! Service-center operators (seeds 000, 001, 004): an administrator adds
//! one with a one-time enrolment link; the operator chooses a login and a
//! password and enrols an authenticator app (TOTP, mandatory); then, logged
//! in to the console, finds a citizen by an exact SNILS, phone or passport
//! and confirms their identity, registers them in person, or restores their
//! access. Everything an operator does is in the audit log, in the same
//! transaction as the change.
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{CenterService, OperatorId, OperatorRole};

use crate::accounts::InternalError;
use crate::audit::{Actor, AuditLog};
use crate::centers::Centers;
use crate::clock::Clock;
use crate::crypto::Crypto;
use crate::password_hasher::PasswordHasher;
use crate::ports::{Assisted, AuditFilter, AuditRecord, RateDecision, StoreError};
use crate::verification::Verification;

mod console_sign_in;
mod desk_actions;
mod enrolment;
mod search;

pub use console_sign_in::*;
pub use desk_actions::*;
pub use enrolment::*;
pub use search::*;

/// The rules of the console; an administrator may tune them.
#[derive(Debug, Clone)]
pub struct OperatorPolicy {
    pub enrolment_valid_for: Duration,
    /// A console left alone this long logs out.
    pub session_idle: Duration,
    /// A working day, at most.
    pub session_absolute: Duration,
    /// Wrong logins in a row after which each try waits longer.
    pub throttle_after_failures: u32,
    pub max_throttle: Duration,
    /// Searches an operator may make in an hour: the console finds people,
    /// it does not list them.
    pub searches_per_hour: u32,
    /// Audit records on a page of the console.
    pub audit_page: u32,
    /// How long a search result (or a registration at the desk) keeps the
    /// citizen's card open to the console session that made it.
    pub card_grant_valid_for: Duration,
    /// A code to the phone typed at a registration at the desk: how long it
    /// works, how many tries, when another may be sent.
    pub desk_code_ttl: Duration,
    pub desk_code_attempts: u32,
    pub desk_code_resend_after: Duration,
    /// From the first code to the registration it allows.
    pub desk_phone_valid_for: Duration,
    /// The limit per phone every flow shares (`Policy::sends_per_contact_per_hour`).
    pub sends_per_phone_per_hour: u32,
}

impl Default for OperatorPolicy {
    fn default() -> Self {
        Self {
            enrolment_valid_for: Duration::hours(72),
            session_idle: Duration::minutes(15),
            session_absolute: Duration::hours(12),
            throttle_after_failures: 3,
            max_throttle: Duration::minutes(30),
            searches_per_hour: 60,
            audit_page: 50,
            card_grant_valid_for: Duration::minutes(15),
            desk_code_ttl: Duration::seconds(300),
            desk_code_attempts: 3,
            desk_code_resend_after: Duration::seconds(60),
            desk_phone_valid_for: Duration::minutes(30),
            sends_per_phone_per_hour: 5,
        }
    }
}

impl OperatorPolicy {
    fn throttle_delay(&self, failures: u32) -> Option<Duration> {
        crate::settings::throttle(failures, self.throttle_after_failures, self.max_throttle)
    }
}

/// The operator behind a console request.
#[derive(Debug, Clone)]
pub struct OperatorAuth {
    pub id: OperatorId,
    pub center_id: String,
    pub center_name: String,
    pub role: OperatorRole,
    pub name: String,
    /// The center's services: what the console offers.
    pub services: Vec<CenterService>,
    /// The keyed hash of the console session's token: what card grants are
    /// bound to, so a grant is worth nothing in another session.
    session: Vec<u8>,
}

impl OperatorAuth {
    pub(crate) fn assisted(&self) -> Assisted {
        Assisted {
            operator_id: self.id,
            center_id: self.center_id.clone(),
        }
    }

    pub(crate) fn actor(&self) -> Actor {
        Actor::Operator { id: self.id }
    }

    pub fn offers(&self, s: CenterService) -> bool {
        self.services.contains(&s)
    }
}

pub struct Operators {
    pub(crate) store: Arc<dyn crate::ports::OperatorsPorts>,
    hasher: Arc<PasswordHasher>,
    pub(crate) crypto: Crypto,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: OperatorPolicy,
    base_url: String,
    pub(crate) audit: AuditLog,
    centers: Arc<Centers>,
    pub(crate) verification: Arc<Verification>,
}

impl Operators {
    /// `site` gives the portal's address, for the enrolment links.
    pub fn new(
        deps: &crate::Deps,
        policy: OperatorPolicy,
        site: &crate::settings::Policy,
        centers: Arc<Centers>,
        verification: Arc<Verification>,
    ) -> Self {
        Self {
            store: deps.store.clone(),
            hasher: Arc::clone(&deps.hasher),
            crypto: deps.crypto.clone(),
            clock: Arc::clone(&deps.clock),
            policy,
            base_url: site.base_url.clone(),
            audit: deps.audit.clone(),
            centers,
            verification,
        }
    }

    pub fn policy(&self) -> &OperatorPolicy {
        &self.policy
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Takes one of the operator's lookups an hour (a search, or asking
    /// whether a phone typed at the desk has an account): counted in one
    /// conditional statement; the time to wait when none is left.
    pub(crate) async fn spend_lookup(
        &self,
        op: &OperatorAuth,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(
            match self
                .store
                .hit_rate_limit(
                    "operator-search",
                    op.id.to_string().as_bytes(),
                    now,
                    Duration::HOUR,
                    self.policy.searches_per_hour,
                )
                .await?
            {
                RateDecision::Refused { retry_at } => Some(retry_at),
                RateDecision::Allowed => None,
            },
        )
    }

    // ------------------------------------------------------------ the log

    /// The audit records an operator may read: their own; a supervisor,
    /// their center's. Never another center's.
    pub async fn audit_records(
        &self,
        op: &OperatorAuth,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, InternalError> {
        let filter = match op.role {
            OperatorRole::Supervisor => AuditFilter {
                center_id: Some(op.center_id.clone()),
                ..AuditFilter::default()
            },
            OperatorRole::Operator => AuditFilter {
                center_id: Some(op.center_id.clone()),
                operator_id: Some(op.id),
                ..AuditFilter::default()
            },
        };
        Ok(self
            .store
            .audit_records(&filter, before, self.policy.audit_page)
            .await?)
    }
}
