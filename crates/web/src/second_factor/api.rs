//! `/api/v1/sessions/second-factor…` (the login's code step) and
//! `/api/v1/me/second-factor…` (turning it on and off, backup codes).
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uslugi_app::FactorError;
use uslugi_app::second_factor::{EnrolStep, FactorStatus, FactorStep};
use uslugi_domain::{FactorMethod, Token};
use utoipa::ToSchema;
use utoipa::openapi::schema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::api::{Api, ApiRouter, token, token_schema};
use crate::auth::ApiSession;
use crate::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::{ApiJson, ClientIp};
use crate::i18n::Tr;

use super::{FactorDelivery, SecondFactorStep, factor_answer, step_gone, step_json};

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(complete_second_factor_login))
        .routes(routes!(resend_second_factor_login_code))
        .routes(routes!(get_second_factor, start_second_factor_enrolment))
        .routes(routes!(confirm_second_factor_enrolment))
        .routes(routes!(send_second_factor_code))
        .routes(routes!(disable_second_factor))
        .routes(routes!(renew_backup_codes))
}

fn api_error(t: &Tr, state: &AppState, e: FactorError) -> ApiError {
    factor_answer(t, state.accounts.now(), &e)
}

/// A step's id as sent: one that is no UUID names no step (404, as one
/// that has ended). Only the hyphenated form the document's `format: uuid`
/// means: the `uuid` crate also reads the simple, braced and URN forms
/// (the only one of 36 characters is the hyphenated).
fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    Some(id)
        .filter(|id| id.len() == 36)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| step_gone(t))
}

/// A field the server requires: missing, `null` or empty, it is refused
/// by name (`Option` in the input, so a missing one is no type error).
fn required<'a>(t: &Tr, fields: &mut FieldErrors, name: &str, value: Option<&'a str>) -> &'a str {
    let value = value.unwrap_or_default();
    if value.is_empty() {
        fields.insert(name.into(), t.err_required.into());
    }
    value
}

/// A code field: as [`required`], and only spaces are no code either.
fn required_code<'a>(t: &Tr, fields: &mut FieldErrors, value: Option<&'a str>) -> &'a str {
    let value = value.unwrap_or_default();
    if value.trim().is_empty() {
        fields.insert("code".into(), t.factor.err_code.into());
    }
    value
}

fn refuse_fields(t: &Tr, fields: FieldErrors) -> Result<(), ApiError> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(t, fields))
    }
}

// ------------------------------------------------------------------ the login's step

#[derive(Deserialize, ToSchema)]
#[schema(as = SecondFactorLoginRequest)]
struct LoginCodeInput {
    /// From the `202` of `POST /api/v1/sessions`
    #[schema(required = true, nullable = false, format = Uuid)]
    challenge_id: Option<String>,
    /// Six digits from the SMS or the app, or a backup code (abcde-fghjk;
    /// case, spaces and the hyphen do not matter)
    #[schema(required = true, nullable = false, min_length = 1)]
    code: Option<String>,
}

/// The login's second step: the code from the SMS or the app, or a backup code
///
/// Each code works once: an app's code of a time step already used, a used
/// backup code and a used SMS code are refused. Wrong codes count against
/// the account like wrong passwords (the same doubling wait). An SMS code:
/// 300 s, 3 tries; an app's code: 5 tries per step.
#[utoipa::path(
    post,
    path = "/sessions/second-factor",
    tag = "second_factor",
    request_body = LoginCodeInput,
    responses(
        (status = 201, description = "Logged in; the cookie is set too", body = crate::login::SessionCreated,
            headers(("Set-Cookie" = String, description = "The session cookie __Host-uslugi-session"))),
        (status = 404, description = "challenge_not_found: the step is over (10 minutes, used, or never was; also an id that is no UUID): log in again", body = ErrorBody),
        (status = 422, description = "Missing fields; code_wrong (fields.code says how many tries are left), code_malformed, code_expired, code_attempts_exhausted", body = ErrorBody),
        (status = 429, description = "throttled: too many wrong codes or passwords in a row", body = ErrorBody),
    )
)]
async fn complete_second_factor_login(
    Api(state, _, t): Api,
    ApiJson(input): ApiJson<LoginCodeInput>,
) -> Result<Response, ApiError> {
    let mut fields = FieldErrors::new();
    let id = required(
        t,
        &mut fields,
        "challenge_id",
        input.challenge_id.as_deref(),
    );
    let code = required_code(t, &mut fields, input.code.as_deref());
    refuse_fields(t, fields)?;
    let id = parse_id(t, id)?;
    match state.accounts.complete_factor_login(id, code).await {
        Ok(session) => Ok(crate::login::session_created(&state, &session)),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = SecondFactorResendRequest)]
