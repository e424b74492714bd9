//! «Вход с подтверждением»: the login's code step, and turning the second
//! factor on and off on «Безопасность»; pages and `/api/v1/…`.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uslugi_app::second_factor::{EnrolStep, FactorStatus, FactorStep};
use uslugi_app::{FactorError, Lang};
use uslugi_domain::{FactorMethod, Token};

use crate::AppState;
use crate::auth::{ApiSession, Signed, citizen_or_login, signed_in};
use crate::error::{ApiError, FieldErrors, PageError};
use crate::http::{ApiJson, ClientIp, CsrfForm, Language, clear_cookie, cookie, safe_next};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, no_store, render, see_other};

/// The login's code step: the step's id in a cookie of its own.
pub const LOGIN_CODE_PAGE: &str = "/login/code";
pub const LOGIN_STEP_COOKIE: &str = "__Host-uslugi-login";
const SECURITY: &str = "/me/security";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            LOGIN_CODE_PAGE,
            routing::get(login_code_form).post(login_code_submit),
        )
        .route("/login/code/resend", routing::post(login_code_resend))
        .route(
            "/me/security/second-factor",
            routing::get(on_form).post(on_submit),
        )
        .route(
            "/me/security/second-factor/enrol/{id}",
            routing::get(enrol_form).post(enrol_submit),
        )
        .route(
            "/me/security/second-factor/enrol/{id}/resend",
            routing::post(enrol_resend),
        )
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

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/second-factor", routing::post(api_login_code))
        .route(
            "/sessions/second-factor/resend",
            routing::post(api_login_resend),
        )
        .route(
            "/me/second-factor",
            routing::get(api_status).post(api_enrol),
        )
        .route(
            "/me/second-factor/{id}/confirm",
            routing::post(api_enrol_confirm),
        )
        .route("/me/second-factor/code", routing::post(api_manage_code))
        .route("/me/second-factor/disable", routing::post(api_disable))
        .route("/me/second-factor/backup-codes", routing::post(api_renew))
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A step waiting for a code, as the API shows it (also the `202` of
/// `POST /api/v1/sessions` when the account has a second factor).
pub fn step_json(state: &AppState, step: &FactorStep) -> serde_json::Value {
    let now = state.identity.now();
    json!({
        "second_factor_required": true,
        "challenge_id": step.challenge_id.to_string(),
        "method": step.method.as_str(),
        "expires_at": rfc3339(step.expires_at),
        "expires_in": (step.expires_at - now).whole_seconds().max(0),
        "code_expires_at": step.code_expires_at.map(rfc3339),
        "resend_at": step.resend_at.map(rfc3339),
        "sent_to": step.sent_to,
        "attempts_left": step.attempts_left,
    })
}

/// The one answer to each second-factor error, for the API and the pages
/// (see [`crate::error`]; the pages take its field through [`field_error`]).
pub(crate) fn factor_answer(t: &Tr, now: OffsetDateTime, e: &FactorError) -> ApiError {
    let f = t.factor;
    let secs_until = |at: OffsetDateTime| (at - now).whole_seconds().max(1);
    let on_code = |code, message: &str| ApiError::invalid_with_code(code, "code", message);
    match e {
        FactorError::NotFound => step_gone(t),
        FactorError::MalformedCode => on_code("code_malformed", f.err_code_or_backup),
        FactorError::WrongCode {
            attempts_left: Some(n),
        } => on_code("code_wrong", &fill(f.err_wrong_left, n)),
        FactorError::WrongCode {
            attempts_left: None,
        } => on_code("code_wrong", f.err_wrong),
        FactorError::CodeExpired => on_code("code_expired", t.err_code_expired),
        FactorError::AttemptsExhausted => on_code("code_attempts_exhausted", f.err_exhausted),
        FactorError::Throttled { retry_at } => {
            let mut err = ApiError::rate_limited(t, retry_at.map_or(60, secs_until))
                .with_code("throttled")
                .with_message(f.err_throttled);
            err.fields.insert("code".into(), f.err_throttled.into());
            err
        }
        FactorError::RateLimited { retry_at } | FactorError::TooEarly { retry_at } => {
            ApiError::rate_limited(t, secs_until(*retry_at))
        }
        FactorError::WrongPassword => {
            ApiError::invalid_with_code("wrong_password", "password", f.err_password)
                .with_status(StatusCode::UNAUTHORIZED)
        }
        FactorError::AlreadyOn => ApiError::conflict("second_factor_on", f.err_already_on),
        FactorError::NotOn => ApiError::conflict("second_factor_off", f.err_not_on),
        FactorError::NoPhone => ApiError::invalid_with_code("no_phone", "method", f.err_no_phone),
        FactorError::NothingToSend => ApiError::conflict("nothing_to_send", f.err_nothing_to_send),
        FactorError::Internal(_) => ApiError::internal(t, e),
    }
}

fn step_gone(t: &Tr) -> ApiError {
    ApiError::not_found(t)
        .with_code("challenge_not_found")
        .with_message(t.factor.err_step_gone)
}

/// Where a page shows a factor error: on its field, or, for a wait that
/// names none, by «Получить новый код». `None`: not a form's error.
fn field_error(t: &Tr, state: &AppState, e: &FactorError) -> Option<(String, String)> {
    let mut answer = factor_answer(t, state.identity.now(), e);
    answer.fields.pop_first().or_else(|| {
        answer
            .retry_after
            .map(|_| ("resend".to_owned(), answer.message))
    })
}

fn api_error(t: &Tr, state: &AppState, e: FactorError) -> ApiError {
    factor_answer(t, state.identity.now(), &e)
}

fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| step_gone(t))
}

