//! `/api/v1/recovery…`: the same steps as the pages, for apps.
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uslugi_app::recovery::RecoveryError;
use uslugi_domain::Channel;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::api::{Api, ApiRouter, token, token_schema};
use crate::error::{ApiError, ErrorBody};
use crate::http::{ApiJson, ClientIp};
use crate::i18n::Tr;

use super::{fact_of, recovery_answer, recovery_not_found};

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(start_recovery))
        .routes(routes!(resend_recovery))
        .routes(routes!(confirm_recovery))
        .routes(routes!(set_recovery_password))
}

fn api_error(t: &Tr, state: &AppState, e: RecoveryError) -> ApiError {
    recovery_answer(t, state.accounts.now(), &e)
}

fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| recovery_not_found(t))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = RecoveryRequest)]
struct StartInput {
    /// A phone (any usual spelling), an e-mail or a SNILS
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        example = "+7 (926) 150-00-01"
    )]
    login: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct RecoveryAccepted {
    recovery_id: uuid::Uuid,
    /// `sms` for a phone or a SNILS, `email` for an e-mail: what was typed
    /// decides, never the account
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<Channel>)]
    channel: Channel,
    /// Seconds the code (300) or link (86400) is valid
    expires_in: i64,
    /// Seconds until a new code or letter may be asked for
    resend_in: i64,
}

fn recovery_accepted(state: &AppState, r: &uslugi_app::recovery::RecoveryStarted) -> Response {
    let now = state.accounts.now();
    let body = RecoveryAccepted {
        recovery_id: r.id,
        channel: r.channel,
        expires_in: (r.secret_expires_at - now).whole_seconds(),
        resend_in: (r.resend_at - now).whole_seconds(),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// «Не удаётся войти?»: send a code or a link to the account's confirmed contact
///
/// Sends a code (SMS) or a link (e-mail) to the confirmed contact of the
/// account with this phone, e-mail or SNILS. The same answer, in the same
/// time, for logins no account has.
#[utoipa::path(
    post,
    path = "/recovery",
    tag = "recovery",
    request_body = StartInput,
    responses(
        (status = 202, description = "Started", body = RecoveryAccepted),
        (status = 422, description = "invalid (field login: empty); login_malformed (field login): not a phone, e-mail or SNILS", body = ErrorBody),
        (status = 429, description = "rate_limited: too many messages to this contact or from this address", body = ErrorBody),
    )
)]
async fn start_recovery(
    Api(state, lang, t): Api,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<StartInput>,
) -> Result<Response, ApiError> {
    let login = input.login.unwrap_or_default();
    if login.trim().is_empty() {
        return Err(ApiError::invalid_field(t, "login", t.err_required));
    }
    let r = state
        .accounts
        .start_recovery(&login, lang.0, ip)
        .await
        .map_err(|e| api_error(t, &state, e))?;
    Ok(recovery_accepted(&state, &r))
}

/// Send a new code or link; the previous one stops working
///
/// Once a minute, within the hourly quota of the contact it goes to; the
/// same answers for logins no account has.
#[utoipa::path(
    post,
    path = "/recovery/{id}/resend",
    tag = "recovery",
    params(("id" = uuid::Uuid, Path, description = "The recovery_id")),
    responses(
        (status = 202, description = "Sent", body = RecoveryAccepted),
        (status = 404, description = "recovery_not_found (also once it is confirmed or used)", body = ErrorBody),
        (status = 429, description = "rate_limited: too soon (one per 60 s) or too many messages to this contact or from this address", body = ErrorBody),
    )
)]
async fn resend_recovery(
    Api(state, _, t): Api,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(t, &id)?;
    let r = state
        .accounts
        .resend_recovery(id, ip)
        .await
        .map_err(|e| api_error(t, &state, e))?;
    Ok(recovery_accepted(&state, &r))
}

