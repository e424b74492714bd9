//! `/api/v1/me/contacts…`: the same steps as the pages, for apps.
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uslugi_app::Contact;
use uslugi_app::contacts::{ContactChangeError, ContactChangeStarted};
use uslugi_domain::Channel;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::api::{Api, ApiRouter, token, token_schema};
use crate::auth::ApiSession;
use crate::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::{ApiJson, ClientIp};
use crate::i18n::Tr;

use super::{Kind, change_not_found, contact_change_answer, parse_contact};

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(start_contact_change))
        .routes(routes!(confirm_contact_change))
        .routes(routes!(resend_contact_change))
}

fn api_error(t: &Tr, state: &AppState, e: ContactChangeError) -> ApiError {
    contact_change_answer(t, state.accounts.now(), &e)
}

fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| change_not_found(t))
}

#[derive(Serialize, ToSchema)]
struct ContactChangeAccepted {
    change_id: uuid::Uuid,
    /// `sms` for a phone, `email` for an e-mail
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<Channel>)]
    channel: Channel,
    /// Seconds the code (300) or link (86400) works
    expires_in: i64,
}

fn accepted(state: &AppState, s: &ContactChangeStarted) -> Response {
    let body = ContactChangeAccepted {
        change_id: s.id,
        channel: s.channel,
        expires_in: (s.secret_expires_at - state.accounts.now()).whole_seconds(),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// The account's contact now: `{"phone"}` or `{"email"}`, the one that
/// changed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ContactChangeConfirmed {
    /// The phone, in E.164
    Phone(String),
    Email(String),
}

impl From<&Contact> for ContactChangeConfirmed {
    fn from(c: &Contact) -> Self {
        match c {
            Contact::Phone(p) => Self::Phone(p.e164().to_owned()),
            Contact::Email(e) => Self::Email(e.as_str().to_owned()),
        }
    }
}

// The fields of a change's start; its schema is `ContactChangeRequest`,
// which adds that exactly one of phone and email is given.
#[derive(Deserialize, ToSchema)]
struct StartInput {
    /// A Russian mobile number, any usual spelling
    #[schema(nullable = false, min_length = 1, example = "+7 (926) 170-00-99")]
    phone: Option<String>,
    #[schema(nullable = false, min_length = 1, example = "ivanov@example.org")]
    email: Option<String>,
    /// The current password
    #[schema(required = true, nullable = false, min_length = 1)]
    password: Option<String>,
    /// Only when «Вход с подтверждением» is on: an app's code, the SMS code
    /// from POST /api/v1/me/second-factor/code, or a backup code; it is
    /// spent. Not looked at otherwise.
    #[schema(nullable = false)]
    code: Option<String>,
}

/// The schema of [`StartInput`]'s body. The server answers a body with
/// neither or both of phone and email by a named 422 (contact_required),
/// and the schema says the same with a `oneOf` that the derive cannot
/// write: `allOf` of the fields and "exactly one of the two is present".
struct ContactChangeRequest;

impl PartialSchema for ContactChangeRequest {
    fn schema() -> RefOr<Schema> {
        let present = |field: &str| ObjectBuilder::new().required(field).build();
        AllOfBuilder::new()
            .description(Some(
                "Exactly one of phone and email, and the current password",
            ))
            .item(StartInput::schema())
            .item(
                OneOfBuilder::new()
                    .item(present("phone"))
                    .item(present("email")),
            )
            .into()
    }
}

impl ToSchema for ContactChangeRequest {}

/// Start a change of the account's phone or e-mail
///
/// The new value and the current password. Nothing changes until the code
/// or link is confirmed. The answer is the same for a contact that already
/// has an account: it receives a note instead of a code.
#[utoipa::path(
    post,
    path = "/me/contacts",
    tag = "contacts",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ContactChangeRequest,
    responses(
        (status = 202, description = "The code (SMS) or the link (e-mail) is on its way — or, when the contact already has an account, a note instead: the answer is the same", body = ContactChangeAccepted),
        (status = 403, description = "password_change_required: the session was opened with a temporary password, to be replaced first; or csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header", body = ErrorBody),
        (status = 422, description = "invalid (fields phone, email, password), contact_required (neither or both of phone and email), wrong_password (field password), throttled (field password: too many wrong passwords in a row, wait a minute); second_factor_required (field code), code_wrong, code_expired (an SMS factor: ask the code first), code_attempts_exhausted", body = ErrorBody),
        (status = 429, description = "rate_limited; throttled (too many wrong second-factor codes in a row)", body = ErrorBody),
    )
)]
async fn start_contact_change(
    Api(state, lang, t): Api,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<StartInput>,
) -> Result<Response, ApiError> {
    let (kind, value) = match (input.phone, input.email) {
        (Some(p), None) => (Kind::Phone, p),
        (None, Some(e)) => (Kind::Email, e),
        _ => {
            let mut fields = FieldErrors::new();
            fields.insert("phone".into(), t.contacts.err_one_contact.into());
            fields.insert("email".into(), t.contacts.err_one_contact.into());
            return Err(ApiError::invalid(t, fields).with_code("contact_required"));
        }
    };
    let password = input.password.unwrap_or_default();
    let mut fields = match parse_contact(t, kind, &value) {
        Ok(_) => FieldErrors::new(),
        Err(f) => f,
    };
    if password.is_empty() {
        fields.insert("password".into(), t.err_required.into());
    }
    if !fields.is_empty() {
        return Err(ApiError::invalid(t, fields));
    }
    let contact = parse_contact(t, kind, &value).map_err(|f| ApiError::invalid(t, f))?;
    let started = state
        .accounts
        .start_contact_change(
            session.account_id,
            contact,
            &password,
            input.code.as_deref(),
            lang.0,
            ip,
        )
        .await
        .map_err(|e| api_error(t, &state, e))?;
    Ok(accepted(&state, &started))
}

