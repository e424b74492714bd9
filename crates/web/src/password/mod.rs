//! The citizen's own password: set at the first login after a temporary
//! password from a service center, or changed from «Мои данные».
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::PasswordChangeError;
use uslugi_domain::PasswordProblem;

use crate::AppState;
use crate::auth::{AnyApiSession, citizen_or_login};
use crate::error::{ApiError, FieldErrors, PageError};
use crate::http::{ApiJson, CsrfForm, Language, session_token};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, render, see_other};

pub mod i18n;

/// The page that replaces a temporary password; the only one such a
/// session may open.
pub const PAGE: &str = "/me/password";

pub fn routes() -> Router<AppState> {
    Router::new().route(PAGE, routing::get(form).post(submit))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/me/password", routing::post(api_change))
}

#[derive(Template)]
#[template(path = "me_password.html")]
struct PasswordPage {
    tr: &'static Tr,
    chrome: Chrome,
    must_change: bool,
    errors: FieldErrors,
}

fn field_errors(t: &Tr, e: &PasswordChangeError) -> Option<FieldErrors> {
    let mut f = FieldErrors::new();
    match e {
        PasswordChangeError::WrongCurrent => {
            f.insert("current_password".into(), t.account.err_current.into());
        }
        PasswordChangeError::Unchanged => {
            f.insert("password".into(), t.account.err_unchanged.into());
        }
        PasswordChangeError::Throttled => {
            f.insert("current_password".into(), t.factor.err_throttled.into());
        }
        PasswordChangeError::Password { problems, mismatch } => {
            return Some(password_fields(t, problems, *mismatch));
        }
        PasswordChangeError::NoSession | PasswordChangeError::Internal(_) => return None,
    }
    Some(f)
}

async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, PAGE);
    Ok(render(
        StatusCode::OK,
        &PasswordPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            must_change: session.must_change_password,
            errors: FieldErrors::new(),
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordInput {
    current_password: String,
    password: String,
    password_confirmation: String,
    end_other_sessions: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(input): CsrfForm<PasswordInput>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, PAGE);
    let token = session_token(&headers).unwrap_or_default();
    match state
        .accounts
        .change_password(
            &token,
            Some(input.current_password.as_str()).filter(|c| !c.is_empty()),
            &input.password,
            &input.password_confirmation,
            input.end_other_sessions.is_some(),
            ctx.lang.0,
        )
        .await
    {
        Ok(()) => Ok(see_other("/me?password_changed=1")),
        Err(PasswordChangeError::NoSession) => Ok(see_other("/login")),
        Err(PasswordChangeError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(e) => Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                errors: field_errors(ctx.tr, &e).unwrap_or_default(),
                tr: ctx.tr,
                chrome: ctx.chrome,
                must_change: session.must_change_password,
            },
        )),
    }
}

#[derive(Deserialize)]
struct PasswordJson {
    current_password: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    #[serde(default)]
    end_other_sessions: bool,
}

/// `POST /api/v1/me/password`: `200` when changed; `422` naming the field.
async fn api_change(
    State(state): State<AppState>,
    lang: Language,
    AnyApiSession(_, token): AnyApiSession,
    ApiJson(input): ApiJson<PasswordJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .accounts
        .change_password(
            &token,
            input.current_password.as_deref(),
            &input.password,
            &input.password_confirmation,
            input.end_other_sessions,
            lang.0,
        )
        .await
    {
        Ok(()) => Ok(Json(json!({ "password_changed": true })).into_response()),
        Err(PasswordChangeError::NoSession) => Err(ApiError::unauthorized(t)),
        Err(PasswordChangeError::Internal(e)) => Err(ApiError::internal(t, &e)),
        Err(e) => {
            let code = match e {
                PasswordChangeError::WrongCurrent => "wrong_current_password",
                PasswordChangeError::Unchanged => "password_unchanged",
                PasswordChangeError::Throttled => "throttled",
                _ => "password_rejected",
            };
            let mut err = ApiError::invalid(t, field_errors(t, &e).unwrap_or_default());
            err.code = code;
            Err(err)
        }
    }
}

/// The rules a new password broke, and whether its repetition differs.
pub fn password_fields(t: &Tr, problems: &[PasswordProblem], mismatch: bool) -> FieldErrors {
    let mut f = FieldErrors::new();
    if !problems.is_empty() {
        let text: Vec<&str> = problems.iter().map(|p| t.password_problem(*p)).collect();
        f.insert("password".into(), text.join(". "));
    }
    if mismatch {
        f.insert("password_confirmation".into(), t.err_pw_mismatch.into());
    }
    f
}
