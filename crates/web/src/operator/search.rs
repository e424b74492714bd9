//! The console's home page: finding a citizen.
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::operators::SearchError;
use uslugi_domain::{SearchBy, Token};

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::CsrfForm;
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Page, no_store, render};

use super::{CardRow, Desk, card_row, desk, operator_or_login};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", routing::get(home))
        .route("/operator/search", routing::post(search))
}

#[derive(Template)]
#[template(path = "operator_home.html")]
struct HomePage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    by: &'static str,
    value: String,
    searched: bool,
    results: Vec<CardRow>,
    errors: FieldErrors,
}

async fn home(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    Ok(no_store(render(
        StatusCode::OK,
        &HomePage {
            desk: desk(ctx.tr, &op),
            tr: ctx.tr,
            chrome: ctx.chrome,
            by: "snils",
            value: String::new(),
            searched: false,
            results: Vec::new(),
            errors: FieldErrors::new(),
        },
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchInput {
    by: String,
    value: String,
}

/// A search is a POST: SNILS and passport numbers stay out of addresses,
/// browser history and access logs.
async fn search(
    Page(state, ctx, headers): Page,
    CsrfForm(input): CsrfForm<SearchInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let c = ctx.tr.console;
    let by = SearchBy::parse(&input.by).unwrap_or(SearchBy::Snils);
    let mut errors = FieldErrors::new();
    let mut results = Vec::new();
    let mut status = StatusCode::OK;
    if input.value.trim().is_empty() {
        errors.insert("value".into(), ctx.tr.err_required.into());
        status = StatusCode::UNPROCESSABLE_ENTITY;
    } else {
        match state.operators.find(&op, by, &input.value).await {
            Ok(cards) => {
                results = cards
                    .into_iter()
                    .map(|(card, grant)| CardRow {
                        grant,
                        ..card_row(ctx.tr, &card)
                    })
                    .collect();
            }
            Err(SearchError::Malformed(_)) => {
                errors.insert("value".into(), c.err_search_value.into());
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(SearchError::TooMany { retry_at }) => {
                let secs = (retry_at - state.operators.now()).whole_seconds().max(1);
                errors.insert("value".into(), fill(c.err_too_many_searches, secs));
                status = StatusCode::TOO_MANY_REQUESTS;
            }
            Err(SearchError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
        }
    }
    Ok(no_store(render(
        status,
        &HomePage {
            desk: desk(ctx.tr, &op),
            tr: ctx.tr,
            chrome: ctx.chrome,
            by: by.as_str(),
            value: input.value,
            searched: errors.is_empty(),
            results,
            errors,
        },
    )))
}
