//! `POST /api/v1/sessions` and `DELETE /api/v1/sessions/current`.
use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uslugi_app::{LoginError, LoginOutcome};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::api::{Api, ApiRouter};
use crate::auth::AnyApiSession;
use crate::error::{ApiError, ErrorBody};
use crate::http::{ApiJson, ClientIp, SESSION_COOKIE, clear_cookie};

use super::{SessionCreated, session_created};

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(end_current_session))
}

/// `remember_me` and `device_id` may be null, which is the same as absent.
#[derive(Deserialize, ToSchema)]
#[schema(as = LoginRequest)]
struct LoginInput {
    /// A phone (in any usual spelling), an e-mail or a SNILS
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        example = "+7 (925) 391-02-02"
    )]
    login: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1)]
    password: Option<String>,
    /// Keep the session 30 days (a week unused) instead of 12 hours (30
    /// minutes unused), and make the cookie persistent
    remember_me: Option<bool>,
    /// The app's own id of the device it runs on, the same at every login
    /// (the first 128 characters count; blank is none): a login from a
    /// device the account has not used is told to the person
    device_id: Option<String>,
}

/// Log in with a phone, e-mail or SNILS and a password
///
/// A wrong password, an unknown login, a throttled and a locked account
/// get the same answer.
#[utoipa::path(
    post,
    path = "/sessions",
    tag = "login",
    request_body = LoginInput,
    responses(
        (status = 201, description = "Logged in; the cookie is set too", body = SessionCreated,
            headers(("Set-Cookie" = String, description = "The session cookie __Host-uslugi-session: HttpOnly, Secure, SameSite=Lax; with Max-Age only when remembered"))),
        (status = 202, description = "The password is right and the account has a second factor: no session yet; send the code to /api/v1/sessions/second-factor (an SMS code has been sent when method is sms)",
            body = crate::second_factor::SecondFactorStep),
        (status = 401, description = "Wrong login or password (also for throttled and locked accounts; code bad_credentials); temporary_password_expired when the right temporary password is past its 24 hours", body = ErrorBody),
        (status = 403, description = "account_disabled: the right password of an account the portal's administrators disabled", body = ErrorBody),
        (status = 422, description = "Missing fields: fields.login, fields.password", body = ErrorBody),
    )
)]
async fn create_session(
    Api(state, lang, t): Api,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ApiError> {
    let mut fields = crate::error::FieldErrors::new();
    let login = input.login.unwrap_or_default();
    let password = input.password.unwrap_or_default();
    if login.trim().is_empty() {
        fields.insert("login".into(), t.err_required.into());
    }
    if password.is_empty() {
        fields.insert("password".into(), t.err_required.into());
    }
    if !fields.is_empty() {
        return Err(ApiError::invalid(t, fields));
    }
    let remember = input.remember_me.unwrap_or(false);
    let client = uslugi_app::security::ClientInfo {
        device_id: input
            .device_id
            .filter(|d| !d.trim().is_empty())
            .map(|d| d.chars().take(128).collect()),
        user_agent: crate::security::user_agent(&headers),
        ip,
        lang: lang.0,
    };
    let session = match state
        .accounts
        .log_in(login.trim(), &password, remember, &client)
        .await
    {
        Ok(LoginOutcome::Session(s)) => s,
        Ok(LoginOutcome::SecondFactor(step)) => {
            return Ok((
                StatusCode::ACCEPTED,
                Json(crate::second_factor::step_json(&state, &step)),
            )
                .into_response());
        }
        Err(LoginError::BadCredentials) => return Err(ApiError::bad_credentials(t)),
        Err(LoginError::TemporaryPasswordExpired) => {
            return Err(ApiError::temporary_password_expired(t));
        }
        Err(LoginError::AccountDisabled) => return Err(ApiError::account_disabled(t)),
        Err(LoginError::Internal(e)) => return Err(ApiError::internal(t, &e)),
    };
    Ok(session_created(&state, &session))
}

/// Log out
///
/// Ends the session the call is made with and clears its cookie. Like
/// every authenticated call, one without a live session answers 401: a
/// second logout with the same token, too, so a client may take 401 here
/// as "logged out already". Also open to a session that must replace its
/// temporary password first.
#[utoipa::path(
    delete,
    path = "/sessions/current",
    tag = "login",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Logged out; the session cookie is cleared",
            headers(("Set-Cookie" = String, description = "__Host-uslugi-session emptied, Max-Age=0"))),
    )
)]
async fn end_current_session(
    Api(state, _, t): Api,
    session: AnyApiSession,
) -> Result<Response, ApiError> {
    let AnyApiSession(_, token) = session;
    state
        .accounts
        .log_out(&token)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))],
    )
        .into_response())
}
