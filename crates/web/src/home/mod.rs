//! The public pages: the home page, the services catalogue, the terms and
//! the privacy policy, and the language switcher.
use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use serde::Deserialize;

use crate::AppState;
use crate::http::{LANG_COOKIE, safe_next, set_cookie};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, render};

mod services;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(services::routes())
        .route("/", routing::get(home))
        .route("/terms", routing::get(terms))
        .route("/privacy", routing::get(privacy))
        .route("/lang/{code}", routing::get(switch_language))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn home(Ctx { tr, chrome, .. }: Ctx) -> Response {
    render(StatusCode::OK, &HomePage { tr, chrome })
}

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn terms(Ctx { tr, chrome, .. }: Ctx) -> Response {
    render(StatusCode::OK, &TermsPage { tr, chrome })
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn privacy(Ctx { tr, chrome, .. }: Ctx) -> Response {
    render(StatusCode::OK, &PrivacyPage { tr, chrome })
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = uslugi_app::Lang::parse(&code).unwrap_or_default();
    let next = safe_next(q.next.as_deref());
    (
        [(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, lang.code(), Some(365 * 24 * 3600)),
        )],
        Redirect::to(&next),
    )
        .into_response()
}
