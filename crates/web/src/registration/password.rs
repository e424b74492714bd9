//! The registration's last step: the password, then «Поздравляем!».
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{Contact, RegistrationError};
use uslugi_domain::{PasswordContext, assess_password};

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{
    CsrfForm, REGISTRATION_CONTINUE_COOKIE, REGISTRATION_COOKIE, clear_cookie, cookie,
};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, render, see_other};

use super::{current_registration, input, registration_error_page};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/register/password",
            routing::get(password_form).post(password_submit),
        )
        .route("/register/done", routing::get(done))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    tr: &'static Tr,
    chrome: Chrome,
    strength: Option<&'static str>,
    errors: FieldErrors,
}

async fn password_form(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    if !view.confirmed {
        return Ok(see_other("/register/confirm"));
    }
    // Confirmed elsewhere (the link pressed in another browser): this
    // browser only started the registration and cannot finish it.
    if cookie(&headers, REGISTRATION_CONTINUE_COOKIE).is_none() {
        return Err(registration_error_page(
            &ctx,
            RegistrationError::ContinuationRequired,
            &state,
        ));
    }
    Ok(render(
        StatusCode::OK,
        &PasswordPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            strength: None,
            errors: FieldErrors::new(),
        },
    ))
}

#[derive(Deserialize)]
struct PasswordForm {
    password: Option<String>,
    password_confirmation: Option<String>,
}

async fn password_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    let password = form.password.unwrap_or_default();
    let confirmation = form.password_confirmation.unwrap_or_default();
    match state
        .accounts
        .set_password(
            view.id,
            cookie(&headers, REGISTRATION_CONTINUE_COOKIE),
            &password,
            &confirmation,
        )
        .await
    {
        Ok(_) => {
            let mut response = see_other("/register/done");
            let h = response.headers_mut();
            h.append(header::SET_COOKIE, clear_cookie(REGISTRATION_COOKIE));
            h.append(
                header::SET_COOKIE,
                clear_cookie(REGISTRATION_CONTINUE_COOKIE),
            );
            Ok(response)
        }
        Err(e) => {
            let fields = PageError::form_fields(
                ctx.lang.0,
                input::registration_answer(ctx.tr, state.accounts.now(), &e),
            )?;
            let (phone, email) = match &view.contact {
                Contact::Phone(p) => (Some(p), None),
                Contact::Email(e) => (None, Some(e)),
            };
            let assessed = assess_password(
                &password,
                &PasswordContext {
                    surname: Some(&view.surname),
                    given_name: Some(&view.given_name),
                    phone,
                    email,
                },
            );
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    strength: (!password.is_empty()).then(|| ctx.tr.strength(assessed.strength)),
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    errors: fields,
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "done.html")]
struct DonePage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn done(Ctx { tr, chrome, .. }: Ctx) -> Response {
    render(StatusCode::OK, &DonePage { tr, chrome })
}
