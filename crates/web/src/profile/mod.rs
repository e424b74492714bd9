//! «Мои данные» (`/me`) and `GET /api/v1/me`: who the account is, its
//! level, its personal data and addresses, the letter on its way.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use uslugi_domain::{AccountLevel, Token};

use crate::AppState;
use crate::auth::{AnyApiSession, citizen_or_login};
use crate::error::{ApiError, PageError};
use crate::http::Language;
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, local_time, no_store, render, see_other};

pub fn routes() -> Router<AppState> {
    Router::new().route("/me", routing::get(me))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/me", routing::get(api_me))
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    tr: &'static Tr,
    chrome: Chrome,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    level: AccountLevel,
    /// How and when the identity was confirmed.
    confirmed: Option<String>,
    pd: crate::personal_data::MyPersonalData,
    addresses_saved: bool,
    password_changed: bool,
    /// «Номер телефона изменён» after a confirmed change.
    contact_changed: Option<&'static str>,
    /// A letter on its way: «Введите код» right here (seed 001).
    letter: Option<crate::identity_letter::LetterRow>,
}

impl MePage {
    /// The code field of «Мои данные» shows its errors on the page it posts to.
    fn no_err(&self) -> Option<&String> {
        None
    }
}

#[derive(Deserialize)]
struct MeQuery {
    addresses_saved: Option<String>,
    password_changed: Option<String>,
    contact_changed: Option<String>,
}

async fn me(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<MeQuery>,
) -> Result<Response, PageError> {
    let to_login = || see_other("/login?next=%2Fme");
    let session = citizen_or_login!(state, ctx, headers, "/me");
    let Some(profile) = state
        .accounts
        .profile(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
    else {
        return Ok(to_login());
    };
    let view = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let letter = match profile.level {
        AccountLevel::Standard => state
            .letters
            .current(session.account_id)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?
            .map(|v| crate::identity_letter::letter_row(&state, &ctx, &v)),
        _ => None,
    };
    let confirmed = profile.confirmed_at.map(|at| {
        let via = match profile.confirmed_via {
            Some(uslugi_domain::ConfirmedVia::Letter) => ctx.tr.letter.confirmed_via_letter,
            _ => ctx.tr.letter.confirmed_via_center,
        };
        format!("{via}, {}", local_time(&state, at, &ctx))
    });
    Ok(no_store(render(
        StatusCode::OK,
        &MePage {
            name: format!("{} {}", profile.surname, profile.given_name),
            phone: profile.phone.map(|p| p.to_string()),
            email: profile.email.map(|e| e.as_str().to_owned()),
            level: profile.level,
            confirmed,
            pd: crate::personal_data::my_personal_data(ctx.tr, &view),
            addresses_saved: q.addresses_saved.is_some(),
            password_changed: q.password_changed.is_some(),
            contact_changed: match q.contact_changed.as_deref() {
                Some("phone") => Some(ctx.tr.contacts.phone_changed),
                Some("email") => Some(ctx.tr.contacts.email_changed),
                _ => None,
            },
            letter,
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )))
}

async fn api_me(
    State(state): State<AppState>,
    lang: Language,
    AnyApiSession(session, _): AnyApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let profile = state
        .accounts
        .profile(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
        .ok_or_else(|| ApiError::unauthorized(t))?;
    Ok(Json(json!({
        "account_id": profile.account_id.to_string(),
        "level": profile.level.as_str(),
        "surname": profile.surname,
        "given_name": profile.given_name,
        "phone": profile.phone.map(|p| p.e164().to_owned()),
        "email": profile.email.map(|e| e.as_str().to_owned()),
        "confirmed_at": profile.confirmed_at.and_then(|at| at.format(&Rfc3339).ok()),
        "confirmed_via": profile.confirmed_via.map(uslugi_domain::ConfirmedVia::as_str),
        "password_change_required": session.must_change_password,
    }))
    .into_response())
}
