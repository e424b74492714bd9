//! Registration of a simplified account: the form, the code or the
//! e-mail link, then the password; the pages `/register…` and
//! `/api/v1/registrations…`.
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use uslugi_app::{RegistrationError, RegistrationView};
use uslugi_domain::RegistrationId;

use crate::AppState;
use crate::error::PageError;
use crate::http::{REGISTRATION_CONTINUE_COOKIE, REGISTRATION_COOKIE, cookie, set_cookie};
use crate::page::{Ctx, see_other};

mod api;
mod confirm;
mod email_link;
mod form;
pub mod input;
mod password;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(form::routes())
        .merge(confirm::routes())
        .merge(email_link::routes())
        .merge(password::routes())
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}

fn registration_id(headers: &HeaderMap) -> Option<RegistrationId> {
    cookie(headers, REGISTRATION_COOKIE).and_then(|v| v.parse().ok())
}

fn registration_error_page(ctx: &Ctx, e: RegistrationError, state: &AppState) -> PageError {
    PageError::from_answer(
        ctx.lang.0,
        input::registration_answer(ctx.tr, state.accounts.now(), &e),
    )
}

async fn current_registration(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
) -> Result<RegistrationView, PageError> {
    let id = registration_id(headers).ok_or_else(|| {
        PageError::new(StatusCode::NOT_FOUND, ctx.lang.0, ctx.tr.registration_gone)
    })?;
    state
        .accounts
        .registration(id)
        .await
        .map_err(|e| registration_error_page(ctx, e, state))
}

/// The browser that confirmed takes the registration on: its id and the
/// continuation, both as cookies only this browser holds.
fn continue_registration(state: &AppState, id: RegistrationId, continuation: &str) -> Response {
    let max_age = state.accounts.policy().registration_ttl.whole_seconds();
    let mut response = see_other("/register/password");
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(REGISTRATION_COOKIE, &id.to_string(), Some(max_age)),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(
            REGISTRATION_CONTINUE_COOKIE,
            continuation,
            Some(uslugi_app::challenge::CONTINUATION_TTL.whole_seconds()),
        ),
    );
    response
}

/// Who registers, as the code's and the link's pages name them: the
/// name and the contact the code or the letter went to.
fn who_registers(view: &RegistrationView) -> String {
    let contact = match &view.contact {
        uslugi_app::Contact::Phone(p) => p.to_string(),
        uslugi_app::Contact::Email(e) => e.as_str().to_owned(),
    };
    format!("{} {}, {}", view.surname, view.given_name, contact)
}
