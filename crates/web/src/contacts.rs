//! «Изменить» by the phone or the e-mail of «Мои данные»: the pages
//! `/me/contacts/…` and `/api/v1/me/contacts…`. Thin: the rules (the
//! password first, the same answers for a taken contact, what is written
//! together) are in the use case.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uslugi_app::contacts::{ContactChangeError, ContactChangeStarted, ContactChangeView};
use uslugi_app::second_factor::FactorStatus;
use uslugi_app::{Confirmation, Contact, FactorError};
use uslugi_domain::{Channel, Email, FactorMethod, PhoneNumber, Token};

use crate::AppState;
use crate::auth::{ApiSession, citizen_or_login};
use crate::error::{ApiError, FieldErrors, PageError};
use crate::http::{ApiJson, ClientIp, CsrfForm, Language, session_token};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, EmptyForm, local_time, render, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/contacts/phone",
            routing::get(phone_form).post(phone_submit),
        )
        .route(
            "/me/contacts/email",
            routing::get(email_form).post(email_submit),
        )
        .route("/me/contacts/changes/{id}", routing::get(confirm_form))
        .route(
            "/me/contacts/changes/{id}/confirm",
            routing::post(confirm_submit),
        )
        .route(
            "/me/contacts/changes/{id}/resend",
            routing::post(resend_submit),
        )
        .route(
            "/me/contacts/confirm-email",
            routing::get(email_link).post(email_link_submit),
        )
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/me/contacts", routing::post(api_start))
        .route("/me/contacts/{id}/confirm", routing::post(api_confirm))
        .route("/me/contacts/{id}/resend", routing::post(api_resend))
}

/// Where the new value is typed: `phone` or `email`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Phone,
    Email,
}

impl Kind {
    const fn field(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
        }
    }
}

/// Parses the new value, or names the field's problem in the person's
/// language.
fn parse_contact(t: &Tr, kind: Kind, value: &str) -> Result<Contact, FieldErrors> {
    let parsed = match kind {
        Kind::Phone => PhoneNumber::parse(value)
            .map(Contact::Phone)
            .map_err(|e| t.phone_error(e)),
        Kind::Email => Email::parse(value)
            .map(Contact::Email)
            .map_err(|e| t.email_error(e)),
    };
    parsed.map_err(|message| {
        let mut f = FieldErrors::new();
        f.insert(kind.field().into(), message.into());
        f
    })
}

/// The one answer to each contact-change error, for the API and the pages
/// (see [`crate::error`]): what the person can fix is named by its field.
fn contact_change_answer(t: &Tr, now: OffsetDateTime, e: &ContactChangeError) -> ApiError {
    let c = t.contacts;
    let on_field = |code, field: &str, message: &str| {
        ApiError::invalid_field(t, field, message).with_code(code)
    };
    match e {
        ContactChangeError::WrongPassword => on_field("wrong_password", "password", c.err_password),
        ContactChangeError::Throttled => on_field("throttled", "password", t.factor.err_throttled),
        ContactChangeError::RateLimited { retry_at } => {
            ApiError::rate_limited(t, (*retry_at - now).whole_seconds())
        }
        ContactChangeError::NotFound => change_not_found(t),
        ContactChangeError::MalformedCode => on_field("code_malformed", "code", t.err_code_format),
        ContactChangeError::WrongCode { attempts_left } => {
            on_field("code_wrong", "code", &fill(t.err_code_wrong, attempts_left))
        }
        ContactChangeError::CodeExpired => on_field("code_expired", "code", t.err_code_expired),
        ContactChangeError::AttemptsExhausted => {
            on_field("code_attempts_exhausted", "code", t.err_code_exhausted)
        }
        ContactChangeError::LinkInvalid => on_field("token_invalid", "token", t.err_token),
        ContactChangeError::LinkExpired => on_field("token_expired", "token", t.err_token),
        ContactChangeError::ContactTaken => ApiError::conflict("contact_taken", c.err_taken),
        ContactChangeError::SecondFactor(fe) => factor_consent_answer(t, now, fe),
        ContactChangeError::Internal(_) => ApiError::internal(t, e),
    }
}

