//! Use cases of the standard account: personal data kept as a draft,
//! submitted to the Social Fund and the Interior Ministry, checked by
//! workers through the registry gateway, and the result told to the person.
//!
//! A submission writes its two checks in the same transaction as the data.
//! Each check row is its own job: a worker leases it, talks to the gateway
//! (submit with the check's id as the idempotency key, then poll), and
//! either reschedules it or closes it. Closing is guarded by the check's
//! state, so running a job twice has no second effect. When both checks of
//! a submission are closed, one transaction records the outcome, raises the
//! level and writes the notification to the outbox; the outbox worker
//! delivers it with its id as the idempotency key.
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use tokio::sync::Notify;
use uslugi_domain::{AccountId, Address, CheckStatus, LoginKind, PersonalData, VerificationStatus};

use crate::accounts::InternalError;
use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::crypto::{Crypto, HashPurpose, SealedField};
use crate::ports::{AccountRecord, CheckRecord, Messenger, SubmissionId, VerifiedIdentity};
use crate::registries::{PassportInvalidity, Registry, RegistryGateway};

mod checks;
mod delivery;
mod in_person;
mod personal_data;

pub use checks::*;
pub use delivery::*;
pub use in_person::*;
pub use personal_data::*;

/// How the checks and the outbox are run; an operator may tune it.
#[derive(Debug, Clone)]
pub struct VerificationPolicy {
    /// After this a check that could not reach its registry gives up.
    pub give_up_after: Duration,
    /// How often an accepted request is polled for its answer.
    pub poll_interval: Duration,
    /// The first wait after a failed call; it doubles with each failure.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How long a worker holds a job; after that another may take it. Longer
    /// than a job can take (two gateway calls of at most 10 s each), short
    /// enough that a crashed worker delays its checks by half a minute.
    pub lease: Duration,
    /// Jobs taken at once.
    pub batch: u32,
    /// Submissions of personal data an account may make in an hour: each
    /// costs two registry requests, and the outcome tells whether a SNILS
    /// already has an account.
    pub submissions_per_account_per_hour: u32,
    /// And from one client address (IPv6: its /64) in an hour.
    pub submissions_per_ip_per_hour: u32,
}

impl Default for VerificationPolicy {
    fn default() -> Self {
        Self {
            give_up_after: Duration::days(5),
            poll_interval: Duration::seconds(1),
            first_retry: Duration::seconds(5),
            max_retry: Duration::hours(1),
            lease: Duration::seconds(30),
            batch: 20,
            submissions_per_account_per_hour: 5,
            submissions_per_ip_per_hour: 30,
        }
    }
}

impl VerificationPolicy {
    /// The wait after the `attempts`-th failed call in a row.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        self.schedule().retry_delay(attempts)
    }

    /// How the checks and the outbox's messages are leased and retried.
    pub fn schedule(&self) -> crate::jobs::Schedule {
        crate::jobs::Schedule {
            lease: self.lease,
            batch: self.batch,
            first_retry: self.first_retry,
            max_retry: self.max_retry,
        }
    }
}

/// Why a check failed, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    SnilsNotFound,
    DataMismatch,
    PassportNotFound,
    PassportInvalid(PassportInvalidity),
    /// The registry could not be reached for the whole retry period.
    Unavailable,
    /// The gateway refused the request as malformed.
    Rejected,
}

impl FailureReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SnilsNotFound => "snils_not_found",
            Self::DataMismatch => "data_mismatch",
            Self::PassportNotFound => "passport_not_found",
            Self::PassportInvalid(PassportInvalidity::Lost) => "passport_lost",
            Self::PassportInvalid(PassportInvalidity::Expired) => "passport_expired",
            Self::PassportInvalid(PassportInvalidity::Replaced) => "passport_replaced",
            Self::Unavailable => "unavailable",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "snils_not_found" => Self::SnilsNotFound,
            "data_mismatch" => Self::DataMismatch,
            "passport_not_found" => Self::PassportNotFound,
            "passport_lost" => Self::PassportInvalid(PassportInvalidity::Lost),
            "passport_expired" => Self::PassportInvalid(PassportInvalidity::Expired),
            "passport_replaced" => Self::PassportInvalid(PassportInvalidity::Replaced),
            "unavailable" => Self::Unavailable,
            "rejected" => Self::Rejected,
            _ => return None,
        })
    }
}

/// What is sealed as a submission: the data and the language the result
/// is to be told in.
#[derive(Serialize, Deserialize)]
struct Submitted {
    lang: String,
    data: PersonalData,
}

pub struct Verification {
    store: Arc<dyn crate::ports::VerificationPorts>,
    gateway: Arc<dyn RegistryGateway>,
    messenger: Arc<dyn Messenger>,
    crypto: Crypto,
    clock: Arc<dyn Clock>,
    base_url: String,
    display_offset: time::UtcOffset,
    policy: VerificationPolicy,
    wake: Notify,
    /// Hashes the temporary password of a registration at a center.
    hasher: Arc<crate::password_hasher::PasswordHasher>,
    audit: AuditLog,
    /// The letters handed to the post are background work too.
    letters: Option<Arc<crate::letters::Letters>>,
    jobs: crate::jobs::JobRunner,
}

