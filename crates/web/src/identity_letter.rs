//! Identity confirmation by a registered letter: the page `/me/identity`
//! and `/api/v1/me/identity/letter…`.
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::letters::{CodeEntryError, LetterView, OrderError};
use uslugi_domain::{AccountLevel, CodeError, Token};

use crate::AppState;
use crate::auth::{ApiSession, citizen_or_login};
use crate::error::{ApiError, FieldErrors, PageError};
use crate::http::{CsrfForm, Language};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, local_time, no_store, render, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/identity", routing::get(page))
        .route("/me/identity/letter", routing::post(order_submit))
        .route("/me/identity/code", routing::post(code_submit))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/identity/letter",
            routing::get(api_letter).post(api_order),
        )
        .route("/me/identity/letter/code", routing::post(api_code))
}

pub(crate) fn status_text(t: &Tr, status: &str) -> &'static str {
    let l = t.letter;
    match status {
        "queued" => l.status_queued,
        "in_transit" => l.status_in_transit,
        "arrived" => l.status_arrived,
        "handed_over" => l.status_handed_over,
        "expired" => l.status_expired,
        "used" => l.confirmed_mark,
        _ => l.status_accepted,
    }
}

pub(crate) fn code_error(t: &Tr, e: &CodeEntryError, now: time::OffsetDateTime) -> Option<String> {
    let l = t.letter;
    Some(match e {
        CodeEntryError::Malformed(CodeError::Empty) => t.err_required.to_owned(),
        CodeEntryError::Malformed(_) => l.err_code_format.to_owned(),
        CodeEntryError::NoLetter => l.err_no_letter.to_owned(),
        CodeEntryError::NotSent => l.err_not_sent.to_owned(),
        CodeEntryError::AlreadyConfirmed => l.err_already_confirmed.to_owned(),
        CodeEntryError::Expired => l.err_code_expired.to_owned(),
        CodeEntryError::Wrong { attempts_left } => fill(l.err_code_wrong, attempts_left),
        CodeEntryError::Exhausted => l.err_code_exhausted.to_owned(),
        CodeEntryError::TooMany { retry_at } => {
            fill(l.err_too_many, (*retry_at - now).whole_seconds().max(1))
        }
        CodeEntryError::Internal(_) => return None,
    })
}

// ------------------------------------------------------------------ the page

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityPage {
    tr: &'static Tr,
    chrome: Chrome,
    level: &'static str,
    letter: Option<LetterRow>,
    /// The registered address the ministry returned, masked; `None`: the
    /// ministry has none, and the page sends the person to a center.
    destination: Option<String>,
    notice: Option<&'static str>,
    errors: FieldErrors,
    /// The error summary above the page (the script moves the focus to it).
    summary: Vec<(String, String)>,
}

impl IdentityPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

pub(crate) struct LetterRow {
    pub status: String,
    pub status_text: &'static str,
    pub tracking: Option<String>,
    pub sent_at: Option<String>,
    pub valid_until: Option<String>,
    /// Russian Post shows the way from the next day: the link, or when.
    pub track_url: Option<String>,
    pub tracking_from: Option<String>,
    pub can_enter_code: bool,
    pub address_masked: String,
}

