//! `/api/v1/me/sessions…` and `/api/v1/me/security-events`.
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use uslugi_app::AuthSession;
use uslugi_app::security::SessionView;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::api::{Api, ApiRouter};
use crate::auth::{AnyApiSession, ApiSession};
use crate::error::{ApiError, ErrorBody};
use crate::i18n::Tr;

use super::event_text;

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_sessions, end_other_sessions))
        .routes(routes!(end_session))
        .routes(routes!(list_security_events))
}

/// The session and its token, as [`ApiSession`] would give the first: a
/// session opened with a temporary password gets 403
/// `password_change_required`, like every other `/me` call but `GET /me`
/// and the password change. (`ApiSession` does not carry the token these
/// calls need to tell the caller's own session.)
fn own_session(
    t: &Tr,
    AnyApiSession(session, token): AnyApiSession,
) -> Result<(AuthSession, String), ApiError> {
    if session.must_change_password {
        return Err(ApiError::password_change_required(t));
    }
    Ok((session, token))
}

#[derive(Serialize, ToSchema)]
#[schema(as = AccountSessions)]
struct SessionList {
    sessions: Vec<SessionEntry>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AccountSession)]
struct SessionEntry {
    /// A handle of the session, not its token
    #[schema(pattern = "^[0-9a-f]{16}$")]
    id: String,
    /// The session this call is made with
    current: bool,
    /// «Chrome, Windows»
    device: String,
    /// The address without its last part: 192.168.17.0/24
    #[schema(required = true)]
    network: Option<String>,
    /// The approximate place of the network, when the portal is configured
    /// with a places_file; null otherwise
    #[schema(required = true)]
    place: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_seen_at: String,
    /// Logged in with «remember me»
    remember: bool,
}

impl From<&SessionView> for SessionEntry {
    fn from(s: &SessionView) -> Self {
        Self {
            id: s.id.clone(),
            current: s.current,
            device: s.device.clone(),
            network: s.network.clone(),
            place: s.place.clone(),
            created_at: s.created_at.format(&Rfc3339).unwrap_or_default(),
            last_seen_at: s.last_seen_at.format(&Rfc3339).unwrap_or_default(),
            remember: s.remember,
        }
    }
}

/// The account's active sessions
#[utoipa::path(
    get,
    path = "/me/sessions",
    tag = "security",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Sessions, most recently active first", body = SessionList),
        (status = 403, description = "password_change_required: a session opened with a temporary password must replace it first", body = ErrorBody),
    )
)]
async fn list_sessions(
    Api(state, lang, t): Api,
    session: AnyApiSession,
) -> Result<Response, ApiError> {
    let (session, token) = own_session(t, session)?;
    let list = state
        .accounts
        .sessions(session.account_id, &token, lang.0)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(Json(SessionList {
        sessions: list.iter().map(SessionEntry::from).collect(),
    })
    .into_response())
}

/// End one of the account's sessions
#[utoipa::path(
    delete,
    path = "/me/sessions/{id}",
    tag = "security",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = String, Path, description = "A session's id from GET /me/sessions", pattern = "^[0-9a-f]{16}$")),
    responses(
        (status = 204, description = "Ended"),
        (status = 403, description = "csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header; or password_change_required: a session opened with a temporary password must replace it first", body = ErrorBody),
        (status = 404, description = "session_not_found: the account has no such session (also for an id of another shape)", body = ErrorBody),
    )
)]
async fn end_session(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state
        .accounts
        .end_session(session.account_id, &id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(t).with_code("session_not_found"))
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = SessionsEnded)]
struct Ended {
    /// How many sessions ended
    #[schema(minimum = 0)]
    ended: u64,
}

/// End every session but this one
#[utoipa::path(
    delete,
    path = "/me/sessions",
    tag = "security",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Ended", body = Ended),
        (status = 403, description = "csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header; or password_change_required: a session opened with a temporary password must replace it first", body = ErrorBody),
    )
)]
async fn end_other_sessions(
    Api(state, _, t): Api,
    session: AnyApiSession,
) -> Result<Response, ApiError> {
    let (session, token) = own_session(t, session)?;
    let n = state
        .accounts
        .end_other_sessions(session.account_id, &token)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(Json(Ended { ended: n }).into_response())
}

#[derive(Serialize, ToSchema)]
#[schema(as = SecurityEvents)]
struct EventList {
    events: Vec<EventEntry>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SecurityEvent)]
struct EventEntry {
    #[schema(format = DateTime)]
    at: String,
    /// login, password_changed, access_recovered, access_restored,
    /// identity_confirmed, identity_confirmed_by_letter,
    /// identity_letter_ordered, registered, registered_in_person,
    /// registration_checked, data_exported, account_disabled, account_enabled,
    /// session_ended, second_factor_enabled, second_factor_disabled,
    /// backup_codes_renewed, contact_changed (login outcomes include
    /// second_factor_asked and wrong_second_factor)
    action: String,
    outcome: String,
    /// Done by an operator of a service center
    by_operator: bool,
    /// The approximate place of the network, when the portal is configured
    /// with a places_file; null otherwise
    #[schema(required = true)]
    place: Option<String>,
    /// In the request's language
    text: String,
}

/// Logins and security events of the last 90 days, newest first
#[utoipa::path(
    get,
    path = "/me/security-events",
    tag = "security",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Events", body = EventList),
        (status = 403, description = "password_change_required: a session opened with a temporary password must replace it first", body = ErrorBody),
    )
)]
async fn list_security_events(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let events = state
        .accounts
        .security_history(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    let events = events
        .iter()
        .map(|e| EventEntry {
            at: e.at.format(&Rfc3339).unwrap_or_default(),
            action: e.action.clone(),
            outcome: e.outcome.clone(),
            by_operator: e.by_operator,
            place: e.place.clone(),
            text: event_text(t, e),
        })
        .collect();
    Ok(Json(EventList { events }).into_response())
}
