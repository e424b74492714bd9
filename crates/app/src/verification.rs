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
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use tokio::sync::Notify;
use uslugi_domain::{
    AccountId, AccountLevel, Address, AddressForm, Channel, CheckStatus, FieldProblem, LoginKind,
    PersonalData, PersonalDataForm, PhoneNumber, Snils, Token, VerificationStatus,
};

use crate::audit::{Actor, AuditLog, action};
use crate::clock::Clock;
use crate::crypto::{self, Crypto, HashPurpose, SealedField};
use crate::identity::InternalError;
use crate::lang::Lang;
use crate::messages::{self, VerificationOutcome};
use crate::notices::Contacts;
use crate::ports::{
    AccountRecord, Assisted, CheckRecord, Completion, Message, Messenger, OutboxRecord,
    RateDecision, Store, StoreError, SubmissionId, TemporaryPassword, UniqueField,
    VerifiedIdentity,
};
use crate::registries::{
    GatewayError, PassportInvalidity, PersonFacts, Registry, RegistryAnswer, RegistryGateway,
    RegistryRequest, RegistryRequestId,
};

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
        crate::settings::doubling(self.first_retry, attempts, self.max_retry)
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckView {
    pub registry: Registry,
    pub status: CheckStatus,
    pub reason: Option<FailureReason>,
}

/// The state of the latest submission, for the check page and the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationState {
    pub status: VerificationStatus,
    /// Social Fund first, then the Interior Ministry; empty before a submission.
    pub checks: Vec<CheckView>,
    /// Both checks passed but the SNILS was verified for another account
    /// in the meantime.
    pub snils_taken: bool,
}

/// Everything «Мои данные» and the form show.
#[derive(Debug, Clone)]
pub struct PersonalDataView {
    pub state: VerificationState,
    /// What the form shows: the draft, else the last submission, else the
    /// data in force, else the names given at registration.
    pub form: PersonalDataForm,
    /// The data in force (passed the checks).
    pub verified: Option<PersonalData>,
    pub verified_at: Option<OffsetDateTime>,
    /// The last submission (under check, or failed).
    pub submitted: Option<PersonalData>,
    pub has_draft: bool,
    pub addresses: Option<Addresses>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addresses {
    pub registration: Address,
    pub actual: Address,
}

/// What is sealed as a submission: the data and the language the result
/// is to be told in.
#[derive(Serialize, Deserialize)]
struct Submitted {
    lang: String,
    data: PersonalData,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the personal data are invalid")]
    Invalid(Vec<FieldProblem>),
    #[error("a submission is already being checked")]
    InProgress,
    #[error("too many submissions; try again later")]
    TooMany { retry_at: OffsetDateTime },
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<StoreError> for SubmitError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("the addresses are invalid")]
    Invalid(Vec<FieldProblem>),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// What one pass of the workers did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkDone {
    pub checks_run: usize,
    pub submissions_completed: usize,
    pub messages_delivered: usize,
    pub letters_dispatched: usize,
}

impl WorkDone {
    pub fn is_idle(&self) -> bool {
        *self == Self::default()
    }
}

pub struct Verification {
    store: Arc<dyn Store>,
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
}

/// The ports and helpers the checks need besides the registry gateway.
pub struct VerificationParts {
    pub hasher: Arc<crate::password_hasher::PasswordHasher>,
    pub audit: AuditLog,
    pub letters: Option<Arc<crate::letters::Letters>>,
}