// ------------------------------------------------------------------ the API

#[derive(Deserialize)]
struct LoginCodeJson {
    #[serde(default)]
    challenge_id: String,
    #[serde(default)]
    code: String,
}

/// `POST /api/v1/sessions/second-factor {"challenge_id","code"}` → `201`
/// as a login without a second factor.
async fn api_login_code(
    State(state): State<AppState>,
    lang: Language,
    ApiJson(input): ApiJson<LoginCodeJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &input.challenge_id)?;
    if input.code.trim().is_empty() {
        return Err(ApiError::invalid_field(t, "code", t.factor.err_code));
    }
    match state.identity.complete_factor_login(id, &input.code).await {
        Ok(session) => Ok(crate::login::session_created(&state, &session)),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize)]
struct ResendJson {
    #[serde(default)]
    challenge_id: String,
}

/// `POST /api/v1/sessions/second-factor/resend {"challenge_id"}` → `202`.
async fn api_login_resend(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<ResendJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &input.challenge_id)?;
    match state.identity.resend_factor_code(id, None, ip).await {
        Ok(step) => Ok((StatusCode::ACCEPTED, Json(step_json(&state, &step))).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

fn status_json(s: &FactorStatus) -> serde_json::Value {
    json!({
        "enabled": s.method.is_some(),
        "method": s.method.map(FactorMethod::as_str),
        "enabled_at": s.enabled_at.map(rfc3339),
        "backup_codes_left": s.backup_codes_left,
        "phone": s.phone,
    })
}

/// `GET /api/v1/me/second-factor`.
async fn api_status(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let status = state
        .identity
        .second_factor_status(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(Json(status_json(&status)).into_response())
}

#[derive(Deserialize)]
struct EnrolJson {
    #[serde(default)]
    method: String,
    #[serde(default)]
    password: String,
}

fn enrol_json(state: &AppState, e: &EnrolStep) -> serde_json::Value {
    let mut v = step_json(state, &e.step);
    if let Some(o) = v.as_object_mut() {
        o.remove("second_factor_required");
        if let Some(id) = o.remove("challenge_id") {
            o.insert("enrolment_id".into(), id);
        }
        if let Some(app) = &e.app {
            o.insert("secret".into(), app.key_grouped.replace(' ', "").into());
            o.insert("otpauth_uri".into(), app.otpauth_uri.clone().into());
        }
    }
    v
}

/// `POST /api/v1/me/second-factor {"method":"sms"|"totp","password"}` →
/// `202 {"enrolment_id","method",…}` (with `"secret","otpauth_uri"` for an app).
async fn api_enrol(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<EnrolJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let mut fields = FieldErrors::new();
    let method = FactorMethod::parse(input.method.trim());
    if method.is_none() {
        fields.insert("method".into(), t.factor.err_method.into());
    }
    if input.password.is_empty() {
        fields.insert("password".into(), t.err_required.into());
    }
    let Some(method) = method.filter(|_| fields.is_empty()) else {
        return Err(ApiError::invalid(t, fields));
    };
    match state
        .identity
        .start_factor_enrolment(session.account_id, method, &input.password, lang.0, ip)
        .await
    {
        Ok(e) => Ok((StatusCode::ACCEPTED, Json(enrol_json(&state, &e))).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize)]
struct CodeJson {
    #[serde(default)]
    code: String,
}

/// `POST /api/v1/me/second-factor/{id}/confirm {"code"}` →
/// `200 {"method","backup_codes":[…10]}`.
async fn api_enrol_confirm(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CodeJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &id)?;
    if input.code.trim().is_empty() {
        return Err(ApiError::invalid_field(t, "code", t.factor.err_code));
    }
    match state
        .identity
        .confirm_factor_enrolment(session.account_id, id, &input.code, lang.0)
        .await
    {
        Ok(codes) => {
            let status = state
                .identity
                .second_factor_status(session.account_id)
                .await
                .map_err(|e| ApiError::internal(t, &e))?;
            let mut v = status_json(&status);
            v["backup_codes"] = json!(codes);
            Ok(Json(v).into_response())
        }
        Err(e) => Err(api_error(t, &state, e)),
    }
}

/// `POST /api/v1/me/second-factor/code` → `202`: an SMS code for turning
/// an SMS factor off or renewing its backup codes.
async fn api_manage_code(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .identity
        .send_manage_code(session.account_id, lang.0, ip)
        .await
    {
        Ok(step) => {
            let mut v = step_json(&state, &step);
            if let Some(o) = v.as_object_mut() {
                o.remove("second_factor_required");
            }
            Ok((StatusCode::ACCEPTED, Json(v)).into_response())
        }
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize)]
struct ManageJson {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

fn manage_fields(t: &Tr, input: &ManageJson) -> Result<(), ApiError> {
    let mut fields = FieldErrors::new();
    if input.password.is_empty() {
        fields.insert("password".into(), t.err_required.into());
    }
    if input.code.trim().is_empty() {
        fields.insert("code".into(), t.factor.err_code.into());
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(t, fields))
    }
}

/// `POST /api/v1/me/second-factor/disable {"password","code"}` → `200`.
async fn api_disable(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<ManageJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    manage_fields(t, &input)?;
    match state
        .identity
        .disable_second_factor(session.account_id, &input.password, &input.code, lang.0)
        .await
    {
        Ok(()) => Ok(Json(json!({ "enabled": false })).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

/// `POST /api/v1/me/second-factor/backup-codes {"password","code"}` →
/// `200 {"backup_codes":[…10]}`; the old ones die.
async fn api_renew(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<ManageJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    manage_fields(t, &input)?;
    match state
        .identity
        .renew_backup_codes(session.account_id, &input.password, &input.code, lang.0)
        .await
    {
        Ok(codes) => Ok(Json(json!({ "backup_codes": codes })).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

// ------------------------------------------------------------------ the login's code step

#[derive(Template)]
#[template(path = "factor_login.html")]
struct LoginCodePage {
    tr: &'static Tr,
    chrome: Chrome,
    intro: String,
    sms: bool,
    next: String,
    resend_note: Option<String>,
    /// The step is over: only «Войти заново».
    over: bool,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: Option<String>,
}

fn login_step_id(headers: &HeaderMap) -> Option<uuid::Uuid> {
    cookie(headers, LOGIN_STEP_COOKIE).and_then(|v| v.parse().ok())
}

fn step_intro(t: &Tr, step: &FactorStep) -> String {
    match (step.method, &step.sent_to) {
        (FactorMethod::Sms, Some(to)) => fill(t.factor.login_intro_sms, to),
        // Over the sending limit: no SMS went, a backup code still works.
        (FactorMethod::Sms, None) => t.factor.login_backup_hint.to_owned(),
        (FactorMethod::Totp, _) => t.factor.login_intro_app.to_owned(),
    }
}

fn login_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    step: Option<&FactorStep>,
    next: String,
    errors: FieldErrors,
) -> Response {
    let (intro, sms, resend_in) = match step {
        Some(s) => (
            step_intro(ctx.tr, s),
            s.method == FactorMethod::Sms,
            s.resend_at
                .map(|at| (at - state.identity.now()).whole_seconds())
                .filter(|s| *s > 0),
        ),
        None => (ctx.tr.factor.err_step_gone.to_owned(), false, None),
    };
    no_store(render(
        status,
        &LoginCodePage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            intro,
            sms,
            next,
            resend_note: resend_in.map(|s| fill(ctx.tr.factor.resend_in, s)),
            over: step.is_none(),
            errors,
        },
    ))
}

async fn login_code_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    let step = match login_step_id(&headers) {
        Some(id) => match state.identity.factor_login_step(id).await {
            Ok(s) => Some(s),
            Err(FactorError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
            Err(_) => None,
        },
        None => None,
    };
    let status = if step.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok(login_page(
        &state,
        &ctx,
        status,
        step.as_ref(),
        next,
        FieldErrors::new(),
    ))
}

#[derive(Deserialize)]
struct CodeForm {
    code: Option<String>,
    next: Option<String>,
}

async fn login_code_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let Some(id) = login_step_id(&headers) else {
        return Ok(login_page(
            &state,
            &ctx,
            StatusCode::GONE,
            None,
            next,
            FieldErrors::new(),
        ));
    };
    let code = form.code.unwrap_or_default();
    let result = if code.trim().is_empty() {
        Err(FactorError::MalformedCode)
    } else {
        state.identity.complete_factor_login(id, &code).await
    };
    match result {
        Ok(session) => {
            let mut r =
                crate::login::session_response(&state, &ctx, &headers, &session, next).await?;
            r.headers_mut()
                .append(header::SET_COOKIE, clear_cookie(LOGIN_STEP_COOKIE));
            Ok(r)
        }
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotFound | FactorError::AttemptsExhausted) => Ok(login_page(
            &state,
            &ctx,
            StatusCode::GONE,
            None,
            next,
            FieldErrors::new(),
        )),
        Err(e) => {
            let mut errors = FieldErrors::new();
            if code.trim().is_empty() {
                errors.insert("code".into(), ctx.tr.factor.err_code.into());
            } else if let Some((field, message)) = field_error(ctx.tr, &state, &e) {
                errors.insert(field, message);
            }
            let step = state.identity.factor_login_step(id).await.ok();
            Ok(login_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                step.as_ref(),
                next,
                errors,
            ))
        }
    }
}

async fn login_code_resend(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let Some(id) = login_step_id(&headers) else {
        return Ok(login_page(
            &state,
            &ctx,
            StatusCode::GONE,
            None,
            next,
            FieldErrors::new(),
        ));
    };
    match state.identity.resend_factor_code(id, None, ip).await {
        Ok(step) => Ok(login_page(
            &state,
            &ctx,
            StatusCode::OK,
            Some(&step),
            next,
            FieldErrors::new(),
        )),
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotFound) => Ok(login_page(
            &state,
            &ctx,
            StatusCode::GONE,
            None,
            next,
            FieldErrors::new(),
        )),
        Err(e) => {
            let mut errors = FieldErrors::new();
            if let Some((field, message)) = field_error(ctx.tr, &state, &e) {
                errors.insert(field, message);
            }
            let step = state.identity.factor_login_step(id).await.ok();
            Ok(login_page(
                &state,
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                step.as_ref(),
                next,
                errors,
            ))
        }
    }
}

// ------------------------------------------------------------------ «Безопасность»

/// The section of the security page.
pub struct FactorSection {
    pub status: String,
    pub codes_left: Option<String>,
    pub on: bool,
}

pub async fn section(
    state: &AppState,
    t: &'static Tr,
    account: uslugi_domain::AccountId,
) -> Result<FactorSection, uslugi_app::InternalError> {
    let s = state.identity.second_factor_status(account).await?;
    let status = match (s.method, &s.phone) {
        (None, _) => t.factor.off.to_owned(),
        (Some(FactorMethod::Sms), Some(p)) => fill(t.factor.on_sms, p),
        (Some(FactorMethod::Sms), None) => fill(t.factor.on_sms, "—"),
        (Some(FactorMethod::Totp), _) => t.factor.on_app.to_owned(),
    };
    Ok(FactorSection {
        status,
        codes_left: s
            .method
            .is_some()
            .then(|| fill(t.factor.codes_left, s.backup_codes_left)),
        on: s.method.is_some(),
    })
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

async fn on_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, ENROL_START);
    let status = state
        .identity
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
            .identity
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
        .identity
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
                .map(|at| (at - state.identity.now()).whole_seconds())
                .filter(|s| *s > 0)
                .map(|s| fill(ctx.tr.factor.resend_in, s)),
            errors,
        },
    )))
}

