//! `/api/v1/me/identity/letter…`.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::letters::{CodeEntryError, OrderError};
use uslugi_domain::{AccountLevel, Token};

use crate::AppState;
use crate::auth::ApiSession;
use crate::error::ApiError;
use crate::http::Language;

use super::code_error;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/identity/letter",
            routing::get(api_letter).post(api_order),
        )
        .route("/me/identity/letter/code", routing::post(api_code))
}

/// «Заказать письмо»: no body is read. The letter goes to the registered
/// address; an old client that still sends `{"address": …}` is answered
/// as any other, its address ignored.
async fn api_order(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let l = t.letter;
    match state.letters.order(session.account_id, lang.0).await {
        Ok(v) => Ok((StatusCode::ACCEPTED, Json(v)).into_response()),
        Err(OrderError::NotStandard) => Err(ApiError::conflict("not_standard", l.err_not_standard)),
        Err(OrderError::AlreadyConfirmed) => Err(ApiError::conflict(
            "already_confirmed",
            l.err_already_confirmed,
        )),
        Err(OrderError::NoRegisteredAddress) => Err(ApiError::conflict(
            "no_registered_address",
            l.no_registered_address,
        )),
        Err(OrderError::TooSoon { allowed_at }) => Err(ApiError::rate_limited(
            t,
            (allowed_at - state.letters.now()).whole_seconds(),
        )),
        Err(OrderError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}

async fn api_letter(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .letters
        .current(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
    {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(ApiError::conflict("no_letter", t.letter.err_no_letter)
            .with_status(StatusCode::NOT_FOUND)),
    }
}

#[derive(Deserialize)]
struct CodeJson {
    #[serde(default)]
    code: String,
}

async fn api_code(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    crate::http::ApiJson(input): crate::http::ApiJson<CodeJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .letters
        .enter_code(session.account_id, &input.code)
        .await
    {
        Ok(()) => Ok(Json(json!({ "level": AccountLevel::Confirmed.as_str() })).into_response()),
        Err(CodeEntryError::TooMany { retry_at }) => Err(ApiError::rate_limited(
            t,
            (retry_at - state.letters.now()).whole_seconds(),
        )),
        Err(CodeEntryError::Internal(e)) => Err(ApiError::internal(t, &e)),
        Err(e) => {
            let code = match &e {
                CodeEntryError::Malformed(_) => "malformed_code",
                CodeEntryError::NoLetter => "no_letter",
                CodeEntryError::NotSent => "letter_not_sent",
                CodeEntryError::AlreadyConfirmed => "already_confirmed",
                CodeEntryError::Expired => "code_expired",
                CodeEntryError::Exhausted => "attempts_exhausted",
                _ => "wrong_code",
            };
            let message = code_error(t, &e, state.letters.now()).unwrap_or_default();
            Err(ApiError::invalid_with_code(code, "code", &message))
        }
    }
}
