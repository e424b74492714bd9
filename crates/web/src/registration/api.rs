//! `/api/v1/registrations…`: the same steps as the pages, for apps.
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uslugi_app::{Confirmation, RegistrationError, StartRegistration};
use uslugi_domain::{Channel, RegistrationId};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::api::{Api, ApiRouter, token, token_schema};
use crate::error::{ApiError, ErrorBody};
use crate::http::{ApiJson, ClientIp};
use crate::i18n::Tr;

use super::input::{self, RegistrationInput};

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(start_registration))
        .routes(routes!(confirm_registration))
        .routes(routes!(resend_registration_code))
        .routes(routes!(set_registration_password))
}

fn registration_error(t: &Tr, state: &AppState, e: RegistrationError) -> ApiError {
    input::registration_answer(t, state.accounts.now(), &e)
}

fn parse_registration_id(t: &Tr, id: &str) -> Result<RegistrationId, ApiError> {
    id.parse().map_err(|_| ApiError::registration_not_found(t))
}

/// Start a registration: sends an SMS code or an e-mail link
///
/// The same answer whether or not the phone or e-mail already has an
/// account; an existing account is told so in the message instead of
/// receiving a code.
#[utoipa::path(
    post,
    path = "/registrations",
    tag = "registration",
    request_body = RegistrationInput,
    responses(
        (status = 202, description = "Code or link sent", body = RegistrationAccepted),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many messages to this contact or from this address", body = ErrorBody),
        (status = 503, description = "The message could not be sent", body = ErrorBody),
    )
)]
async fn start_registration(
    Api(state, lang, t): Api,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<RegistrationInput>,
) -> Result<Response, ApiError> {
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

#[derive(Serialize, ToSchema)]
struct RegistrationAccepted {
    #[schema(value_type = uuid::Uuid)]
    registration_id: RegistrationId,
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<Channel>)]
    channel: Channel,
    /// Seconds the code (300) or link (3 days) stays valid
    expires_in: i64,
    /// Seconds until a new code may be asked for
    resend_in: i64,
}

fn registration_accepted(state: &AppState, started: &uslugi_app::RegistrationStarted) -> Response {
    let now = state.accounts.now();
    let body = RegistrationAccepted {
        registration_id: started.id,
        channel: started.channel,
        expires_in: (started.secret_expires_at - now).whole_seconds(),
        resend_in: (started.resend_at - now).whole_seconds(),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// The SMS code, or the token of the e-mail link: one of the two.
#[derive(Deserialize, ToSchema)]
#[schema(as = RegistrationConfirmRequest)]
struct ConfirmInput {
    #[schema(nullable = false, pattern = r"^\s*([0-9]\s*){6}$", example = "123456")]
    code: Option<String>,
    #[schema(min_length = 1, nullable = false)]
    token: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct RegistrationConfirmed {
    #[schema(value_type = uuid::Uuid)]
    registration_id: RegistrationId,
    confirmed: bool,
    /// Single-use, 256 bits: the right to take the next step, handed to
    /// whoever confirmed (not to whoever started). Lives 30 minutes.
    continuation_token: String,
    /// Seconds the continuation token stays valid (1800)
    continuation_expires_in: i64,
}

/// Confirm the contact with the SMS code or the e-mail token
#[utoipa::path(
    post,
    path = "/registrations/{id}/confirm",
    tag = "registration",
    params(("id" = uuid::Uuid, Path, description = "From the answer that started the registration")),
    request_body = ConfirmInput,
    responses(
        (status = 200, description = "Confirmed", body = RegistrationConfirmed),
        (status = 404, description = "No such registration, or expired", body = ErrorBody),
        (status = 422, description = "Wrong, expired or used-up code (codes code_wrong, code_expired, code_attempts_exhausted, code_malformed, token_invalid, token_expired)", body = ErrorBody),
    )
)]
async fn confirm_registration(
    Api(state, _, t): Api,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> Result<Response, ApiError> {
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
    let body = RegistrationConfirmed {
        registration_id: id,
        confirmed: true,
        continuation_expires_in: (continuation.expires_at - state.accounts.now()).whole_seconds(),
        continuation_token: continuation.token,
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// Send a new code or link; the previous one stops working
#[utoipa::path(
    post,
    path = "/registrations/{id}/resend",
    tag = "registration",
    params(("id" = uuid::Uuid, Path, description = "From the answer that started the registration")),
    responses(
        (status = 202, description = "Sent", body = RegistrationAccepted),
        (status = 404, description = "No such registration", body = ErrorBody),
        (status = 429, description = "Too soon (one per 60 s) or too many (5 per hour per contact)", body = ErrorBody),
    )
)]
async fn resend_registration_code(
    Api(state, _, t): Api,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_registration_id(t, &id)?;
    let started = state
        .accounts
        .resend(id, ip)
        .await
        .map_err(|e| registration_error(t, &state, e))?;
    Ok(registration_accepted(&state, &started))
}

crate::api::continuation_password_request!(RegistrationPasswordRequest);

#[derive(Serialize, ToSchema)]
struct AccountCreated {
    #[schema(value_type = uuid::Uuid)]
    account_id: uslugi_domain::AccountId,
}

/// Set the password; creates the account
#[utoipa::path(
    post,
    path = "/registrations/{id}/password",
    tag = "registration",
    params(("id" = uuid::Uuid, Path, description = "From the answer that started the registration")),
    request_body = PasswordInput,
    responses(
        (status = 201, description = "Account created", body = AccountCreated),
        (status = 403, description = "Without the continuation token the confirmation returned, or with a used or expired one (code continuation_required)", body = ErrorBody),
        (status = 404, description = "No such registration", body = ErrorBody),
        (status = 409, description = "Contact not confirmed yet, or an account with it exists", body = ErrorBody),
        (status = 422, description = "Password refused: fields.password and fields.password_confirmation say why", body = ErrorBody),
    )
)]
async fn set_registration_password(
    Api(state, _, t): Api,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<Response, ApiError> {
    let id = parse_registration_id(t, &id)?;
    let (continuation, password, confirmation) = input.parts();
    let account = state
        .accounts
        .set_password(id, continuation, password, confirmation)
        .await
        .map_err(|e| registration_error(t, &state, e))?;
    Ok((
        StatusCode::CREATED,
        Json(AccountCreated {
            account_id: account,
        }),
    )
        .into_response())
}
