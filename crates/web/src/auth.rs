//! Who is signed in: a citizen's session for the pages (or the way to the
//! login page) and for the API (cookie or `Authorization: Bearer`).
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use uslugi_app::AuthSession;

use crate::AppState;
use crate::error::{ApiError, PageError};
use crate::http::{SESSION_COOKIE, clear_cookie, session_token};
use crate::page::{Ctx, see_other};

/// Whether a page's visitor is logged in; if not, where to send them.
pub(crate) enum Signed {
    In(AuthSession),
    Out(Response),
}

/// The session of a page's visitor, or the way to the login page (which
/// comes back to `here`), clearing a stale session cookie.
pub(crate) async fn signed_in(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    here: &str,
) -> Result<Signed, PageError> {
    let to_login = || see_other(&format!("/login?next={}", crate::http::url_encode(here)));
    let Some(token) = session_token(headers) else {
        return Ok(Signed::Out(to_login()));
    };
    match state
        .accounts
        .authenticate(&token)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
    {
        // A temporary password opens nothing but the page that replaces it.
        Some(s) if s.must_change_password && here != crate::password::PAGE => {
            Ok(Signed::Out(see_other(crate::password::PAGE)))
        }
        Some(s) => Ok(Signed::In(s)),
        None => Ok(Signed::Out(
            (
                [(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))],
                to_login(),
            )
                .into_response(),
        )),
    }
}

/// The API caller's session (cookie or `Authorization: Bearer`). As an
/// extractor of the request's head it runs before the body is read, so a
/// caller without a session learns that first, whatever they sent. A
/// session opened with a temporary password gets 403
/// `password_change_required` until the password is replaced.
pub struct ApiSession(pub AuthSession);

/// Any live session, also one that must replace its temporary password
/// first: for `GET /me` and the password change itself.
pub struct AnyApiSession(pub AuthSession, pub String);

impl FromRequestParts<AppState> for AnyApiSession {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let t = crate::i18n::tr(crate::http::lang_of(&parts.headers));
        let token = session_token(&parts.headers).ok_or_else(|| ApiError::unauthorized(t))?;
        if !crate::http::api_call_is_same_site(&parts.method, &parts.headers) {
            return Err(ApiError::csrf(t));
        }
        let session = state
            .accounts
            .authenticate(&token)
            .await
            .map_err(|e| ApiError::internal(t, &e))?
            .ok_or_else(|| ApiError::unauthorized(t))?;
        Ok(Self(session, token))
    }
}

impl FromRequestParts<AppState> for ApiSession {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AnyApiSession(session, _) = AnyApiSession::from_request_parts(parts, state).await?;
        if session.must_change_password {
            let t = crate::i18n::tr(crate::http::lang_of(&parts.headers));
            return Err(ApiError::password_change_required(t));
        }
        Ok(Self(session))
    }
}

/// The session of a page's visitor, or the handler returns the way to the
/// login page (see [`signed_in`]).
macro_rules! citizen_or_login {
    ($state:expr, $ctx:expr, $headers:expr, $here:expr) => {
        match $crate::auth::signed_in(&$state, &$ctx, &$headers, $here).await? {
            $crate::auth::Signed::In(session) => session,
            $crate::auth::Signed::Out(response) => return Ok(response),
        }
    };
}
pub(crate) use citizen_or_login;