/// The second factor's refusal of a change: its code is typed on the
/// change's own form, so the messages speak of that field.
fn factor_consent_answer(t: &Tr, now: OffsetDateTime, e: &FactorError) -> ApiError {
    let f = t.factor;
    let on_code = |code, message: &str| ApiError::invalid_field(t, "code", message).with_code(code);
    match e {
        FactorError::MalformedCode => on_code("second_factor_required", f.err_code_or_backup),
        FactorError::WrongCode { .. } => on_code("code_wrong", f.err_wrong),
        FactorError::CodeExpired => on_code("code_expired", f.err_send_first),
        FactorError::AttemptsExhausted => on_code("code_attempts_exhausted", t.err_code_exhausted),
        FactorError::Throttled { retry_at } => {
            let secs = retry_at.map_or(60, |at| (at - now).whole_seconds());
            let mut err = ApiError::rate_limited(t, secs)
                .with_code("throttled")
                .with_message(f.err_throttled);
            err.fields.insert("code".into(), f.err_throttled.into());
            err
        }
        // The consent has no step, send, password or state of the factor
        // to refuse on (the use case never gives these); were one to come,
        // it means what it means on the factor's own pages.
        FactorError::NotFound
        | FactorError::RateLimited { .. }
        | FactorError::TooEarly { .. }
        | FactorError::WrongPassword
        | FactorError::AlreadyOn
        | FactorError::NotOn
        | FactorError::NoPhone
        | FactorError::NothingToSend
        | FactorError::Internal(_) => crate::second_factor::factor_answer(t, now, e),
    }
}

fn change_not_found(t: &Tr) -> ApiError {
    ApiError::not_found(t)
        .with_code("contact_change_not_found")
        .with_message(t.contacts.err_gone)
}

fn api_error(t: &Tr, state: &AppState, e: ContactChangeError) -> ApiError {
    contact_change_answer(t, state.identity.now(), &e)
}

fn page_error(ctx: &Ctx, state: &AppState, e: ContactChangeError) -> PageError {
    PageError::from_answer(
        ctx.lang.0,
        contact_change_answer(ctx.tr, state.identity.now(), &e),
    )
}

fn started_json(state: &AppState, s: &ContactChangeStarted) -> serde_json::Value {
    json!({
        "change_id": s.id,
        "channel": s.channel.as_str(),
        "expires_in": (s.secret_expires_at - state.identity.now()).whole_seconds(),
    })
}

fn contact_json(c: &Contact) -> serde_json::Value {
    match c {
        Contact::Phone(p) => json!({ "phone": p.e164() }),
        Contact::Email(e) => json!({ "email": e.as_str() }),
    }
}

// ------------------------------------------------------------------ the API

#[derive(Deserialize)]
struct StartJson {
    phone: Option<String>,
    email: Option<String>,
    #[serde(default)]
    password: String,
    /// With «Вход с подтверждением» on: an app's code, the SMS code from
    /// `POST /api/v1/me/second-factor/code`, or a backup code.
    code: Option<String>,
}

/// `POST /api/v1/me/contacts {"phone"}|{"email"}, "password"` →
/// `202 {"change_id","channel","expires_in"}`, the same for a contact
/// that already has an account.
async fn api_start(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<StartJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let (kind, value) = match (input.phone, input.email) {
        (Some(p), None) => (Kind::Phone, p),
        (None, Some(e)) => (Kind::Email, e),
        _ => {
            let mut fields = FieldErrors::new();
            fields.insert("phone".into(), t.contacts.err_one_contact.into());
            fields.insert("email".into(), t.contacts.err_one_contact.into());
            return Err(ApiError::invalid(t, fields).with_code("contact_required"));
        }
    };
    let mut fields = match parse_contact(t, kind, &value) {
        Ok(_) => FieldErrors::new(),
        Err(f) => f,
    };
    if input.password.is_empty() {
        fields.insert("password".into(), t.err_required.into());
    }
    if !fields.is_empty() {
        return Err(ApiError::invalid(t, fields));
    }
    let contact = parse_contact(t, kind, &value).map_err(|f| ApiError::invalid(t, f))?;
    match state
        .identity
        .start_contact_change(
            session.account_id,
            contact,
            &input.password,
            input.code.as_deref(),
            lang.0,
            ip,
        )
        .await
    {
        Ok(s) => Ok((StatusCode::ACCEPTED, Json(started_json(&state, &s))).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| change_not_found(t))
}

#[derive(Deserialize)]
struct ConfirmJson {
    code: Option<String>,
    token: Option<String>,
}

/// `POST /api/v1/me/contacts/{id}/confirm {"code"}|{"token"}` →
/// `200 {"phone"}|{"email"}`: the account's contact now.
async fn api_confirm(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &id)?;
    let with = match (input.code, input.token) {
        (Some(c), _) => Confirmation::Code(c),
        (None, Some(tok)) => Confirmation::Token(tok),
        (None, None) => return Err(ApiError::invalid_field(t, "code", t.err_required)),
    };
    match state
        .identity
        .confirm_contact_change(session.account_id, id, with)
        .await
    {
        Ok(contact) => Ok(Json(contact_json(&contact)).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

/// `POST /api/v1/me/contacts/{id}/resend` → `202`, or `429` with
/// `Retry-After`.
async fn api_resend(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &id)?;
    match state
        .identity
        .resend_contact_change(session.account_id, id, ip)
        .await
    {
        Ok(s) => Ok((StatusCode::ACCEPTED, Json(started_json(&state, &s))).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

// ------------------------------------------------------------------ the pages

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
        .identity
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<SentQuery>,
) -> Result<Response, PageError> {
    show_form(&state, ctx, &headers, Kind::Phone, q.sent.is_some()).await
}

async fn email_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
        .identity
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
            let answer = contact_change_answer(ctx.tr, state.identity.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(ctx, kind, value, &factor, answer.fields),
            ))
        }
    }
}

