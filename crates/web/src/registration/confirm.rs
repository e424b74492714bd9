//! The code's page: the code from the SMS (or the letter's wait), a new
//! code, the countdown.
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{Confirmation, RegistrationError, RegistrationView};
use uslugi_domain::Channel;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::{Tr, fill};
use crate::page::{
    Chrome, CodeActions, CodeStep, Ctx, EmptyForm, Page, SecretClock, local_time, render,
    resend_refused, see_other,
};

use super::{
    continue_registration, current_registration, input, registration_error_page, who_registers,
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/register/confirm",
            routing::get(confirm_form).post(confirm_submit),
        )
        .route("/register/resend", routing::post(resend_submit))
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_email: bool,
    who: String,
    email_sent_text: String,
    step: CodeStep,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

fn confirm_page(
    state: &AppState,
    ctx: Ctx,
    view: &RegistrationView,
    notice: Option<&'static str>,
    errors: FieldErrors,
) -> ConfirmPage {
    let who = who_registers(view);
    let by_email = view.channel == Channel::Email;
    ConfirmPage {
        by_email,
        who,
        email_sent_text: fill(
            ctx.tr.email_sent,
            local_time(state, view.secret_expires_at, &ctx),
        ),
        step: CodeStep::new(
            state,
            &ctx,
            CodeActions {
                confirm: "/register/confirm".into(),
                submit_label: ctx.tr.continue_button,
                resend: "/register/resend".into(),
            },
            ctx.tr.resend_email,
            ctx.tr.code_valid_until,
            &SecretClock {
                by_email,
                expires_at: view.secret_expires_at,
                resend_at: view.resend_at,
                attempts_left: view.attempts_left,
            },
        ),
        notice,
        errors,
        tr: ctx.tr,
        chrome: ctx.chrome,
    }
}

#[derive(Deserialize)]
struct ConfirmQuery {
    sent: Option<String>,
}

async fn confirm_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<ConfirmQuery>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    if view.confirmed {
        return Ok(see_other("/register/password"));
    }
    let notice = q
        .sent
        .is_some()
        .then_some(if view.channel == Channel::Email {
            ctx.tr.new_letter_sent
        } else {
            ctx.tr.new_code_sent
        });
    Ok(render(
        StatusCode::OK,
        &confirm_page(&state, ctx, &view, notice, FieldErrors::new()),
    ))
}

#[derive(Deserialize)]
struct CodeForm {
    code: Option<String>,
}

async fn confirm_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    let code = form.code.unwrap_or_default();
    match state
        .accounts
        .confirm(view.id, Confirmation::Code(code))
        .await
    {
        Ok(continuation) => Ok(continue_registration(&state, view.id, &continuation.token)),
        Err(e) => {
            let fields = PageError::form_fields(
                ctx.lang.0,
                input::registration_answer(ctx.tr, state.accounts.now(), &e),
            )?;
            let view = current_registration(&state, &ctx, &headers).await?;
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &confirm_page(&state, ctx, &view, None, fields),
            ))
        }
    }
}

async fn resend_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    match state.accounts.resend(view.id, ip).await {
        Ok(_) => Ok(see_other("/register/confirm?sent=1")),
        Err(RegistrationError::RateLimited { retry_at }) => {
            Ok(resend_refused(&state, ctx.tr, retry_at, |errors| {
                confirm_page(&state, ctx, &view, None, errors)
            }))
        }
        Err(e) => Err(registration_error_page(&ctx, e, &state)),
    }
}
