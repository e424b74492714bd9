//! `/api/v1/me/identity/letter…`.
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uslugi_app::letters::{CodeEntryError, LetterView, OrderError};
use uslugi_domain::{AccountLevel, PostStatus, Token};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::api::{Api, ApiRouter, token};
use crate::auth::ApiSession;
use crate::error::{ApiError, ErrorBody};
use crate::http::ApiJson;

use super::code_error;

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_identity_letter, order_identity_letter))
        .routes(routes!(enter_identity_letter_code))
}

/// A string that is one of `forms`.
fn one_of(forms: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(forms))
        .build()
}

#[derive(Serialize, ToSchema)]
#[schema(as = Letter)]
struct LetterAnswer {
    #[schema(schema_with = letter_status_schema)]
    status: String,
    /// ШПИ: 14 digits with a check digit; null while queued
    #[schema(required = true)]
    tracking_number: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    sent_at: Option<OffsetDateTime>,
    /// 30 days from dispatch
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    expires_at: Option<OffsetDateTime>,
    /// Russian Post shows the way from the next day
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    tracking_from: Option<OffsetDateTime>,
    /// Codes that may still be entered for this letter (10 in all)
    attempts_left: u32,
    /// Where the letter goes: the address of registration the Interior
    /// Ministry returned, masked — region and locality in clear, of the
    /// street its abbreviations and first letter, house, building and flat
    /// as ***, no postal code; e.g. "г. Москва, г. Москва, ул. А***, д. ***, кв. ***"
    address_masked: String,
}

/// Where a letter is: `queued` until the post has it, then as the post
/// tells, `used` once its code confirmed the account, `expired` when the
/// code no longer works (as `uslugi_app::letters` names them).
fn letter_status_schema() -> Object {
    let mut schema = one_of(
        std::iter::once("queued")
            .chain(PostStatus::forms())
            .chain(["used", "expired"]),
    );
    schema.description = Some(
        "queued until the post has the letter; then where the post says it is; used once the code confirmed the account; expired when the code no longer works".into(),
    );
    schema
}

impl From<LetterView> for LetterAnswer {
    fn from(v: LetterView) -> Self {
        Self {
            status: v.status.to_owned(),
            tracking_number: v.tracking_number,
            sent_at: v.sent_at,
            expires_at: v.expires_at,
            tracking_from: v.tracking_from,
            attempts_left: v.attempts_left,
            address_masked: v.address_masked,
        }
    }
}

/// Order a registered letter with an identity confirmation code
///
/// For a standard account; the letter goes to the address of registration
/// the Interior Ministry returned when it checked the passport, and voids
/// the code of an earlier letter. No body is read: an address sent by an
/// old client is ignored.
#[utoipa::path(
    post,
    path = "/me/identity/letter",
    tag = "identity_letter",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 202, description = "Ordered; the post gets it shortly", body = LetterAnswer),
        (status = 403, description = "csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header; or password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
        (status = 409, description = "not_standard (verify the personal data first), already_confirmed, or no_registered_address (the Interior Ministry's record has no address of registration: confirm the identity in person at a service center)", body = ErrorBody),
        (status = 429, description = "rate_limited: a letter a day, four in 30 days; Retry-After says when", body = ErrorBody),
    )
)]
async fn order_identity_letter(
    Api(state, lang, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let l = t.letter;
    match state.letters.order(session.account_id, lang.0).await {
        Ok(v) => Ok((StatusCode::ACCEPTED, Json(LetterAnswer::from(v))).into_response()),
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

/// The newest letter with an identity confirmation code
#[utoipa::path(
    get,
    path = "/me/identity/letter",
    tag = "identity_letter",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The letter", body = LetterAnswer),
        (status = 403, description = "password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
        (status = 404, description = "no_letter: none was ordered", body = ErrorBody),
    )
)]
async fn get_identity_letter(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    match state
        .letters
        .current(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
    {
        Some(v) => Ok(Json(LetterAnswer::from(v)).into_response()),
        None => Err(ApiError::conflict("no_letter", t.letter.err_no_letter)
            .with_status(StatusCode::NOT_FOUND)),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = LetterCodeRequest)]
struct CodeInput {
    /// 8 characters of ABCDEFGHJKMNPQRSTUVWXYZ23456789, any case, spaces
    /// and hyphens ignored
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        example = "ABCD-EFGH"
    )]
    code: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct LetterCodeAccepted {
    #[serde(serialize_with = "token")]
    #[schema(schema_with = confirmed_schema)]
    level: AccountLevel,
}

fn confirmed_schema() -> Object {
    let mut schema = one_of([AccountLevel::Confirmed.as_str()]);
    schema.description = Some("The account's new level".into());
    schema
}

/// Enter the code from the letter: the account becomes confirmed at once
#[utoipa::path(
    post,
    path = "/me/identity/letter/code",
    tag = "identity_letter",
    security(("bearer" = []), ("cookie" = [])),
    request_body = CodeInput,
    responses(
        (status = 200, description = "Confirmed", body = LetterCodeAccepted),
        (status = 403, description = "csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header; or password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
        (status = 422, description = "malformed_code, wrong_code, code_expired, attempts_exhausted (10 per letter), no_letter, letter_not_sent, already_confirmed — field code", body = ErrorBody),
        (status = 429, description = "rate_limited: 5 wrong codes in 10 minutes; Retry-After", body = ErrorBody),
    )
)]
async fn enter_identity_letter_code(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<CodeInput>,
) -> Result<Response, ApiError> {
    // A missing code is an empty one: refused as malformed, on the field.
    let code = input.code.unwrap_or_default();
    match state.letters.enter_code(session.account_id, &code).await {
        Ok(()) => Ok(Json(LetterCodeAccepted {
            level: AccountLevel::Confirmed,
        })
        .into_response()),
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
