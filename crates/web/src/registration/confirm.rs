//! The code's page: the code from the SMS (or the letter's wait), a new
//! code, the countdown.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{Confirmation, Contact, RegistrationError, RegistrationView};
use uslugi_domain::Channel;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, CodeClock, CodeStep, Ctx, EmptyForm, local_time, render, see_other};

use super::{continue_registration, current_registration, input, registration_error_page};

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
    let who = match &view.contact {
        Contact::Phone(p) => format!("{} {}, {}", view.surname, view.given_name, p),
        Contact::Email(e) => format!("{} {}, {}", view.surname, view.given_name, e.as_str()),
    };
    let by_email = view.channel == Channel::Email;
    ConfirmPage {
        by_email,
        who,
        email_sent_text: fill(
            ctx.tr.email_sent,
            local_time(state, view.secret_expires_at, &ctx),
        ),
        step: CodeStep {
            confirm_action: "/register/confirm".into(),
            submit_label: ctx.tr.continue_button,
            resend_action: "/register/resend".into(),
            resend_label: if by_email {
                ctx.tr.resend_email
            } else {
                ctx.tr.resend_code
            },
            valid_until_text: fill(
                ctx.tr.code_valid_until,
                local_time(state, view.secret_expires_at, &ctx),
            ),
            clock: CodeClock::new(
                state,
                &ctx,
                by_email,
                (view.secret_expires_at, view.resend_at),
                view.attempts_left == 0,
            ),
        },
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
            let answer = input::registration_answer(ctx.tr, state.accounts.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            let view = current_registration(&state, &ctx, &headers).await?;
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &confirm_page(&state, ctx, &view, None, answer.fields),
            ))
        }
    }
}

async fn resend_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    match state.accounts.resend(view.id, ip).await {
        Ok(_) => Ok(see_other("/register/confirm?sent=1")),
        Err(RegistrationError::RateLimited { retry_at }) => {
            let secs = (retry_at - state.accounts.now()).whole_seconds().max(1);
            let mut errors = FieldErrors::new();
            errors.insert("resend".into(), fill(ctx.tr.too_many, secs));
            let mut response = render(
                StatusCode::TOO_MANY_REQUESTS,
                &confirm_page(&state, ctx, &view, None, errors),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
            Ok(response)
        }
        Err(e) => Err(registration_error_page(&ctx, e, &state)),
    }
}
