//! The login page and the logout button.
use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{LoginError, LoginOutcome};

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{
    ClientIp, CsrfForm, SESSION_COOKIE, clear_cookie, cookie, safe_next, session_token, set_cookie,
};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, EmptyForm, Page, render, see_other};

use super::{add_device_cookie, session_response};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", routing::get(login_form).post(login_submit))
        .route("/logout", routing::post(logout_submit))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: &'static Tr,
    chrome: Chrome,
    next: String,
    login: String,
    remember: bool,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    logged_out: Option<String>,
    recovered: Option<String>,
}

async fn login_form(ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    render(
        StatusCode::OK,
        &LoginPage {
            tr: ctx.tr,
            notice: if q.recovered.is_some() {
                Some(ctx.tr.recovery.recovered)
            } else {
                q.logged_out.is_some().then_some(ctx.tr.logged_out)
            },
            chrome: ctx.chrome,
            next: safe_next(q.next.as_deref()),
            login: String::new(),
            remember: false,
            error: None,
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    login: Option<String>,
    password: Option<String>,
    remember_me: Option<String>,
    next: Option<String>,
}

async fn login_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    // The browser keeps an id of its own, so a login from a new device can
    // be told from one from a known device.
    let existing_device = cookie(&headers, crate::security::DEVICE_COOKIE)
        .filter(|d| d.len() >= 32 && d.len() <= 64)
        .map(str::to_owned);
    let device = existing_device
        .clone()
        .unwrap_or_else(uslugi_app::crypto::random_token);
    let client = uslugi_app::security::ClientInfo {
        device_id: Some(device.clone()),
        user_agent: crate::security::user_agent(&headers),
        ip,
        lang: ctx.lang.0,
    };
    let login = form.login.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let remember = form.remember_me.is_some();
    let next = safe_next(form.next.as_deref());
    let mut errors = FieldErrors::new();
    if login.trim().is_empty() {
        errors.insert("login".into(), ctx.tr.err_required.into());
    }
    if password.is_empty() {
        errors.insert("password".into(), ctx.tr.err_required.into());
    }
    let result = if errors.is_empty() {
        Some(
            state
                .accounts
                .log_in(login.trim(), &password, remember, &client)
                .await,
        )
    } else {
        None
    };
    let new_device = existing_device.is_none().then_some(device.as_str());
    let tr = ctx.tr;
    match result {
        Some(Ok(LoginOutcome::Session(session))) => {
            let mut response = session_response(&state, &ctx, &headers, &session, next).await?;
            add_device_cookie(&mut response, new_device);
            Ok(response)
        }
        Some(Ok(LoginOutcome::SecondFactor(step))) => {
            // The step's id stays out of the URL: a cookie of its own, for
            // as long as the step waits.
            let max_age = (step.expires_at - state.accounts.now()).whole_seconds();
            let to = if next == "/" {
                crate::second_factor::LOGIN_CODE_PAGE.to_owned()
            } else {
                format!(
                    "{}?next={}",
                    crate::second_factor::LOGIN_CODE_PAGE,
                    crate::http::url_encode(&next)
                )
            };
            let mut response = (
                [(
                    header::SET_COOKIE,
                    set_cookie(
                        crate::second_factor::LOGIN_STEP_COOKIE,
                        &step.challenge_id.to_string(),
                        Some(max_age),
                    ),
                )],
                see_other(&to),
            )
                .into_response();
            add_device_cookie(&mut response, new_device);
            Ok(response)
        }
        Some(Err(LoginError::Internal(e))) => Err(PageError::internal(ctx.lang.0, &e)),
        Some(Err(LoginError::TemporaryPasswordExpired)) => Ok(form_again(
            ctx,
            StatusCode::UNAUTHORIZED,
            Some(tr.account.temporary_expired),
            (next, login, remember),
            errors,
        )),
        Some(Err(LoginError::AccountDisabled)) => Ok(form_again(
            ctx,
            StatusCode::FORBIDDEN,
            Some(tr.account.disabled),
            (next, login, remember),
            errors,
        )),
        // Unknown, wrong, throttled and locked: one answer for all.
        Some(Err(LoginError::BadCredentials)) => Ok(form_again(
            ctx,
            StatusCode::UNAUTHORIZED,
            Some(tr.bad_credentials),
            (next, login, remember),
            errors,
        )),
        // Nothing was asked: the form's own field errors.
        None => Ok(form_again(
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            (next, login, remember),
            errors,
        )),
    }
}

/// The form again with what was typed (never the password), and why.
fn form_again(
    ctx: Ctx,
    status: StatusCode,
    error: Option<&'static str>,
    (next, login, remember): (String, String, bool),
    errors: FieldErrors,
) -> Response {
    render(
        status,
        &LoginPage {
            tr: ctx.tr,
            error,
            chrome: ctx.chrome,
            next,
            login,
            remember,
            notice: None,
            errors,
        },
    )
}

async fn logout_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    if let Some(token) = session_token(&headers) {
        state
            .accounts
            .log_out(&token)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))],
        Redirect::to("/login?logged_out=1"),
    )
        .into_response())
}