impl Verification {
    #[expect(clippy::too_many_arguments, reason = "the ports and the two policies")]
    pub fn new(
        store: Arc<dyn Store>,
        gateway: Arc<dyn RegistryGateway>,
        messenger: Arc<dyn Messenger>,
        crypto: Crypto,
        clock: Arc<dyn Clock>,
        identity_policy: &crate::settings::Policy,
        policy: VerificationPolicy,
        wake_now: bool,
        parts: VerificationParts,
    ) -> Self {
        let v = Self {
            store,
            gateway,
            messenger,
            crypto,
            clock,
            base_url: identity_policy.base_url.clone(),
            display_offset: identity_policy.display_offset,
            policy,
            wake: Notify::new(),
            hasher: parts.hasher,
            audit: parts.audit,
            letters: parts.letters,
        };
        if wake_now {
            v.wake.notify_one();
        }
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

    pub async fn personal_data(
        &self,
        account: AccountId,
    ) -> Result<PersonalDataView, InternalError> {
        let record = self.store.personal_data(account).await?;
        let state = self.state_of(record.as_ref()).await?;
        let Some(r) = record else {
            return Ok(PersonalDataView {
                state,
                form: self.names_form(account).await?,
                verified: None,
                verified_at: None,
                submitted: None,
                has_draft: false,
                addresses: None,
            });
        };
        let verified: Option<PersonalData> = r
            .verified
            .as_deref()
            .map(|s| {
                self.open_json::<Submitted>(SealedField::PersonalData, r.account_id, s)
                    .map(|s| s.data)
            })
            .transpose()?;
        let submitted: Option<PersonalData> = r
            .submitted
            .as_deref()
            .map(|s| {
                self.open_json::<Submitted>(SealedField::PersonalData, r.account_id, s)
                    .map(|s| s.data)
            })
            .transpose()?;
        let draft: Option<PersonalDataForm> = r
            .draft
            .as_deref()
            .map(|s| self.open_json(SealedField::PersonalDataDraft, r.account_id, s))
            .transpose()?;
        let has_draft = draft.is_some();
        let form = match (draft, &submitted, &verified) {
            (Some(d), _, _) => d,
            (None, Some(s), _) => PersonalDataForm::from_data(s),
            (None, None, Some(v)) => PersonalDataForm::from_data(v),
            (None, None, None) => self.names_form(account).await?,
        };
        let addresses = r
            .addresses
            .as_deref()
            .map(|s| self.open_json(SealedField::Addresses, r.account_id, s))
            .transpose()?;
        Ok(PersonalDataView {
            state,
            form,
            verified,
            verified_at: r.verified_at,
            submitted,
            has_draft,
            addresses,
        })
    }

    /// The names given at registration, to start the form with.
    async fn names_form(&self, account: AccountId) -> Result<PersonalDataForm, InternalError> {
        let a = self
            .store
            .account(account)
            .await?
            .ok_or(InternalError::Corrupt("session of a missing account"))?;
        Ok(PersonalDataForm {
            surname: self.crypto.open(SealedField::Surname, a.id, &a.surname)?,
            given_name: self
                .crypto
                .open(SealedField::GivenName, a.id, &a.given_name)?,
            citizenship: "RUS".into(),
            document: uslugi_domain::DocumentForm {
                kind: "rf_passport".into(),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    pub async fn state(&self, account: AccountId) -> Result<VerificationState, InternalError> {
        let record = self.store.personal_data(account).await?;
        self.state_of(record.as_ref()).await
    }

    async fn state_of(
        &self,
        record: Option<&crate::ports::PersonalDataRecord>,
    ) -> Result<VerificationState, InternalError> {
        let Some(r) = record else {
            return Ok(VerificationState {
                status: VerificationStatus::Draft,
                checks: Vec::new(),
                snils_taken: false,
            });
        };
        let checks = match r.submission_id {
            Some(id) => self.store.checks_of_submission(id).await?,
            None => Vec::new(),
        };
        let checks: Vec<CheckView> = checks
            .into_iter()
            .map(|c| CheckView {
                registry: c.registry,
                status: c.status,
                reason: c.reason.as_deref().and_then(FailureReason::parse),
            })
            .collect();
        let snils_taken = r.status == VerificationStatus::Failed
            && !checks.is_empty()
            && checks.iter().all(|c| c.status == CheckStatus::Passed);
        Ok(VerificationState {
            status: r.status,
            checks,
            snils_taken,
        })
    }

    /// «Продолжить позже»: keeps the entries as typed, valid or not.
    pub async fn save_draft(
        &self,
        account: AccountId,
        form: &PersonalDataForm,
    ) -> Result<(), InternalError> {
        let sealed = self.seal_json(SealedField::PersonalDataDraft, account, form);
        self.store
            .save_draft(account, &sealed, self.clock.now())
            .await?;
        Ok(())
    }

    /// «Продолжить»: checks the entries and, when they are right, sends them
    /// to both registries. The entries are kept as a draft whatever happens,
    /// so nothing typed is lost.
    ///
    /// Whether the SNILS already belongs to another account is not told
    /// here, to anyone who types it: only as the outcome of the checks,
    /// once both registries agreed that the data are the submitter's.
    pub async fn submit(
        &self,
        account: AccountId,
        form: &PersonalDataForm,
        lang: Lang,
        ip: IpAddr,
    ) -> Result<SubmissionId, SubmitError> {
        let data = match form.parse(self.today()) {
            Ok(d) => d,
            Err(problems) => {
                self.save_draft(account, form).await?;
                return Err(SubmitError::Invalid(problems));
            }
        };
        let current = self.store.personal_data(account).await?;
        if current
            .as_ref()
            .is_some_and(|r| r.status == VerificationStatus::InProgress)
        {
            return Err(SubmitError::InProgress);
        }
        let now = self.clock.now();
        let ip_key = self.crypto.keyed_hash(
            HashPurpose::ClientIp,
            crate::security::limit_key(ip).as_bytes(),
        );
        let limits = [
            (
                "personal-data-account",
                account.to_string().into_bytes(),
                self.policy.submissions_per_account_per_hour,
            ),
            (
                "personal-data-ip",
                ip_key,
                self.policy.submissions_per_ip_per_hour,
            ),
        ];
        for (bucket, key, limit) in limits {
            if let RateDecision::Refused { retry_at } = self
                .store
                .hit_rate_limit(bucket, &key, now, Duration::HOUR, limit)
                .await?
            {
                self.save_draft(account, form).await?;
                return Err(SubmitError::TooMany { retry_at });
            }
        }
        let (submission, checks, sealed) = self.prepare(account, data, lang, now);
        match self
            .store
            .submit_personal_data(account, submission, &sealed, &checks, None, now)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(UniqueField::Other)) => return Err(SubmitError::InProgress),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(%account, %submission, "personal data submitted for checks");
        self.wake.notify_one();
        Ok(submission)
    }

    /// The submission of `data`: its id, both checks (each also its job) and
    /// the sealed data.
    fn prepare(
        &self,
        account: AccountId,
        data: PersonalData,
        lang: Lang,
        now: OffsetDateTime,
    ) -> (SubmissionId, Vec<CheckRecord>, Vec<u8>) {
        let submission = uuid::Uuid::new_v4();
        let person = PersonFacts {
            surname: data.surname.as_str().to_owned(),
            given_name: data.given_name.as_str().to_owned(),
            patronymic: data.patronymic.as_ref().map(|p| p.as_str().to_owned()),
            birth_date: data.birth_date,
        };
        let requests = [
            RegistryRequest::Sfr {
                snils: data.snils.digits().to_owned(),
                person: person.clone(),
                sex: data.sex,
            },
            RegistryRequest::Mvd {
                series_number: data.document.series_number.as_str().to_owned(),
                issue_date: data.document.issue_date,
                department_code: data.document.department_code.as_str().to_owned(),
                person,
            },
        ];
        let checks: Vec<CheckRecord> = requests
            .iter()
            .map(|request| {
                let id = uuid::Uuid::new_v4();
                CheckRecord {
                    id,
                    submission_id: submission,
                    account_id: account,
                    registry: request.registry(),
                    status: CheckStatus::Pending,
                    reason: None,
                    request: self.seal_json(SealedField::CheckRequest, id, request),
                    gateway_request_id: None,
                    attempts: 0,
                    next_run_at: now,
                    deadline_at: now + self.policy.give_up_after,
                    leased_until: None,
                    created_at: now,
                    finished_at: None,
                    registration_address: None,
                }
            })
            .collect();
        let sealed = self.seal_json(
            SealedField::PersonalData,
            account,
            &Submitted {
                lang: lang.code().to_owned(),
                data,
            },
        );
        (submission, checks, sealed)
    }

    /// Registration at a service center: the operator has the person's
    /// passport and SNILS in hand. The account, its data and both checks
    /// are written at once; when the checks pass, the account is confirmed
    /// and the person gets a temporary password by SMS.
    pub async fn register_in_person(
        &self,
        by: &Assisted,
        data: PersonalData,
        phone: &PhoneNumber,
        lang: Lang,
    ) -> Result<AccountId, InPersonError> {
        let now = self.clock.now();
        let phone_index = self
            .crypto
            .keyed_hash(HashPurpose::PhoneIndex, phone.e164().as_bytes());
        if self
            .store
            .account_by_login(LoginKind::Phone, &phone_index)
            .await?
            .is_some()
        {
            return Err(InPersonError::PhoneTaken);
        }
        let snils_index = self.snils_index(&data.snils);
        if self
            .store
            .account_by_login(LoginKind::Snils, &snils_index)
            .await?
            .is_some()
        {
            return Err(InPersonError::SnilsTaken);
        }
        // No password works until the checks pass and the SMS brings one.
        let unusable = self
            .hasher
            .hash(&crypto::random_token())
            .await
            .map_err(InternalError::from)?;
        let id = AccountId::random();
        let account = AccountRecord {
            id,
            level: AccountLevel::Simplified,
            surname: self
                .crypto
                .seal(SealedField::Surname, id, data.surname.as_str()),
            given_name: self
                .crypto
                .seal(SealedField::GivenName, id, data.given_name.as_str()),
            phone: Some(self.crypto.seal(SealedField::Phone, id, phone.e164())),
            phone_index: Some(phone_index),
            email: None,
            email_index: None,
            snils_index: None,
            passport_index: None,
            password_hash: unusable,
            must_change_password: true,
            password_expires_at: Some(now),
            failed_logins: 0,
            throttled_until: None,
            locked: false,
            confirmed_at: None,
            confirmed_via: None,
            created_at: now,
        };
        let (submission, checks, sealed) = self.prepare(account.id, data, lang, now);
        let audit = self
            .audit
            .record(
                Actor::Operator { id: by.operator_id },
                action::REGISTERED_IN_PERSON,
                "checks_started",
                now,
            )
            .center(&by.center_id)
            .account(account.id)
            .details(serde_json::json!({ "submission": submission }))
            .write();
        match self
            .store
            .register_in_person(&account, submission, &sealed, &checks, by, &audit)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(UniqueField::Phone)) => return Err(InPersonError::PhoneTaken),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(account = %account.id, %submission, "registration at a service center: checks started");
        self.wake.notify_one();
        Ok(account.id)
    }

    /// Corrected data of a registration at a center whose checks failed.
    pub async fn resubmit_in_person(
        &self,
        by: &Assisted,
        account: AccountId,
        data: PersonalData,
        lang: Lang,
    ) -> Result<SubmissionId, InPersonError> {
        let now = self.clock.now();
        let (Some(record), Some(a)) = (
            self.store.personal_data(account).await?,
            self.store.account(account).await?,
        ) else {
            return Err(InPersonError::NotFound);
        };
        if record.assisted.is_none() || a.level != AccountLevel::Simplified {
            return Err(InPersonError::NotFound);
        }
        if let Some(owner) = self
            .store
            .account_by_login(LoginKind::Snils, &self.snils_index(&data.snils))
            .await?
            && owner.id != account
        {
            return Err(InPersonError::SnilsTaken);
        }
        let (submission, checks, sealed) = self.prepare(account, data, lang, now);
        match self
            .store
            .submit_personal_data(account, submission, &sealed, &checks, Some(by), now)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(UniqueField::Other)) => return Err(InPersonError::InProgress),
            Err(e) => return Err(e.into()),
        }
        self.store
            .append_audit(
                &self
                    .audit
                    .record(
                        Actor::Operator { id: by.operator_id },
                        action::REGISTERED_IN_PERSON,
                        "checks_restarted",
                        now,
                    )
                    .center(&by.center_id)
                    .account(account)
                    .details(serde_json::json!({ "submission": submission }))
                    .write(),
            )
            .await?;
        self.wake.notify_one();
        Ok(submission)
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
        let verified = VerifiedIdentity {
            surname: self
                .crypto
                .seal(SealedField::Surname, account, data.surname.as_str()),
            given_name: self
                .crypto
                .seal(SealedField::GivenName, account, data.given_name.as_str()),
            snils_index,
            passport_index: passport_index(&self.crypto, &data.document.series_number),
            registration_address,
        };
        Ok(Some((holder, submission, verified)))
    }

    fn snils_index(&self, snils: &Snils) -> Vec<u8> {
        self.crypto
            .keyed_hash(HashPurpose::SnilsIndex, snils.digits().as_bytes())
    }

    pub async fn save_addresses(
        &self,
        account: AccountId,
        registration: &AddressForm,
        actual: &AddressForm,
    ) -> Result<Addresses, AddressError> {
        let mut problems = Vec::new();
        let mut parse = |prefix: &'static str, form: &AddressForm| match form.parse() {
            Ok(a) => Some(a),
            Err(ps) => {
                problems.extend(ps.into_iter().map(|p| FieldProblem {
                    field: prefixed(prefix, p.field),
                    problem: p.problem,
                }));
                None
            }
        };
        let registration = parse("registration", registration);
        let actual = parse("actual", actual);
        let (Some(registration), Some(actual)) = (registration, actual) else {
            return Err(AddressError::Invalid(problems));
        };
        let addresses = Addresses {
            registration,
            actual,
        };
        let sealed = self.seal_json(SealedField::Addresses, account, &addresses);
        self.store
            .save_addresses(account, &sealed, self.clock.now())
            .await
            .map_err(InternalError::from)?;
        Ok(addresses)
    }

