//! The change's code page: the code sent to the new phone (or the wait
//! for the letter to the new address), a new code.
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::contacts::{ContactChangeError, ContactChangeView};
use uslugi_app::{Confirmation, Contact};
use uslugi_domain::{AccountId, Channel};

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::{Tr, fill};
use crate::page::{
    Chrome, CodeActions, CodeStep, Ctx, EmptyForm, Page, SecretClock, render, resend_refused,
    see_other,
};

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
        step: CodeStep::new(
            state,
            &ctx,
            CodeActions {
                confirm: format!("/me/contacts/changes/{}/confirm", view.id),
                submit_label: c.confirm,
                resend: format!("/me/contacts/changes/{}/resend", view.id),
            },
            c.resend_letter,
            c.valid_until,
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

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmQuery {
    sent: Option<String>,
}

fn page_id(ctx: &Ctx, id: &str) -> Result<uuid::Uuid, PageError> {
    id.parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, ctx.lang.0, ctx.tr.contacts.err_gone))
}

/// The change the page is about, or the page that says why there is none.
async fn change_view(
    state: &AppState,
    ctx: &Ctx,
    account: AccountId,
    id: uuid::Uuid,
) -> Result<ContactChangeView, PageError> {
    state
        .accounts
        .contact_change(account, id)
        .await
        .map_err(|e| page_error(ctx, state, e))
}

async fn confirm_form(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    Query(q): Query<ConfirmQuery>,
) -> Result<Response, PageError> {
    let here = format!("/me/contacts/changes/{id}");
    let session = citizen_or_login!(state, ctx, headers, &here);
    let id = page_id(&ctx, &id)?;
    let view = change_view(&state, &ctx, session.account_id, id).await?;
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
    Page(state, ctx, headers): Page,
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
            let fields = PageError::form_fields(
                ctx.lang.0,
                contact_change_answer(ctx.tr, state.accounts.now(), &e),
            )?;
            let view = change_view(&state, &ctx, session.account_id, id).await?;
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
            let view = change_view(&state, &ctx, session.account_id, id).await?;
            Ok(resend_refused(&state, ctx.tr, retry_at, |errors| {
                confirm_page(&state, ctx, &view, None, errors)
            }))
        }
        Err(e) => Err(page_error(&ctx, &state, e)),
    }
}
