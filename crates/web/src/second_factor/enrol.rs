//! Turning the factor on: the method and the password, then the first
//! code (and, for an app, its QR code), then the backup codes.
use askama::Template;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::FactorError;
use uslugi_app::second_factor::EnrolStep;
use uslugi_domain::{FactorMethod, Token};

use crate::AppState;
use crate::auth::{Signed, citizen_or_login, signed_in};
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, no_store, render, see_other};

use super::{CodeForm, ENROL_START, SECURITY, codes_page, field_error};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(ENROL_START, routing::get(on_form).post(on_submit))
        .route(
            "/me/security/second-factor/enrol/{id}",
            routing::get(enrol_form).post(enrol_submit),
        )
        .route(
            "/me/security/second-factor/enrol/{id}/resend",
            routing::post(enrol_resend),
        )
}

#[derive(Template)]
#[template(path = "factor_on.html")]
struct OnPage {
    tr: &'static Tr,
    chrome: Chrome,
    /// «Код в SMS на номер …», when the account has a phone.
    sms_label: Option<String>,
    method: String,
    errors: FieldErrors,
}

async fn on_form(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, ENROL_START);
    let status = state
        .accounts
        .second_factor_status(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    if status.method.is_some() {
        return Ok(see_other(SECURITY));
    }
    Ok(render(
        StatusCode::OK,
        &OnPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            method: if status.phone.is_some() {
                "sms"
            } else {
                "totp"
            }
            .into(),
            sms_label: status.phone.map(|p| fill(ctx.tr.factor.method_sms, p)),
            errors: FieldErrors::new(),
        },
    ))
}

#[derive(Deserialize)]
struct OnForm {
    method: Option<String>,
    password: Option<String>,
}

async fn on_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<OnForm>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, ENROL_START);
    let internal = |e: &(dyn std::error::Error + 'static)| PageError::internal(ctx.lang.0, e);
    let method_raw = form.method.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let method = FactorMethod::parse(&method_raw);
    let mut errors = FieldErrors::new();
    if method.is_none() {
        errors.insert("method".into(), ctx.tr.factor.err_method.into());
    }
    if password.is_empty() {
        errors.insert("password".into(), ctx.tr.err_required.into());
    }
    if let (Some(method), true) = (method, errors.is_empty()) {
        match state
            .accounts
            .start_factor_enrolment(session.account_id, method, &password, ctx.lang.0, ip)
            .await
        {
            Ok(e) => {
                return Ok(see_other(&format!(
                    "/me/security/second-factor/enrol/{}",
                    e.step.challenge_id
                )));
            }
            Err(FactorError::Internal(e)) => return Err(internal(&e)),
            Err(FactorError::AlreadyOn) => return Ok(see_other(SECURITY)),
            Err(e) => {
                if let Some((field, message)) = field_error(ctx.tr, &state, &e) {
                    // The send limit is about the whole form here.
                    let field = if field == "resend" {
                        "method".to_owned()
                    } else {
                        field
                    };
                    errors.insert(field, message);
                }
            }
        }
    }
    let status = state
        .accounts
        .second_factor_status(session.account_id)
        .await
        .map_err(|e| internal(&e))?;
    Ok(render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &OnPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            sms_label: status.phone.map(|p| fill(ctx.tr.factor.method_sms, p)),
            method: method_raw,
            errors,
        },
    ))
}

#[derive(Template)]
#[template(path = "factor_enrol.html")]
struct EnrolPage {
    tr: &'static Tr,
    chrome: Chrome,
    id: String,
    qr: Option<String>,
    key: Option<String>,
    sent_note: Option<String>,
    resend_note: Option<String>,
    errors: FieldErrors,
}

fn enrol_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    e: &EnrolStep,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let qr = match &e.app {
        Some(app) => Some(
            crate::qr::svg_data_uri(&app.otpauth_uri)
                .map_err(|err| PageError::internal(ctx.lang.0, &err))?,
        ),
        None => None,
    };
    Ok(no_store(render(
        status,
        &EnrolPage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            id: e.step.challenge_id.to_string(),
            qr,
            key: e.app.as_ref().map(|a| a.key_grouped.clone()),
            sent_note: e
                .step
                .sent_to
                .as_ref()
                .map(|to| fill(ctx.tr.factor.code_sent_to, to)),
            resend_note: e
                .step
                .resend_at
                .map(|at| (at - state.accounts.now()).whole_seconds())
                .filter(|s| *s > 0)
                .map(|s| fill(ctx.tr.factor.resend_in, s)),
            errors,
        },
    )))
}

/// The account and the enrolment a page of `…/enrol/{id}` is about, or
/// where to send the person instead (logged out, or a broken id).
async fn enrol_target(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    id: &str,
) -> Result<Result<(uslugi_domain::AccountId, uuid::Uuid), Response>, PageError> {
    let session = match signed_in(state, ctx, headers, ENROL_START).await? {
        Signed::In(session) => session,
        Signed::Out(r) => return Ok(Err(r)),
    };
    Ok(match id.parse() {
        Ok(id) => Ok((session.account_id, id)),
        Err(_) => Err(see_other(ENROL_START)),
    })
}

/// The enrolment's page again (with `errors`), or back to the start when
/// the enrolment is over.
async fn enrol_page_again(
    state: &AppState,
    ctx: &Ctx,
    account: uslugi_domain::AccountId,
    id: uuid::Uuid,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    match state.accounts.factor_enrolment(account, id).await {
        Ok(e) => enrol_page(state, ctx, status, &e, errors),
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(_) => Ok(see_other(ENROL_START)),
    }
}

async fn enrol_form(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (account, id) = match enrol_target(&state, &ctx, &headers, &id).await? {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    enrol_page_again(
        &state,
        &ctx,
        account,
        id,
        StatusCode::OK,
        FieldErrors::new(),
    )
    .await
}

async fn enrol_submit(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let (account, id) = match enrol_target(&state, &ctx, &headers, &id).await? {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let code = form.code.unwrap_or_default();
    let result = if code.trim().is_empty() {
        Err(FactorError::MalformedCode)
    } else {
        state
            .accounts
            .confirm_factor_enrolment(account, id, &code, ctx.lang.0)
            .await
    };
    match result {
        Ok(codes) => Ok(codes_page(&ctx, ctx.tr.factor.turned_on, codes)),
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotFound | FactorError::AttemptsExhausted | FactorError::AlreadyOn) => {
            Ok(see_other(ENROL_START))
        }
        Err(e) => {
            let mut errors = FieldErrors::new();
            let message = if code.trim().is_empty() {
                Some(("code".to_owned(), ctx.tr.factor.err_code.to_owned()))
            } else if matches!(e, FactorError::MalformedCode) {
                Some(("code".to_owned(), ctx.tr.err_code_format.to_owned()))
            } else {
                field_error(ctx.tr, &state, &e)
            };
            errors.extend(message);
            enrol_page_again(
                &state,
                &ctx,
                account,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await
        }
    }
}

async fn enrol_resend(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (account, id) = match enrol_target(&state, &ctx, &headers, &id).await? {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let mut errors = FieldErrors::new();
    match state
        .accounts
        .resend_factor_code(id, Some(account), ip)
        .await
    {
        Ok(_) => {}
        Err(FactorError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotFound) => return Ok(see_other(ENROL_START)),
        Err(e) => {
            errors.extend(field_error(ctx.tr, &state, &e));
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::TOO_MANY_REQUESTS
    };
    enrol_page_again(&state, &ctx, account, id, status, errors).await
}
