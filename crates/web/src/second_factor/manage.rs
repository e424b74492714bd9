//! Turning the factor off and renewing the backup codes: the password and
//! a code, with «Получить код в SMS» for an SMS factor.
use askama::Template;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{FactorError, Lang};
use uslugi_domain::FactorMethod;

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, no_store, render, see_other};

use super::{SECURITY, codes_page, field_error};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/security/second-factor/off",
            routing::get(off_form).post(off_submit),
        )
        .route(
            "/me/security/second-factor/backup-codes",
            routing::get(renew_form).post(renew_submit),
        )
        .route(
            "/me/security/second-factor/code",
            routing::post(manage_code_submit),
        )
}

/// Turning the factor off and renewing the backup codes share one page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Manage {
    Off,
    Renew,
}

#[derive(Template)]
#[template(path = "factor_manage.html")]
struct ManagePage {
    tr: &'static Tr,
    chrome: Chrome,
    title: &'static str,
    intro: &'static str,
    action: &'static str,
    submit: &'static str,
    sms: bool,
    sent_note: Option<String>,
    errors: FieldErrors,
}

impl Manage {
    fn path(self) -> &'static str {
        match self {
            Self::Off => "/me/security/second-factor/off",
            Self::Renew => "/me/security/second-factor/backup-codes",
        }
    }
}

async fn manage_page(
    state: &AppState,
    ctx: &Ctx,
    account: uslugi_domain::AccountId,
    which: Manage,
    status: StatusCode,
    sent_to: Option<String>,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let s = state
        .accounts
        .second_factor_status(account)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let Some(method) = s.method else {
        return Ok(see_other(SECURITY));
    };
    let f = ctx.tr.factor;
    let (title, intro, submit) = match which {
        Manage::Off => (f.turn_off_title, f.turn_off_intro, f.turn_off),
        Manage::Renew => (f.renew_title, f.renew_intro, f.renew),
    };
    Ok(no_store(render(
        status,
        &ManagePage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            title,
            intro,
            action: which.path(),
            submit,
            sms: method == FactorMethod::Sms,
            sent_note: sent_to.map(|to| fill(f.code_sent_to, to)),
            errors,
        },
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SentQuery {
    sent: Option<String>,
}

async fn manage_form(
    state: AppState,
    ctx: Ctx,
    headers: HeaderMap,
    which: Manage,
    sent: bool,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, which.path());
    let sent_to = if sent {
        state
            .accounts
            .second_factor_status(session.account_id)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?
            .phone
    } else {
        None
    };
    manage_page(
        &state,
        &ctx,
        session.account_id,
        which,
        StatusCode::OK,
        sent_to,
        FieldErrors::new(),
    )
    .await
}

async fn off_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<SentQuery>,
) -> Result<Response, PageError> {
    manage_form(state, ctx, headers, Manage::Off, q.sent.is_some()).await
}

async fn renew_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<SentQuery>,
) -> Result<Response, PageError> {
    manage_form(state, ctx, headers, Manage::Renew, q.sent.is_some()).await
}

#[derive(Deserialize)]
struct ManageForm {
    password: Option<String>,
    code: Option<String>,
}

async fn manage_submit(
    state: AppState,
    ctx: Ctx,
    headers: HeaderMap,
    which: Manage,
    form: ManageForm,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, which.path());
    let password = form.password.unwrap_or_default();
    let code = form.code.unwrap_or_default();
    let mut errors = FieldErrors::new();
    if password.is_empty() {
        errors.insert("password".into(), ctx.tr.err_required.into());
    }
    if code.trim().is_empty() {
        errors.insert("code".into(), ctx.tr.factor.err_code.into());
    }
    if errors.is_empty() {
        let account = session.account_id;
        let lang: Lang = ctx.lang.0;
        let result = match which {
            Manage::Off => state
                .accounts
                .disable_second_factor(account, &password, &code, lang)
                .await
                .map(|()| None),
            Manage::Renew => state
                .accounts
                .renew_backup_codes(account, &password, &code, lang)
                .await
                .map(Some),
        };
        match result {
            Ok(None) => return Ok(see_other("/me/security?factor=off")),
            Ok(Some(codes)) => return Ok(codes_page(&ctx, ctx.tr.factor.renewed, codes)),
            Err(FactorError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
            Err(FactorError::NotOn) => return Ok(see_other(SECURITY)),
            Err(FactorError::CodeExpired) if code.trim().len() == 6 => {
                errors.insert("code".into(), ctx.tr.factor.err_send_first.into());
            }
            Err(e) => {
                errors.extend(field_error(ctx.tr, &state, &e));
            }
        }
    }
    manage_page(
        &state,
        &ctx,
        session.account_id,
        which,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        errors,
    )
    .await
}

async fn off_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> Result<Response, PageError> {
    manage_submit(state, ctx, headers, Manage::Off, form).await
}

async fn renew_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> Result<Response, PageError> {
    manage_submit(state, ctx, headers, Manage::Renew, form).await
}

#[derive(Deserialize)]
struct ManageCodeForm {
    back: Option<String>,
}

/// «Получить код в SMS» on the off and backup-codes pages.
async fn manage_code_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ManageCodeForm>,
) -> Result<Response, PageError> {
    // The contact pages ask for the code too (a new phone needs the
    // factor's consent) and come back here for it.
    let contact_page = match form.back.as_deref() {
        Some("contact-phone") => Some("/me/contacts/phone"),
        Some("contact-email") => Some("/me/contacts/email"),
        Some("delete") => Some("/me/delete"),
        _ => None,
    };
    let which = if form.back.as_deref() == Some("backup-codes") {
        Manage::Renew
    } else {
        Manage::Off
    };
    let session = citizen_or_login!(state, ctx, headers, which.path());
    // Back to the page that asked, which tells that the code is sent.
    let sent = || see_other(&format!("{}?sent=1", contact_page.unwrap_or(which.path())));
    match state
        .accounts
        .send_manage_code(session.account_id, ctx.lang.0, ip)
        .await
    {
        Ok(_) => Ok(sent()),
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotOn) => Ok(see_other(SECURITY)),
        // Asked twice within the minute: the first code is on its way.
        Err(FactorError::TooEarly { .. }) if contact_page.is_some() => Ok(sent()),
        Err(e) => {
            let errors: FieldErrors = field_error(ctx.tr, &state, &e).into_iter().collect();
            manage_page(
                &state,
                &ctx,
                session.account_id,
                which,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                errors,
            )
            .await
        }
    }
}
