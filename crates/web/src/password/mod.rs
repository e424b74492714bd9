//! The citizen's own password: set at the first login after a temporary
//! password from a service center, or changed from «Мои данные».
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::{Deserialize, Serialize};
use uslugi_app::PasswordChangeError;
use uslugi_domain::PasswordProblem;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::api::{Api, ApiRouter};
use crate::auth::{AnyApiSession, citizen_or_login};
use crate::error::{ApiError, ErrorBody, FieldErrors, PageError};
use crate::http::{ApiJson, CsrfForm, session_token};
use crate::i18n::Tr;
use crate::page::{Chrome, Page, render, see_other};

pub mod i18n;

/// The page that replaces a temporary password; the only one such a
/// session may open.
pub const PAGE: &str = "/me/password";

pub fn routes() -> Router<AppState> {
    Router::new().route(PAGE, routing::get(form).post(submit))
}

pub fn api_routes() -> ApiRouter {
    OpenApiRouter::new().routes(routes!(change_password))
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

async fn form(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
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
    Page(state, ctx, headers): Page,
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

/// `current_password` may be null, which is the same as absent.
#[derive(Deserialize, ToSchema)]
#[schema(as = PasswordChangeRequest)]
struct PasswordJson {
    /// Required, except after a temporary password (`password_change_required`),
    /// when it is not asked and is ignored
    current_password: Option<String>,
    /// 8 to 128 characters; not common, repetitive, the portal's name, nor
    /// built from the person's name, phone, e-mail or SNILS
    #[schema(required = true, nullable = false, min_length = 8, max_length = 128)]
    password: Option<String>,
    /// The same again
    #[schema(required = true, nullable = false, min_length = 8, max_length = 128)]
    password_confirmation: Option<String>,
    /// End every other session of the account too (always so after a
    /// temporary password)
    #[serde(default)]
    #[schema(default = false)]
    end_other_sessions: bool,
}

#[derive(Serialize, ToSchema)]
struct PasswordChanged {
    /// Always true
    password_changed: bool,
}

/// Set a new password
///
/// After a temporary password (password_change_required) the current one
/// is not asked and every other session ends; otherwise current_password
/// is required. Each wrong current password counts as a wrong login: after
/// a few the account is throttled, for the login too.
#[utoipa::path(
    post,
    path = "/me/password",
    tag = "password",
    security(("bearer" = []), ("cookie" = [])),
    request_body = PasswordJson,
    responses(
        (status = 200, description = "Changed", body = PasswordChanged),
        (status = 422, description = "password_rejected, wrong_current_password, password_unchanged or throttled (too many wrong current passwords: wait, as for a login) — fields password, password_confirmation, current_password", body = ErrorBody),
    )
)]
async fn change_password(
    Api(state, lang, t): Api,
    session: AnyApiSession,
    ApiJson(input): ApiJson<PasswordJson>,
) -> Result<Response, ApiError> {
    let AnyApiSession(_, token) = session;
    match state
        .accounts
        .change_password(
            &token,
            input.current_password.as_deref(),
            input.password.as_deref().unwrap_or_default(),
            input.password_confirmation.as_deref().unwrap_or_default(),
            input.end_other_sessions,
            lang.0,
        )
        .await
    {
        Ok(()) => Ok(Json(PasswordChanged {
            password_changed: true,
        })
        .into_response()),
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