async fn phone_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<StartInput>,
) -> Result<Response, PageError> {
    submit(&state, ctx, &headers, ip, Kind::Phone, input).await
}

async fn email_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<StartInput>,
) -> Result<Response, PageError> {
    submit(&state, ctx, &headers, ip, Kind::Email, input).await
}

#[derive(Template)]
#[template(path = "me_contact_confirm.html")]
struct ConfirmPage {
    tr: &'static Tr,
    chrome: Chrome,
    id: String,
    by_email: bool,
    sent_text: String,
    valid_until_text: String,
    expires_unix: i64,
    seconds_left: i64,
    resend_unix: i64,
    resend_after_text: String,
    can_resend_now: bool,
    /// Three wrong entries killed the code: no countdown of a dead code.
    code_dead: bool,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

fn confirm_page(
    state: &AppState,
    ctx: Ctx,
    view: &ContactChangeView,
    notice: Option<&'static str>,
    errors: FieldErrors,
) -> ConfirmPage {
    let now = state.identity.now();
    let by_email = view.channel == Channel::Email;
    let c = ctx.tr.contacts;
    let sent_text = match &view.new_contact {
        Contact::Phone(p) => fill(c.code_sent, p),
        Contact::Email(e) => fill(c.letter_sent, e.as_str()),
    };
    ConfirmPage {
        id: view.id.to_string(),
        by_email,
        sent_text,
        valid_until_text: fill(
            c.valid_until,
            local_time(state, view.secret_expires_at, &ctx),
        ),
        expires_unix: view.secret_expires_at.unix_timestamp(),
        seconds_left: (view.secret_expires_at - now).whole_seconds().max(0),
        resend_unix: view.resend_at.unix_timestamp(),
        resend_after_text: fill(
            if by_email {
                ctx.tr.resend_letter_after
            } else {
                ctx.tr.resend_after
            },
            local_time(state, view.resend_at, &ctx),
        ),
        can_resend_now: now >= view.resend_at,
        code_dead: view.attempts_left == 0,
        notice,
        errors,
        tr: ctx.tr,
        chrome: ctx.chrome,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmQuery {
    sent: Option<String>,
}

fn page_id(ctx: &Ctx, id: &str) -> Result<uuid::Uuid, PageError> {
    id.parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, ctx.lang.0, ctx.tr.contacts.err_gone))
}

async fn confirm_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ConfirmQuery>,
) -> Result<Response, PageError> {
    let here = format!("/me/contacts/changes/{id}");
    let session = citizen_or_login!(state, ctx, headers, &here);
    let id = page_id(&ctx, &id)?;
    let view = state
        .identity
        .contact_change(session.account_id, id)
        .await
        .map_err(|e| page_error(&ctx, &state, e))?;
    let notice = q
        .sent
        .is_some()
        .then_some(if view.channel == Channel::Email {
            ctx.tr.contacts.new_letter_sent
        } else {
            ctx.tr.new_code_sent
        });
    Ok(render(
        StatusCode::OK,
        &confirm_page(&state, ctx, &view, notice, FieldErrors::new()),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeInput {
    code: String,
}

fn changed_query(contact: &Contact) -> &'static str {
    match contact {
        Contact::Phone(_) => "/me?contact_changed=phone",
        Contact::Email(_) => "/me?contact_changed=email",
    }
}

async fn confirm_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<CodeInput>,
) -> Result<Response, PageError> {
    let here = format!("/me/contacts/changes/{id}");
    let session = citizen_or_login!(state, ctx, headers, &here);
    let id = page_id(&ctx, &id)?;
    match state
        .identity
        .confirm_contact_change(session.account_id, id, Confirmation::Code(input.code))
        .await
    {
        Ok(contact) => Ok(see_other(changed_query(&contact))),
        Err(e) => {
            let answer = contact_change_answer(ctx.tr, state.identity.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            let view = state
                .identity
                .contact_change(session.account_id, id)
                .await
                .map_err(|e| page_error(&ctx, &state, e))?;
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &confirm_page(&state, ctx, &view, None, answer.fields),
            ))
        }
    }
}

