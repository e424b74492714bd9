//! `/me/identity`: the letter with the code, its way, and the code typed
//! in (also from «Мои данные»).
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::letters::{CodeEntryError, OrderError};
use uslugi_domain::Token;

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::CsrfForm;
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, local_time, no_store, render, see_other};

use super::{LetterRow, code_error, letter_row};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/identity", routing::get(page))
        .route("/me/identity/letter", routing::post(order_submit))
        .route("/me/identity/code", routing::post(code_submit))
}

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

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    ordered: Option<String>,
}

async fn page(
    Page(state, ctx, headers): Page,
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
        .accounts
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
    Page(state, ctx, headers): Page,
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
    Page(state, ctx, headers): Page,
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
