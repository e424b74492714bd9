//! What an operator does with a citizen at the desk: confirm the identity
//! after the checklist, restore access, move a SNILS after a passport check,
//! register or resubmit personal data in person.

use uslugi_domain::{
    AccountId, AccountLevel, CenterService, ConfirmedVia, PersonalDataForm, Token,
};

use crate::accounts::InternalError;
use crate::audit::action;
use crate::crypto;
use crate::lang::Lang;
use crate::notices::Contacts;
use crate::ports::{AccountRecord, StoreError, TemporaryPassword};
use crate::verification::{InPersonError, PersonalDataView, TEMPORARY_PASSWORD_TTL};

use super::*;

/// What the operator ticked after looking at the passport and the person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checklist {
    /// The passport is the one in the account (series, number, names, birth date).
    pub document_matches: bool,
    /// The photo in the passport is the person at the desk.
    pub person_matches: bool,
}

impl Checklist {
    fn complete(self) -> bool {
        self.document_matches && self.person_matches
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The card was not opened by a search of this session: to the
    /// operator, as if there were no such account.
    #[error("no search of this session found the account")]
    NoGrant(GrantRefusal),
    #[error("the checklist is not complete")]
    ChecklistIncomplete(Checklist),
    #[error("this center does not offer the service")]
    NotOffered,
    #[error("no such account")]
    NotFound,
    /// Only verified personal data can be compared with a passport.
    #[error("the account's personal data are not verified")]
    NotVerified,
    #[error("the account is already confirmed")]
    AlreadyConfirmed,
    #[error("the account has no phone or e-mail to send the password to")]
    NoContact,
    /// The account's data did not pass both checks with a SNILS another
    /// account holds: there is nothing to move.
    #[error("the account's SNILS is not held by another account")]
    SnilsNotTaken,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(ActionError: StoreError);

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("the personal data have problems")]
    Invalid(Vec<uslugi_domain::FieldProblem>),
    /// No phone confirmed at the desk by this operator (or it was used,
    /// or it expired).
    #[error("the phone was not confirmed at the desk")]
    PhoneNotConfirmed,
    #[error("this center does not offer registration")]
    NotOffered,
    #[error(transparent)]
    InPerson(#[from] InPersonError),
}

impl From<InternalError> for RegisterError {
    fn from(e: InternalError) -> Self {
        Self::InPerson(InPersonError::Internal(e))
    }
}

impl Operators {
    /// What every action after a passport check asks first: a search of
    /// this session opened the card, the center offers the service, both
    /// points are ticked, the account exists.
    pub(super) async fn checked_account(
        &self,
        op: &OperatorAuth,
        service: CenterService,
        checklist: Checklist,
        account: AccountId,
        grant: Option<&str>,
    ) -> Result<AccountRecord, ActionError> {
        self.grant_holds(op, account, grant)
            .map_err(ActionError::NoGrant)?;
        if !op.offers(service) {
            return Err(ActionError::NotOffered);
        }
        if !checklist.complete() {
            return Err(ActionError::ChecklistIncomplete(checklist));
        }
        self.store
            .account(account)
            .await?
            .ok_or(ActionError::NotFound)
    }

    /// Confirms the identity of a standard account after the operator saw
    /// the passport and the person.
    pub async fn confirm_identity(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
        checklist: Checklist,
        lang: Lang,
    ) -> Result<(), ActionError> {
        let what = action::IDENTITY_CONFIRMED;
        let precondition = async {
            let a = self
                .checked_account(
                    op,
                    CenterService::IdentityConfirmation,
                    checklist,
                    account,
                    grant,
                )
                .await?;
            match a.level {
                AccountLevel::Simplified => Err(ActionError::NotVerified),
                AccountLevel::Confirmed => Err(ActionError::AlreadyConfirmed),
                AccountLevel::Standard => Ok(()),
            }
        };
        if let Err(e) = precondition.await {
            return Err(self.refused(op, what, account, e).await);
        }
        let now = self.clock.now();
        let message = crate::letters::confirmed_message(
            &self.crypto,
            &*self.store,
            account,
            lang,
            &self.base_url,
            now,
        )
        .await?;
        let audit = self
            .audit
            .record(op.actor(), what, "confirmed", now)
            .center(&op.center_id)
            .account(account)
            .details(serde_json::json!({ "document_checked": true, "person_checked": true }))
            .write();
        if !self
            .store
            .confirm_identity(account, ConfirmedVia::Center, now, message.as_ref(), &audit)
            .await?
        {
            // Confirmed (by a letter, say) between the look and the click.
            return Err(self
                .refused(op, what, account, ActionError::AlreadyConfirmed)
                .await);
        }
        tracing::info!(%account, operator = %op.id, "identity confirmed at a service center");
        Ok(())
    }

