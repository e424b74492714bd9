//! Identity confirmation by a registered letter: the page `/me/identity`
//! and `/api/v1/me/identity/letter…`.
use axum::Router;
use uslugi_app::letters::{CodeEntryError, LetterView};
use uslugi_domain::CodeError;

use crate::AppState;
use crate::i18n::{Tr, fill};
use crate::page::{Ctx, local_time};

mod api;
pub mod i18n;
mod page;

pub fn routes() -> Router<AppState> {
    page::routes()
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}

/// «В центре обслуживания» or «Кодом из письма»: how the identity was
/// confirmed, as «Мои данные» and the data's PDF say it.
pub(crate) fn confirmed_via_text(t: &Tr, via: Option<uslugi_domain::ConfirmedVia>) -> &'static str {
    match via {
        Some(uslugi_domain::ConfirmedVia::Letter) => t.letter.confirmed_via_letter,
        _ => t.letter.confirmed_via_center,
    }
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
