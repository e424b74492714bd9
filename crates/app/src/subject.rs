//! The data subject's right of access (152-ФЗ, art. 14): everything the
//! portal holds about a person, in one JSON document — the account and its
//! contacts, the personal data in force, under check and as drafted, the
//! addresses, the registry checks, the second factor, the letter with a
//! code, the live sessions and the whole history of what was done to the
//! account. For the citizen («Скачать мои данные») and for an
//! administrator acting on a verified request (`admin account export`).
//! Never in it: password and code hashes, keys, the letter's code.
use serde::Serialize;
use time::OffsetDateTime;
use uslugi_domain::{AccountId, PersonalData, PersonalDataForm, Token};

use crate::accounts::{Accounts, InternalError};
use crate::audit::{Actor, action};
use crate::letters::{LetterView, Letters};
use crate::ports::AuditFilter;
use crate::registries::Registry;
use crate::verification::{Addresses, FailureReason, Verification};

/// What [`account_data`] gives: the document's version first, so that a
/// reader knows the shape.
#[derive(Debug, Clone, Serialize)]
pub struct AccountData {
    /// 1: this shape.
    pub format: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    pub account: AccountPart,
    pub personal_data: PersonalDataPart,
    pub second_factor: Option<FactorPart>,
    pub identity_letter: Option<LetterView>,
    pub sessions: Vec<SessionPart>,
    /// What the person agreed to, and when (recorded since the portal
    /// keeps them: older accounts have none here).
    pub consents: Vec<ConsentPart>,
    pub history: Vec<HistoryPart>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsentPart {
    /// `terms_of_use`, `personal_data_processing`.
    pub what: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountPart {
    pub id: AccountId,
    pub level: &'static str,
    pub surname: String,
    pub given_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_via: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonalDataPart {
    /// `draft`, `in_progress`, `verified` or `failed`.
    pub status: &'static str,
    /// In force: passed the checks.
    pub verified: Option<PersonalData>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
    /// The last submission (under check, or failed).
    pub submitted: Option<PersonalData>,
    /// The form as kept («Продолжить позже»), when there is a draft.
    pub draft: Option<PersonalDataForm>,
    pub addresses: Option<Addresses>,
    pub checks: Vec<CheckPart>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckPart {
    /// `sfr` or `mvd`.
    pub registry: Registry,
    pub status: &'static str,
    pub reason: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactorPart {
    pub method: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub enabled_at: Option<OffsetDateTime>,
    pub backup_codes_left: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionPart {
    pub device: String,
    pub network: Option<String>,
    pub place: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    pub remember: bool,
}

/// One record of the audit log about the account.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPart {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `citizen`, `operator`, `admin` or `system`.
    pub by: String,
    pub action: String,
    pub outcome: String,
}

/// Everything held about the account `id`, and an audit record that `by`
/// took it; `None` when there is no such account.
pub async fn account_data(
    accounts: &Accounts,
    verification: &Verification,
    letters: &Letters,
    id: AccountId,
    by: Actor,
) -> Result<Option<AccountData>, InternalError> {
    let Some(record) = accounts.store.account(id).await? else {
        return Ok(None);
    };
    let Some(profile) = accounts.profile(id).await? else {
        return Ok(None);
    };
    let view = verification.personal_data(id).await?;
    let factor = accounts.second_factor_status(id).await?;
    let sessions = accounts
        .sessions(id, "", crate::Lang::Ru)
        .await?
        .into_iter()
        .map(|s| SessionPart {
            device: s.device,
            network: s.network,
            place: s.place,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            remember: s.remember,
        })
        .collect();
    let (history, consents) = history(accounts, id).await?;
    let now = accounts.clock.now();
    let write = accounts
        .audit
        .record(by, action::DATA_EXPORTED, "exported", now)
        .account(id)
        .write();
    accounts.store.append_audit(&write).await?;
    Ok(Some(AccountData {
        format: 1,
        exported_at: now,
        account: AccountPart {
            id,
            level: profile.level.as_str(),
            surname: profile.surname,
            given_name: profile.given_name,
            phone: profile.phone.map(|p| p.e164().to_owned()),
            email: profile.email.map(|e| e.as_str().to_owned()),
            created_at: record.created_at,
            confirmed_at: profile.confirmed_at,
            confirmed_via: profile.confirmed_via.map(Token::as_str),
        },
        personal_data: PersonalDataPart {
            status: view.state.status.as_str(),
            checks: view
                .state
                .checks
                .iter()
                .map(|c| CheckPart {
                    registry: c.registry,
                    status: c.status.as_str(),
                    reason: c.reason.map(FailureReason::as_str),
                })
                .collect(),
            verified: view.verified,
            verified_at: view.verified_at,
            submitted: view.submitted,
            draft: view.has_draft.then_some(view.form),
            addresses: view.addresses,
        },
        second_factor: factor.method.map(|m| FactorPart {
            method: m.as_str(),
            enabled_at: factor.enabled_at,
            backup_codes_left: factor.backup_codes_left,
        }),
        identity_letter: letters.current(id).await?,
        sessions,
        consents,
        history,
    }))
}

/// Every audit record about the account, oldest first, and the consents
/// its registration recorded.
async fn history(
    accounts: &Accounts,
    id: AccountId,
) -> Result<(Vec<HistoryPart>, Vec<ConsentPart>), InternalError> {
    let filter = AuditFilter {
        account_id: Some(id),
        ..AuditFilter::default()
    };
    let mut out = Vec::new();
    let mut consents = Vec::new();
    let mut before = None;
    loop {
        let page = accounts.store.audit_records(&filter, before, 500).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        let full = page.len() == 500;
        for r in page {
            if r.entry.action == action::REGISTERED
                && let Ok(details) = serde_json::from_str::<serde_json::Value>(&r.entry.details)
            {
                consents.extend(
                    details["consents"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.as_str())
                        .map(|what| ConsentPart {
                            what: what.to_owned(),
                            at: r.entry.at,
                        }),
                );
            }
            out.push(HistoryPart {
                at: r.entry.at,
                by: r.entry.actor,
                action: r.entry.action,
                outcome: r.entry.outcome,
            });
        }
        if !full {
            break;
        }
    }
    out.reverse();
    Ok((out, consents))
}