    /// Restores access after the operator checked the passport: a temporary
    /// password goes by SMS to the account's phone (the operator never sees
    /// it), every session ends, the lock is lifted.
    pub async fn restore_access(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
        checklist: Checklist,
        lang: Lang,
    ) -> Result<(), ActionError> {
        let what = action::ACCESS_RESTORED;
        let precondition = async {
            let a = self
                .checked_account(op, CenterService::AccessRecovery, checklist, account, grant)
                .await?;
            if a.level == AccountLevel::Simplified {
                return Err(ActionError::NotVerified);
            }
            Ok(a)
        };
        let a = match precondition.await {
            Ok(a) => a,
            Err(e) => return Err(self.refused(op, what, account, e).await),
        };
        let now = self.clock.now();
        let password = crypto::random_temporary_password();
        let letter = crate::messages::Letter {
            subject: match lang {
                Lang::Ru => "Доступ восстановлен",
                Lang::En => "Access restored",
            }
            .to_owned(),
            body: crate::messages::temporary_password_sms(lang, &password, &self.base_url, false),
        };
        let Some(message) = Contacts::of(&self.crypto, &a)?.first(
            &self.crypto,
            format!("access-restored:{}", uuid::Uuid::new_v4()),
            &letter,
            now,
        ) else {
            return Err(self
                .refused(op, what, account, ActionError::NoContact)
                .await);
        };
        let channel = message.channel;
        let temporary = TemporaryPassword {
            hash: self
                .hasher
                .hash(&password)
                .await
                .map_err(InternalError::from)?,
            expires_at: now + TEMPORARY_PASSWORD_TTL,
        };
        let audit = self
            .audit
            .record(op.actor(), what, "temporary_password_sent", now)
            .center(&op.center_id)
            .account(account)
            .details(serde_json::json!({ "channel": channel.as_str() }))
            .write();
        self.store
            .set_temporary_password(account, &temporary, now, &message, &audit)
            .await?;
        tracing::info!(%account, operator = %op.id, "access restored at a service center");
        Ok(())
    }

    /// Resolves a taken SNILS: the person at the desk showed the passport of
    /// the data their account submitted (which both registries accepted),
    /// so the SNILS moves to their account. The account that held it drops
    /// to simplified — SNILS and passport index, verified data and
    /// confirmation gone — and its owner is told on every contact; all in
    /// one transaction with the audit record.
    pub async fn transfer_snils(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
        checklist: Checklist,
        lang: Lang,
    ) -> Result<(), ActionError> {
        let what = action::SNILS_TRANSFERRED;
        let precondition = async {
            self.checked_account(
                op,
                CenterService::IdentityConfirmation,
                checklist,
                account,
                grant,
            )
            .await?;
            self.verification
                .snils_transfer(account)
                .await?
                .ok_or(ActionError::SnilsNotTaken)
        };
        let (holder, submission, verified) = match precondition.await {
            Ok(t) => t,
            Err(e) => return Err(self.refused(op, what, account, e).await),
        };
        let now = self.clock.now();
        let letter = crate::messages::snils_transferred(lang, &self.base_url);
        let notices = Contacts::of(&self.crypto, &holder)?.every(
            &self.crypto,
            &format!("snils-transferred:{submission}"),
            &letter,
            now,
        );
        let audit = self
            .audit
            .record(op.actor(), what, "transferred", now)
            .center(&op.center_id)
            .account(account)
            .details(serde_json::json!({
                "from": holder.id.to_string(),
                "submission": submission,
                "document_checked": true,
                "person_checked": true,
            }))
            .write();
        let transfer = crate::ports::SnilsTransfer {
            from: holder.id,
            snils_index: verified.snils_index.clone(),
            to: account,
            submission_id: submission,
            verified,
            notices,
            audit,
            at: now,
        };
        if !self.store.transfer_snils(&transfer).await? {
            // The holder or the submission changed between the look and the click.
            return Err(self
                .refused(op, what, account, ActionError::SnilsNotTaken)
                .await);
        }
        tracing::info!(%account, from = %holder.id, operator = %op.id, "a SNILS moved at a service center");
        Ok(())
    }

    /// A registration at this center, opened with the grant the desk's
    /// registration (or a search) gave this session: where its checks stand.
    pub async fn registration(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
    ) -> Result<Option<(CitizenCard, PersonalDataView)>, InternalError> {
        if !self.granted(op, account, grant).await? {
            return Ok(None);
        }
        let Some(record) = self.store.personal_data(account).await? else {
            return Ok(None);
        };
        if record
            .assisted
            .as_ref()
            .is_none_or(|a| a.center_id != op.center_id)
        {
            return Ok(None);
        }
        let Some(a) = self.store.account(account).await? else {
            return Ok(None);
        };
        let card = self.card_of(&a).await?;
        let view = self.verification.personal_data(account).await?;
        Ok(Some((card, view)))
    }

    /// Corrected data of a registration at this center whose checks failed.
    pub async fn resubmit(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
        form: &PersonalDataForm,
        lang: Lang,
    ) -> Result<(), RegisterError> {
        if let Err(r) = self.grant_holds(op, account, grant) {
            return match self
                .refused(
                    op,
                    action::REGISTERED_IN_PERSON,
                    account,
                    ActionError::NoGrant(r),
                )
                .await
            {
                ActionError::Internal(e) => Err(e.into()),
                _ => Err(InPersonError::NotFound.into()),
            };
        }
        let data = form
            .parse(self.verification.today())
            .map_err(RegisterError::Invalid)?;
        self.verification
            .resubmit_in_person(&op.assisted(), account, data, lang)
            .await?;
        Ok(())
    }
}