const ENROL_START: &str = "/me/security/second-factor";

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
    match state.identity.factor_enrolment(account, id).await {
        Ok(e) => enrol_page(state, ctx, status, &e, errors),
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(_) => Ok(see_other(ENROL_START)),
    }
}

async fn enrol_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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

#[derive(Template)]
#[template(path = "factor_codes.html")]
struct CodesPage {
    tr: &'static Tr,
    chrome: Chrome,
    notice: &'static str,
    codes: Vec<String>,
}

fn codes_page(ctx: &Ctx, notice: &'static str, codes: Vec<String>) -> Response {
    no_store(render(
        StatusCode::OK,
        &CodesPage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            notice,
            codes,
        },
    ))
}

async fn enrol_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
            .identity
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
            if let Some((field, message)) = message {
                errors.insert(field, message);
            }
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
        .identity
        .resend_factor_code(id, Some(account), ip)
        .await
    {
        Ok(_) => {}
        Err(FactorError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotFound) => return Ok(see_other(ENROL_START)),
        Err(e) => {
            if let Some((field, message)) = field_error(ctx.tr, &state, &e) {
                errors.insert(field, message);
            }
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::TOO_MANY_REQUESTS
    };
    enrol_page_again(&state, &ctx, account, id, status, errors).await
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
        .identity
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
            .identity
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<SentQuery>,
) -> Result<Response, PageError> {
    manage_form(state, ctx, headers, Manage::Off, q.sent.is_some()).await
}