impl Verification {
    /// `site` gives the portal's address and the offset of the dates shown;
    /// `letters`, when given, are handed to the post by the same workers.
    pub fn new(
        deps: &crate::Deps,
        gateway: Arc<dyn RegistryGateway>,
        site: &crate::settings::Policy,
        policy: VerificationPolicy,
        letters: Option<Arc<crate::letters::Letters>>,
    ) -> Self {
        let v = Self {
            store: deps.store.clone(),
            gateway,
            messenger: Arc::clone(&deps.messenger),
            crypto: deps.crypto.clone(),
            clock: Arc::clone(&deps.clock),
            base_url: site.base_url.clone(),
            display_offset: site.display_offset,
            policy,
            wake: Notify::new(),
            hasher: Arc::clone(&deps.hasher),
            audit: deps.audit.clone(),
            letters,
            jobs: deps.job_runner(),
        };
        // Checks left by an earlier run are due at once.
        v.wake.notify_one();
        v
    }

    pub fn policy(&self) -> &VerificationPolicy {
        &self.policy
    }

    /// Resolves when there may be new work (a submission); workers also
    /// wake on their own timer.
    pub async fn wait_for_work(&self) {
        self.wake.notified().await;
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The day it is where the person lives, for age and date rules.
    pub fn today(&self) -> Date {
        self.clock.now().to_offset(self.display_offset).date()
    }

    fn seal_json<T: Serialize>(
        &self,
        field: SealedField,
        row: impl std::fmt::Display,
        value: &T,
    ) -> Vec<u8> {
        let json = serde_json::to_string(value).expect("plain data serialise");
        self.crypto.seal(field, row, &json)
    }

    fn open_json<T: for<'de> Deserialize<'de>>(
        &self,
        field: SealedField,
        row: impl std::fmt::Display,
        sealed: &[u8],
    ) -> Result<T, InternalError> {
        let json = self.crypto.open(field, row, sealed)?;
        serde_json::from_str(&json).map_err(|_| InternalError::Corrupt(field.label()))
    }

    /// When the account's last submission passed both checks and failed only
    /// because its SNILS is another account's: that account, and what the
    /// submission would make verified. What a center needs to move the SNILS.
    pub(crate) async fn snils_transfer(
        &self,
        account: AccountId,
    ) -> Result<Option<(AccountRecord, SubmissionId, VerifiedIdentity)>, InternalError> {
        let Some(record) = self.store.personal_data(account).await? else {
            return Ok(None);
        };
        let (VerificationStatus::Failed, Some(submission), Some(sealed)) = (
            record.status,
            record.submission_id,
            record.submitted.as_deref(),
        ) else {
            return Ok(None);
        };
        let checks = self.store.checks_of_submission(submission).await?;
        if checks.is_empty() || checks.iter().any(|c| c.status != CheckStatus::Passed) {
            return Ok(None);
        }
        let data = self
            .open_json::<Submitted>(SealedField::PersonalData, account, sealed)?
            .data;
        let snils_index = self.snils_index(&data.snils);
        let Some(holder) = self
            .store
            .account_by_login(LoginKind::Snils, &snils_index)
            .await?
            .filter(|h| h.id != account)
        else {
            return Ok(None);
        };
        let verified = self.verified_identity(account, &data, &checks)?;
        Ok(Some((holder, submission, verified)))
    }

    /// What a submission that passed makes verified: the names, the blind
    /// indexes and the registration address the Interior Ministry returned
    /// (moved from its check to the account).
    pub(super) fn verified_identity(
        &self,
        account: AccountId,
        data: &PersonalData,
        checks: &[CheckRecord],
    ) -> Result<VerifiedIdentity, InternalError> {
        let registration_address = match checks
            .iter()
            .find(|c| c.registry == Registry::Mvd)
            .and_then(|c| Some((c.id, c.registration_address.as_deref()?)))
        {
            Some((check, sealed)) => Some(self.seal_json(
                SealedField::RegisteredAddress,
                account,
                &self.open_json::<Address>(SealedField::CheckAddress, check, sealed)?,
            )),
            None => None,
        };
        Ok(VerifiedIdentity {
            surname: self
                .crypto
                .seal(SealedField::Surname, account, data.surname.as_str()),
            given_name: self
                .crypto
                .seal(SealedField::GivenName, account, data.given_name.as_str()),
            snils_index: self.snils_index(&data.snils),
            passport_index: passport_index(&self.crypto, &data.document.series_number),
            registration_address,
        })
    }
}

/// The blind index of a passport: its ten digits, keyed.
pub fn passport_index(crypto: &Crypto, series_number: &uslugi_domain::PassportNumber) -> Vec<u8> {
    let digits: String = series_number
        .as_str()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    crypto.keyed_hash(HashPurpose::PassportIndex, digits.as_bytes())
}

/// The verified personal data of an account, if its data passed the checks.
pub(crate) async fn verified_data(
    crypto: &Crypto,
    store: &dyn crate::ports::VerificationStore,
    account: AccountId,
) -> Result<Option<PersonalData>, InternalError> {
    let Some(r) = store.personal_data(account).await? else {
        return Ok(None);
    };
    let Some(sealed) = r.verified.as_deref() else {
        return Ok(None);
    };
    open_submitted(crypto, account, sealed).map(Some)
}

/// Personal data as submitted (or verified) for the account `account`.
pub(crate) fn open_submitted(
    crypto: &Crypto,
    account: impl std::fmt::Display,
    sealed: &[u8],
) -> Result<PersonalData, InternalError> {
    let json = crypto.open(SealedField::PersonalData, account, sealed)?;
    let s: Submitted = serde_json::from_str(&json)
        .map_err(|_| InternalError::Corrupt(SealedField::PersonalData.label()))?;
    Ok(s.data)
}

/// The address of registration the Interior Ministry returned for the
/// account's data in force; `None` when it returned none.
pub(crate) async fn registered_address(
    crypto: &Crypto,
    store: &dyn crate::ports::VerificationStore,
    account: AccountId,
) -> Result<Option<Address>, InternalError> {
    let Some(sealed) = store
        .personal_data(account)
        .await?
        .and_then(|r| r.registration_address)
    else {
        return Ok(None);
    };
    let json = crypto.open(SealedField::RegisteredAddress, account, &sealed)?;
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|_| InternalError::Corrupt(SealedField::RegisteredAddress.label()))
}