/// The SMS code, or the token of the e-mail link (the code counts when
/// both are sent).
#[derive(Deserialize, ToSchema)]
#[schema(as = ContactChangeConfirmRequest)]
struct ConfirmInput {
    /// Six digits; spaces are ignored
    #[schema(nullable = false, pattern = r"^\s*([0-9]\s*){6}$", example = "123456")]
    code: Option<String>,
    /// From the link in the letter
    #[schema(nullable = false, min_length = 1)]
    token: Option<String>,
}

/// Confirm the change with the SMS code or the link's token
///
/// The new contact replaces the old one, which is told of it; sessions
/// stay.
#[utoipa::path(
    post,
    path = "/me/contacts/{id}/confirm",
    tag = "contacts",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = uuid::Uuid, Path, description = "The change_id")),
    request_body = ConfirmInput,
    responses(
        (status = 200, description = "The account's contact now", body = ContactChangeConfirmed),
        (status = 403, description = "password_change_required: the session was opened with a temporary password, to be replaced first; or csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header", body = ErrorBody),
        (status = 404, description = "contact_change_not_found (unknown, expired, used, or another account's)", body = ErrorBody),
        (status = 409, description = "contact_taken: another account has the contact now; nothing changed", body = ErrorBody),
        (status = 422, description = "invalid (field code: neither code nor token), code_malformed, code_wrong, code_expired, code_attempts_exhausted (3 tries), token_invalid, token_expired", body = ErrorBody),
    )
)]
async fn confirm_contact_change(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> Result<Response, ApiError> {
    let id = parse_id(t, &id)?;
    let with = crate::api::code_or_token(t, input.code, input.token)?;
    let contact = state
        .accounts
        .confirm_contact_change(session.account_id, id, with)
        .await
        .map_err(|e| api_error(t, &state, e))?;
    Ok(Json(ContactChangeConfirmed::from(&contact)).into_response())
}

/// Send a new code or letter for the change
///
/// The last one stops working; at most once a minute.
#[utoipa::path(
    post,
    path = "/me/contacts/{id}/resend",
    tag = "contacts",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = uuid::Uuid, Path, description = "The change_id")),
    responses(
        (status = 202, description = "The code (SMS) or the link (e-mail) is on its way — or, when the contact already has an account, a note instead: the answer is the same", body = ContactChangeAccepted),
        (status = 403, description = "password_change_required: the session was opened with a temporary password, to be replaced first; or csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header", body = ErrorBody),
        (status = 404, description = "contact_change_not_found", body = ErrorBody),
        (status = 429, description = "rate_limited: too soon (once a minute) or too many messages to this contact or from this address", body = ErrorBody),
    )
)]
async fn resend_contact_change(
    Api(state, _, t): Api,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(t, &id)?;
    let started = state
        .accounts
        .resend_contact_change(session.account_id, id, ip)
        .await
        .map_err(|e| api_error(t, &state, e))?;
    Ok(accepted(&state, &started))
}