async fn renew_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
                .identity
                .disable_second_factor(account, &password, &code, lang)
                .await
                .map(|()| None),
            Manage::Renew => state
                .identity
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
                if let Some((field, message)) = field_error(ctx.tr, &state, &e) {
                    errors.insert(field, message);
                }
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> Result<Response, PageError> {
    manage_submit(state, ctx, headers, Manage::Off, form).await
}

async fn renew_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ManageCodeForm>,
) -> Result<Response, PageError> {
    // The contact pages ask for the code too (a new phone needs the
    // factor's consent) and come back here for it.
    let contact_page = match form.back.as_deref() {
        Some("contact-phone") => Some("/me/contacts/phone"),
        Some("contact-email") => Some("/me/contacts/email"),
        _ => None,
    };
    let which = if form.back.as_deref() == Some("backup-codes") {
        Manage::Renew
    } else {
        Manage::Off
    };
    let session = citizen_or_login!(state, ctx, headers, which.path());
    match state
        .identity
        .send_manage_code(session.account_id, ctx.lang.0, ip)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "{}?sent=1",
            contact_page.unwrap_or(which.path())
        ))),
        Err(FactorError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(FactorError::NotOn) => Ok(see_other(SECURITY)),
        // Asked twice within the minute: the first code is on its way.
        Err(FactorError::TooEarly { .. }) if contact_page.is_some() => Ok(see_other(&format!(
            "{}?sent=1",
            contact_page.unwrap_or(which.path())
        ))),
        Err(e) => {
            let mut errors = FieldErrors::new();
            if let Some((field, message)) = field_error(ctx.tr, &state, &e) {
                errors.insert(field, message);
            }
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
