//! Registration at the desk, its first steps: the phone, and the code the
//! citizen reads out from it; then the form of [`super::registration`].
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::desk::{DeskPhoneError, DeskPhoneView};
use uslugi_app::operators::OperatorAuth;
use uslugi_domain::CenterService;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::CsrfForm;
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, no_store, render, see_other};
use crate::personal_data::summary;

use super::registration::{RegisterForm, empty_registration, register_page, register_submit};
use super::{Desk, desk, not_offered, operator_or_login};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/operator/register",
            routing::get(register_form).post(phone_submit),
        )
        .route(
            "/operator/register/{id}",
            routing::get(desk_step).post(register_submit),
        )
        .route("/operator/register/{id}/code", routing::post(desk_code))
        .route("/operator/register/{id}/resend", routing::post(desk_resend))
}

#[derive(Template)]
#[template(path = "operator_register_phone.html")]
struct PhonePage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    /// Set once a code went out: the code step; otherwise the phone step.
    id: Option<String>,
    sent_to: String,
    phone: String,
    notice: Option<String>,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

impl PhonePage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// The first steps of a registration at the desk: the phone, then the code
/// the citizen reads out from it.
fn phone_page(
    ctx: Ctx,
    op: &OperatorAuth,
    step: Option<&DeskPhoneView>,
    phone: String,
    notice: Option<String>,
    (errors, status): (FieldErrors, StatusCode),
) -> Response {
    let (t, c) = (ctx.tr, ctx.tr.console);
    let summary = summary(
        t,
        &errors,
        &[
            ("phone", c.mobile_phone),
            ("code", c.sms_code),
            ("resend", c.resend_code),
        ],
    );
    no_store(render(
        status,
        &PhonePage {
            desk: desk(t, op),
            id: step.map(|v| v.id.to_string()),
            sent_to: step
                .map(|v| fill(c.code_sent_to, v.phone.e164()))
                .unwrap_or_default(),
            phone,
            notice,
            errors,
            summary,
            tr: t,
            chrome: ctx.chrome,
        },
    ))
}

/// A step of the phone check again, with its refusal on its field.
fn refused(
    ctx: Ctx,
    op: &OperatorAuth,
    step: Option<&DeskPhoneView>,
    phone: String,
    (field, message, status): (&str, String, StatusCode),
) -> Response {
    let mut errors = FieldErrors::new();
    errors.insert(field.into(), message);
    phone_page(ctx, op, step, phone, None, (errors, status))
}

async fn register_form(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    if !op.offers(CenterService::Registration) {
        return Err(not_offered(&ctx));
    }
    Ok(phone_page(
        ctx,
        &op,
        None,
        String::new(),
        None,
        (FieldErrors::new(), StatusCode::OK),
    ))
}

/// What the console says about a refused step of the desk's phone check:
/// the field it belongs to, the message, the status.
fn desk_phone_error(
    state: &AppState,
    ctx: &Ctx,
    e: DeskPhoneError,
) -> Result<(&'static str, String, StatusCode), PageError> {
    let (t, c) = (ctx.tr, ctx.tr.console);
    let secs = |at: time::OffsetDateTime| (at - state.operators.now()).whole_seconds().max(1);
    Ok(match e {
        DeskPhoneError::Phone(e) => (
            "phone",
            t.phone_error(e).to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::PhoneTaken => ("phone", c.err_phone_taken.into(), StatusCode::CONFLICT),
        DeskPhoneError::RateLimited { retry_at } => (
            "phone",
            fill(c.err_too_many_codes, secs(retry_at)),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        DeskPhoneError::Malformed => (
            "code",
            c.err_desk_code_malformed.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::WrongCode { attempts_left } => (
            "code",
            fill(c.err_desk_code_wrong, attempts_left),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::Exhausted => (
            "code",
            c.err_desk_code_exhausted.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::CodeExpired => (
            "code",
            c.err_desk_code_expired.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::TooSoon { retry_at } => (
            "resend",
            fill(c.err_resend_too_soon, secs(retry_at)),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        DeskPhoneError::NotOffered => return Err(not_offered(ctx)),
        DeskPhoneError::NotFound => return Err(PageError::not_found(ctx.lang.0)),
        DeskPhoneError::Internal(e) => return Err(PageError::internal(ctx.lang.0, &e)),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PhoneInput {
    phone: String,
}

async fn phone_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(input): CsrfForm<PhoneInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    match state
        .operators
        .start_desk_phone(&op, &input.phone, ctx.lang.0)
        .await
    {
        Ok(id) => Ok(see_other(&format!("/operator/register/{id}"))),
        Err(e) => {
            let refusal = desk_phone_error(&state, &ctx, e)?;
            Ok(refused(ctx, &op, None, input.phone, refusal))
        }
    }
}

pub(super) fn parse_desk_phone(ctx: &Ctx, id: &str) -> Result<uuid::Uuid, PageError> {
    id.parse().map_err(|_| PageError::not_found(ctx.lang.0))
}

/// This operator's phone confirmation, or 404.
pub(super) async fn own_desk_phone(
    state: &AppState,
    ctx: &Ctx,
    op: &OperatorAuth,
    id: uuid::Uuid,
) -> Result<DeskPhoneView, PageError> {
    state
        .operators
        .desk_phone(op, id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
        .ok_or_else(|| PageError::not_found(ctx.lang.0))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeskQuery {
    resent: Option<String>,
}

/// The code step until the phone is confirmed; then the registration form.
async fn desk_step(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    Query(q): Query<DeskQuery>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let id = parse_desk_phone(&ctx, &id)?;
    let view = own_desk_phone(&state, &ctx, &op, id).await?;
    if view.confirmed {
        let form = RegisterForm {
            action: format!("/operator/register/{id}"),
            fresh: true,
            v: empty_registration(),
            phone: view.phone.e164().to_owned(),
        };
        return Ok(register_page(
            ctx,
            &op,
            form,
            FieldErrors::new(),
            StatusCode::OK,
        ));
    }
    let notice = q
        .resent
        .is_some()
        .then(|| ctx.tr.console.code_resent.to_owned());
    Ok(phone_page(
        ctx,
        &op,
        Some(&view),
        String::new(),
        notice,
        (FieldErrors::new(), StatusCode::OK),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeInput {
    code: String,
}

async fn desk_code(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<CodeInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let id = parse_desk_phone(&ctx, &id)?;
    match state
        .operators
        .confirm_desk_phone(&op, id, &input.code)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/operator/register/{id}"))),
        Err(e) => {
            let refusal = desk_phone_error(&state, &ctx, e)?;
            let view = own_desk_phone(&state, &ctx, &op, id).await?;
            Ok(refused(ctx, &op, Some(&view), String::new(), refusal))
        }
    }
}

async fn desk_resend(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let id = parse_desk_phone(&ctx, &id)?;
    match state.operators.resend_desk_code(&op, id, ctx.lang.0).await {
        Ok(()) => Ok(see_other(&format!("/operator/register/{id}?resent=1"))),
        Err(e) => {
            let (field, message, status) = desk_phone_error(&state, &ctx, e)?;
            let view = own_desk_phone(&state, &ctx, &op, id).await?;
            // The limit of the phone shows where the button is.
            let field = if field == "phone" { "resend" } else { field };
            Ok(refused(
                ctx,
                &op,
                Some(&view),
                String::new(),
                (field, message, status),
            ))
        }
    }
}
