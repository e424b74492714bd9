//! The change's code page: the code sent to the new phone (or the wait
//! for the letter to the new address), a new code.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::contacts::{ContactChangeError, ContactChangeView};
use uslugi_app::{Confirmation, Contact};
use uslugi_domain::Channel;

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, CodeClock, CodeStep, Ctx, EmptyForm, local_time, render, see_other};

use super::{changed_query, contact_change_answer, page_error};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/contacts/changes/{id}", routing::get(confirm_form))
        .route(
            "/me/contacts/changes/{id}/confirm",
            routing::post(confirm_submit),
        )
        .route(
            "/me/contacts/changes/{id}/resend",
            routing::post(resend_submit),
        )
}

#[derive(Template)]
#[template(path = "me_contact_confirm.html")]
struct ConfirmPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_email: bool,
    sent_text: String,
    step: CodeStep,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

fn confirm_page(
    state: &AppState,
    ctx: Ctx,
    view: &ContactChangeView,
    notice: Option<&'static str>,
    errors: FieldErrors,
) -> ConfirmPage {
    let by_email = view.channel == Channel::Email;
    let c = ctx.tr.contacts;
    let sent_text = match &view.new_contact {
        Contact::Phone(p) => fill(c.code_sent, p),
        Contact::Email(e) => fill(c.letter_sent, e.as_str()),
    };
    ConfirmPage {
        by_email,
        sent_text,
        step: CodeStep {
            confirm_action: format!("/me/contacts/changes/{}/confirm", view.id),
            submit_label: c.confirm,
            resend_action: format!("/me/contacts/changes/{}/resend", view.id),
            resend_label: if by_email {
                c.resend_letter
            } else {
                ctx.tr.resend_code
            },
            valid_until_text: fill(
                c.valid_until,
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

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmQuery {
    sent: Option<String>,
}

fn page_id(ctx: &Ctx, id: &str) -> Result<uuid::Uuid, PageError> {
    id.parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, ctx.lang.0, ctx.tr.contacts.err_gone))
}

async fn confirm_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ConfirmQuery>,
) -> Result<Response, PageError> {
    let here = format!("/me/contacts/changes/{id}");
    let session = citizen_or_login!(state, ctx, headers, &here);
    let id = page_id(&ctx, &id)?;
    let view = state
        .accounts
        .contact_change(session.account_id, id)
        .await
        .map_err(|e| page_error(&ctx, &state, e))?;
    let notice = q
        .sent
        .is_some()
        .then_some(if view.channel == Channel::Email {
            ctx.tr.contacts.new_letter_sent
        } else {
            ctx.tr.new_code_sent
        });
    Ok(render(
        StatusCode::OK,
        &confirm_page(&state, ctx, &view, notice, FieldErrors::new()),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeInput {
    code: String,
}

async fn confirm_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<CodeInput>,
) -> Result<Response, PageError> {
    let here = format!("/me/contacts/changes/{id}");
    let session = citizen_or_login!(state, ctx, headers, &here);
    let id = page_id(&ctx, &id)?;
    match state
        .accounts
        .confirm_contact_change(session.account_id, id, Confirmation::Code(input.code))
        .await
    {
        Ok(contact) => Ok(see_other(changed_query(&contact))),
        Err(e) => {
            let answer = contact_change_answer(ctx.tr, state.accounts.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            let view = state
                .accounts
                .contact_change(session.account_id, id)
                .await
                .map_err(|e| page_error(&ctx, &state, e))?;
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
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let here = format!("/me/contacts/changes/{id}");
    let session = citizen_or_login!(state, ctx, headers, &here);
    let id = page_id(&ctx, &id)?;
    match state
        .accounts
        .resend_contact_change(session.account_id, id, ip)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/me/contacts/changes/{id}?sent=1"))),
        Err(ContactChangeError::RateLimited { retry_at }) => {
            let view = state
                .accounts
                .contact_change(session.account_id, id)
                .await
                .map_err(|e| page_error(&ctx, &state, e))?;
            let secs = (retry_at - state.accounts.now()).whole_seconds().max(1);
            let mut errors = FieldErrors::new();
            errors.insert("resend".into(), fill(ctx.tr.too_many, secs));
            let mut response = render(
                StatusCode::TOO_MANY_REQUESTS,
                &confirm_page(&state, ctx, &view, None, errors),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            Ok(response)
        }
        Err(e) => Err(page_error(&ctx, &state, e)),
    }
}
