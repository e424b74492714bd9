//! «Вход с подтверждением»: the login's code step, and turning the second
//! factor on and off on «Безопасность»; pages and `/api/v1/…`.
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uslugi_app::FactorError;
use uslugi_app::second_factor::FactorStep;
use uslugi_domain::FactorMethod;
use utoipa::ToSchema;
use utoipa::openapi::schema;

use crate::AppState;
use crate::api::{token, token_schema};
use crate::error::ApiError;
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, no_store, render};

mod api;
mod enrol;
pub mod i18n;
mod login_step;
mod manage;

/// The login's code step: the step's id in a cookie of its own.
pub const LOGIN_CODE_PAGE: &str = "/login/code";
pub const LOGIN_STEP_COOKIE: &str = "__Host-uslugi-login";
const SECURITY: &str = "/me/security";
/// Where turning the factor on starts, and where an enrolment that is over
/// sends the person back to.
const ENROL_START: &str = "/me/security/second-factor";

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(login_step::routes())
        .merge(enrol::routes())
        .merge(manage::routes())
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}

/// A step waiting for a second-factor code, as the API shows it: a
/// login's (in [`SecondFactorStep`]) or a change's (the answer of
/// `POST /api/v1/me/second-factor/code`).
#[derive(Serialize, ToSchema)]
pub struct FactorDelivery {
    /// The step waiting for the code (the code alone is sent back with it)
    challenge_id: uuid::Uuid,
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<FactorMethod>)]
    method: FactorMethod,
    /// Until when the step waits
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: OffsetDateTime,
    /// Seconds the step waits (a login: 10 minutes; a change: 300 s)
    expires_in: i64,
    /// When the SMS code stops working (300 s after it was sent); `null`
    /// for an app, or when no code could be sent
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    code_expires_at: Option<OffsetDateTime>,
    /// When a new SMS code may be asked for; `null` when none was sent
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    resend_at: Option<OffsetDateTime>,
    /// The masked phone the SMS went to: +7 (926) ***-**-12; `null` when
    /// no SMS was sent
    #[schema(required = true)]
    sent_to: Option<String>,
    /// Tries left at the code in this step
    attempts_left: u32,
}

impl FactorDelivery {
    pub fn of(now: OffsetDateTime, step: &FactorStep) -> Self {
        Self {
            challenge_id: step.challenge_id,
            method: step.method,
            expires_at: step.expires_at,
            expires_in: (step.expires_at - now).whole_seconds().max(0),
            code_expires_at: step.code_expires_at,
            resend_at: step.resend_at,
            sent_to: step.sent_to.clone(),
            attempts_left: step.attempts_left,
        }
    }
}

/// A login's step waiting for a code: the `202` of `POST /api/v1/sessions`
/// when the account has a second factor, and of
/// `…/sessions/second-factor/resend`.
#[derive(Serialize, ToSchema)]
pub struct SecondFactorStep {
    /// Always `true`: no session yet, the code is asked for next
    #[schema(schema_with = always_true)]
    second_factor_required: bool,
    #[serde(flatten)]
    step: FactorDelivery,
}

/// The step of a login waiting for its code, as the API answers it.
pub fn step_json(state: &AppState, step: &FactorStep) -> SecondFactorStep {
    SecondFactorStep {
        second_factor_required: true,
        step: FactorDelivery::of(state.accounts.now(), step),
    }
}

/// The schema of a flag that is always `true` (JSON Schema's
/// `const: true`, which utoipa does not write).
fn always_true() -> schema::Object {
    schema::ObjectBuilder::new()
        .schema_type(schema::Type::Boolean)
        .enum_values(Some([true]))
        .build()
}

