//! «Мои данные» (`/me`) and `GET /api/v1/me`: who the account is, its
//! level, its personal data and addresses, the letter on its way.
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use uslugi_domain::{AccountId, AccountLevel, ConfirmedVia, Token};
use utoipa::ToSchema;
use utoipa::openapi::schema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::api::{Api, ApiRouter, token, token_schema};
use crate::auth::{AnyApiSession, ApiSession, citizen_or_login};
use crate::error::{ApiError, PageError};
use crate::i18n::Tr;
use crate::page::{Chrome, Page, local_time, no_store, render, see_other};

mod export;
pub mod i18n;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", routing::get(me))
        .route("/me/data.json", routing::get(my_data_file))
        .route("/me/data.pdf", routing::get(my_data_pdf))
}

pub fn api_routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(get_my_data))
}

/// Everything the portal holds about the person (format 1): the account
/// and its contacts, the personal data in force, under check and drafted,
/// the addresses, the registry checks, the second factor, the letter with
/// a code, the live sessions and the whole history of the account. Never
/// hashes, keys or codes.
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
struct AccountDataDocument(uslugi_app::subject::AccountData);

/// Everything held about the session's own account, taken by its holder.
async fn my_data(
    state: &AppState,
    account: AccountId,
) -> Result<Option<uslugi_app::subject::AccountData>, uslugi_app::InternalError> {
    uslugi_app::subject::account_data(
        &state.accounts,
        &state.verification,
        &state.letters,
        account,
        uslugi_app::audit::Actor::Citizen(account),
    )
    .await
}

/// The file's answer: JSON, to be saved, never cached.
fn data_file(data: uslugi_app::subject::AccountData) -> Response {
    let mut response = Json(AccountDataDocument(data)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"uslugi-my-data.json\""),
    );
    no_store(response)
}

/// Everything the portal holds about me
///
/// The right of access (152-ФЗ, art. 14): one JSON document, offered as a
/// file (`Content-Disposition: attachment`). The download is recorded in
/// the account's history.
#[utoipa::path(
    get,
    path = "/me/data",
    tag = "profile",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The document", body = AccountDataDocument,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"uslugi-my-data.json\""))),
    )
)]
async fn get_my_data(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let data = my_data(&state, session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
        .ok_or_else(|| ApiError::unauthorized(t))?;
    Ok(data_file(data))
}

/// «Скачать мои данные» on «Мои данные»: the same file.
async fn my_data_file(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let to_login = || see_other("/login?next=%2Fme");
    let session = citizen_or_login!(state, ctx, headers, "/me/data.json");
    let data = my_data(&state, session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    Ok(match data {
        Some(data) => data_file(data),
        None => to_login(),
    })
}

/// «Скачать мои данные (PDF)»: the same document, readable, in the
/// person's language; recorded in the history as the JSON file is.
async fn my_data_pdf(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/data.pdf");
    let Some(data) = my_data(&state, session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
    else {
        return Ok(see_other("/login?next=%2Fme"));
    };
    let pdf = uslugi_print::document_pdf(&export::document(&state, &ctx, &data));
    let mut response = (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/pdf"),
        )],
        pdf,
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"uslugi-my-data.pdf\""),
    );
    Ok(no_store(response))
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
    Page(state, ctx, headers): Page,
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
        let via = crate::identity_letter::confirmed_via_text(ctx.tr, profile.confirmed_via);
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

/// The account of the session, and whether the session must replace a
/// temporary password.
#[derive(Serialize, ToSchema)]
struct Me {
    #[schema(value_type = uuid::Uuid)]
    account_id: AccountId,
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<AccountLevel>)]
    level: AccountLevel,
    surname: String,
    given_name: String,
    /// E.164
    #[schema(required = true, example = "+79253910202")]
    phone: Option<String>,
    #[schema(required = true, format = Email)]
    email: Option<String>,
    /// When the identity was proven (a confirmed account)
    #[schema(required = true, format = DateTime)]
    confirmed_at: Option<String>,
    #[schema(required = true, schema_with = confirmed_via_schema)]
    confirmed_via: Option<&'static str>,
    /// Logged in with a temporary password from a service center: only POST
    /// /me/password (and GET /me, DELETE /sessions/current) until it is
    /// replaced; other /me calls answer 403 password_change_required
    password_change_required: bool,
}

/// One of [`ConfirmedVia`]'s forms, or null. (A `schema_with` replaces
/// the field's doc comment, so the description is given here.)
fn confirmed_via_schema() -> schema::Object {
    schema::ObjectBuilder::new()
        .description(Some(
            "How the identity was proven: at a service center or with a letter's code; null until it is",
        ))
        .schema_type(schema::SchemaType::from_iter([
            schema::Type::String,
            schema::Type::Null,
        ]))
        .enum_values(Some(
            ConfirmedVia::forms()
                .into_iter()
                .map(Some)
                .chain([None::<&str>]),
        ))
        .build()
}

/// The logged-in person
///
/// Also open to a session that must replace its temporary password first
/// (`password_change_required`).
#[utoipa::path(
    get,
    path = "/me",
    tag = "profile",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The account", body = Me),
    )
)]
async fn get_me(
    Api(state, _, t): Api,
    AnyApiSession(session, _): AnyApiSession,
) -> Result<Response, ApiError> {
    let profile = state
        .accounts
        .profile(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
        .ok_or_else(|| ApiError::unauthorized(t))?;
    Ok(Json(Me {
        account_id: profile.account_id,
        level: profile.level,
        surname: profile.surname,
        given_name: profile.given_name,
        phone: profile.phone.map(|p| p.e164().to_owned()),
        email: profile.email.map(|e| e.as_str().to_owned()),
        confirmed_at: profile.confirmed_at.and_then(|at| at.format(&Rfc3339).ok()),
        confirmed_via: profile.confirmed_via.map(ConfirmedVia::as_str),
        password_change_required: session.must_change_password,
    })
    .into_response())
}