    /// One pass of every worker: due checks, finished submissions, the outbox.
    pub async fn run_once(&self) -> Result<WorkDone, InternalError> {
        if !self.store.has_due_work(self.clock.now()).await? {
            return Ok(WorkDone::default());
        }
        let checks_run = self.run_due_checks().await?;
        let submissions_completed = self.complete_finished().await?;
        let messages_delivered = self.deliver_outbox().await?;
        let letters_dispatched = match &self.letters {
            Some(l) => l.dispatch_due().await?,
            None => 0,
        };
        Ok(WorkDone {
            checks_run,
            submissions_completed,
            messages_delivered,
            letters_dispatched,
        })
    }

    pub async fn run_due_checks(&self) -> Result<usize, InternalError> {
        let now = self.clock.now();
        let leased = self
            .store
            .lease_due_checks(now, now + self.policy.lease, self.policy.batch)
            .await?;
        let n = leased.len();
        for check in leased {
            if let Err(e) = self.run_check(&check).await {
                // The lease expires and another pass takes the check again.
                tracing::error!(check = %check.id, error = %e, "a registry check failed to run");
            }
        }
        Ok(n)
    }

    async fn run_check(&self, check: &CheckRecord) -> Result<(), InternalError> {
        let request: RegistryRequest =
            self.open_json(SealedField::CheckRequest, check.id, &check.request)?;
        let key = check.id.to_string();
        let request_id = match &check.gateway_request_id {
            Some(id) => RegistryRequestId(id.clone()),
            None => match self.gateway.submit(&key, &request).await {
                Ok(id) => {
                    self.store
                        .record_gateway_request(check.id, Some(&id.0))
                        .await?;
                    id
                }
                Err(e) => return self.gateway_failed(check, e).await,
            },
        };
        match self.gateway.poll(&request_id).await {
            Ok(None) if self.clock.now() >= check.deadline_at => {
                // A registry that accepts but never answers is as silent as
                // one that cannot be reached.
                tracing::warn!(check = %check.id, registry = ?check.registry, "a registry gave no answer in time; the check gives up");
                self.close_check(check, CheckStatus::Failed, Some(FailureReason::Unavailable))
                    .await
            }
            Ok(None) => {
                // Accepted, still working: ask again soon. A call that got an
                // answer clears the failure count.
                self.store
                    .reschedule_check(
                        check.id,
                        CheckStatus::Pending,
                        0,
                        self.clock.now() + self.policy.poll_interval,
                    )
                    .await?;
                Ok(())
            }
            Ok(Some(answer)) => {
                // The address comes only with a valid passport: kept sealed
                // on the check until the submission as a whole passes.
                let address = match &answer {
                    RegistryAnswer::MvdValid {
                        registration_address: Some(a),
                    } if check.registry == Registry::Mvd => {
                        Some(self.seal_json(SealedField::CheckAddress, check.id, a))
                    }
                    _ => None,
                };
                let (status, reason) = judge(check.registry, answer);
                self.close_check_with(check, status, reason, address.as_deref())
                    .await
            }
            Err(GatewayError::UnknownRequest) => {
                // The gateway forgot the request (expired on its side): send it
                // again under the same key.
                self.store.record_gateway_request(check.id, None).await?;
                self.gateway_failed(check, GatewayError::UnknownRequest)
                    .await
            }
            Err(e) => self.gateway_failed(check, e).await,
        }
    }

