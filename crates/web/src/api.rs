//! The JSON API: the contract for the mobile app, kiosks and partners.
//! Field names, paths and statuses are fixed; see `openapi.json`.
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use uslugi_app::{Confirmation, LoginError, LoginOutcome, RegistrationError, StartRegistration};
use uslugi_domain::{RegistrationId, Token};

use crate::AppState;
use crate::error::ApiError;
use crate::forms::{self, RegistrationInput};
use crate::http::{
    ApiJson, ClientIp, Language, SESSION_COOKIE, clear_cookie, session_token, set_cookie,
};
use crate::i18n::Tr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", routing::get(openapi))
        .route("/registrations", routing::post(start_registration))
        .route("/registrations/{id}/confirm", routing::post(confirm))
        .route("/registrations/{id}/resend", routing::post(resend))
        .route("/registrations/{id}/password", routing::post(set_password))
        .route("/sessions", routing::post(log_in))
        .route("/sessions/current", routing::delete(log_out))
        .route("/me", routing::get(me))
        .fallback(not_found)
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
        .into_response()
}

async fn not_found(lang: Language) -> ApiError {
    ApiError::not_found(lang.tr())
}

fn registration_error(t: &Tr, state: &AppState, e: RegistrationError) -> ApiError {
    forms::registration_answer(t, state.identity.now(), &e)
}

fn parse_registration_id(t: &Tr, id: &str) -> Result<RegistrationId, ApiError> {
    id.parse().map_err(|_| ApiError::registration_not_found(t))
}

async fn start_registration(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<RegistrationInput>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let parsed = forms::parse_registration(t, &input).map_err(|f| ApiError::invalid(t, f))?;
    let started = state
        .identity
        .start_registration(StartRegistration {
            surname: parsed.surname,
            given_name: parsed.given_name,
            contact: parsed.contact,
            lang: lang.0,
            client_ip: ip,
        })
        .await
        .map_err(|e| registration_error(t, &state, e))?;
    Ok(registration_accepted(&state, &started))
}

fn registration_accepted(state: &AppState, started: &uslugi_app::RegistrationStarted) -> Response {
    let expires_in = (started.secret_expires_at - state.identity.now()).whole_seconds();
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "registration_id": started.id.to_string(),
            "channel": started.channel.as_str(),
            "expires_in": expires_in,
            "resend_in": (started.resend_at - state.identity.now()).whole_seconds(),
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct ConfirmInput {
    code: Option<String>,
    token: Option<String>,
}

async fn confirm(
    State(state): State<AppState>,
    lang: Language,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_registration_id(t, &id)?;
    let with = match (input.code, input.token) {
        (Some(code), None) => Confirmation::Code(code),
        (None, Some(token)) => Confirmation::Token(token),
        _ => return Err(ApiError::invalid_field(t, "code", t.err_required)),
    };
    let continuation = state
        .identity
        .confirm(id, with)
        .await
        .map_err(|e| registration_error(t, &state, e))?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "registration_id": id.to_string(),
            "confirmed": true,
            "continuation_token": continuation.token,
            "continuation_expires_in": (continuation.expires_at - state.identity.now()).whole_seconds(),
        })),
    )
        .into_response())
}

async fn resend(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_registration_id(t, &id)?;
    let started = state
        .identity
        .resend(id, ip)
        .await
        .map_err(|e| registration_error(t, &state, e))?;
    Ok(registration_accepted(&state, &started))
}

#[derive(Deserialize)]
struct PasswordInput {
    /// From the answer of the confirmation: whoever confirmed continues.
    continuation_token: Option<String>,
    password: Option<String>,
    password_confirmation: Option<String>,
}

async fn set_password(
    State(state): State<AppState>,
    lang: Language,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_registration_id(t, &id)?;
    let password = input.password.unwrap_or_default();
    let confirmation = input.password_confirmation.unwrap_or_default();
    let account = state
        .identity
        .set_password(
            id,
            input.continuation_token.as_deref(),
            &password,
            &confirmation,
        )
        .await
        .map_err(|e| registration_error(t, &state, e))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"account_id": account.to_string()})),
    )
        .into_response())
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
        .identity
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

/// `201 {"session_token","expires_at","password_change_required"}` and the
/// cookie: a login done, with or without a second factor.
pub(crate) fn session_created(state: &AppState, session: &uslugi_app::NewSession) -> Response {
    let max_age = session
        .remember
        .then(|| (session.expires_at - state.identity.now()).whole_seconds());
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
        .identity
        .log_out(&token)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))],
    )
        .into_response())
}

async fn me(
    State(state): State<AppState>,
    lang: Language,
    crate::auth::AnyApiSession(session, _): crate::auth::AnyApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let profile = state
        .identity
        .profile(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
        .ok_or_else(|| ApiError::unauthorized(t))?;
    Ok(Json(json!({
        "account_id": profile.account_id.to_string(),
        "level": profile.level.as_str(),
        "surname": profile.surname,
        "given_name": profile.given_name,
        "phone": profile.phone.map(|p| p.e164().to_owned()),
        "email": profile.email.map(|e| e.as_str().to_owned()),
        "confirmed_at": profile.confirmed_at.and_then(|at| at.format(&Rfc3339).ok()),
        "confirmed_via": profile.confirmed_via.map(uslugi_domain::ConfirmedVia::as_str),
        "password_change_required": session.must_change_password,
    }))
    .into_response())
}
