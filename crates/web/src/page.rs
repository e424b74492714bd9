//! What every server-rendered page shares: the frame (`Chrome`), the
//! request's context (`Ctx`), rendering and redirects, and the page an
//! e-mail link opens. Every page works without JavaScript; the script
//! only adds the live countdown and the password-strength meter.
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use uslugi_app::messages;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{CsrfToken, Language, session_token, url_encode};
use crate::i18n::{Tr, fill};

/// What every page's frame needs: the CSRF token for its forms, where the
/// language switcher should come back to, and whether someone is logged in.
#[derive(Clone)]
pub struct Chrome {
    pub csrf: String,
    pub next_enc: String,
    pub logged_in: bool,
}

impl Chrome {
    pub fn plain() -> Self {
        Self {
            csrf: String::new(),
            next_enc: "%2F".into(),
            logged_in: false,
        }
    }
}

/// Per-request page context, built from the request's headers.
pub struct Ctx {
    pub tr: &'static Tr,
    pub lang: Language,
    pub chrome: Chrome,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &S,
    ) -> Result<Self, Self::Rejection> {
        let lang = Language::from_request_parts(parts, s).await?;
        let CsrfToken(csrf) = CsrfToken::from_request_parts(parts, s).await?;
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(Self {
            tr: lang.tr(),
            lang,
            chrome: Chrome {
                csrf,
                next_enc: url_encode(path),
                logged_in: session_token(&parts.headers).is_some(),
            },
        })
    }
}

/// What a page handler starts from: the application, the page context and
/// the request's headers (the session cookie, the flow cookies), in that
/// order, taken in one extractor so that every handler names them the same way.
pub(crate) struct Page(pub AppState, pub Ctx, pub axum::http::HeaderMap);

impl FromRequestParts<AppState> for Page {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        Ok(Self(state.clone(), ctx, parts.headers.clone()))
    }
}

pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => PageError::internal(uslugi_app::Lang::Ru, &e).into_response(),
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

pub(crate) fn local_time(state: &AppState, at: OffsetDateTime, ctx: &Ctx) -> String {
    messages::format_local(at, state.accounts.policy().display_offset, ctx.lang.0)
}

/// Pages that show personal data are never cached: they must not linger
/// in shared caches or behind the back button.
pub(crate) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How a code's page counts down: the code's life, and the wait before a
/// new one may be asked (the script counts on from these; without it the
/// texts stand).
pub(crate) struct CodeClock {
    pub expires_unix: i64,
    pub seconds_left: i64,
    pub resend_unix: i64,
    pub resend_after_text: String,
    pub can_resend_now: bool,
    /// Three wrong entries killed the code: the page must not keep counting
    /// down the life of a code that can no longer be used.
    pub code_dead: bool,
}

impl CodeClock {
    pub(crate) fn new(
        state: &AppState,
        ctx: &Ctx,
        by_email: bool,
        (expires_at, resend_at): (OffsetDateTime, OffsetDateTime),
        code_dead: bool,
    ) -> Self {
        let now = state.accounts.now();
        let resend_after = if by_email {
            ctx.tr.resend_letter_after
        } else {
            ctx.tr.resend_after
        };
        Self {
            expires_unix: expires_at.unix_timestamp(),
            seconds_left: (expires_at - now).whole_seconds().max(0),
            resend_unix: resend_at.unix_timestamp(),
            resend_after_text: fill(resend_after, local_time(state, resend_at, ctx)),
            can_resend_now: now >= resend_at,
            code_dead,
        }
    }
}

/// The code step every page that asks for a code (or tells of a link)
/// shows the same way (`code_form.html`, `resend_form.html`): where the
/// code and a resend go, the buttons' words, the code's life and its
/// countdown.
pub(crate) struct CodeStep {
    pub confirm_action: String,
    pub submit_label: &'static str,
    pub resend_action: String,
    pub resend_label: &'static str,
    /// «Код действителен до …», or the link's.
    pub valid_until_text: String,
    pub clock: CodeClock,
}

impl CodeStep {
    /// The step of a code sent to a phone or a link to an e-mail: the
    /// resend button and the code's life say which. `resend_letter_label`
    /// and `valid_until` are the page's own words.
    pub(crate) fn new(
        state: &AppState,
        ctx: &Ctx,
        actions: CodeActions,
        resend_letter_label: &'static str,
        valid_until: &'static str,
        secret: &SecretClock,
    ) -> Self {
        Self {
            confirm_action: actions.confirm,
            submit_label: actions.submit_label,
            resend_action: actions.resend,
            resend_label: if secret.by_email {
                resend_letter_label
            } else {
                ctx.tr.resend_code
            },
            valid_until_text: fill(valid_until, local_time(state, secret.expires_at, ctx)),
            clock: CodeClock::new(
                state,
                ctx,
                secret.by_email,
                (secret.expires_at, secret.resend_at),
                secret.attempts_left == 0,
            ),
        }
    }
}

/// Where a code step's two forms post, and the code's button.
pub(crate) struct CodeActions {
    pub confirm: String,
    pub submit_label: &'static str,
    pub resend: String,
}

/// A sent code's or link's life, as the app tells it.
pub(crate) struct SecretClock {
    pub by_email: bool,
    pub expires_at: OffsetDateTime,
    pub resend_at: OffsetDateTime,
    pub attempts_left: u32,
}

/// A new code asked for before its wait is over, on the code's own page:
/// the wait beside the resend button, 429 and `Retry-After`.
pub(crate) fn resend_refused<T: Template>(
    state: &AppState,
    tr: &Tr,
    retry_at: OffsetDateTime,
    page: impl FnOnce(FieldErrors) -> T,
) -> Response {
    let secs = (retry_at - state.accounts.now()).whole_seconds().max(1);
    let mut errors = FieldErrors::new();
    errors.insert("resend".into(), fill(tr.too_many, secs));
    let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page(errors));
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// A form with nothing in it but its CSRF token: a button.
#[derive(serde::Deserialize)]
pub(crate) struct EmptyForm {}

/// An e-mail link's token: in the link's address, and posted back by its
/// page's button.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct LinkToken {
    pub token: String,
}

/// The page every e-mail link opens: what the button confirms, and the
/// button. Opening it (a person, or a mail scanner) changes nothing.
#[derive(Template)]
#[template(path = "confirm_link.html")]
pub(crate) struct LinkConfirmPage {
    pub tr: &'static Tr,
    pub chrome: Chrome,
    pub who: Option<String>,
    pub lead: &'static str,
    pub action: &'static str,
    pub token: String,
}
