//! «Безопасность»: the sessions of the account with «Завершить», and the
//! history of logins and security events; pages and `/api/v1/me/…`.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use uslugi_app::security::{SecurityEvent, SessionView};

use crate::AppState;
use crate::auth::{AnyApiSession, ApiSession, citizen_or_login};
use crate::error::{ApiError, PageError};
use crate::http::{CsrfForm, Language, session_token};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, local_time, no_store, render, see_other};

pub const DEVICE_COOKIE: &str = "__Host-uslugi-device";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/security", routing::get(page))
        .route("/me/security/sessions/{id}/end", routing::post(end_one))
        .route(
            "/me/security/sessions/end-others",
            routing::post(end_others),
        )
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/sessions",
            routing::get(api_sessions).delete(api_end_others),
        )
        .route("/me/sessions/{id}", routing::delete(api_end_one))
        .route("/me/security-events", routing::get(api_events))
}

/// What the browser or app says of itself, at most 256 characters.
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect())
}

/// The text of an event of the history.
pub fn event_text(t: &Tr, e: &SecurityEvent) -> String {
    let a = t.account;
    let base = match (e.action.as_str(), e.outcome.as_str()) {
        ("login", "ok_new_device") => a.ev_login_new_device,
        ("login", "wrong_password") => a.ev_login_refused,
        ("login", "refused_throttled") => a.ev_login_throttled,
        ("login", "second_factor_asked") => t.factor.ev_asked,
        ("login", "wrong_second_factor") => t.factor.ev_wrong,
        ("login", _) => a.ev_login,
        ("password_changed", "temporary_replaced") => a.ev_temporary_replaced,
        ("password_changed", _) => a.ev_password_changed,
        ("access_recovered", _) => a.ev_access_recovered,
        ("access_restored", _) => a.ev_access_restored,
        ("identity_confirmed", _) => a.ev_identity_confirmed,
        ("identity_confirmed_by_letter", _) => a.ev_confirmed_by_letter,
        ("identity_letter_ordered", _) => a.ev_letter_ordered,
        ("registered_in_person", _) => a.ev_registered_in_person,
        ("registration_checked", _) => a.ev_registration_checked,
        ("session_ended", _) => a.ev_session_ended,
        ("second_factor_enabled", _) => t.factor.ev_enabled,
        ("second_factor_disabled", _) => t.factor.ev_disabled,
        ("backup_codes_renewed", _) => t.factor.ev_renewed,
        ("contact_changed", "phone") => t.contacts.ev_phone_changed,
        ("contact_changed", _) => t.contacts.ev_email_changed,
        (other, _) => other,
    };
    let mut text = base.to_owned();
    if e.outcome == "refused" {
        text.push_str(&format!(" ({})", a.ev_refused));
    }
    if e.by_operator {
        text.push_str(&format!(" — {}", a.by_operator));
    }
    text
}

struct SessionRow {
    id: String,
    current: bool,
    device: String,
    network: String,
    place: String,
    started: String,
    last_active: String,
    remember: bool,
}

struct EventRow {
    at: String,
    text: String,
    place: Option<String>,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    tr: &'static Tr,
    chrome: Chrome,
    sessions: Vec<SessionRow>,
    events: Vec<EventRow>,
    notice: Option<&'static str>,
    factor: crate::second_factor::FactorSection,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    ended: Option<String>,
    /// `on` or `off`: the second factor was just turned so.
    factor: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/security");
    let internal = |e: uslugi_app::InternalError| PageError::internal(ctx.lang.0, &e);
    let token = session_token(&headers).unwrap_or_default();
    let sessions = state
        .identity
        .sessions(session.account_id, &token, ctx.lang.0)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|s| SessionRow {
            started: local_time(&state, s.created_at, &ctx),
            last_active: local_time(&state, s.last_seen_at, &ctx),
            network: s.network.unwrap_or_default(),
            place: s.place.unwrap_or_default(),
            id: s.id,
            current: s.current,
            device: s.device,
            remember: s.remember,
        })
        .collect();
    let events = state
        .identity
        .security_history(session.account_id)
        .await
        .map_err(internal)?
        .iter()
        .map(|e| EventRow {
            at: local_time(&state, e.at, &ctx),
            text: event_text(ctx.tr, e),
            place: e.place.clone(),
        })
        .collect();
    let factor = crate::second_factor::section(&state, ctx.tr, session.account_id)
        .await
        .map_err(internal)?;
    let notice = match q.factor.as_deref() {
        Some("on") => Some(ctx.tr.factor.turned_on),
        Some("off") => Some(ctx.tr.factor.turned_off),
        _ => q.ended.is_some().then_some(ctx.tr.account.ended),
    };
    Ok(no_store(render(
        StatusCode::OK,
        &SecurityPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            sessions,
            events,
            notice,
            factor,
        },
    )))
}

async fn end_one(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/security");
    let ended = state
        .identity
        .end_session(session.account_id, &id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    if !ended {
        return Err(PageError::not_found(ctx.lang.0));
    }
    Ok(see_other("/me/security?ended=1"))
}

async fn end_others(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/security");
    let token = session_token(&headers).unwrap_or_default();
    state
        .identity
        .end_other_sessions(session.account_id, &token)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    Ok(see_other("/me/security?ended=1"))
}

fn session_json(s: &SessionView) -> serde_json::Value {
    json!({
        "id": s.id,
        "current": s.current,
        "device": s.device,
        "network": s.network,
        "place": s.place,
        "created_at": s.created_at.format(&Rfc3339).unwrap_or_default(),
        "last_seen_at": s.last_seen_at.format(&Rfc3339).unwrap_or_default(),
        "remember": s.remember,
    })
}

/// `GET /api/v1/me/sessions` → `{"sessions":[{"id","current","device","network","created_at","last_seen_at","remember"}]}`.
async fn api_sessions(
    State(state): State<AppState>,
    lang: Language,
    AnyApiSession(session, token): AnyApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let list = state
        .identity
        .sessions(session.account_id, &token, lang.0)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(
        Json(json!({ "sessions": list.iter().map(session_json).collect::<Vec<_>>() }))
            .into_response(),
    )
}

async fn api_end_one(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    if state
        .identity
        .end_session(session.account_id, &id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(t).with_code("session_not_found"))
    }
}

/// `DELETE /api/v1/me/sessions`: every session but this one.
async fn api_end_others(
    State(state): State<AppState>,
    lang: Language,
    AnyApiSession(session, token): AnyApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let n = state
        .identity
        .end_other_sessions(session.account_id, &token)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(Json(json!({ "ended": n })).into_response())
}

/// `GET /api/v1/me/security-events` → the last 90 days, newest first.
async fn api_events(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let events = state
        .identity
        .security_history(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    let list: Vec<_> = events
        .iter()
        .map(|e| {
            json!({
                "at": e.at.format(&Rfc3339).unwrap_or_default(),
                "action": e.action,
                "outcome": e.outcome,
                "by_operator": e.by_operator,
                "place": e.place,
                "text": event_text(t, e),
            })
        })
        .collect();
    Ok(Json(json!({ "events": list })).into_response())
}
