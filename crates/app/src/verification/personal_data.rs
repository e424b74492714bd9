//! Personal data: the draft, the submission to the registries, the addresses.
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uslugi_domain::{
    AccountId, Address, AddressForm, CheckStatus, FieldProblem, PersonalData, PersonalDataForm,
    Snils, VerificationStatus,
};

use crate::accounts::InternalError;
use crate::crypto::{HashPurpose, SealedField};
use crate::lang::Lang;
use crate::ports::{CheckRecord, RateDecision, StoreError, SubmissionId, UniqueField};
use crate::registries::{PersonFacts, Registry, RegistryRequest};

use super::*;

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

crate::accounts::into_internal!(SubmitError: StoreError);

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("the addresses are invalid")]
    Invalid(Vec<FieldProblem>),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl Verification {
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
    pub(super) async fn names_form(
        &self,
        account: AccountId,
    ) -> Result<PersonalDataForm, InternalError> {
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

    pub(super) async fn state_of(
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
    pub(super) fn prepare(
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

    pub(super) fn snils_index(&self, snils: &Snils) -> Vec<u8> {
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
}
