//! `/api/v1/me/personal-data…`, `/api/v1/me/verification` and
//! `/api/v1/me/addresses`.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::{Value, json};
use uslugi_app::verification::{AddressError, Addresses, PersonalDataView, SubmitError};
use uslugi_domain::{
    AccountId, AddressForm, PersonalData, PersonalDataForm, Token, VerificationStatus,
};

use crate::AppState;
use crate::auth::ApiSession;
use crate::error::ApiError;
use crate::http::{ApiJson, ClientIp, Language};
use crate::i18n::Tr;
use crate::page::no_store;

use super::check::state_json;
use super::field_errors;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/personal-data",
            routing::get(api_personal_data).put(api_save_draft),
        )
        .route("/me/personal-data/submit", routing::post(api_submit))
        .route("/me/verification", routing::get(api_verification))
        .route(
            "/me/addresses",
            routing::get(api_addresses).put(api_save_addresses),
        )
}

fn personal_json(d: &PersonalData) -> Value {
    serde_json::to_value(PersonalDataForm::from_data(d)).unwrap_or(Value::Null)
}

/// The account's personal data, addresses and checks.
async fn personal_data(
    state: &AppState,
    t: &Tr,
    account: AccountId,
) -> Result<PersonalDataView, ApiError> {
    state
        .verification
        .personal_data(account)
        .await
        .map_err(|e| ApiError::internal(t, &e))
}

async fn api_personal_data(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let v = personal_data(&state, t, session.account_id).await?;
    Ok(no_store(
        Json(json!({
            "status": v.state.status.as_str(),
            "form": v.form,
            "verified": v.verified.as_ref().map(personal_json),
            "submitted": v.submitted.as_ref().map(personal_json),
        }))
        .into_response(),
    ))
}

async fn api_save_draft(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    ApiJson(form): ApiJson<PersonalDataForm>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    state
        .verification
        .save_draft(session.account_id, &form)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    // The draft is kept as typed; the problems it still has are told, not refused.
    let problems = match form.parse(state.verification.today()) {
        Ok(_) => BTreeMap::new(),
        Err(ps) => field_errors(t, &ps),
    };
    Ok(Json(json!({ "status": "draft", "problems": problems })).into_response())
}

async fn api_submit(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let v = personal_data(&state, t, session.account_id).await?;
    if v.state.status == VerificationStatus::InProgress {
        return Err(ApiError::conflict("in_progress", t.pd.err_in_progress));
    }
    match state
        .verification
        .submit(session.account_id, &v.form, lang.0, ip)
        .await
    {
        Ok(id) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "submission_id": id.to_string(), "status": "in_progress" })),
        )
            .into_response()),
        Err(SubmitError::Invalid(problems)) => {
            Err(ApiError::invalid(t, field_errors(t, &problems)))
        }
        Err(SubmitError::InProgress) => {
            Err(ApiError::conflict("in_progress", t.pd.err_in_progress))
        }
        Err(SubmitError::TooMany { retry_at }) => Err(ApiError::rate_limited(
            t,
            (retry_at - state.verification.now()).whole_seconds(),
        )),
        Err(SubmitError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}

async fn api_verification(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let s = state
        .verification
        .state(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(no_store(Json(state_json(t, &s)).into_response()))
}

#[derive(Deserialize)]
struct AddressesJson {
    registration: AddressForm,
    actual: AddressForm,
}

async fn api_addresses(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let v = personal_data(&state, t, session.account_id).await?;
    Ok(no_store(
        Json(addresses_json(v.addresses.as_ref())).into_response(),
    ))
}

fn addresses_json(a: Option<&Addresses>) -> Value {
    match a {
        Some(a) => json!({
            "registration": AddressForm::from_address(&a.registration),
            "actual": AddressForm::from_address(&a.actual),
        }),
        None => json!({ "registration": null, "actual": null }),
    }
}

async fn api_save_addresses(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<AddressesJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .verification
        .save_addresses(session.account_id, &input.registration, &input.actual)
        .await
    {
        Ok(a) => Ok(Json(addresses_json(Some(&a))).into_response()),
        Err(AddressError::Invalid(problems)) => {
            Err(ApiError::invalid(t, field_errors(t, &problems)))
        }
        Err(AddressError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}
