//! Finding a citizen at the desk: by exact SNILS, phone or passport only,
//! within an hourly budget, and a card opened only from this session's
//! search.

use time::OffsetDateTime;
use uslugi_domain::{
    AccountId, AccountLevel, ConfirmedVia, Email, LoginKind, PersonalData, PhoneNumber, SearchBy,
    Snils, Token,
};

use crate::accounts::InternalError;
use crate::audit::action;
use crate::crypto::{self, HashPurpose, SealedField};
use crate::ports::{AccountRecord, StoreError};
use crate::verification::passport_index;

use super::*;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the value is not a valid {0:?}")]
    Malformed(SearchBy),
    #[error("too many searches; try again later")]
    TooMany { retry_at: OffsetDateTime },
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(SearchError: StoreError);

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

impl Operators {
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

    pub(super) async fn card_of(&self, a: &AccountRecord) -> Result<CitizenCard, InternalError> {
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

    pub(super) fn grant_mac(&self, op: &OperatorAuth, account: AccountId, expires: i64) -> String {
        let mut bound = Vec::with_capacity(op.session.len() + 48);
        bound.extend_from_slice(&op.session);
        bound.extend_from_slice(account.to_string().as_bytes());
        bound.extend_from_slice(&expires.to_be_bytes());
        crypto::url_safe(&self.crypto.keyed_hash(HashPurpose::CardGrant, &bound))
    }

    /// Whether `grant` opens `account`'s card to this session now.
    pub(super) fn grant_holds(
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
    pub(super) async fn granted(
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
    pub(super) async fn refused(
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
}
