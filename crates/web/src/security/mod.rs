//! «Безопасность»: the sessions of the account with «Завершить», and the
//! history of logins and security events; pages and `/api/v1/me/…`.
use axum::Router;
use axum::http::HeaderMap;
use uslugi_app::security::SecurityEvent;

use crate::AppState;
use crate::i18n::Tr;

mod api;
pub mod i18n;
mod page;

pub const DEVICE_COOKIE: &str = "__Host-uslugi-device";

pub fn routes() -> Router<AppState> {
    page::routes()
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}

/// What the browser or app says of itself, at most 256 characters.
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect())
}

/// The text of an event of the history.
pub fn event_text(t: &Tr, e: &SecurityEvent) -> String {
    let s = t.security;
    let base = match (e.action.as_str(), e.outcome.as_str()) {
        ("login", "ok_new_device") => s.ev_login_new_device,
        ("login", "wrong_password") => s.ev_login_refused,
        ("login", "refused_throttled") => s.ev_login_throttled,
        ("login", "second_factor_asked") => t.factor.ev_asked,
        ("login", "wrong_second_factor") => t.factor.ev_wrong,
        ("login", _) => s.ev_login,
        ("password_changed", "temporary_replaced") => s.ev_temporary_replaced,
        ("password_changed", _) => s.ev_password_changed,
        ("access_recovered", _) => s.ev_access_recovered,
        ("access_restored", _) => s.ev_access_restored,
        ("identity_confirmed", _) => s.ev_identity_confirmed,
        ("identity_confirmed_by_letter", _) => s.ev_confirmed_by_letter,
        ("identity_letter_ordered", _) => s.ev_letter_ordered,
        ("registered_in_person", _) => s.ev_registered_in_person,
        ("registered", _) => s.ev_registered,
        ("data_exported", _) => s.ev_data_exported,
        ("account_disabled", _) => s.ev_account_disabled,
        ("account_enabled", _) => s.ev_account_enabled,
        ("registration_checked", _) => s.ev_registration_checked,
        ("session_ended", _) => s.ev_session_ended,
        ("second_factor_enabled", _) => t.factor.ev_enabled,
        ("second_factor_disabled", _) => t.factor.ev_disabled,
        ("backup_codes_renewed", _) => t.factor.ev_renewed,
        ("contact_changed", "phone") => t.contacts.ev_phone_changed,
        ("contact_changed", _) => t.contacts.ev_email_changed,
        ("deletion_requested", _) => t.deletion.ev_requested,
        ("deletion_cancelled", _) => t.deletion.ev_cancelled,
        (other, _) => other,
    };
    let mut text = base.to_owned();
    if e.outcome == "refused" {
        text.push_str(&format!(" ({})", s.ev_refused));
    }
    if e.by_operator {
        text.push_str(&format!(" — {}", s.by_operator));
    }
    text
}