async fn resend_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let here = format!("/me/contacts/changes/{id}");
    let session = citizen_or_login!(state, ctx, headers, &here);
    let id = page_id(&ctx, &id)?;
    match state
        .identity
        .resend_contact_change(session.account_id, id, ip)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/me/contacts/changes/{id}?sent=1"))),
        Err(ContactChangeError::RateLimited { retry_at }) => {
            let view = state
                .identity
                .contact_change(session.account_id, id)
                .await
                .map_err(|e| page_error(&ctx, &state, e))?;
            let secs = (retry_at - state.identity.now()).whole_seconds().max(1);
            let mut errors = FieldErrors::new();
            errors.insert("resend".into(), fill(ctx.tr.too_many, secs));
            let mut response = render(
                StatusCode::TOO_MANY_REQUESTS,
                &confirm_page(&state, ctx, &view, None, errors),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            Ok(response)
        }
        Err(e) => Err(page_error(&ctx, &state, e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkQuery {
    token: String,
}

/// The new address's link. It may be opened in another browser, or before
/// logging in: the token alone names the change, and works once.
/// The e-mail's link: the page names the new address and shows a button;
/// opening it (a person, or a mail scanner) changes nothing.
async fn email_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LinkQuery>,
) -> Result<Response, PageError> {
    match state.identity.contact_change_by_link(&q.token).await {
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

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkForm {
    token: String,
}

/// «Подтвердить» on the link's page.
async fn email_link_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    match state
        .identity
        .confirm_contact_change_link(&form.token)
        .await
    {
        Ok((account, contact)) => {
            // Logged in as that account here: back to «Мои данные».
            let here = match session_token(&headers) {
                Some(token) => state
                    .identity
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
                message: contact_change_answer(ctx.tr, state.identity.now(), &e)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::RU;

    /// A refusal of the second factor that is not about the typed code
    /// says what it is, as on the factor's own pages (these were a 500).
    #[test]
    fn every_refusal_of_the_factor_has_an_answer_of_its_own() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let later = now + time::Duration::seconds(40);
        let cases = [
            (FactorError::MalformedCode, 422, "second_factor_required"),
            (
                FactorError::WrongCode {
                    attempts_left: None,
                },
                422,
                "code_wrong",
            ),
            (FactorError::CodeExpired, 422, "code_expired"),
            (
                FactorError::AttemptsExhausted,
                422,
                "code_attempts_exhausted",
            ),
            (
                FactorError::Throttled {
                    retry_at: Some(later),
                },
                429,
                "throttled",
            ),
            (FactorError::NotFound, 404, "challenge_not_found"),
            (
                FactorError::RateLimited { retry_at: later },
                429,
                "rate_limited",
            ),
            (
                FactorError::TooEarly { retry_at: later },
                429,
                "rate_limited",
            ),
            (FactorError::WrongPassword, 401, "wrong_password"),
            (FactorError::AlreadyOn, 409, "second_factor_on"),
            (FactorError::NotOn, 409, "second_factor_off"),
            (FactorError::NoPhone, 422, "no_phone"),
            (FactorError::NothingToSend, 409, "nothing_to_send"),
        ];
        for (e, status, code) in cases {
            let text = e.to_string();
            let answer = contact_change_answer(&RU, now, &ContactChangeError::SecondFactor(e));
            assert_eq!(
                (answer.status.as_u16(), answer.code),
                (status, code),
                "{text}"
            );
        }
        let throttled = contact_change_answer(
            &RU,
            now,
            &ContactChangeError::SecondFactor(FactorError::Throttled {
                retry_at: Some(later),
            }),
        );
        assert_eq!(throttled.retry_after, Some(40));
        assert_eq!(
            throttled.fields.get("code").map(String::as_str),
            Some(RU.factor.err_throttled),
            "the page shows it on the code's field"
        );
    }

    #[test]
    fn a_change_that_is_gone_says_so_on_the_page_and_in_the_api() {
        let answer = contact_change_answer(
            &RU,
            OffsetDateTime::UNIX_EPOCH,
            &ContactChangeError::NotFound,
        );
        assert_eq!(
            (answer.status.as_u16(), answer.code),
            (404, "contact_change_not_found")
        );
        assert_eq!(answer.message, RU.contacts.err_gone);
    }
}
