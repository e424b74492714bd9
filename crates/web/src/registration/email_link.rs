//! The e-mail's link: a page with a button, and the button, after which
//! this browser continues to the password.
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use uslugi_app::{Confirmation, RegistrationError};

use crate::AppState;
use crate::error::PageError;
use crate::http::CsrfForm;
use crate::page::{Ctx, LinkConfirmPage, LinkToken, Page, render};

use super::{continue_registration, registration_error_page, who_registers};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/register/confirm-email",
        routing::get(confirm_email_link).post(confirm_email_submit),
    )
}

/// What an e-mail link's page and its button answer when the link does
/// not confirm: a page of its own when the link is no good, else the
/// registration's error page.
fn link_refused(state: &AppState, ctx: Ctx, e: RegistrationError) -> Result<Response, PageError> {
    match e {
        RegistrationError::LinkInvalid
        | RegistrationError::LinkExpired
        | RegistrationError::NotFound => Ok(link_gone(ctx, &e)),
        e => Err(registration_error_page(&ctx, e, state)),
    }
}

/// What an e-mail link's page shows when the link is no good.
fn link_gone(ctx: Ctx, e: &RegistrationError) -> Response {
    let message = if matches!(e, RegistrationError::LinkExpired) {
        ctx.tr.link_expired
    } else {
        ctx.tr.link_invalid
    };
    let page = crate::error::MessagePage {
        tr: ctx.tr,
        title: ctx.tr.link_invalid_title.to_owned(),
        message: message.to_owned(),
        link: Some((
            "/register?via=email".to_owned(),
            ctx.tr.register_again.to_owned(),
        )),
        chrome: ctx.chrome,
    };
    render(StatusCode::GONE, &page)
}

async fn confirm_email_link(
    Page(state, ctx, _): Page,
    Query(q): Query<LinkToken>,
) -> Result<Response, PageError> {
    let token = q.token;
    match state.accounts.registration_by_link(&token).await {
        Ok(view) => Ok(render(
            StatusCode::OK,
            &LinkConfirmPage {
                lead: ctx.tr.link_confirm_registration,
                tr: ctx.tr,
                chrome: ctx.chrome,
                who: Some(who_registers(&view)),
                action: "/register/confirm-email",
                token,
            },
        )),
        Err(e) => link_refused(&state, ctx, e),
    }
}

/// «Подтвердить» on the link's page: confirms, and this browser continues.
async fn confirm_email_submit(
    Page(state, ctx, _): Page,
    CsrfForm(form): CsrfForm<LinkToken>,
) -> Result<Response, PageError> {
    let token = form.token;
    let result = match state.accounts.registration_by_link(&token).await {
        Ok(view) => state
            .accounts
            .confirm(view.id, Confirmation::Token(token))
            .await
            .map(|c| (view.id, c)),
        Err(e) => Err(e),
    };
    match result {
        Ok((id, continuation)) => Ok(continue_registration(&state, id, &continuation.token)),
        Err(e) => link_refused(&state, ctx, e),
    }
}
