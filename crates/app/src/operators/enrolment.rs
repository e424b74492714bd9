//! Operators are added by a supervisor's command and enrol by a one-time
//! link: a password and an authenticator app.

use time::OffsetDateTime;
use uslugi_domain::{
    NewPassword, OperatorId, OperatorLogin, OperatorLoginError, OperatorRole, PasswordContext,
    PasswordProblem, PersonName, Token,
};

use crate::accounts::InternalError;
use crate::audit::{Actor, action};
use crate::crypto::{self, HashPurpose, SealedField};
use crate::ports::{Enrolment, OperatorRecord, StoreError, UniqueField};
use crate::totp::{self, TotpSecret};

use super::*;

/// What `uslugi admin operator add` prints.
#[derive(Debug, Clone)]
pub struct NewOperator {
    pub id: OperatorId,
    pub enrolment_link: String,
    pub expires_at: OffsetDateTime,
}

/// An operator as the administrator lists them (no secrets).
#[derive(Debug, Clone)]
pub struct OperatorSummary {
    pub id: OperatorId,
    pub center_id: String,
    pub role: OperatorRole,
    pub name: Option<String>,
    pub login: Option<String>,
    pub enrolled: bool,
    pub disabled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AddOperatorError {
    #[error("no service center has this id")]
    UnknownCenter,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// What the enrolment page shows.
#[derive(Clone)]
pub struct EnrolmentView {
    pub center_name: String,
    pub role: OperatorRole,
    /// The key, for typing into an app by hand.
    pub secret_grouped: String,
    /// For the QR code.
    pub otpauth_uri: String,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for EnrolmentView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolmentView(***)")
    }
}

pub struct EnrolInput<'a> {
    pub name: &'a str,
    pub login: &'a str,
    pub password: &'a str,
    pub password_confirmation: &'a str,
    pub code: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolProblem {
    Name(uslugi_domain::NameError),
    Login(OperatorLoginError),
    LoginTaken,
    Password(Vec<PasswordProblem>),
    PasswordMismatch,
    /// The app's code is not the one for now.
    Code,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("the enrolment link is invalid or was used")]
    LinkInvalid,
    #[error("the enrolment link has expired")]
    LinkExpired,
    #[error("the enrolment form has problems")]
    Invalid(Vec<EnrolProblem>),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(EnrolError: StoreError);

impl Operators {
    // ------------------------------------------------------------ administration

    /// `uslugi admin operator add`: a new operator of `center` and the
    /// one-time link with which they enrol.
    pub async fn add(
        &self,
        center: &str,
        role: OperatorRole,
    ) -> Result<NewOperator, AddOperatorError> {
        let now = self.clock.now();
        let token = crypto::random_token();
        let secret = TotpSecret::generate();
        let id = OperatorId::random();
        let record = OperatorRecord {
            id,
            center_id: center.to_owned(),
            role,
            name: None,
            login: None,
            password_hash: None,
            totp_secret: self
                .crypto
                .seal(SealedField::OperatorTotpSecret, id, &secret.to_base32()),
            totp_last_step: None,
            enrol_token_hash: Some(
                self.crypto
                    .keyed_hash(HashPurpose::OperatorEnrolment, token.as_bytes()),
            ),
            enrol_expires_at: Some(now + self.policy.enrolment_valid_for),
            enrolled_at: None,
            disabled_at: None,
            failed_logins: 0,
            throttled_until: None,
            created_at: now,
        };
        let audit = self
            .audit
            .record(Actor::Admin, action::OPERATOR_ADDED, "added", now)
            .operator(record.id)
            .center(center)
            .details(serde_json::json!({ "role": role.as_str() }))
            .write();
        match self.store.insert_operator(&record, &audit).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(AddOperatorError::UnknownCenter),
            Err(e) => return Err(AddOperatorError::Internal(e.into())),
        }
        Ok(NewOperator {
            id: record.id,
            enrolment_link: format!("{}/operator/enrol?token={token}", self.base_url),
            expires_at: now + self.policy.enrolment_valid_for,
        })
    }

    pub async fn list(&self) -> Result<Vec<OperatorSummary>, InternalError> {
        let mut out = Vec::new();
        for o in self.store.operators().await? {
            out.push(OperatorSummary {
                id: o.id,
                center_id: o.center_id,
                role: o.role,
                name: o
                    .name
                    .as_deref()
                    .map(|n| self.crypto.open(SealedField::OperatorName, o.id, n))
                    .transpose()?,
                login: o.login,
                enrolled: o.enrolled_at.is_some(),
                disabled: o.disabled_at.is_some(),
            });
        }
        Ok(out)
    }

