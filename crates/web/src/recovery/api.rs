//! `/api/v1/recovery…`: the same steps as the pages, for apps.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::recovery::RecoveryError;
use uslugi_domain::Token;

use crate::AppState;
use crate::error::ApiError;
use crate::http::{ApiJson, ClientIp, Language};
use crate::i18n::Tr;

use super::{fact_of, recovery_answer, recovery_not_found};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/recovery", routing::post(api_start))
        .route("/recovery/{id}/confirm", routing::post(api_confirm))
        .route("/recovery/{id}/password", routing::post(api_password))
}

fn api_error(t: &Tr, state: &AppState, e: RecoveryError) -> ApiError {
    recovery_answer(t, state.accounts.now(), &e)
}

#[derive(Deserialize)]
struct StartJson {
    #[serde(default)]
    login: String,
}

/// `POST /api/v1/recovery {"login"}` → `202 {"recovery_id","channel"}`,
/// the same for logins no account has.
async fn api_start(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<StartJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    if input.login.trim().is_empty() {
        return Err(ApiError::invalid_field(t, "login", t.err_required));
    }
    match state
        .accounts
        .start_recovery(&input.login, lang.0, ip)
        .await
    {
        Ok(r) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "recovery_id": r.id,
                "channel": r.channel.as_str(),
                "expires_in": (r.secret_expires_at - state.accounts.now()).whole_seconds(),
            })),
        )
            .into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize)]
struct ConfirmJson {
    code: Option<String>,
    token: Option<String>,
    passport_series_number: Option<String>,
    snils: Option<String>,
}

fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| recovery_not_found(t))
}

async fn api_confirm(
    State(state): State<AppState>,
    lang: Language,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &id)?;
    let with = crate::api::code_or_token(t, input.code, input.token)?;
    let fact = fact_of(
        input.passport_series_number.as_deref(),
        input.snils.as_deref(),
    );
    match state.accounts.confirm_recovery(id, with, fact).await {
        Ok(continuation) => Ok(Json(json!({
            "confirmed": true,
            "continuation_token": continuation.token,
            "continuation_expires_in": (continuation.expires_at - state.accounts.now()).whole_seconds(),
        }))
        .into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize)]
struct PasswordJson {
    /// From the answer of the confirmation: whoever confirmed continues.
    continuation_token: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

async fn api_password(
    State(state): State<AppState>,
    lang: Language,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasswordJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &id)?;
    match state
        .accounts
        .finish_recovery(
            id,
            input.continuation_token.as_deref(),
            &input.password,
            &input.password_confirmation,
        )
        .await
    {
        Ok(()) => Ok(Json(json!({ "password_changed": true })).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}