    async fn gateway_failed(
        &self,
        check: &CheckRecord,
        error: GatewayError,
    ) -> Result<(), InternalError> {
        let now = self.clock.now();
        if matches!(error, GatewayError::Rejected(_)) {
            tracing::error!(check = %check.id, registry = ?check.registry, %error, "the gateway rejected a check");
            return self
                .close_check(check, CheckStatus::Failed, Some(FailureReason::Rejected))
                .await;
        }
        let attempts = check.attempts + 1;
        if now >= check.deadline_at {
            tracing::warn!(check = %check.id, registry = ?check.registry, attempts, "a registry stayed unreachable; the check gives up");
            return self
                .close_check(check, CheckStatus::Failed, Some(FailureReason::Unavailable))
                .await;
        }
        let next = (now + self.policy.retry_delay(attempts)).min(check.deadline_at);
        tracing::info!(check = %check.id, registry = ?check.registry, attempts, %error, "registry call failed; will retry");
        self.store
            .reschedule_check(check.id, CheckStatus::Retrying, attempts, next)
            .await?;
        Ok(())
    }

    async fn close_check(
        &self,
        check: &CheckRecord,
        status: CheckStatus,
        reason: Option<FailureReason>,
    ) -> Result<(), InternalError> {
        self.close_check_with(check, status, reason, None).await
    }

