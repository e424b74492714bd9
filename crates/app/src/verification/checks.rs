//! The registry checks: workers lease due checks, ask the registry, and
//! complete a submission when both have answered.

use time::OffsetDateTime;
use uslugi_domain::{AccountId, CheckStatus, Token, VerificationStatus};

use crate::accounts::InternalError;
use crate::audit::{Actor, action};
use crate::crypto::{self, SealedField};
use crate::jobs::{JobKind, Ran, Schedule};
use crate::lang::Lang;
use crate::messages::{self, VerificationOutcome};
use crate::notices::Contacts;
use crate::ports::{
    CheckRecord, Completion, OutboxRecord, StoreError, SubmissionId, TemporaryPassword, UniqueField,
};
use crate::registries::{
    GatewayError, Registry, RegistryAnswer, RegistryRequest, RegistryRequestId,
};

use super::*;

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

impl Verification {
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

    /// Runs the due checks; returns how many were taken.
    pub async fn run_due_checks(&self) -> Result<usize, InternalError> {
        Ok(self.jobs.run_due(&Checks(self)).await?.leased)
    }

    pub(super) async fn run_check(&self, check: &CheckRecord) -> Result<Ran, InternalError> {
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
                    .await?;
                Ok(Ran::Done)
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
                Ok(Ran::Waiting)
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
                    .await?;
                Ok(Ran::Done)
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

    /// A failed call: a request the gateway refused as malformed fails the
    /// check at once; anything else is tried again until the deadline.
    pub(super) async fn gateway_failed(
        &self,
        check: &CheckRecord,
        error: GatewayError,
    ) -> Result<Ran, InternalError> {
        if matches!(error, GatewayError::Rejected(_)) {
            tracing::error!(check = %check.id, registry = ?check.registry, %error, "the gateway rejected a check");
            self.close_check(check, CheckStatus::Failed, Some(FailureReason::Rejected))
                .await?;
            return Ok(Ran::Done);
        }
        Ok(Ran::Failed(error.to_string()))
    }

    pub(super) async fn close_check(
        &self,
        check: &CheckRecord,
        status: CheckStatus,
        reason: Option<FailureReason>,
    ) -> Result<(), InternalError> {
        self.close_check_with(check, status, reason, None).await
    }

    pub(super) async fn close_check_with(
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

    pub(super) async fn complete(
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
        let verified = self.verified_identity(account, data, &checks)?;
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
    pub(super) fn notification_to(
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
}

/// The registry checks as jobs: the check's id is the request's key at the
/// gateway; a registry that stays unreachable until the check's deadline
/// fails it as unavailable.
struct Checks<'a>(&'a Verification);

#[async_trait::async_trait]
impl JobKind for Checks<'_> {
    type Job = CheckRecord;

    fn name(&self) -> &'static str {
        crate::jobs::kinds::REGISTRY_CHECK
    }

    fn schedule(&self) -> Schedule {
        self.0.policy.schedule()
    }

    fn id(&self, check: &CheckRecord) -> uuid::Uuid {
        check.id
    }

    fn attempts(&self, check: &CheckRecord) -> u32 {
        check.attempts
    }

    async fn lease(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        batch: u32,
    ) -> Result<Vec<CheckRecord>, InternalError> {
        Ok(self.0.store.lease_due_checks(now, until, batch).await?)
    }

    async fn run(&self, check: &CheckRecord) -> Result<Ran, InternalError> {
        self.0.run_check(check).await
    }

    async fn retry(
        &self,
        check: &CheckRecord,
        attempts: u32,
        at: OffsetDateTime,
    ) -> Result<(), InternalError> {
        // The last try is at the deadline, not an hour after it.
        let at = at.min(check.deadline_at);
        self.0
            .store
            .reschedule_check(check.id, CheckStatus::Retrying, attempts, at)
            .await?;
        Ok(())
    }

    fn gives_up(&self, check: &CheckRecord, now: OffsetDateTime) -> bool {
        now >= check.deadline_at
    }

    async fn give_up(&self, check: &CheckRecord) -> Result<(), InternalError> {
        self.0
            .close_check(check, CheckStatus::Failed, Some(FailureReason::Unavailable))
            .await
    }
}

/// What a registry's answer means for the check.
pub(super) fn judge(
    registry: Registry,
    answer: RegistryAnswer,
) -> (CheckStatus, Option<FailureReason>) {
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
