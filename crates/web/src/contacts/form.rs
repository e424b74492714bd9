//! The forms «Изменить телефон» and «Изменить почту»: the new value, the
//! password, and the second factor's code when it is on.
use askama::Template;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::second_factor::FactorStatus;
use uslugi_domain::FactorMethod;

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, render, see_other};

use super::{Kind, contact_change_answer, parse_contact};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/contacts/phone",
            routing::get(phone_form).post(phone_submit),
        )
        .route(
            "/me/contacts/email",
            routing::get(email_form).post(email_submit),
        )
}

#[derive(Template)]
#[template(path = "me_contact.html")]
struct FormPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_phone: bool,
    action: &'static str,
    value: String,
    /// «Вход с подтверждением» is on: its code is asked too (by SMS: after
    /// «Получить код в SMS»).
    factor: Option<FactorMethod>,
    sent_note: Option<String>,
    errors: FieldErrors,
}

const fn action_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Phone => "/me/contacts/phone",
        Kind::Email => "/me/contacts/email",
    }
}

fn form_page(
    ctx: Ctx,
    kind: Kind,
    value: String,
    factor: &FactorStatus,
    errors: FieldErrors,
) -> FormPage {
    FormPage {
        tr: ctx.tr,
        chrome: ctx.chrome,
        by_phone: kind == Kind::Phone,
        action: action_of(kind),
        value,
        factor: factor.method,
        sent_note: None,
        errors,
    }
}

async fn factor_of(
    state: &AppState,
    ctx: &Ctx,
    account: uslugi_domain::AccountId,
) -> Result<FactorStatus, PageError> {
    state
        .accounts
        .second_factor_status(account)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))
}

async fn show_form(
    state: &AppState,
    ctx: Ctx,
    headers: &HeaderMap,
    kind: Kind,
    sent: bool,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, action_of(kind));
    let factor = factor_of(state, &ctx, session.account_id).await?;
    let sent_note = factor
        .phone
        .as_ref()
        .filter(|_| sent && factor.method == Some(FactorMethod::Sms))
        .map(|p| fill(ctx.tr.factor.code_sent_to, p));
    let mut page = form_page(ctx, kind, String::new(), &factor, FieldErrors::new());
    page.sent_note = sent_note;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SentQuery {
    sent: Option<String>,
}

async fn phone_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<SentQuery>,
) -> Result<Response, PageError> {
    show_form(&state, ctx, &headers, Kind::Phone, q.sent.is_some()).await
}

async fn email_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<SentQuery>,
) -> Result<Response, PageError> {
    show_form(&state, ctx, &headers, Kind::Email, q.sent.is_some()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StartInput {
    phone: String,
    email: String,
    password: String,
    code: String,
}

async fn submit(
    state: &AppState,
    ctx: Ctx,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
    kind: Kind,
    input: StartInput,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, action_of(kind));
    let value = match kind {
        Kind::Phone => input.phone,
        Kind::Email => input.email,
    };
    let factor = factor_of(state, &ctx, session.account_id).await?;
    let parsed = parse_contact(ctx.tr, kind, &value);
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    if input.password.is_empty() {
        errors.insert("password".into(), ctx.tr.err_required.into());
    }
    if factor.method.is_some() && input.code.trim().is_empty() {
        errors.insert("code".into(), ctx.tr.factor.err_code.into());
    }
    let contact = match parsed {
        Ok(c) if errors.is_empty() => c,
        _ => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(ctx, kind, value, &factor, errors),
            ));
        }
    };
    match state
        .accounts
        .start_contact_change(
            session.account_id,
            contact,
            &input.password,
            Some(&input.code),
            ctx.lang.0,
            ip,
        )
        .await
    {
        Ok(s) => Ok(see_other(&format!("/me/contacts/changes/{}", s.id))),
        Err(e) => {
            let fields = PageError::form_fields(
                ctx.lang.0,
                contact_change_answer(ctx.tr, state.accounts.now(), &e),
            )?;
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(ctx, kind, value, &factor, fields),
            ))
        }
    }
}

async fn phone_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<StartInput>,
) -> Result<Response, PageError> {
    submit(&state, ctx, &headers, ip, Kind::Phone, input).await
}

async fn email_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<StartInput>,
) -> Result<Response, PageError> {
    submit(&state, ctx, &headers, ip, Kind::Email, input).await
}
