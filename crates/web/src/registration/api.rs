//! `/api/v1/registrations…`: the same steps as the pages, for apps.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::{Confirmation, RegistrationError, StartRegistration};
use uslugi_domain::{RegistrationId, Token};

use crate::AppState;
use crate::error::ApiError;
use crate::http::{ApiJson, ClientIp, Language};
use crate::i18n::Tr;

use super::input::{self, RegistrationInput};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/registrations", routing::post(start_registration))
        .route("/registrations/{id}/confirm", routing::post(confirm))
        .route("/registrations/{id}/resend", routing::post(resend))
        .route("/registrations/{id}/password", routing::post(set_password))
}

fn registration_error(t: &Tr, state: &AppState, e: RegistrationError) -> ApiError {
    input::registration_answer(t, state.accounts.now(), &e)
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
    let parsed = input::parse_registration(t, &input).map_err(|f| ApiError::invalid(t, f))?;
    let started = state
        .accounts
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
    let expires_in = (started.secret_expires_at - state.accounts.now()).whole_seconds();
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "registration_id": started.id.to_string(),
            "channel": started.channel.as_str(),
            "expires_in": expires_in,
            "resend_in": (started.resend_at - state.accounts.now()).whole_seconds(),
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
        .accounts
        .confirm(id, with)
        .await
        .map_err(|e| registration_error(t, &state, e))?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "registration_id": id.to_string(),
            "confirmed": true,
            "continuation_token": continuation.token,
            "continuation_expires_in": (continuation.expires_at - state.accounts.now()).whole_seconds(),
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
        .accounts
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
        .accounts
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