pub(crate) fn letter_row(state: &AppState, ctx: &Ctx, v: &LetterView) -> LetterRow {
    let now = state.letters.now();
    let trackable = v.tracking_from.is_some_and(|from| now >= from);
    LetterRow {
        status: v.status.to_owned(),
        status_text: status_text(ctx.tr, v.status),
        tracking: v.tracking_number.clone(),
        sent_at: v.sent_at.map(|at| local_time(state, at, ctx)),
        valid_until: v.expires_at.map(|at| local_time(state, at, ctx)),
        track_url: v
            .tracking_number
            .as_ref()
            .filter(|_| trackable)
            .map(|t| format!("https://www.pochta.ru/tracking#{t}")),
        tracking_from: v
            .tracking_from
            .filter(|_| !trackable && v.tracking_number.is_some())
            .map(|at| fill(ctx.tr.letter.tracking_from, local_time(state, at, ctx))),
        can_enter_code: v.sent_at.is_some() && !matches!(v.status, "used" | "expired"),
        address_masked: v.address_masked.clone(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    ordered: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/identity");
    show(
        &state,
        ctx,
        session.account_id,
        q.ordered.is_some(),
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

async fn show(
    state: &AppState,
    ctx: Ctx,
    account: uslugi_domain::AccountId,
    ordered: bool,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let internal = |e: uslugi_app::InternalError| PageError::internal(ctx.lang.0, &e);
    let profile = state
        .identity
        .profile(account)
        .await
        .map_err(internal)?
        .ok_or_else(|| PageError::not_found(ctx.lang.0))?;
    let letter = state.letters.current(account).await.map_err(internal)?;
    // Just ordered: «…появится здесь» only while the ШПИ has not come.
    let notice = ordered.then(|| match &letter {
        Some(l) if l.status == "queued" => ctx.tr.letter.ordered_queued,
        _ => ctx.tr.letter.ordered,
    });
    let destination = state.letters.destination(account).await.map_err(internal)?;
    let summary = crate::personal_data::summary(ctx.tr, &errors, &[]);
    Ok(no_store(render(
        status,
        &IdentityPage {
            level: profile.level.as_str(),
            letter: letter.as_ref().map(|v| letter_row(state, &ctx, v)),
            tr: ctx.tr,
            chrome: ctx.chrome,
            destination,
            notice,
            errors,
            summary,
        },
    )))
}

/// The order form has no fields but its CSRF token: the address is the
/// ministry's, and whatever an old page still posts is ignored.
#[derive(Deserialize, Default)]
struct OrderInput {}

async fn order_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(OrderInput {}): CsrfForm<OrderInput>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/identity");
    let account = session.account_id;
    let mut errors = FieldErrors::new();
    let l = ctx.tr.letter;
    let status = match state.letters.order(account, ctx.lang.0).await {
        Ok(_) => return Ok(see_other("/me/identity?ordered=1")),
        Err(OrderError::NotStandard) => {
            errors.insert("letter".into(), l.err_not_standard.into());
            StatusCode::CONFLICT
        }
        Err(OrderError::AlreadyConfirmed) => {
            errors.insert("letter".into(), l.err_already_confirmed.into());
            StatusCode::CONFLICT
        }
        Err(OrderError::NoRegisteredAddress) => {
            errors.insert("letter".into(), l.no_registered_address.into());
            StatusCode::CONFLICT
        }
        Err(OrderError::TooSoon { allowed_at }) => {
            errors.insert(
                "letter".into(),
                fill(l.next_letter_at, local_time(&state, allowed_at, &ctx)),
            );
            StatusCode::TOO_MANY_REQUESTS
        }
        Err(OrderError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
    };
    show(&state, ctx, account, false, errors, status).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeInput {
    code: String,
    /// `me` when typed on «Мои данные»: the answer goes back there.
    from: String,
}

async fn code_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(input): CsrfForm<CodeInput>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/identity");
    let account = session.account_id;
    let back = if input.from == "me" {
        "/me"
    } else {
        "/me/identity"
    };
    match state.letters.enter_code(account, &input.code).await {
        Ok(()) => Ok(see_other(back)),
        Err(CodeEntryError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
        Err(e) => {
            let now = state.letters.now();
            let status = if matches!(e, CodeEntryError::TooMany { .. }) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut errors = FieldErrors::new();
            if let Some(m) = code_error(ctx.tr, &e, now) {
                errors.insert("code".into(), m);
            }
            show(&state, ctx, account, false, errors, status).await
        }
    }
}

// ------------------------------------------------------------------ the API

/// «Заказать письмо»: no body is read. The letter goes to the registered
/// address; an old client that still sends `{"address": …}` is answered
/// as any other, its address ignored.
async fn api_order(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let l = t.letter;
    match state.letters.order(session.account_id, lang.0).await {
        Ok(v) => Ok((StatusCode::ACCEPTED, Json(v)).into_response()),
        Err(OrderError::NotStandard) => Err(ApiError::conflict("not_standard", l.err_not_standard)),
        Err(OrderError::AlreadyConfirmed) => Err(ApiError::conflict(
            "already_confirmed",
            l.err_already_confirmed,
        )),
        Err(OrderError::NoRegisteredAddress) => Err(ApiError::conflict(
            "no_registered_address",
            l.no_registered_address,
        )),
        Err(OrderError::TooSoon { allowed_at }) => Err(ApiError::rate_limited(
            t,
            (allowed_at - state.letters.now()).whole_seconds(),
        )),
        Err(OrderError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}

async fn api_letter(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .letters
        .current(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?
    {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(ApiError::conflict("no_letter", t.letter.err_no_letter)
            .with_status(StatusCode::NOT_FOUND)),
    }
}

#[derive(Deserialize)]
struct CodeJson {
    #[serde(default)]
    code: String,
}

async fn api_code(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    crate::http::ApiJson(input): crate::http::ApiJson<CodeJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .letters
        .enter_code(session.account_id, &input.code)
        .await
    {
        Ok(()) => Ok(Json(json!({ "level": AccountLevel::Confirmed.as_str() })).into_response()),
        Err(CodeEntryError::TooMany { retry_at }) => Err(ApiError::rate_limited(
            t,
            (retry_at - state.letters.now()).whole_seconds(),
        )),
        Err(CodeEntryError::Internal(e)) => Err(ApiError::internal(t, &e)),
        Err(e) => {
            let code = match &e {
                CodeEntryError::Malformed(_) => "malformed_code",
                CodeEntryError::NoLetter => "no_letter",
                CodeEntryError::NotSent => "letter_not_sent",
                CodeEntryError::AlreadyConfirmed => "already_confirmed",
                CodeEntryError::Expired => "code_expired",
                CodeEntryError::Exhausted => "attempts_exhausted",
                _ => "wrong_code",
            };
            let message = code_error(t, &e, state.letters.now()).unwrap_or_default();
            Err(ApiError::invalid_with_code(code, "code", &message))
        }
    }
}
