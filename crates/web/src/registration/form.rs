//! The registration form: name, surname and a phone or an e-mail.
use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{Contact, StartRegistration};

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm, REGISTRATION_COOKIE, set_cookie};
use crate::i18n::Tr;
use crate::page::{Chrome, Page, render};

use super::input::{self, RegistrationInput};
use super::{registration_error_page, registration_id};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/register",
        routing::get(register_form).post(register_submit),
    )
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_email: bool,
    values: RegistrationInput,
    errors: FieldErrors,
}

#[derive(Deserialize)]
struct RegisterQuery {
    via: Option<String>,
    edit: Option<String>,
}

async fn register_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<RegisterQuery>,
) -> Response {
    let mut values = RegistrationInput::default();
    let mut by_email = q.via.as_deref() == Some("email");
    // «Изменить данные»: back to the form with what was entered.
    if q.edit.is_some()
        && let Some(id) = registration_id(&headers)
        && let Ok(view) = state.accounts.registration(id).await
    {
        values.surname = Some(view.surname.as_str().to_owned());
        values.given_name = Some(view.given_name.as_str().to_owned());
        match view.contact {
            Contact::Phone(p) => {
                values.phone = Some(p.to_string());
                by_email = q.via.as_deref() == Some("email");
            }
            Contact::Email(e) => {
                values.email = Some(e.as_str().to_owned());
                by_email = q.via.as_deref() != Some("phone");
            }
        }
        values.accept_terms = Some(true);
    }
    render(
        StatusCode::OK,
        &RegisterPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            by_email,
            values,
            errors: FieldErrors::new(),
        },
    )
}

async fn register_submit(
    Page(state, ctx, _): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<RegistrationInput>,
) -> Result<Response, PageError> {
    let by_email = input.email.is_some();
    let parsed = match input::parse_registration(ctx.tr, &input) {
        Ok(p) => p,
        Err(errors) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage {
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    by_email,
                    values: input,
                    errors,
                },
            ));
        }
    };
    let started = state
        .accounts
        .start_registration(StartRegistration {
            surname: parsed.surname,
            given_name: parsed.given_name,
            contact: parsed.contact,
            lang: ctx.lang.0,
            client_ip: ip,
        })
        .await
        .map_err(|e| registration_error_page(&ctx, e, &state))?;
    let max_age = state.accounts.policy().registration_ttl.whole_seconds();
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(REGISTRATION_COOKIE, &started.id.to_string(), Some(max_age)),
        )],
        Redirect::to("/register/confirm"),
    )
        .into_response())
}
