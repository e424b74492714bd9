//! Service-center operators (seeds 000, 001, 004): an administrator adds
//! one with a one-time enrolment link; the operator chooses a login and a
//! password and enrols an authenticator app (TOTP, mandatory); then, logged
//! in to the console, finds a citizen by an exact SNILS, phone or passport
//! and confirms their identity, registers them in person, or restores their
//! access. Everything an operator does is in the audit log, in the same
//! transaction as the change.
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use uslugi_domain::{
    AccountId, AccountLevel, CenterService, ConfirmedVia, Email, LoginKind, NewPassword,
    OperatorId, OperatorLogin, OperatorLoginError, OperatorRole, PasswordContext, PasswordProblem,
    PersonName, PersonalData, PersonalDataForm, PhoneNumber, SearchBy, Snils, Token,
};

use crate::audit::{Actor, AuditLog, action};
use crate::centers::Centers;
use crate::clock::Clock;
use crate::crypto::{self, Crypto, HashPurpose, SealedField};
use crate::identity::InternalError;
use crate::lang::Lang;
use crate::notices::Contacts;
use crate::password_hasher::PasswordHasher;
use crate::ports::{
    AccountRecord, Assisted, AuditFilter, AuditRecord, Enrolment, OperatorRecord,
    OperatorSessionRecord, RateDecision, Store, StoreError, TemporaryPassword, UniqueField,
};
use crate::totp::{self, TotpSecret};
use crate::verification::{
    InPersonError, PersonalDataView, TEMPORARY_PASSWORD_TTL, Verification, passport_index,
};

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

