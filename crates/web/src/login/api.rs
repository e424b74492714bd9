//! `POST /api/v1/sessions` and `DELETE /api/v1/sessions/current`.
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use uslugi_app::{LoginError, LoginOutcome};

use crate::AppState;
use crate::error::ApiError;
use crate::http::{ApiJson, ClientIp, Language, SESSION_COOKIE, clear_cookie, session_token};

use super::session_created;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions", routing::post(log_in))
        .route("/sessions/current", routing::delete(log_out))
}

#[derive(Deserialize)]
struct LoginInput {
    login: Option<String>,
    password: Option<String>,
    remember_me: Option<bool>,
    /// The app's own id of the device it runs on, kept across logins.
    device_id: Option<String>,
}

async fn log_in(
    State(state): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
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
        Err(LoginError::Internal(e)) => return Err(ApiError::internal(t, &e)),
    };
    Ok(session_created(&state, &session))
}

async fn log_out(
    State(state): State<AppState>,
    lang: Language,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let token = session_token(&headers).ok_or_else(|| ApiError::unauthorized(t))?;
    if !crate::http::api_call_is_same_site(&method, &headers) {
        return Err(ApiError::csrf(t));
    }
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
