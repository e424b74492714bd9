//! Logging in with a password and out: the page `/login`, `POST /logout`
//! and `/api/v1/sessions…`; and what a login answers once it is done, with
//! or without a second factor.
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::PageError;
use crate::http::{SESSION_COOKIE, session_token, set_cookie};
use crate::page::Ctx;

mod api;
mod page;

pub fn routes() -> Router<AppState> {
    page::routes()
}

pub fn api_routes() -> crate::api::ApiRouter {
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

/// A login done: the session, also set as the cookie.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionCreated {
    /// The session, for `Authorization: Bearer` (256 bits; the same as the
    /// cookie's value)
    session_token: String,
    /// When the session ends however active it is (12 hours; 30 days when
    /// remembered); it ends sooner when idle
    #[schema(format = DateTime)]
    expires_at: String,
    /// Logged in with a temporary password from a service center: only
    /// `POST /me/password` (and `GET /me`, `DELETE /sessions/current`) until
    /// it is replaced
    password_change_required: bool,
}

/// `201` [`SessionCreated`] and the cookie: a login done, with or without a
/// second factor.
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
        Json(SessionCreated {
            session_token: session.token.clone(),
            expires_at: session.expires_at.format(&Rfc3339).unwrap_or_default(),
            password_change_required: session.must_change_password,
        }),
    )
        .into_response()
}
