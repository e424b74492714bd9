//! The new address's e-mail link: a page with a button, and the button.
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use uslugi_app::Contact;
use uslugi_app::contacts::ContactChangeError;

use crate::AppState;
use crate::error::PageError;
use crate::http::{CsrfForm, session_token};
use crate::page::{Ctx, LinkToken, Page, render, see_other};

use super::{changed_query, contact_change_answer, page_error};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/me/contacts/confirm-email",
        routing::get(email_link).post(email_link_submit),
    )
}

/// The new address's link. It may be opened in another browser, or before
/// logging in: the token alone names the change, and works once.
/// The e-mail's link: the page names the new address and shows a button;
/// opening it (a person, or a mail scanner) changes nothing.
async fn email_link(
    Page(state, ctx, _): Page,
    Query(q): Query<LinkToken>,
) -> Result<Response, PageError> {
    match state.accounts.contact_change_by_link(&q.token).await {
        Ok(contact) => Ok(render(
            StatusCode::OK,
            &crate::page::LinkConfirmPage {
                lead: ctx.tr.link_confirm_contact,
                tr: ctx.tr,
                chrome: ctx.chrome,
                who: Some(match contact {
                    Contact::Email(e) => e.as_str().to_owned(),
                    Contact::Phone(p) => p.to_string(),
                }),
                action: "/me/contacts/confirm-email",
                token: q.token,
            },
        )),
        Err(e) => link_error(&ctx, &state, e),
    }
}

/// «Подтвердить» on the link's page.
async fn email_link_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(form): CsrfForm<LinkToken>,
) -> Result<Response, PageError> {
    match state
        .accounts
        .confirm_contact_change_link(&form.token)
        .await
    {
        Ok((account, contact)) => {
            // Logged in as that account here: back to «Мои данные».
            let here = match session_token(&headers) {
                Some(token) => state
                    .accounts
                    .authenticate(&token)
                    .await
                    .map_err(|e| PageError::internal(ctx.lang.0, &e))?
                    .is_some_and(|s| s.account_id == account && !s.must_change_password),
                None => false,
            };
            if here {
                return Ok(see_other(changed_query(&contact)));
            }
            let page = crate::error::MessagePage {
                tr: ctx.tr,
                title: ctx.tr.contacts.email_title.to_owned(),
                message: ctx.tr.contacts.email_changed.to_owned(),
                link: Some((
                    "/login?next=%2Fme".to_owned(),
                    ctx.tr.contacts.changed_log_in.to_owned(),
                )),
                chrome: ctx.chrome,
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => link_error(&ctx, &state, e),
    }
}

fn link_error(ctx: &Ctx, state: &AppState, e: ContactChangeError) -> Result<Response, PageError> {
    match e {
        ContactChangeError::LinkInvalid | ContactChangeError::LinkExpired => {
            let page = crate::error::MessagePage {
                tr: ctx.tr,
                title: ctx.tr.link_invalid_title.to_owned(),
                message: contact_change_answer(ctx.tr, state.accounts.now(), &e)
                    .fields
                    .remove("token")
                    .unwrap_or_default(),
                link: Some((
                    "/me/contacts/email".to_owned(),
                    ctx.tr.contacts.start_again.to_owned(),
                )),
                chrome: ctx.chrome.clone(),
            };
            Ok(render(StatusCode::GONE, &page))
        }
        e => Err(page_error(ctx, state, e)),
    }
}
