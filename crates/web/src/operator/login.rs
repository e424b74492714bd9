//! The console's login (password and code in one step) and logout.
use std::collections::HashMap;

use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::operators::OperatorLoginFailure;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{CsrfForm, clear_cookie, cookie, set_cookie};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, render};
use crate::personal_data::summary;

use super::OPERATOR_COOKIE;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/operator/login",
            routing::get(login_form).post(login_submit),
        )
        .route("/operator/logout", routing::post(logout))
}

#[derive(Template)]
#[template(path = "operator_login.html")]
struct LoginPage {
    tr: &'static Tr,
    chrome: Chrome,
    login: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginQuery {
    expired: Option<String>,
    logged_out: Option<String>,
    enrolled: Option<String>,
}

async fn login_form(ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    let c = ctx.tr.console;
    let notice = if q.expired.is_some() {
        Some(c.timed_out)
    } else if q.logged_out.is_some() {
        Some(c.logged_out)
    } else if q.enrolled.is_some() {
        Some(c.enrol_done)
    } else {
        None
    };
    render(
        StatusCode::OK,
        &LoginPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            login: String::new(),
            notice,
            error: None,
            errors: FieldErrors::new(),
            summary: Vec::new(),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginInput {
    login: String,
    password: String,
    code: String,
}

async fn login_submit(
    Page(state, ctx, _): Page,
    CsrfForm(input): CsrfForm<LoginInput>,
) -> Result<Response, PageError> {
    let mut errors = FieldErrors::new();
    for (field, value) in [
        ("login", &input.login),
        ("password", &input.password),
        ("code", &input.code),
    ] {
        if value.trim().is_empty() {
            errors.insert(field.into(), ctx.tr.err_required.into());
        }
    }
    if errors.is_empty() {
        match state
            .operators
            .log_in(&input.login, &input.password, &input.code)
            .await
        {
            Ok(s) => {
                return Ok((
                    [(
                        header::SET_COOKIE,
                        set_cookie(OPERATOR_COOKIE, &s.token, None),
                    )],
                    Redirect::to("/operator"),
                )
                    .into_response());
            }
            Err(OperatorLoginFailure::Internal(e)) => {
                return Err(PageError::internal(ctx.lang.0, &e));
            }
            Err(OperatorLoginFailure::BadCredentials) => {}
        }
    }
    let status = if errors.is_empty() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let c = ctx.tr.console;
    let summary = summary(
        ctx.tr,
        &errors,
        &[
            ("login", c.login),
            ("password", c.password),
            ("code", c.code),
        ],
    );
    Ok(render(
        status,
        &LoginPage {
            error: errors.is_empty().then_some(ctx.tr.console.bad_credentials),
            tr: ctx.tr,
            chrome: ctx.chrome,
            login: input.login,
            notice: None,
            errors,
            summary,
        },
    ))
}

async fn logout(
    Page(state, ctx, headers): Page,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    if let Some(token) = cookie(&headers, OPERATOR_COOKIE) {
        state
            .operators
            .log_out(token)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(OPERATOR_COOKIE))],
        Redirect::to("/operator/login?logged_out=1"),
    )
        .into_response())
}
