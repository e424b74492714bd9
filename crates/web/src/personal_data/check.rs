//! The checks in the registries: their texts, the page that follows them,
//! and its stream of server-sent events.
use std::convert::Infallible;
use std::time::Duration as StdDuration;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing};
use serde::Serialize;
use serde_json::Value;
use uslugi_app::registries::{PassportInvalidity, Registry};
use uslugi_app::verification::{FailureReason, VerificationState};
use uslugi_domain::{CheckStatus, Token, VerificationStatus};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

use crate::AppState;
use crate::api::{Api, token, token_schema};
use crate::auth::{ApiSession, citizen_or_login};
use crate::error::{ApiError, PageError};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Page, no_store, render, see_other};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/verification", routing::get(check_page))
        .route("/me/verification/events", routing::get(check_events))
}

pub fn reason_text(t: &Tr, reason: FailureReason) -> &'static str {
    let p = t.pd;
    match reason {
        FailureReason::SnilsNotFound => p.reason_snils_not_found,
        FailureReason::DataMismatch => p.reason_data_mismatch,
        FailureReason::PassportNotFound => p.reason_passport_not_found,
        FailureReason::PassportInvalid(uslugi_app::registries::PassportInvalidity::Lost) => {
            p.reason_passport_lost
        }
        FailureReason::PassportInvalid(uslugi_app::registries::PassportInvalidity::Expired) => {
            p.reason_passport_expired
        }
        FailureReason::PassportInvalid(uslugi_app::registries::PassportInvalidity::Replaced) => {
            p.reason_passport_replaced
        }
        FailureReason::Unavailable => p.reason_unavailable,
        FailureReason::Rejected => p.reason_rejected,
    }
}

pub(crate) fn check_state_text(t: &Tr, status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pending => t.pd.state_pending,
        CheckStatus::Retrying => t.pd.state_retrying,
        CheckStatus::Passed => t.pd.state_passed,
        CheckStatus::Failed => t.pd.state_failed,
    }
}

fn registry_str(r: Registry) -> &'static str {
    match r {
        Registry::Sfr => "sfr",
        Registry::Mvd => "mvd",
    }
}

/// The state of the checks, as the API and the live page read it.
#[derive(Debug, PartialEq, Serialize, ToSchema)]
#[schema(as = Verification)]
pub(super) struct VerificationAnswer {
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<VerificationStatus>)]
    status: VerificationStatus,
    /// The Social Fund's check first, then the Interior Ministry's; none
    /// before the first submission
    checks: Vec<CheckAnswer>,
    /// Both checks passed but the SNILS is verified in another account: the
    /// only way a submission learns that a SNILS has an account
    snils_taken: bool,
}

/// The check at one registry.
#[derive(Debug, PartialEq, Serialize, ToSchema)]
#[schema(as = VerificationCheck)]
struct CheckAnswer {
    #[schema(schema_with = registry_schema)]
    registry: String,
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<CheckStatus>)]
    status: CheckStatus,
    // Described by its schema: utoipa drops a doc comment beside `schema_with`.
    #[schema(required = true, schema_with = reason_schema)]
    reason: Option<String>,
    /// The reason in the request's language
    #[schema(required = true)]
    reason_text: Option<String>,
    /// The status in the request's language
    status_text: String,
}

pub(super) fn verification_answer(t: &Tr, s: &VerificationState) -> VerificationAnswer {
    VerificationAnswer {
        status: s.status,
        checks: s
            .checks
            .iter()
            .map(|c| CheckAnswer {
                registry: registry_str(c.registry).to_owned(),
                status: c.status,
                reason: c.reason.map(|r| r.as_str().to_owned()),
                reason_text: c.reason.map(|r| reason_text(t, r).to_owned()),
                status_text: check_state_text(t, c.status).to_owned(),
            })
            .collect(),
        snils_taken: s.snils_taken,
    }
}

fn registry_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([Registry::Sfr, Registry::Mvd].map(registry_str)))
        .build()
}

/// Every reason a check can fail for, for the schema. [`reason_text`]
/// matches them without a catch-all: a new one is a compile error there,
/// the place to remember this list.
const REASONS: [FailureReason; 8] = [
    FailureReason::SnilsNotFound,
    FailureReason::DataMismatch,
    FailureReason::PassportNotFound,
    FailureReason::PassportInvalid(PassportInvalidity::Lost),
    FailureReason::PassportInvalid(PassportInvalidity::Expired),
    FailureReason::PassportInvalid(PassportInvalidity::Replaced),
    FailureReason::Unavailable,
    FailureReason::Rejected,
];

