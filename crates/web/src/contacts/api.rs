//! `/api/v1/me/contacts…`: the same steps as the pages, for apps.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::Contact;
use uslugi_app::contacts::{ContactChangeError, ContactChangeStarted};
use uslugi_domain::Token;

use crate::AppState;
use crate::auth::ApiSession;
use crate::error::{ApiError, FieldErrors};
use crate::http::{ApiJson, ClientIp, Language};
use crate::i18n::Tr;

use super::{Kind, change_not_found, contact_change_answer, parse_contact};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/contacts", routing::post(api_start))
        .route("/me/contacts/{id}/confirm", routing::post(api_confirm))
        .route("/me/contacts/{id}/resend", routing::post(api_resend))
}

fn api_error(t: &Tr, state: &AppState, e: ContactChangeError) -> ApiError {
    contact_change_answer(t, state.accounts.now(), &e)
}

fn started_json(state: &AppState, s: &ContactChangeStarted) -> serde_json::Value {
    json!({
        "change_id": s.id,
        "channel": s.channel.as_str(),
        "expires_in": (s.secret_expires_at - state.accounts.now()).whole_seconds(),
    })
}

fn contact_json(c: &Contact) -> serde_json::Value {
    match c {
        Contact::Phone(p) => json!({ "phone": p.e164() }),
        Contact::Email(e) => json!({ "email": e.as_str() }),
    }
}

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
        .accounts
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
    let with = crate::api::code_or_token(t, input.code, input.token)?;
    match state
        .accounts
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
        .accounts
        .resend_contact_change(session.account_id, id, ip)
        .await
    {
        Ok(s) => Ok((StatusCode::ACCEPTED, Json(started_json(&state, &s))).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}