    /// `uslugi admin operator disable`: the operator's sessions end at once.
    pub async fn disable(&self, id: OperatorId) -> Result<bool, InternalError> {
        let now = self.clock.now();
        let Some(op) = self.store.operator(id).await? else {
            return Ok(false);
        };
        let audit = self
            .audit
            .record(Actor::Admin, action::OPERATOR_DISABLED, "disabled", now)
            .operator(id)
            .center(&op.center_id)
            .write();
        Ok(self.store.disable_operator(id, now, &audit).await?)
    }

    // ------------------------------------------------------------ enrolment

    pub(super) async fn operator_by_link(&self, token: &str) -> Result<OperatorRecord, EnrolError> {
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::OperatorEnrolment, token.trim().as_bytes());
        let Some(op) = self.store.operator_by_enrol_token(&hash).await? else {
            return Err(EnrolError::LinkInvalid);
        };
        if op.enrolled_at.is_some() || op.disabled_at.is_some() {
            return Err(EnrolError::LinkInvalid);
        }
        if op.enrol_expires_at.is_none_or(|at| self.clock.now() >= at) {
            return Err(EnrolError::LinkExpired);
        }
        Ok(op)
    }

    pub(super) fn secret_of(&self, op: &OperatorRecord) -> Result<TotpSecret, InternalError> {
        TotpSecret::from_base32(&self.crypto.open(
            SealedField::OperatorTotpSecret,
            op.id,
            &op.totp_secret,
        )?)
        .ok_or(InternalError::Corrupt("operator TOTP key"))
    }

    /// What the enrolment page shows: the key to add to the app.
    pub async fn enrolment(&self, token: &str) -> Result<EnrolmentView, EnrolError> {
        let op = self.operator_by_link(token).await?;
        let secret = self.secret_of(&op)?;
        let center_name = self
            .centers
            .center(&op.center_id)
            .await?
            .map_or_else(|| op.center_id.clone(), |c| c.name);
        let label = format!("{} ({})", center_name, op.role.as_str());
        Ok(EnrolmentView {
            otpauth_uri: totp::otpauth_uri("uslugi", &label, &secret),
            secret_grouped: secret.grouped(),
            center_name,
            role: op.role,
            expires_at: op.enrol_expires_at.unwrap_or_else(|| self.clock.now()),
        })
    }

    /// Completes the enrolment: name, login, password, and a code from the
    /// app that proves it holds the key. The link works once.
    pub async fn enrol(&self, token: &str, input: EnrolInput<'_>) -> Result<(), EnrolError> {
        let op = self.operator_by_link(token).await?;
        let now = self.clock.now();
        let mut problems = Vec::new();
        let name = PersonName::parse(input.name)
            .map_err(|e| problems.push(EnrolProblem::Name(e)))
            .ok();
        let login = OperatorLogin::parse(input.login)
            .map_err(|e| problems.push(EnrolProblem::Login(e)))
            .ok();
        if let Some(l) = &login
            && self.store.operator_by_login(l.as_str()).await?.is_some()
        {
            problems.push(EnrolProblem::LoginTaken);
        }
        let ctx = PasswordContext {
            surname: name.as_ref(),
            given_name: None,
            phone: None,
            email: None,
        };
        let password = match NewPassword::parse(input.password, &ctx) {
            Ok(p) => Some(p),
            Err(ps) => {
                problems.push(EnrolProblem::Password(ps));
                None
            }
        };
        if input.password != input.password_confirmation {
            problems.push(EnrolProblem::PasswordMismatch);
        }
        let step = totp::verify(&self.secret_of(&op)?, input.code, now, None);
        if step.is_none() {
            problems.push(EnrolProblem::Code);
        }
        let (Some(name), Some(login), Some(password), Some(step), true) =
            (name, login, password, step, problems.is_empty())
        else {
            return Err(EnrolError::Invalid(problems));
        };
        let enrolment = Enrolment {
            name: self
                .crypto
                .seal(SealedField::OperatorName, op.id, name.as_str()),
            login: login.as_str().to_owned(),
            password_hash: self
                .hasher
                .hash(password.expose())
                .await
                .map_err(InternalError::from)?,
            totp_step: step,
            at: now,
        };
        let audit = self
            .audit
            .by_operator(
                op.id,
                &op.center_id,
                action::OPERATOR_ENROLLED,
                "enrolled",
                now,
            )
            .write();
        match self
            .store
            .complete_enrolment(op.id, &enrolment, &audit)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(EnrolError::LinkInvalid),
            Err(StoreError::Conflict(UniqueField::Other)) => {
                Err(EnrolError::Invalid(vec![EnrolProblem::LoginTaken]))
            }
            Err(e) => Err(e.into()),
        }
    }
}
