//! `POST /api/v1/me/deletion`.
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::api::{Api, ApiRouter};
use crate::auth::ApiSession;
use crate::error::{ApiError, ErrorBody};
use crate::http::ApiJson;

use super::deletion_answer;

pub fn routes() -> ApiRouter {
    OpenApiRouter::new().routes(routes!(request_deletion))
}

/// The password, and the second factor's code when the account has one.
#[derive(Deserialize, ToSchema)]
#[schema(as = DeletionRequest)]
struct DeletionInput {
    /// The account's current password
    #[schema(required = true, nullable = false, min_length = 1)]
    password: Option<String>,
    /// With a second factor: six digits from the SMS (ask
    /// /me/second-factor/code first) or the app, or a backup code
    #[schema(nullable = false, min_length = 1)]
    code: Option<String>,
}

/// The deletion, asked.
#[derive(Serialize, ToSchema)]
struct DeletionScheduled {
    /// When the account is erased, unless a login cancels it before
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    erase_after: OffsetDateTime,
    /// Seconds until then (30 days)
    erase_in: i64,
}

/// «Удалить учётную запись»: erased in 30 days; a login before then cancels it
///
/// Every session of the account ends at once, this one included; a notice
/// goes to every confirmed contact.
#[utoipa::path(
    post,
    path = "/me/deletion",
    tag = "profile",
    security(("bearer" = []), ("cookie" = [])),
    request_body = DeletionInput,
    responses(
        (status = 202, description = "Asked; every session has ended", body = DeletionScheduled),
        (status = 401, description = "wrong_password (fields.password); or no session, or it has ended", body = ErrorBody),
        (status = 409, description = "deletion_pending: asked already", body = ErrorBody),
        (status = 422, description = "Missing password; code_required (the account has a second factor), code_wrong, code_malformed, code_expired (for SMS: ask /me/second-factor/code first), code_attempts_exhausted", body = ErrorBody),
        (status = 429, description = "throttled: too many wrong passwords or codes in a row", body = ErrorBody),
    )
)]
async fn request_deletion(
    Api(state, lang, t): Api,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<DeletionInput>,
) -> Result<Response, ApiError> {
    let password = input.password.unwrap_or_default();
    if password.is_empty() {
        return Err(ApiError::invalid_field(t, "password", t.err_required));
    }
    let pending = state
        .accounts
        .request_deletion(session.account_id, &password, input.code.as_deref(), lang.0)
        .await
        .map_err(|e| deletion_answer(t, state.accounts.now(), &e))?;
    let body = DeletionScheduled {
        erase_after: pending.erase_after,
        erase_in: (pending.erase_after - state.accounts.now()).whole_seconds(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
