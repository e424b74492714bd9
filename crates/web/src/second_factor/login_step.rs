//! The login's code step: `/login/code`, after the password of an account
//! with «Вход с подтверждением».
use askama::Template;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::FactorError;
use uslugi_app::second_factor::FactorStep;
use uslugi_domain::FactorMethod;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm, clear_cookie, cookie, safe_next};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, no_store, render};

use super::{CodeForm, LOGIN_CODE_PAGE, LOGIN_STEP_COOKIE, field_error};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            LOGIN_CODE_PAGE,
            routing::get(login_code_form).post(login_code_submit),
        )
        .route("/login/code/resend", routing::post(login_code_resend))
}

#[derive(Template)]
#[template(path = "factor_login.html")]
struct LoginCodePage {
    tr: &'static Tr,
    chrome: Chrome,
    intro: String,
    sms: bool,
    next: String,
    resend_note: Option<String>,
    /// The step is over: only «Войти заново».
    over: bool,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: Option<String>,
}

fn login_step_id(headers: &HeaderMap) -> Option<uuid::Uuid> {
    cookie(headers, LOGIN_STEP_COOKIE).and_then(|v| v.parse().ok())
}

fn step_intro(t: &Tr, step: &FactorStep) -> String {
    match (step.method, &step.sent_to) {
        (FactorMethod::Sms, Some(to)) => fill(t.factor.login_intro_sms, to),
        // Over the sending limit: no SMS went, a backup code still works.
        (FactorMethod::Sms, None) => t.factor.login_backup_hint.to_owned(),
        (FactorMethod::Totp, _) => t.factor.login_intro_app.to_owned(),
    }
}

fn login_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    step: Option<&FactorStep>,
    next: String,
    errors: FieldErrors,
) -> Response {
    let (intro, sms, resend_in) = match step {
        Some(s) => (
            step_intro(ctx.tr, s),
            s.method == FactorMethod::Sms,
            s.resend_at
                .map(|at| (at - state.accounts.now()).whole_seconds())
                .filter(|s| *s > 0),
        ),
        None => (ctx.tr.factor.err_step_gone.to_owned(), false, None),
    };
    no_store(render(
        status,
        &LoginCodePage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            intro,
            sms,
            next,
            resend_note: resend_in.map(|s| fill(ctx.tr.factor.resend_in, s)),
            over: step.is_none(),
            errors,
        },
    ))
}

/// The step is over, or there never was one: only «Войти заново».
fn step_over(state: &AppState, ctx: &Ctx, next: String) -> Response {
    login_page(state, ctx, StatusCode::GONE, None, next, FieldErrors::new())
}

async fn login_code_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    let step = match login_step_id(&headers) {
        Some(id) => match state.accounts.factor_login_step(id).await {
            Ok(s) => Some(s),
            Err(FactorError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
            Err(_) => None,
        },
        None => None,
    };
    let status = if step.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok(login_page(
        &state,
        &ctx,
        status,
        step.as_ref(),
        next,
        FieldErrors::new(),
    ))
}

async fn login_code_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let Some(id) = login_step_id(&headers) else {
        return Ok(step_over(&state, &ctx, next));
    };
    let code = form.code.unwrap_or_default();
    let result = if code.trim().is_empty() {
        Err(FactorError::MalformedCode)
    } else {
        state.accounts.complete_factor_login(id, &code).await
    };
    match result {
        Ok(session) => {
            let mut r =
                crate::login::session_response(&state, &ctx, &headers, &session, next).await?;
            r.headers_mut()
                .append(header::SET_COOKIE, clear_cookie(LOGIN_STEP_COOKIE));
            Ok(r)
        }
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotFound | FactorError::AttemptsExhausted) => {
            Ok(step_over(&state, &ctx, next))
        }
        Err(e) => {
            let mut errors = FieldErrors::new();
            if code.trim().is_empty() {
                errors.insert("code".into(), ctx.tr.factor.err_code.into());
            } else {
                errors.extend(field_error(ctx.tr, &state, &e));
            }
            let step = state.accounts.factor_login_step(id).await.ok();
            Ok(login_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                step.as_ref(),
                next,
                errors,
            ))
        }
    }
}

async fn login_code_resend(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let Some(id) = login_step_id(&headers) else {
        return Ok(step_over(&state, &ctx, next));
    };
    match state.accounts.resend_factor_code(id, None, ip).await {
        Ok(step) => Ok(login_page(
            &state,
            &ctx,
            StatusCode::OK,
            Some(&step),
            next,
            FieldErrors::new(),
        )),
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotFound) => Ok(step_over(&state, &ctx, next)),
        Err(e) => {
            let errors: FieldErrors = field_error(ctx.tr, &state, &e).into_iter().collect();
            let step = state.accounts.factor_login_step(id).await.ok();
            Ok(login_page(
                &state,
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                step.as_ref(),
                next,
                errors,
            ))
        }
    }
}