struct ResendInput {
    /// From the `202` of `POST /api/v1/sessions`
    #[schema(required = true, nullable = false, format = Uuid)]
    challenge_id: Option<String>,
}

/// A new SMS code for the login's step (60 s after the last)
#[utoipa::path(
    post,
    path = "/sessions/second-factor/resend",
    tag = "second_factor",
    request_body = ResendInput,
    responses(
        (status = 202, description = "Sent", body = SecondFactorStep),
        (status = 404, description = "challenge_not_found", body = ErrorBody),
        (status = 409, description = "nothing_to_send: the factor is an app", body = ErrorBody),
        (status = 422, description = "Missing challenge_id; no_phone: the account has no phone any more (a backup code will do)", body = ErrorBody),
        (status = 429, description = "rate_limited: too soon, or too many codes to this phone", body = ErrorBody),
    )
)]
async fn resend_second_factor_login_code(
    Api(state, _, t): Api,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<ResendInput>,
) -> Result<Response, ApiError> {
    let mut fields = FieldErrors::new();
    let id = required(
        t,
        &mut fields,
        "challenge_id",
        input.challenge_id.as_deref(),
    );
    refuse_fields(t, fields)?;
    let id = parse_id(t, id)?;
    match state.accounts.resend_factor_code(id, None, ip).await {
        Ok(step) => Ok((StatusCode::ACCEPTED, Json(step_json(&state, &step))).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

// ------------------------------------------------------------------ the account's factor

/// Whether the account's second factor is on, and how.
#[derive(Serialize, ToSchema)]
#[schema(as = SecondFactor)]
struct FactorView {
    enabled: bool,
    /// `null` when off
    #[serde(serialize_with = "token_or_null")]
    #[schema(schema_with = nullable_token_schema::<FactorMethod>, required = true)]
    method: Option<FactorMethod>,
    /// `null` when off
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    enabled_at: Option<OffsetDateTime>,
    /// Unused backup codes (0 when off)
    backup_codes_left: u32,
    /// The account's phone, masked: where SMS codes go; `null` without one
    #[schema(required = true)]
    phone: Option<String>,
}

impl FactorView {
    fn of(s: FactorStatus) -> Self {
        Self {
            enabled: s.method.is_some(),
            method: s.method,
            enabled_at: s.enabled_at,
            backup_codes_left: s.backup_codes_left,
            phone: s.phone,
        }
    }
}

/// Whether the second factor («Вход с подтверждением») is on, and how
#[utoipa::path(
    get,
    path = "/me/second-factor",
    tag = "second_factor",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The factor", body = FactorView),
    )
)]
async fn get_second_factor(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let status = state
        .accounts
        .second_factor_status(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(Json(FactorView::of(status)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(as = SecondFactorEnrolRequest)]
struct EnrolInput {
    #[schema(schema_with = token_schema::<FactorMethod>, required = true)]
    method: Option<String>,
    /// The account's current password
    #[schema(required = true, nullable = false, min_length = 1)]
    password: Option<String>,
}

/// An enrolment waiting for its first code.
#[derive(Serialize, ToSchema)]
struct SecondFactorEnrolment {
    /// For …/me/second-factor/{id}/confirm
    enrolment_id: uuid::Uuid,
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<FactorMethod>)]
    method: FactorMethod,
    /// Until when the enrolment waits
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: OffsetDateTime,
    /// Seconds the enrolment waits (15 minutes)
    expires_in: i64,
    /// sms: when the code stops working (300 s); totp: `null`
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    code_expires_at: Option<OffsetDateTime>,
    /// sms: when a new code may be asked for; totp: `null`
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    resend_at: Option<OffsetDateTime>,
    /// sms: the masked phone the code went to; totp: `null`
    #[schema(required = true)]
    sent_to: Option<String>,
    /// Tries left at the first code
    attempts_left: u32,
    /// totp: the key in base32 (RFC 4648), for typing into the app
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    secret: Option<String>,
    /// totp: otpauth://totp/uslugi:… for the QR code (SHA1, 6 digits, 30 s)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    otpauth_uri: Option<String>,
}

impl SecondFactorEnrolment {
    fn of(state: &AppState, e: EnrolStep) -> Self {
        let FactorStep {
            challenge_id,
            method,
            expires_at,
            code_expires_at,
            resend_at,
            sent_to,
            attempts_left,
        } = e.step;
        Self {
            enrolment_id: challenge_id,
            method,
            expires_at,
            expires_in: seconds_until(state, expires_at),
            code_expires_at,
            resend_at,
            sent_to,
            attempts_left,
            secret: e.app.as_ref().map(|app| app.key_grouped.replace(' ', "")),
            otpauth_uri: e.app.map(|app| app.otpauth_uri),
        }
    }
}

fn seconds_until(state: &AppState, at: OffsetDateTime) -> i64 {
    (at - state.accounts.now()).whole_seconds().max(0)
}

/// Turn the second factor on: an SMS code to the account's phone, or a new key for an authenticator app
///
/// Asks for the current password. The factor is on once the first code is
/// confirmed at /api/v1/me/second-factor/{id}/confirm (15 minutes).
#[utoipa::path(
    post,
    path = "/me/second-factor",
    tag = "second_factor",
    security(("bearer" = []), ("cookie" = [])),
    request_body = EnrolInput,
    responses(
        (status = 202, description = "The enrolment waits for its first code", body = SecondFactorEnrolment),
        (status = 401, description = "wrong_password (fields.password); or no session, or it has ended", body = ErrorBody),
        (status = 409, description = "second_factor_on: turn it off first", body = ErrorBody),
        (status = 422, description = "Missing fields, or a method that is neither sms nor totp; no_phone: SMS codes need a phone on the account", body = ErrorBody),
        (status = 429, description = "rate_limited: too many codes to this phone; throttled: too many wrong passwords or codes in a row", body = ErrorBody),
    )
)]
async fn start_second_factor_enrolment(
    Api(state, lang, t): Api,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<EnrolInput>,
) -> Result<Response, ApiError> {
    let mut fields = FieldErrors::new();
    // Exactly one of the forms the document lists: no trimming, no case.
    let method = match input.method.as_deref() {
        None => {
            fields.insert("method".into(), t.err_required.into());
            None
        }
        Some(m) => {
            let method = FactorMethod::parse(m);
            if method.is_none() {
                fields.insert("method".into(), t.factor.err_method.into());
            }
            method
        }
    };
    let password = required(t, &mut fields, "password", input.password.as_deref());
    let Some(method) = method.filter(|_| fields.is_empty()) else {
        return Err(ApiError::invalid(t, fields));
    };
    match state
        .accounts
        .start_factor_enrolment(session.account_id, method, password, lang.0, ip)
        .await
    {
        Ok(e) => Ok((
            StatusCode::ACCEPTED,
            Json(SecondFactorEnrolment::of(&state, e)),
        )
            .into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = SecondFactorConfirmRequest)]
struct ConfirmInput {
    /// Six digits from the SMS or the app (spaces do not matter)
    #[schema(required = true, nullable = false, min_length = 1)]
    code: Option<String>,
}

/// The factor just turned on, and its backup codes.
#[derive(Serialize, ToSchema)]
struct SecondFactorEnabled {
    #[serde(flatten)]
    factor: FactorView,
    #[schema(schema_with = backup_codes_schema)]
    backup_codes: Vec<String>,
}

/// The first code from the phone or the app: the factor is on; returns the ten backup codes
#[utoipa::path(
    post,
    path = "/me/second-factor/{id}/confirm",
    tag = "second_factor",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = uuid::Uuid, Path, description = "The enrolment_id of the answer that started it")),
    request_body = ConfirmInput,
    responses(
        (status = 200, description = "On; a notice went to every confirmed contact", body = SecondFactorEnabled),
        (status = 404, description = "challenge_not_found: over (15 minutes), not this account's, or never was: start again", body = ErrorBody),
        (status = 409, description = "second_factor_on", body = ErrorBody),
        (status = 422, description = "Missing code; code_wrong, code_malformed, code_expired, code_attempts_exhausted", body = ErrorBody),
    )
)]
async fn confirm_second_factor_enrolment(
    Api(state, lang, t): Api,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> Result<Response, ApiError> {
    let id = parse_id(t, &id)?;
    let mut fields = FieldErrors::new();
    let code = required_code(t, &mut fields, input.code.as_deref());
    refuse_fields(t, fields)?;
    match state
        .accounts
        .confirm_factor_enrolment(session.account_id, id, code, lang.0)
        .await
    {
        Ok(backup_codes) => {
            let status = state
                .accounts
                .second_factor_status(session.account_id)
                .await
                .map_err(|e| ApiError::internal(t, &e))?;
            Ok(Json(SecondFactorEnabled {
                factor: FactorView::of(status),
                backup_codes,
            })
            .into_response())
        }
        Err(e) => Err(api_error(t, &state, e)),
    }
}

/// An SMS code sent for turning the factor off or renewing its backup codes.
#[derive(Serialize, ToSchema)]
struct SecondFactorCodeSent {
    #[serde(flatten)]
    step: FactorDelivery,
}

/// An SMS code for turning an SMS factor off or renewing its backup codes
#[utoipa::path(
    post,
    path = "/me/second-factor/code",
    tag = "second_factor",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 202, description = "Sent (300 s)", body = SecondFactorCodeSent),
        (status = 409, description = "second_factor_off; nothing_to_send (an app)", body = ErrorBody),
        (status = 422, description = "no_phone: the account has no phone any more (a backup code will do)", body = ErrorBody),
        (status = 429, description = "rate_limited: too soon (60 s), or too many codes to this phone", body = ErrorBody),
    )
)]
async fn send_second_factor_code(
    Api(state, lang, t): Api,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    match state
        .accounts
        .send_manage_code(session.account_id, lang.0, ip)
        .await
    {
        Ok(step) => Ok((
            StatusCode::ACCEPTED,
            Json(SecondFactorCodeSent {
                step: FactorDelivery::of(state.accounts.now(), &step),
            }),
        )
            .into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

/// The password and the factor, for turning it off or new backup codes.
#[derive(Deserialize, ToSchema)]
#[schema(as = SecondFactorChangeRequest)]
struct ChangeInput {
    /// The account's current password
    #[schema(required = true, nullable = false, min_length = 1)]
    password: Option<String>,
    /// Six digits from the SMS or the app, or a backup code (abcde-fghjk;
    /// case, spaces and the hyphen do not matter)
    #[schema(required = true, nullable = false, min_length = 1)]
    code: Option<String>,
}

impl ChangeInput {
    /// The password and the code, or the answer naming what is missing.
    fn fields(&self, t: &Tr) -> Result<(&str, &str), ApiError> {
        let mut fields = FieldErrors::new();
        let password = required(t, &mut fields, "password", self.password.as_deref());
        let code = required_code(t, &mut fields, self.code.as_deref());
        refuse_fields(t, fields)?;
        Ok((password, code))
    }
}

/// What a change guarded by the password and the factor is refused with.
#[derive(utoipa::IntoResponses)]
#[expect(dead_code, reason = "only its responses are read, by the document")]
enum GuardedChangeRefusals {
    /// wrong_password (fields.password); or no session, or it has ended
    #[response(status = 401)]
    WrongPassword(ErrorBody),
    /// second_factor_off
    #[response(status = 409)]
    Off(ErrorBody),
    /// Missing fields; code_wrong, code_malformed, code_expired (for SMS: ask /code first), code_attempts_exhausted
    #[response(status = 422)]
    Code(ErrorBody),
    /// throttled: too many wrong passwords or codes in a row
    #[response(status = 429)]
    Throttled(ErrorBody),
}

/// The factor, off.
#[derive(Serialize, ToSchema)]
struct SecondFactorDisabled {
    /// Always `false`
    #[schema(schema_with = always_false)]
    enabled: bool,
}

/// Turn the second factor off: the password and the factor (an app's code, the SMS code from /code, or a backup code)
#[utoipa::path(
    post,
    path = "/me/second-factor/disable",
    tag = "second_factor",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ChangeInput,
    responses(
        (status = 200, description = "Off; the backup codes are gone; a notice went to every confirmed contact", body = SecondFactorDisabled),
        GuardedChangeRefusals,
    )
)]
async fn disable_second_factor(
    Api(state, lang, t): Api,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<ChangeInput>,
) -> Result<Response, ApiError> {
    let (password, code) = input.fields(t)?;
    match state
        .accounts
        .disable_second_factor(session.account_id, password, code, lang.0)
        .await
    {
        Ok(()) => Ok(Json(SecondFactorDisabled { enabled: false }).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

/// New backup codes.
#[derive(Serialize, ToSchema)]
struct SecondFactorBackupCodes {
    #[schema(schema_with = backup_codes_schema)]
    backup_codes: Vec<String>,
}

/// New backup codes: the password and the factor; the old codes stop working
#[utoipa::path(
    post,
    path = "/me/second-factor/backup-codes",
    tag = "second_factor",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ChangeInput,
    responses(
        (status = 200, description = "The new codes; a notice went to every confirmed contact", body = SecondFactorBackupCodes),
        GuardedChangeRefusals,
    )
)]
async fn renew_backup_codes(
    Api(state, lang, t): Api,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<ChangeInput>,
) -> Result<Response, ApiError> {
    let (password, code) = input.fields(t)?;
    match state
        .accounts
        .renew_backup_codes(session.account_id, password, code, lang.0)
        .await
    {
        Ok(backup_codes) => Ok(Json(SecondFactorBackupCodes { backup_codes }).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

// ------------------------------------------------------------------ schemas

/// Ten backup codes as the app makes them (`uslugi_app::totp`): five and
/// five of an alphabet without 0, 1, i, l, o.
fn backup_codes_schema() -> schema::Array {
    schema::ArrayBuilder::new()
        .description(Some("Ten single-use backup codes, shown this once"))
        .items(
            schema::ObjectBuilder::new()
                .schema_type(schema::Type::String)
                .pattern(Some("^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$")),
        )
        .min_items(Some(uslugi_app::second_factor::BACKUP_CODES))
        .max_items(Some(uslugi_app::second_factor::BACKUP_CODES))
        .build()
}

fn always_false() -> schema::Object {
    schema::ObjectBuilder::new()
        .schema_type(schema::Type::Boolean)
        .enum_values(Some([false]))
        .build()
}

/// [`token_schema`] for a value that may be absent: one of the forms, or
/// `null`.
fn nullable_token_schema<T: Token>() -> schema::Object {
    let forms = T::forms()
        .into_iter()
        .map(serde_json::Value::from)
        .chain([serde_json::Value::Null]);
    schema::ObjectBuilder::new()
        .schema_type(schema::SchemaType::from_iter([
            schema::Type::String,
            schema::Type::Null,
        ]))
        .enum_values(Some(forms))
        .build()
}

/// [`token`] for a value that may be absent: its form, or `null`.
fn token_or_null<T: Token, S: serde::Serializer>(
    value: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(v.as_str()),
        None => s.serialize_none(),
    }
}