fn reason_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(
            REASONS
                .iter()
                .map(|r| Value::from(r.as_str()))
                .chain([Value::Null]),
        ))
        .description(Some("Why the check failed; null unless it did"))
        .build()
}

pub(crate) struct CheckRow {
    pub id: &'static str,
    pub title: &'static str,
    pub status: &'static str,
    pub status_text: &'static str,
    pub reason: Option<&'static str>,
}

/// Each check as the check page lays it out: title, state, reason.
pub(crate) fn check_rows(t: &Tr, s: &VerificationState) -> Vec<CheckRow> {
    s.checks
        .iter()
        .map(|c| CheckRow {
            id: registry_str(c.registry),
            title: match c.registry {
                Registry::Sfr => t.pd.check_sfr,
                Registry::Mvd => t.pd.check_mvd,
            },
            status: c.status.as_str(),
            status_text: check_state_text(t, c.status),
            reason: c.reason.map(|r| reason_text(t, r)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "verification.html")]
struct CheckPage {
    tr: &'static Tr,
    chrome: Chrome,
    status: &'static str,
    checks: Vec<CheckRow>,
    in_progress_text: String,
    snils_taken: bool,
}

async fn check_page(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/verification");
    let internal = |e: uslugi_app::InternalError| PageError::internal(ctx.lang.0, &e);
    let s = state
        .verification
        .state(session.account_id)
        .await
        .map_err(internal)?;
    if s.status == VerificationStatus::Draft {
        return Ok(see_other("/me/personal-data"));
    }
    let profile = state
        .accounts
        .profile(session.account_id)
        .await
        .map_err(internal)?;
    let contact = profile
        .map(|p| match (p.phone, p.email) {
            (Some(phone), _) => phone.to_string(),
            (None, Some(email)) => email.as_str().to_owned(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let checks = check_rows(ctx.tr, &s);
    Ok(no_store(render(
        StatusCode::OK,
        &CheckPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            status: s.status.as_str(),
            checks,
            in_progress_text: fill(ctx.tr.pd.in_progress_text, contact),
            snils_taken: s.snils_taken,
        },
    )))
}

/// Server-sent events: the state whenever it changes, until the checks end.
/// The page closes the stream and reloads when the status is final. When
/// the node begins to stop, the stream ends with a `shutdown` event whose
/// `retry` tells the browser to reconnect (to another node, or this one
/// restarted) in three seconds.
async fn check_events(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let account = session.account_id;
    let stream = futures_util::stream::unfold(
        (state, None::<VerificationAnswer>, false),
        move |(state, last, done)| async move {
            if done {
                return None;
            }
            let mut shutdown = state.shutdown.clone();
            loop {
                if shutdown.has_begun() {
                    let event = Event::default()
                        .event("shutdown")
                        .retry(StdDuration::from_secs(3))
                        .data("reconnect");
                    return Some((Ok(event), (state, last, true)));
                }
                let current = match state.verification.state(account).await {
                    Ok(s) => s,
                    Err(e) => {
                        crate::error::log_internal(&e);
                        return None;
                    }
                };
                let value = verification_answer(t, &current);
                let finished = current.status != VerificationStatus::InProgress;
                if last.as_ref() != Some(&value) {
                    // Strings, enums and a bool: it cannot fail to serialize.
                    let event = Event::default()
                        .event("state")
                        .json_data(&value)
                        .expect("the state serializes");
                    return Some((
                        Ok::<Event, Infallible>(event),
                        (state, Some(value), finished),
                    ));
                }
                if finished {
                    return None;
                }
                tokio::select! {
                    () = tokio::time::sleep(StdDuration::from_secs(1)) => {}
                    () = shutdown.begun() => {}
                }
            }
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_lists_each_failure_reason_once() {
        let forms: std::collections::BTreeSet<_> = REASONS.iter().map(|r| r.as_str()).collect();
        assert_eq!(forms.len(), REASONS.len());
        for r in REASONS {
            assert_eq!(FailureReason::parse(r.as_str()), Some(r));
        }
    }
}
