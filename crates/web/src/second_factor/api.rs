//! `/api/v1/sessions/second-factor…` (the login's code step) and
//! `/api/v1/me/second-factor…` (turning it on and off, backup codes).
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::FactorError;
use uslugi_app::second_factor::{EnrolStep, FactorStatus};
use uslugi_domain::{FactorMethod, Token};

use crate::AppState;
use crate::auth::ApiSession;
use crate::error::{ApiError, FieldErrors};
use crate::http::{ApiJson, ClientIp, Language};
use crate::i18n::Tr;

use super::{factor_answer, rfc3339, step_gone, step_json};

pub(super) fn routes() -> Router<AppState> {
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

fn api_error(t: &Tr, state: &AppState, e: FactorError) -> ApiError {
    factor_answer(t, state.accounts.now(), &e)
}

fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| step_gone(t))
}

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
    match state.accounts.complete_factor_login(id, &input.code).await {
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
    match state.accounts.resend_factor_code(id, None, ip).await {
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
        .accounts
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
        .accounts
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
        .accounts
        .confirm_factor_enrolment(session.account_id, id, &input.code, lang.0)
        .await
    {
        Ok(codes) => {
            let status = state
                .accounts
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
        .accounts
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
        .accounts
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
        .accounts
        .renew_backup_codes(session.account_id, &input.password, &input.code, lang.0)
        .await
    {
        Ok(codes) => Ok(Json(json!({ "backup_codes": codes })).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}