/// The SMS code or the link's token (the code counts when both are sent),
/// and for a standard or confirmed account the second fact: the passport,
/// or the SNILS unless the login was the SNILS. An empty fact counts as
/// none; a simplified account's fact is not looked at.
#[derive(Deserialize, ToSchema)]
#[schema(as = RecoveryConfirmRequest)]
struct ConfirmInput {
    /// Six digits; spaces are ignored
    #[schema(nullable = false, pattern = r"^\s*([0-9]\s*){6}$", example = "123456")]
    code: Option<String>,
    /// From the link in the letter
    #[schema(nullable = false, min_length = 1)]
    token: Option<String>,
    #[schema(nullable = false, example = "4510 123456")]
    passport_series_number: Option<String>,
    #[schema(nullable = false, example = "112-233-445 95")]
    snils: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct RecoveryConfirmed {
    confirmed: bool,
    /// Single-use, 256 bits: the right to take the next step, handed to
    /// whoever confirmed (not to whoever started). Lives 30 minutes.
    continuation_token: String,
    /// Seconds the continuation token stays valid (1800)
    continuation_expires_in: i64,
}

/// Confirm the recovery with the code or the link's token
///
/// A standard or confirmed account also gives passport_series_number (or
/// snils, unless the login was the SNILS).
#[utoipa::path(
    post,
    path = "/recovery/{id}/confirm",
    tag = "recovery",
    params(("id" = uuid::Uuid, Path, description = "The recovery_id")),
    request_body = ConfirmInput,
    responses(
        (status = 200, description = "Confirmed", body = RecoveryConfirmed),
        (status = 404, description = "recovery_not_found", body = ErrorBody),
        (status = 422, description = "invalid (field code: neither code nor token), code_malformed, code_wrong, code_expired, code_attempts_exhausted (3 tries), token_invalid, token_expired, fact_required (fields passport_series_number, snils), fact_malformed, fact_wrong", body = ErrorBody),
    )
)]
async fn confirm_recovery(
    Api(state, _, t): Api,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> Result<Response, ApiError> {
    let id = parse_id(t, &id)?;
    let with = crate::api::code_or_token(t, input.code, input.token)?;
    let fact = fact_of(
        input.passport_series_number.as_deref(),
        input.snils.as_deref(),
    );
    let continuation = state
        .accounts
        .confirm_recovery(id, with, fact)
        .await
        .map_err(|e| api_error(t, &state, e))?;
    let body = RecoveryConfirmed {
        confirmed: true,
        continuation_expires_in: (continuation.expires_at - state.accounts.now()).whole_seconds(),
        continuation_token: continuation.token,
    };
    Ok(Json(body).into_response())
}

crate::api::continuation_password_request!(RecoveryPasswordRequest);

#[derive(Serialize, ToSchema)]
struct RecoveryCompleted {
    password_changed: bool,
}

/// Set the new password of a confirmed recovery
///
/// The lockout is lifted, every session ends, a notice goes to every
/// confirmed contact; the level is kept.
#[utoipa::path(
    post,
    path = "/recovery/{id}/password",
    tag = "recovery",
    params(("id" = uuid::Uuid, Path, description = "The recovery_id")),
    request_body = PasswordInput,
    responses(
        (status = 200, description = "Changed", body = RecoveryCompleted),
        (status = 403, description = "Without the continuation token the confirmation returned, or with a used or expired one (code continuation_required)", body = ErrorBody),
        (status = 404, description = "recovery_not_found (also once it is used)", body = ErrorBody),
        (status = 409, description = "not_confirmed: the code or link first", body = ErrorBody),
        (status = 422, description = "password_rejected: fields password, password_confirmation", body = ErrorBody),
    )
)]
async fn set_recovery_password(
    Api(state, _, t): Api,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<Response, ApiError> {
    let id = parse_id(t, &id)?;
    let (continuation, password, confirmation) = input.parts();
    state
        .accounts
        .finish_recovery(id, continuation, password, confirmation)
        .await
        .map_err(|e| api_error(t, &state, e))?;
    Ok(Json(RecoveryCompleted {
        password_changed: true,
    })
    .into_response())
}
