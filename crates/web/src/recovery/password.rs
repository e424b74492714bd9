//! The new password, in the browser that confirmed.
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::recovery::RecoveryError;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{CsrfForm, RECOVERY_CONTINUE_COOKIE, clear_cookie, cookie};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, render, see_other};

use super::{RECOVERY_COOKIE, page_error, recovery_answer, recovery_id};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/recover/password",
        routing::get(password_form).post(password_submit),
    )
}

#[derive(Template)]
#[template(path = "recover_password.html")]
struct PasswordPage {
    tr: &'static Tr,
    chrome: Chrome,
    errors: FieldErrors,
}

fn password_page(ctx: Ctx, status: StatusCode, errors: FieldErrors) -> Response {
    render(
        status,
        &PasswordPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            errors,
        },
    )
}

async fn password_form(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    match state.accounts.recovery(id).await {
        // Confirmed in another browser: this one only started the recovery.
        Ok(v) if v.confirmed && cookie(&headers, RECOVERY_CONTINUE_COOKIE).is_none() => Err(
            page_error(&ctx, &state, RecoveryError::ContinuationRequired),
        ),
        Ok(v) if v.confirmed => Ok(password_page(ctx, StatusCode::OK, FieldErrors::new())),
        Ok(_) => Ok(see_other("/recover/confirm")),
        Err(e) => Err(page_error(&ctx, &state, e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordInput {
    password: String,
    password_confirmation: String,
}

async fn password_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(input): CsrfForm<PasswordInput>,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    match state
        .accounts
        .finish_recovery(
            id,
            cookie(&headers, RECOVERY_CONTINUE_COOKIE),
            &input.password,
            &input.password_confirmation,
        )
        .await
    {
        Ok(()) => {
            let mut response = see_other("/login?recovered=1");
            let h = response.headers_mut();
            h.append(header::SET_COOKIE, clear_cookie(RECOVERY_COOKIE));
            h.append(header::SET_COOKIE, clear_cookie(RECOVERY_CONTINUE_COOKIE));
            Ok(response)
        }
        Err(e) => {
            let fields = PageError::form_fields(
                ctx.lang.0,
                recovery_answer(ctx.tr, state.accounts.now(), &e),
            )?;
            Ok(password_page(ctx, StatusCode::UNPROCESSABLE_ENTITY, fields))
        }
    }
}