    async fn close_check_with(
        &self,
        check: &CheckRecord,
        status: CheckStatus,
        reason: Option<FailureReason>,
        registration_address: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        let closed = self
            .store
            .finish_check(
                check.id,
                status,
                reason.map(FailureReason::as_str),
                registration_address,
                self.clock.now(),
            )
            .await?;
        if closed {
            tracing::info!(check = %check.id, registry = ?check.registry, status = status.as_str(), "registry check finished");
        }
        Ok(())
    }

    /// Records the outcome of every submission whose checks have all closed.
    pub async fn complete_finished(&self) -> Result<usize, InternalError> {
        let ready = self
            .store
            .submissions_to_complete(self.policy.batch)
            .await?;
        let mut done = 0;
        for (account, submission) in ready {
            if self.complete(account, submission).await? {
                done += 1;
            }
        }
        Ok(done)
    }

    async fn complete(
        &self,
        account: AccountId,
        submission: SubmissionId,
    ) -> Result<bool, InternalError> {
        let (Some(record), Some(account_record)) = (
            self.store.personal_data(account).await?,
            self.store.account(account).await?,
        ) else {
            return Ok(false);
        };
        let Some(sealed) = record.submitted.as_deref() else {
            return Err(InternalError::Corrupt("submission without data"));
        };
        let submitted: Submitted = self.open_json(SealedField::PersonalData, account, sealed)?;
        let lang = Lang::parse(&submitted.lang).unwrap_or_default();
        let checks = self.store.checks_of_submission(submission).await?;
        let passed = !checks.is_empty() && checks.iter().all(|c| c.status == CheckStatus::Passed);
        let now = self.clock.now();
        let assisted = record.assisted.clone();
        let completion = |status, verified, outcome| -> Result<Completion, InternalError> {
            // The person at a center hears a failure from the operator.
            let message = if assisted.is_some() && status == VerificationStatus::Failed {
                None
            } else {
                self.notification_to(&account_record, submission, lang, outcome, now)?
            };
            let audit = match (&assisted, status) {
                (Some(by), VerificationStatus::Failed) => Some(
                    self.audit
                        .record(Actor::System, action::REGISTRATION_CHECKED, "failed", now)
                        .operator(by.operator_id)
                        .center(&by.center_id)
                        .account(account)
                        .details(serde_json::json!({ "submission": submission }))
                        .write(),
                ),
                _ => None,
            };
            Ok(Completion {
                account_id: account,
                submission_id: submission,
                status,
                verified,
                message,
                in_person: None,
                audit,
                at: now,
            })
        };
        if !passed {
            let c = completion(
                VerificationStatus::Failed,
                None,
                VerificationOutcome::Failed,
            )?;
            let applied = self.store.complete_submission(&c).await?;
            if applied {
                tracing::info!(%account, %submission, "personal data failed the checks");
            }
            return Ok(applied);
        }
        let data = &submitted.data;
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
        let verified = VerifiedIdentity {
            surname: self
                .crypto
                .seal(SealedField::Surname, account, data.surname.as_str()),
            given_name: self
                .crypto
                .seal(SealedField::GivenName, account, data.given_name.as_str()),
            snils_index: self.snils_index(&data.snils),
            passport_index: passport_index(&self.crypto, &data.document.series_number),
            registration_address,
        };
        let mut c = completion(
            VerificationStatus::Verified,
            Some(verified),
            VerificationOutcome::Passed,
        )?;
        if let Some(by) = &record.assisted {
            // Registered at a center: confirmed at once, and the first
            // password comes by SMS instead of the usual result message.
            let password = crypto::random_temporary_password();
            let hash = self.hasher.hash(&password).await?;
            c.in_person = Some(TemporaryPassword {
                hash,
                expires_at: now + TEMPORARY_PASSWORD_TTL,
            });
            let letter = messages::Letter {
                subject: String::new(),
                body: messages::temporary_password_sms(lang, &password, &self.base_url, true),
            };
            c.message = Contacts::of(&self.crypto, &account_record)?.first(
                &self.crypto,
                format!("temporary-password:{submission}"),
                &letter,
                now,
            );
            c.audit = Some(
                self.audit
                    .record(
                        Actor::System,
                        action::REGISTRATION_CHECKED,
                        "confirmed",
                        now,
                    )
                    .operator(by.operator_id)
                    .center(&by.center_id)
                    .account(account)
                    .details(serde_json::json!({ "submission": submission }))
                    .write(),
            );
        }
        match self.store.complete_submission(&c).await {
            Ok(applied) => {
                if applied {
                    tracing::info!(%account, %submission, "personal data verified");
                }
                Ok(applied)
            }
            Err(StoreError::Conflict(UniqueField::Snils)) => {
                // Another account's data with this SNILS passed first.
                tracing::info!(%account, %submission, "the verified SNILS belongs to another account");
                let c = completion(
                    VerificationStatus::Failed,
                    None,
                    VerificationOutcome::SnilsTaken,
                )?;
                Ok(self.store.complete_submission(&c).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The message that tells the result, to the confirmed contact: SMS to
    /// the phone if there is one, else a letter.
    fn notification_to(
        &self,
        account: &crate::ports::AccountRecord,
        submission: SubmissionId,
        lang: Lang,
        outcome: VerificationOutcome,
        now: OffsetDateTime,
    ) -> Result<Option<OutboxRecord>, InternalError> {
        let letter = messages::verification_result(lang, &self.base_url, outcome);
        Ok(Contacts::of(&self.crypto, account)?.first(
            &self.crypto,
            format!("verification:{submission}"),
            &letter,
            now,
        ))
    }

    /// Hands due messages of the outbox to the transport.
    pub async fn deliver_outbox(&self) -> Result<usize, InternalError> {
        let now = self.clock.now();
        let leased = self
            .store
            .lease_outbox(now, now + self.policy.lease, self.policy.batch)
            .await?;
        let mut delivered = 0;
        for m in leased {
            let message = Message {
                channel: m.channel,
                to: self
                    .crypto
                    .open(SealedField::MessageRecipient, m.id, &m.recipient)?,
                subject: self
                    .crypto
                    .open(SealedField::MessageSubject, m.id, &m.subject)?,
                body: self.crypto.open(SealedField::MessageBody, m.id, &m.body)?,
                idempotency_key: Some(m.id.to_string()),
            };
            match self.messenger.deliver(&message).await {
                Ok(()) => {
                    self.store
                        .mark_outbox_delivered(m.id, self.clock.now())
                        .await?;
                    delivered += 1;
                }
                Err(e) => {
                    let attempts = m.attempts + 1;
                    tracing::warn!(message = %m.id, attempts, error = %e, "outbox delivery failed; will retry");
                    self.store
                        .reschedule_outbox(
                            m.id,
                            attempts,
                            self.clock.now() + self.policy.retry_delay(attempts),
                        )
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    /// Empties the bodies of messages delivered more than
    /// [`DELIVERED_BODY_KEPT`] ago: a copy of a code or a temporary
    /// password kept after it reached the person only serves whoever reads
    /// the database (and the key) later.
    pub async fn wipe_delivered_messages(&self) -> Result<u64, InternalError> {
        Ok(self
            .store
            .wipe_delivered_outbox_bodies(self.clock.now() - DELIVERED_BODY_KEPT)
            .await?)
    }
}

/// How long a delivered message keeps its body: long enough to look into a
/// complaint about that day's message.
pub const DELIVERED_BODY_KEPT: Duration = Duration::hours(24);

/// How long the temporary password of a registration or recovery at a
/// service center works.
pub const TEMPORARY_PASSWORD_TTL: Duration = Duration::hours(24);

/// Why a registration at a service center was refused.
#[derive(Debug, thiserror::Error)]
pub enum InPersonError {
    #[error("the phone already has an account")]
    PhoneTaken,
    #[error("the SNILS already has an account")]
    SnilsTaken,
    #[error("a check of this registration is in progress")]
    InProgress,
    #[error("no such registration at a center")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<StoreError> for InPersonError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
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
    store: &dyn Store,
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
    store: &dyn Store,
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
    store: &dyn Store,
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

/// A message for the outbox, sealed, due now.
#[expect(clippy::too_many_arguments, reason = "a message is that many things")]
pub(crate) fn outbox_message(
    crypto: &Crypto,
    dedupe_key: String,
    account: AccountId,
    channel: Channel,
    to: &str,
    subject: &str,
    body: &str,
    now: OffsetDateTime,
) -> OutboxRecord {
    OutboxRecord {
        account_id: Some(account),
        ..accountless_sms(crypto, dedupe_key, channel, to, subject, body, now)
    }
}

/// A message to someone who has no account yet (a phone typed at a desk).
pub(crate) fn accountless_sms(
    crypto: &Crypto,
    dedupe_key: String,
    channel: Channel,
    to: &str,
    subject: &str,
    body: &str,
    now: OffsetDateTime,
) -> OutboxRecord {
    let id = uuid::Uuid::new_v4();
    OutboxRecord {
        id,
        dedupe_key,
        account_id: None,
        channel,
        recipient: crypto.seal(SealedField::MessageRecipient, id, to),
        subject: crypto.seal(SealedField::MessageSubject, id, subject),
        body: crypto.seal(SealedField::MessageBody, id, body),
        created_at: now,
        next_attempt_at: now,
        attempts: 0,
        leased_until: None,
        delivered_at: None,
    }
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

/// What a registry's answer means for the check.
fn judge(registry: Registry, answer: RegistryAnswer) -> (CheckStatus, Option<FailureReason>) {
    use RegistryAnswer as A;
    match (registry, answer) {
        (Registry::Sfr, A::SfrMatch) | (Registry::Mvd, A::MvdValid { .. }) => {
            (CheckStatus::Passed, None)
        }
        (Registry::Sfr, A::SfrMismatch) => (CheckStatus::Failed, Some(FailureReason::DataMismatch)),
        (Registry::Sfr, A::SfrNotFound) => {
            (CheckStatus::Failed, Some(FailureReason::SnilsNotFound))
        }
        (Registry::Mvd, A::MvdNotFound) => {
            (CheckStatus::Failed, Some(FailureReason::PassportNotFound))
        }
        (Registry::Mvd, A::MvdInvalid { reason }) => (
            CheckStatus::Failed,
            Some(FailureReason::PassportInvalid(reason)),
        ),
        // An answer of the other registry: the gateway mixed requests up.
        _ => (CheckStatus::Failed, Some(FailureReason::Rejected)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
