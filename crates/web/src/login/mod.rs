//! Logging in with a password and out: the page `/login`, `POST /logout`
//! and `/api/v1/sessions…`; and what a login answers once it is done, with
//! or without a second factor.
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::error::PageError;
use crate::http::{SESSION_COOKIE, session_token, set_cookie};
use crate::page::Ctx;

mod api;
mod page;

pub fn routes() -> Router<AppState> {
    page::routes()
}

pub fn api_routes() -> Router<AppState> {
    api::routes()
}

/// The browser gets a device id of its own at its first login, so a login
/// from a new device can be told from one from a known device.
pub(crate) fn add_device_cookie(response: &mut Response, new_device: Option<&str>) {
    if let Some(device) = new_device {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(crate::security::DEVICE_COOKIE, device, Some(400 * 86_400)),
        );
    }
}

/// A login done (with or without a second factor): the old session, if
/// any, ends (a new id at every login), the cookie is set, and the person
/// goes on to `next` (or to «Мои данные»; to the password page after a
/// temporary password).
pub(crate) async fn session_response(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    session: &uslugi_app::NewSession,
    next: String,
) -> Result<Response, PageError> {
    if let Some(old) = session_token(headers) {
        state
            .accounts
            .log_out(&old)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    }
    let max_age = session
        .remember
        .then(|| (session.expires_at - state.accounts.now()).whole_seconds());
    let to = if session.must_change_password {
        crate::password::PAGE.to_owned()
    } else if next == "/" {
        "/me".to_owned()
    } else {
        next
    };
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, &session.token, max_age),
        )],
        Redirect::to(&to),
    )
        .into_response())
}

/// `201 {"session_token","expires_at","password_change_required"}` and the
/// cookie: a login done, with or without a second factor.
pub(crate) fn session_created(state: &AppState, session: &uslugi_app::NewSession) -> Response {
    let max_age = session
        .remember
        .then(|| (session.expires_at - state.accounts.now()).whole_seconds());
    (
        StatusCode::CREATED,
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, &session.token, max_age),
        )],
        Json(json!({
            "session_token": session.token,
            "expires_at": session.expires_at.format(&Rfc3339).unwrap_or_default(),
            "password_change_required": session.must_change_password,
        })),
    )
        .into_response()
}