/// The one answer to each second-factor error, for the API and the pages
/// (see [`crate::error`]; the pages take its field through [`field_error`]).
pub(crate) fn factor_answer(t: &Tr, now: OffsetDateTime, e: &FactorError) -> ApiError {
    let f = t.factor;
    let secs_until = |at: OffsetDateTime| (at - now).whole_seconds().max(1);
    let on_code = |code, message: &str| ApiError::invalid_with_code(code, "code", message);
    match e {
        FactorError::NotFound => step_gone(t),
        FactorError::MalformedCode => on_code("code_malformed", f.err_code_or_backup),
        FactorError::WrongCode {
            attempts_left: Some(n),
        } => on_code("code_wrong", &fill(f.err_wrong_left, n)),
        FactorError::WrongCode {
            attempts_left: None,
        } => on_code("code_wrong", f.err_wrong),
        FactorError::CodeExpired => on_code("code_expired", t.err_code_expired),
        FactorError::AttemptsExhausted => on_code("code_attempts_exhausted", f.err_exhausted),
        FactorError::Throttled { retry_at } => {
            let mut err = ApiError::rate_limited(t, retry_at.map_or(60, secs_until))
                .with_code("throttled")
                .with_message(f.err_throttled);
            err.fields.insert("code".into(), f.err_throttled.into());
            err
        }
        FactorError::RateLimited { retry_at } | FactorError::TooEarly { retry_at } => {
            ApiError::rate_limited(t, secs_until(*retry_at))
        }
        FactorError::WrongPassword => {
            ApiError::invalid_with_code("wrong_password", "password", f.err_password)
                .with_status(StatusCode::UNAUTHORIZED)
        }
        FactorError::AlreadyOn => ApiError::conflict("second_factor_on", f.err_already_on),
        FactorError::NotOn => ApiError::conflict("second_factor_off", f.err_not_on),
        FactorError::NoPhone => ApiError::invalid_with_code("no_phone", "method", f.err_no_phone),
        FactorError::NothingToSend => ApiError::conflict("nothing_to_send", f.err_nothing_to_send),
        FactorError::Internal(_) => ApiError::internal(t, e),
    }
}

fn step_gone(t: &Tr) -> ApiError {
    ApiError::not_found(t)
        .with_code("challenge_not_found")
        .with_message(t.factor.err_step_gone)
}

/// Where a page shows a factor error: on its field, or, for a wait that
/// names none, by «Получить новый код». `None`: not a form's error.
fn field_error(t: &Tr, state: &AppState, e: &FactorError) -> Option<(String, String)> {
    let mut answer = factor_answer(t, state.accounts.now(), e);
    answer.fields.pop_first().or_else(|| {
        answer
            .retry_after
            .map(|_| ("resend".to_owned(), answer.message))
    })
}

#[derive(Deserialize)]
struct CodeForm {
    code: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "factor_codes.html")]
struct CodesPage {
    tr: &'static Tr,
    chrome: Chrome,
    notice: &'static str,
    codes: Vec<String>,
}

fn codes_page(ctx: &Ctx, notice: &'static str, codes: Vec<String>) -> Response {
    no_store(render(
        StatusCode::OK,
        &CodesPage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            notice,
            codes,
        },
    ))
}

// ------------------------------------------------------------------ «Безопасность»

/// The section of the security page.
pub struct FactorSection {
    pub status: String,
    pub codes_left: Option<String>,
    pub on: bool,
}

pub async fn section(
    state: &AppState,
    t: &'static Tr,
    account: uslugi_domain::AccountId,
) -> Result<FactorSection, uslugi_app::InternalError> {
    let s = state.accounts.second_factor_status(account).await?;
    let status = match (s.method, &s.phone) {
        (None, _) => t.factor.off.to_owned(),
        (Some(FactorMethod::Sms), Some(p)) => fill(t.factor.on_sms, p),
        (Some(FactorMethod::Sms), None) => fill(t.factor.on_sms, "—"),
        (Some(FactorMethod::Totp), _) => t.factor.on_app.to_owned(),
    };
    Ok(FactorSection {
        status,
        codes_left: s
            .method
            .is_some()
            .then(|| fill(t.factor.codes_left, s.backup_codes_left)),
        on: s.method.is_some(),
    })
}