/// «Фамилия Имя Отчество» as verified, for a letter's address block.
pub(crate) async fn verified_full_name(
    crypto: &Crypto,
    store: &dyn crate::ports::VerificationStore,
    account: &crate::ports::AccountRecord,
) -> Result<Option<String>, InternalError> {
    Ok(verified_data(crypto, store, account.id).await?.map(|d| {
        let mut name = format!("{} {}", d.surname.as_str(), d.given_name.as_str());
        if let Some(p) = &d.patronymic {
            name.push(' ');
            name.push_str(p.as_str());
        }
        name
    }))
}

fn prefixed(prefix: &'static str, field: &'static str) -> &'static str {
    // Field names are a closed set; spell the combinations out so they stay
    // `&'static str` without leaking.
    match (prefix, field) {
        ("registration", "postal_code") => "registration.postal_code",
        ("registration", "region") => "registration.region",
        ("registration", "locality") => "registration.locality",
        ("registration", "street") => "registration.street",
        ("registration", "house") => "registration.house",
        ("registration", "building") => "registration.building",
        ("registration", "flat") => "registration.flat",
        ("actual", "postal_code") => "actual.postal_code",
        ("actual", "region") => "actual.region",
        ("actual", "locality") => "actual.locality",
        ("actual", "street") => "actual.street",
        ("actual", "house") => "actual.house",
        ("actual", "building") => "actual.building",
        ("actual", "flat") => "actual.flat",
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registries::RegistryAnswer;

    #[test]
    fn an_ipv6_client_is_limited_by_its_slash_64() {
        let a = "2001:db8:85a3:7:1::1".parse().unwrap();
        let b = "2001:db8:85a3:7:ffff::2".parse().unwrap();
        let c = "2001:db8:85a3:8::1".parse().unwrap();
        assert_eq!(crate::security::limit_key(a), crate::security::limit_key(b));
        assert_ne!(crate::security::limit_key(a), crate::security::limit_key(c));
        assert_eq!(
            crate::security::limit_key("10.1.2.3".parse().unwrap()),
            "10.1.2.3"
        );
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let p = VerificationPolicy::default();
        assert_eq!(p.retry_delay(1), Duration::seconds(5));
        assert_eq!(p.retry_delay(2), Duration::seconds(10));
        assert_eq!(p.retry_delay(4), Duration::seconds(40));
        assert_eq!(p.retry_delay(30), Duration::hours(1));
    }

    #[test]
    fn every_answer_has_a_meaning() {
        assert_eq!(
            judge(Registry::Sfr, RegistryAnswer::SfrMatch).0,
            CheckStatus::Passed
        );
        assert_eq!(
            judge(
                Registry::Mvd,
                RegistryAnswer::MvdInvalid {
                    reason: PassportInvalidity::Replaced
                }
            ),
            (
                CheckStatus::Failed,
                Some(FailureReason::PassportInvalid(PassportInvalidity::Replaced))
            )
        );
        assert_eq!(
            judge(Registry::Mvd, RegistryAnswer::SfrMatch),
            (CheckStatus::Failed, Some(FailureReason::Rejected)),
            "an answer of the wrong registry never passes a check"
        );
        for r in [
            "snils_not_found",
            "data_mismatch",
            "passport_not_found",
            "passport_lost",
            "passport_expired",
            "passport_replaced",
            "unavailable",
            "rejected",
        ] {
            assert_eq!(FailureReason::parse(r).map(FailureReason::as_str), Some(r));
        }
    }
}
