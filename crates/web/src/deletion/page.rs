//! The page «Удаление учётной записи»: what goes and what stays, the
//! password and (with a second factor) its code; after it, the date.
use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{DeletionError, FactorError};
use uslugi_domain::FactorMethod;

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::{CsrfForm, SESSION_COOKIE, clear_cookie};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, local_time, no_store, render};

use super::deletion_answer;

const HERE: &str = "/me/delete";

pub fn routes() -> Router<AppState> {
    Router::new().route(HERE, routing::get(form).post(submit))
}

#[derive(Template)]
#[template(path = "delete_account.html")]
struct DeletePage {
    tr: &'static Tr,
    chrome: Chrome,
    /// The account has a second factor: its code is asked.
    factor: bool,
    /// The factor sends SMS codes: «Получить код» is offered.
    sms: bool,
    sent_note: Option<String>,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "delete_scheduled.html")]
struct ScheduledPage {
    tr: &'static Tr,
    chrome: Chrome,
    text: String,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    account: uslugi_domain::AccountId,
    status: StatusCode,
    sent: bool,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let s = state
        .accounts
        .second_factor_status(account)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let sent_note = s
        .phone
        .clone()
        .filter(|_| sent)
        .map(|to| fill(ctx.tr.factor.code_sent_to, to));
    Ok(no_store(render(
        status,
        &DeletePage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            factor: s.method.is_some(),
            sms: s.method == Some(FactorMethod::Sms),
            sent_note,
            errors,
        },
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SentQuery {
    sent: Option<String>,
}

async fn form(
    Page(state, ctx, headers): Page,
    Query(q): Query<SentQuery>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, HERE);
    page(
        &state,
        &ctx,
        session.account_id,
        StatusCode::OK,
        q.sent.is_some(),
        FieldErrors::new(),
    )
    .await
}

#[derive(Deserialize)]
struct DeleteForm {
    password: Option<String>,
    code: Option<String>,
}

async fn submit(
    Page(state, ctx, headers): Page,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, HERE);
    let password = form.password.unwrap_or_default();
    let mut errors = FieldErrors::new();
    if password.is_empty() {
        errors.insert("password".into(), ctx.tr.err_required.into());
    } else {
        let asked = state
            .accounts
            .request_deletion(
                session.account_id,
                &password,
                form.code.as_deref(),
                ctx.lang.0,
            )
            .await;
        match asked {
            Ok(pending) => {
                let when = local_time(&state, pending.erase_after, &ctx);
                let done = ScheduledPage {
                    tr: ctx.tr,
                    chrome: Chrome {
                        logged_in: false,
                        ..ctx.chrome.clone()
                    },
                    text: fill(ctx.tr.deletion.scheduled_text, when),
                };
                // Every session has ended, this browser's too.
                let mut response = no_store(render(StatusCode::OK, &done));
                response
                    .headers_mut()
                    .insert(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
                return Ok(response.into_response());
            }
            Err(DeletionError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
            // An SMS code asked for with «Получить код» first.
            Err(DeletionError::Proof(FactorError::CodeExpired))
                if form.code.as_deref().is_some_and(|c| c.trim().len() == 6) =>
            {
                errors.insert("code".into(), ctx.tr.factor.err_send_first.into());
            }
            // Beside the field it names; an answer about none (asked
            // already) is a page of its own.
            Err(e) => errors.extend(PageError::form_fields(
                ctx.lang.0,
                deletion_answer(ctx.tr, state.accounts.now(), &e),
            )?),
        }
    }
    page(
        &state,
        &ctx,
        session.account_id,
        StatusCode::UNPROCESSABLE_ENTITY,
        false,
        errors,
    )
    .await
}
