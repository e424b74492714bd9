//! Registration and resubmission in person at a service center: an operator
//! types the data the citizen's passport shows.

use time::Duration;
use uslugi_domain::{AccountId, AccountLevel, LoginKind, PersonalData, PhoneNumber};

use crate::accounts::InternalError;
use crate::audit::action;
use crate::crypto::{self, HashPurpose, SealedField};
use crate::lang::Lang;
use crate::ports::{AccountRecord, Assisted, StoreError, SubmissionId, UniqueField};

use super::*;

impl Verification {
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
            phone: Some(self.crypto.seal(SealedField::Phone, id, phone.e164())),
            phone_index: Some(phone_index),
            must_change_password: true,
            password_expires_at: Some(now),
            ..AccountRecord::simplified(
                &self.crypto,
                id,
                &data.surname,
                &data.given_name,
                unusable,
                now,
            )
        };
        let (submission, checks, sealed) = self.prepare(account.id, data, lang, now);
        let audit = self
            .audit
            .by_operator(
                by.operator_id,
                &by.center_id,
                action::REGISTERED_IN_PERSON,
                "checks_started",
                now,
            )
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
                    .by_operator(
                        by.operator_id,
                        &by.center_id,
                        action::REGISTERED_IN_PERSON,
                        "checks_restarted",
                        now,
                    )
                    .account(account)
                    .details(serde_json::json!({ "submission": submission }))
                    .write(),
            )
            .await?;
        self.wake.notify_one();
        Ok(submission)
    }
}

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

crate::accounts::into_internal!(InPersonError: StoreError);
