//! «Не удаётся войти?»: the login to recover, and a code or a letter to it.
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::recovery::RecoveryError;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm, set_cookie};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, render};

use super::{RECOVERY_COOKIE, recovery_answer};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/recover", routing::get(start_form).post(start_submit))
}

#[derive(Template)]
#[template(path = "recover.html")]
struct StartPage {
    tr: &'static Tr,
    chrome: Chrome,
    login: String,
    errors: FieldErrors,
}

async fn start_form(ctx: Ctx) -> Response {
    render(
        StatusCode::OK,
        &StartPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            login: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StartInput {
    login: String,
}

async fn start_submit(
    Page(state, ctx, _): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<StartInput>,
) -> Result<Response, PageError> {
    let result = if input.login.trim().is_empty() {
        Err(RecoveryError::MalformedLogin)
    } else {
        state
            .accounts
            .start_recovery(&input.login, ctx.lang.0, ip)
            .await
    };
    match result {
        Ok(r) => Ok((
            [(
                header::SET_COOKIE,
                set_cookie(RECOVERY_COOKIE, &r.id.to_string(), Some(3600 * 25)),
            )],
            Redirect::to("/recover/confirm"),
        )
            .into_response()),
        Err(e) => {
            let fields = PageError::form_fields(
                ctx.lang.0,
                recovery_answer(ctx.tr, state.accounts.now(), &e),
            )?;
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &StartPage {
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    login: input.login,
                    errors: fields,
                },
            ))
        }
    }
}
