//! The web face of uslugi: server-rendered pages for people, the JSON API
//! for apps and kiosks, and the development mailbox's pages. Each feature's
//! folder brings its routes (`routes`, and `api_routes` under `/api/v1`);
//! the router below puts them together with the layers every answer passes.
use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use async_trait::async_trait;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::{Json, Router, routing};
use uslugi_app::Accounts;

// Shared by every feature: request plumbing, the two error types, the page
// frame, who is signed in, the texts, tracing, QR codes.
pub mod api;
pub mod auth;
pub mod error;
pub mod http;
pub mod i18n;
pub mod metrics;
pub mod page;
pub mod qr;
pub mod shutdown;
pub mod trace;

// One folder a feature: its pages, its API, its view models, its texts.
pub mod centers;
pub mod contacts;
pub mod deletion;
pub mod home;
pub mod identity_letter;
pub mod login;
pub mod operator;
pub mod password;
pub mod personal_data;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod second_factor;
pub mod security;

// The development pages show what the development mailbox holds, entry for
// entry (its entry is the `/dev/outbox.json` contract): the web crate reads
// that one adapter directly rather than through a port of its own, since a
// trait with a single, development-only implementation would add a type and
// hide nothing. The transports that deliver messages stay behind
// `uslugi_app::ports::Messenger`.
use uslugi_adapters::{DevMailbox, MailboxEntry};

/// Largest request body accepted; registration forms are a few hundred bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

#[async_trait]
pub trait Readiness: Send + Sync {
    async fn ready(&self) -> bool;
}

#[derive(Clone)]
pub struct AppState {
    pub accounts: Arc<Accounts>,
    pub centers: Arc<uslugi_app::centers::Centers>,
    pub letters: Arc<uslugi_app::letters::Letters>,
    pub operators: Arc<uslugi_app::operators::Operators>,
    pub verification: Arc<uslugi_app::verification::Verification>,
    /// Present only in development mode: with real transports the
    /// development mailbox's pages (`/dev/outbox`, `/dev/outbox.json`) do
    /// not exist.
    pub dev_mailbox: Option<Arc<DevMailbox>>,
    pub readiness: Arc<dyn Readiness>,
    /// Count requests for `/metrics` (only when the node exports them).
    pub count_requests: bool,
    /// Heard when the node begins to stop.
    pub shutdown: shutdown::Shutdown,
    /// Whose `X-Forwarded-For` names the client (`trusted_proxies`).
    pub forwarded_for: http::ForwardedFor,
}

pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .merge(home::routes())
        .merge(registration::routes())
        .merge(login::routes())
        .merge(profile::routes())
        .merge(personal_data::routes())
        .merge(centers::routes())
        .merge(identity_letter::routes())
        .merge(operator::routes())
        .merge(password::routes())
        .merge(recovery::routes())
        .merge(security::routes())
        .merge(second_factor::routes())
        .merge(contacts::routes())
        .merge(deletion::routes())
        .merge(api::routes())
        .route("/health", routing::get(health))
        .route("/static/app.css", routing::get(css))
        .route("/static/app.js", routing::get(js));
    if state.dev_mailbox.is_some() {
        app = app.merge(
            Router::new()
                // The paths are older than the mailbox's name; the browser
                // suite, the bench and developers read them.
                .route("/dev/outbox", routing::get(dev_mailbox_page))
                .route("/dev/outbox.json", routing::get(dev_mailbox_json))
                .route_layer(middleware::from_fn(this_machine_only)),
        );
    }
    let forwarded_for = state.forwarded_for.clone();
    // Behind HTTPS, browsers are told never to try plain HTTP here again,
    // so no first request is left for a network attacker to intercept. A
    // plain-HTTP base URL is loopback only, and browsers ignore the header
    // there.
    let hsts = state.accounts.policy().base_url.starts_with("https://");
    let app = app
        .fallback(page_not_found)
        .layer(middleware::from_fn(http::csrf_cookie))
        .layer(middleware::from_fn(move |request, next| {
            security_headers(hsts, request, next)
        }))
        .layer(axum::Extension(forwarded_for))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    // Counted outside every other layer but tracing: the whole answer's time.
    let app = if state.count_requests {
        app.layer(metrics::MetricsLayer)
    } else {
        app
    };
    app
        // Outermost, after routing (so the route template is known): the
        // span covers every other layer and the handler.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(trace::request_span)
                .on_request(())
                .on_response(trace::request_done)
                .on_body_chunk(())
                .on_eos(())
                // An internal error logs its own cause; the last line
                // gives every status.
                .on_failure(()),
        )
        .layer(trace::RequestIdLayer)
        .with_state(state)
}

async fn page_not_found(lang: http::Language) -> error::PageError {
    error::PageError::not_found(lang.0)
}

/// The development pages show every code and temporary password sent, so
/// they answer this machine only, and to others do not exist. A request
/// that came through a proxy is not this machine's, whatever address the
/// proxy connects from.
async fn this_machine_only(request: Request, next: Next) -> Response {
    let from_loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().to_canonical().is_loopback());
    let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| request.headers().contains_key(*h));
    if from_loopback && !proxied {
        next.run(request).await
    } else {
        error::PageError::not_found(http::lang_of(request.headers())).into_response()
    }
}

/// Headers every answer carries: no framing (clickjacking), no sniffing,
/// no referrer leaking tokens from URLs, scripts only from this site; and
/// HSTS when the site is served over HTTPS.
async fn security_headers(hsts: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn health(State(state): State<AppState>) -> Response {
    if state.readiness.ready().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
        .into_response()
}

async fn dev_mailbox_entries(state: &AppState) -> Result<Vec<MailboxEntry>, Response> {
    let mailbox = state
        .dev_mailbox
        .as_ref()
        .ok_or_else(|| StatusCode::NOT_FOUND.into_response())?;
    mailbox.list().await.map_err(|e| {
        error::log_internal(&e);
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

async fn dev_mailbox_json(State(state): State<AppState>) -> Response {
    match dev_mailbox_entries(&state).await {
        Ok(entries) => Json(entries).into_response(),
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "dev_mailbox.html")]
struct DevMailboxPage {
    tr: &'static i18n::Tr,
    chrome: page::Chrome,
    entries: Vec<MailboxEntry>,
}

async fn dev_mailbox_page(State(state): State<AppState>, ctx: page::Ctx) -> Response {
    match dev_mailbox_entries(&state).await {
        Ok(entries) => match (DevMailboxPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            entries,
        })
        .render()
        {
            Ok(html) => Html(html).into_response(),
            Err(e) => error::PageError::internal(ctx.lang.0, &e).into_response(),
        },
        Err(r) => r,
    }
}
