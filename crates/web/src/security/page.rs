//! The page «Безопасность»: the sessions with «Завершить», the history,
//! and the second factor's section.
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::PageError;
use crate::http::{CsrfForm, session_token};
use crate::i18n::Tr;
use crate::page::{Chrome, Page, local_time, no_store, render, see_other};

use super::event_text;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/security", routing::get(page))
        .route("/me/security/sessions/{id}/end", routing::post(end_one))
        .route(
            "/me/security/sessions/end-others",
            routing::post(end_others),
        )
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
    Page(state, ctx, headers): Page,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/security");
    let internal = |e: uslugi_app::InternalError| PageError::internal(ctx.lang.0, &e);
    let token = session_token(&headers).unwrap_or_default();
    let sessions = state
        .accounts
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
        .accounts
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
        _ => q.ended.is_some().then_some(ctx.tr.security.ended),
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
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/security");
    let ended = state
        .accounts
        .end_session(session.account_id, &id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    if !ended {
        return Err(PageError::not_found(ctx.lang.0));
    }
    Ok(see_other("/me/security?ended=1"))
}

async fn end_others(
    Page(state, ctx, headers): Page,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/security");
    let token = session_token(&headers).unwrap_or_default();
    state
        .accounts
        .end_other_sessions(session.account_id, &token)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    Ok(see_other("/me/security?ended=1"))
}
