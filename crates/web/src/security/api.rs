//! `/api/v1/me/sessions…` and `/api/v1/me/security-events`.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use uslugi_app::security::SessionView;

use crate::AppState;
use crate::auth::{AnyApiSession, ApiSession};
use crate::error::ApiError;
use crate::http::Language;

use super::event_text;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/sessions",
            routing::get(api_sessions).delete(api_end_others),
        )
        .route("/me/sessions/{id}", routing::delete(api_end_one))
        .route("/me/security-events", routing::get(api_events))
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
        .accounts
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

/// `DELETE /api/v1/me/sessions`: every session but this one.
async fn api_end_others(
    State(state): State<AppState>,
    lang: Language,
    AnyApiSession(session, token): AnyApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let n = state
        .accounts
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
        .accounts
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