impl From<StoreError> for EnrolError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorLoginFailure {
    /// Unknown login, wrong password, wrong or replayed code, throttled,
    /// disabled or not enrolled: one answer for all.
    #[error("wrong login, password or code")]
    BadCredentials,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<StoreError> for OperatorLoginFailure {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

#[derive(Debug, Clone)]
pub struct NewOperatorSession {
    pub token: String,
    pub expires_at: OffsetDateTime,
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

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the value is not a valid {0:?}")]
    Malformed(SearchBy),
    #[error("too many searches; try again later")]
    TooMany { retry_at: OffsetDateTime },
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<StoreError> for SearchError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

/// A citizen as the console shows them, to compare with the passport in
/// the operator's hands.
#[derive(Debug, Clone)]
pub struct CitizenCard {
    pub account_id: AccountId,
    pub level: AccountLevel,
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_via: Option<ConfirmedVia>,
    pub surname: String,
    pub given_name: String,
    /// Masked: the operator compares, never copies.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The personal data that passed the checks.
    pub verified: Option<PersonalData>,
    pub locked: bool,
    pub created_at: OffsetDateTime,
    /// Registered at a center and not yet through the checks.
    pub registration_pending: bool,
}

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

/// Why a card was not opened: the console opens a citizen's card only from
/// a search the same session made, for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRefusal {
    /// No grant came with the request: a typed or guessed address.
    Missing,
    /// Not a grant of this session for this account.
    Invalid,
    Expired,
}

impl GrantRefusal {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "no_grant",
            Self::Invalid => "invalid_grant",
            Self::Expired => "grant_expired",
        }
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

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

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

pub struct Operators {
    pub(crate) store: Arc<dyn Store>,
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
    #[expect(clippy::too_many_arguments, reason = "the ports and the policy")]
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Arc<PasswordHasher>,
        crypto: Crypto,
        clock: Arc<dyn Clock>,
        policy: OperatorPolicy,
        base_url: String,
        audit: AuditLog,
        centers: Arc<Centers>,
        verification: Arc<Verification>,
    ) -> Self {
        Self {
            store,
            hasher,
            crypto,
            clock,
            policy,
            base_url,
            audit,
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

    async fn operator_by_link(&self, token: &str) -> Result<OperatorRecord, EnrolError> {
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

    fn secret_of(&self, op: &OperatorRecord) -> Result<TotpSecret, InternalError> {
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
            .record(
                Actor::Operator { id: op.id },
                action::OPERATOR_ENROLLED,
                "enrolled",
                now,
            )
            .center(&op.center_id)
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

    // ------------------------------------------------------------ sessions

    /// Logs in with login, password and the app's code, all at once: there
    /// is no half-logged-in state to attack. One answer for every failure,
    /// after the same work.
    pub async fn log_in(
        &self,
        login: &str,
        password: &str,
        code: &str,
    ) -> Result<NewOperatorSession, OperatorLoginFailure> {
        let now = self.clock.now();
        let op = match OperatorLogin::parse(login) {
            Ok(l) => self.store.operator_by_login(l.as_str()).await?,
            Err(_) => None,
        };
        let usable = op.filter(|o| {
            o.enrolled_at.is_some() && o.disabled_at.is_none() && o.password_hash.is_some()
        });
        let Some(op) = usable else {
            self.hasher.verify_dummy(password).await;
            return Err(OperatorLoginFailure::BadCredentials);
        };
        // The attempt is taken (throttle checked, failure counted) before the
        // password and code are evaluated: 40 concurrent guesses at a code
        // cannot all be tried. The count is cleared once both are right.
        let until = self
            .policy
            .throttle_delay(op.failed_logins + 1)
            .map(|wait| now + wait);
        if !self
            .store
            .take_operator_attempt(op.id, op.failed_logins, now, until)
            .await?
        {
            self.hasher.verify_dummy(password).await;
            return Err(OperatorLoginFailure::BadCredentials);
        }
        let password_ok = self
            .hasher
            .verify(password, op.password_hash.as_deref().unwrap_or_default())
            .await
            .map_err(InternalError::from)?;
        let step = if password_ok {
            totp::verify(&self.secret_of(&op)?, code, now, op.totp_last_step)
        } else {
            None
        };
        // Taking the step in the database makes a code work once, even when
        // two nodes see it at the same moment.
        let ok = match step {
            Some(s) => self.store.take_totp_step(op.id, s).await?,
            None => false,
        };
        if !ok {
            let reason = if password_ok {
                "wrong_code"
            } else {
                "wrong_password"
            };
            self.store
                .append_audit(
                    &self
                        .audit
                        .record(
                            Actor::Operator { id: op.id },
                            action::OPERATOR_LOGIN,
                            "refused",
                            now,
                        )
                        .center(&op.center_id)
                        .details(serde_json::json!({ "reason": reason }))
                        .write(),
                )
                .await?;
            return Err(OperatorLoginFailure::BadCredentials);
        }
        self.store.clear_operator_failures(op.id).await?;
        let token = crypto::random_token();
        let session = OperatorSessionRecord {
            token_hash: self
                .crypto
                .keyed_hash(HashPurpose::OperatorSession, token.as_bytes()),
            operator_id: op.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.policy.session_absolute,
        };
        self.store.insert_operator_session(&session).await?;
        self.store
            .append_audit(
                &self
                    .audit
                    .record(
                        Actor::Operator { id: op.id },
                        action::OPERATOR_LOGIN,
                        "ok",
                        now,
                    )
                    .center(&op.center_id)
                    .write(),
            )
            .await?;
        Ok(NewOperatorSession {
            token,
            expires_at: session.expires_at,
        })
    }

    /// The operator a console token stands for; `None` after 15 minutes
    /// without a request, at the end of the day, or once disabled.
    pub async fn authenticate(&self, token: &str) -> Result<Option<OperatorAuth>, InternalError> {
        let now = self.clock.now();
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::OperatorSession, token.as_bytes());
        let Some(s) = self.store.operator_session(&hash).await? else {
            return Ok(None);
        };
        if now >= s.expires_at || now >= s.last_seen_at + self.policy.session_idle {
            self.store.delete_operator_session(&hash).await?;
            return Ok(None);
        }
        let Some(op) = self.store.operator(s.operator_id).await? else {
            return Ok(None);
        };
        if op.disabled_at.is_some() || op.enrolled_at.is_none() {
            self.store.delete_operator_session(&hash).await?;
            return Ok(None);
        }
        // A few seconds of slack in a 15-minute timeout cost nothing and
        // save a write on every click.
        if now - s.last_seen_at >= Duration::seconds(10) {
            self.store.touch_operator_session(&hash, now).await?;
        }
        let center = self.centers.center(&op.center_id).await?;
        Ok(Some(OperatorAuth {
            id: op.id,
            center_name: center
                .as_ref()
                .map_or_else(|| op.center_id.clone(), |c| c.name.clone()),
            services: center.map(|c| c.services).unwrap_or_default(),
            session: hash,
            center_id: op.center_id,
            role: op.role,
            name: op
                .name
                .as_deref()
                .map(|n| self.crypto.open(SealedField::OperatorName, op.id, n))
                .transpose()?
                .unwrap_or_default(),
        }))
    }

    pub async fn log_out(&self, token: &str) -> Result<(), InternalError> {
        let hash = self
            .crypto
            .keyed_hash(HashPurpose::OperatorSession, token.as_bytes());
        Ok(self.store.delete_operator_session(&hash).await?)
    }

    /// Removes console sessions and phone confirmations that ran out.
    pub async fn sweep(&self) -> Result<u64, InternalError> {
        let now = self.clock.now();
        let sessions = self
            .store
            .delete_expired_operator_sessions(now, self.policy.session_idle)
            .await?;
        Ok(sessions + self.store.delete_expired_desk_phones(now).await?)
    }

    // ------------------------------------------------------------ citizens

    /// Finds the citizen with exactly this SNILS, phone or passport.
    pub async fn find(
        &self,
        op: &OperatorAuth,
        by: SearchBy,
        value: &str,
    ) -> Result<Vec<(CitizenCard, String)>, SearchError> {
        let now = self.clock.now();
        if let Some(retry_at) = self.spend_lookup(op, now).await? {
            return Err(SearchError::TooMany { retry_at });
        }
        let accounts: Vec<AccountRecord> = match by {
            SearchBy::Snils => {
                let s = Snils::parse(value).map_err(|_| SearchError::Malformed(by))?;
                let index = self
                    .crypto
                    .keyed_hash(HashPurpose::SnilsIndex, s.digits().as_bytes());
                self.store
                    .account_by_login(LoginKind::Snils, &index)
                    .await?
                    .into_iter()
                    .collect()
            }
            SearchBy::Phone => {
                let p = PhoneNumber::parse(value).map_err(|_| SearchError::Malformed(by))?;
                let index = self
                    .crypto
                    .keyed_hash(HashPurpose::PhoneIndex, p.e164().as_bytes());
                self.store
                    .account_by_login(LoginKind::Phone, &index)
                    .await?
                    .into_iter()
                    .collect()
            }
            SearchBy::Passport => {
                let p = uslugi_domain::PassportNumber::parse(value)
                    .map_err(|_| SearchError::Malformed(by))?;
                self.store
                    .accounts_by_passport(&passport_index(&self.crypto, &p))
                    .await?
            }
        };
        let mut cards = Vec::with_capacity(accounts.len());
        for a in &accounts {
            cards.push((self.card_of(a).await?, self.grant_card(op, a.id)));
        }
        self.store
            .append_audit(
                &self
                    .audit
                    .record(op.actor(), action::CITIZEN_SEARCH, "ok", now)
                    .center(&op.center_id)
                    .details(serde_json::json!({ "by": by.as_str(), "found": cards.len() }))
                    .write(),
            )
            .await?;
        Ok(cards)
    }

    async fn card_of(&self, a: &AccountRecord) -> Result<CitizenCard, InternalError> {
        let phone = a
            .phone
            .as_deref()
            .map(|p| self.crypto.open(SealedField::Phone, a.id, p))
            .transpose()?
            .and_then(|p| PhoneNumber::from_e164(&p))
            .map(|p| p.masked());
        let email = a
            .email
            .as_deref()
            .map(|e| self.crypto.open(SealedField::Email, a.id, e))
            .transpose()?
            .and_then(|e| Email::parse(&e).ok())
            .map(|e| e.masked());
        let record = self.store.personal_data(a.id).await?;
        let verified = crate::verification::verified_data(&self.crypto, &*self.store, a.id).await?;
        Ok(CitizenCard {
            account_id: a.id,
            level: a.level,
            confirmed_at: a.confirmed_at,
            confirmed_via: a.confirmed_via,
            surname: self.crypto.open(SealedField::Surname, a.id, &a.surname)?,
            given_name: self
                .crypto
                .open(SealedField::GivenName, a.id, &a.given_name)?,
            phone,
            email,
            verified,
            locked: a.locked,
            created_at: a.created_at,
            registration_pending: a.level == AccountLevel::Simplified
                && record.is_some_and(|r| r.assisted.is_some()),
        })
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

    // ------------------------------------------------------------ card grants

    /// The right of this console session to open `account`'s card for the
    /// next 15 minutes: `<expiry>.<MAC>`, the MAC a keyed hash over the
    /// session, the account and the expiry.
    ///
    /// **Why a MAC and not a row.** A grant is handed out with every search
    /// result; a row per result would be writes on the search path and a
    /// sweep for nothing. The keyed-hash key is shared by every node, the
    /// session hash binds it to one login (another operator, or the same
    /// one after logging out, holds a different session), and the expiry
    /// is inside the MAC. What a row would add is revocation, which the
    /// session's end already gives.
    pub fn grant_card(&self, op: &OperatorAuth, account: AccountId) -> String {
        let expires = (self.clock.now() + self.policy.card_grant_valid_for).unix_timestamp();
        format!("{expires}.{}", self.grant_mac(op, account, expires))
    }

    fn grant_mac(&self, op: &OperatorAuth, account: AccountId, expires: i64) -> String {
        let mut bound = Vec::with_capacity(op.session.len() + 48);
        bound.extend_from_slice(&op.session);
        bound.extend_from_slice(account.to_string().as_bytes());
        bound.extend_from_slice(&expires.to_be_bytes());
        crypto::url_safe(&self.crypto.keyed_hash(HashPurpose::CardGrant, &bound))
    }

    /// Whether `grant` opens `account`'s card to this session now.
    fn grant_holds(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
    ) -> Result<(), GrantRefusal> {
        let grant = grant.map(str::trim).filter(|g| !g.is_empty());
        let Some((expires, mac)) = grant.ok_or(GrantRefusal::Missing)?.split_once('.') else {
            return Err(GrantRefusal::Invalid);
        };
        let expires: i64 = expires.parse().map_err(|_| GrantRefusal::Invalid)?;
        let expected = self.grant_mac(op, account, expires);
        if !crypto::constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return Err(GrantRefusal::Invalid);
        }
        if self.clock.now().unix_timestamp() >= expires {
            return Err(GrantRefusal::Expired);
        }
        Ok(())
    }

    /// The grant check of a page (not an action): refused looks are
    /// recorded like refused actions.
    async fn granted(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
    ) -> Result<bool, InternalError> {
        match self.grant_holds(op, account, grant) {
            Ok(()) => Ok(true),
            Err(r) => match self
                .refused(op, action::CITIZEN_VIEWED, account, ActionError::NoGrant(r))
                .await
            {
                ActionError::Internal(e) => Err(e),
                _ => Ok(false),
            },
        }
    }

    /// The card of a citizen found by a search of this session, with the
    /// grant the search gave; every look is recorded, and so is every
    /// refused one.
    pub async fn citizen(
        &self,
        op: &OperatorAuth,
        account: AccountId,
        grant: Option<&str>,
    ) -> Result<Option<CitizenCard>, InternalError> {
        if !self.granted(op, account, grant).await? {
            return Ok(None);
        }
        let Some(a) = self.store.account(account).await? else {
            return Ok(None);
        };
        let card = self.card_of(&a).await?;
        self.store
            .append_audit(
                &self
                    .audit
                    .record(op.actor(), action::CITIZEN_VIEWED, "ok", self.clock.now())
                    .center(&op.center_id)
                    .account(account)
                    .write(),
            )
            .await?;
        Ok(Some(card))
    }

    /// Records an action the operator tried and the system refused.
    async fn refused(
        &self,
        op: &OperatorAuth,
        what: &str,
        account: AccountId,
        e: ActionError,
    ) -> ActionError {
        let reason = match &e {
            ActionError::NoGrant(r) => r.as_str(),
            ActionError::ChecklistIncomplete(_) => "checklist_incomplete",
            ActionError::NotOffered => "not_offered",
            ActionError::NotFound => "not_found",
            ActionError::NotVerified => "not_verified",
            ActionError::AlreadyConfirmed => "already_confirmed",
            ActionError::NoContact => "no_contact",
            ActionError::SnilsNotTaken => "snils_not_taken",
            ActionError::Internal(_) => return e,
        };
        let write = self
            .audit
            .record(op.actor(), what, "refused", self.clock.now())
            .center(&op.center_id)
            .account(account)
            .details(serde_json::json!({ "reason": reason }))
            .write();
        if let Err(store) = self.store.append_audit(&write).await {
            return ActionError::Internal(store.into());
        }
        e
    }

    /// What every action after a passport check asks first: a search of
    /// this session opened the card, the center offers the service, both
    /// points are ticked, the account exists.
    async fn checked_account(
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
