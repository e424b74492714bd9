//! «Изменить» by the phone or the e-mail of «Мои данные»: the pages
//! `/me/contacts/…` and `/api/v1/me/contacts…`. Thin: the rules (the
//! password first, the same answers for a taken contact, what is written
//! together) are in the use case.
use axum::Router;
use time::OffsetDateTime;
use uslugi_app::contacts::ContactChangeError;
use uslugi_app::{Contact, FactorError};
use uslugi_domain::{Email, PhoneNumber};

use crate::AppState;
use crate::error::{ApiError, FieldErrors, PageError};
use crate::i18n::{Tr, fill};
use crate::page::Ctx;

mod api;
mod confirm;
mod email_link;
mod form;
pub mod i18n;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(form::routes())
        .merge(confirm::routes())
        .merge(email_link::routes())
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}

/// Where the new value is typed: `phone` or `email`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Phone,
    Email,
}

impl Kind {
    const fn field(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
        }
    }
}

/// Parses the new value, or names the field's problem in the person's
/// language.
fn parse_contact(t: &Tr, kind: Kind, value: &str) -> Result<Contact, FieldErrors> {
    let parsed = match kind {
        Kind::Phone => PhoneNumber::parse(value)
            .map(Contact::Phone)
            .map_err(|e| t.phone_error(e)),
        Kind::Email => Email::parse(value)
            .map(Contact::Email)
            .map_err(|e| t.email_error(e)),
    };
    parsed.map_err(|message| {
        let mut f = FieldErrors::new();
        f.insert(kind.field().into(), message.into());
        f
    })
}

/// The one answer to each contact-change error, for the API and the pages
/// (see [`crate::error`]): what the person can fix is named by its field.
fn contact_change_answer(t: &Tr, now: OffsetDateTime, e: &ContactChangeError) -> ApiError {
    let c = t.contacts;
    let on_field = |code, field: &str, message: &str| {
        ApiError::invalid_field(t, field, message).with_code(code)
    };
    match e {
        ContactChangeError::WrongPassword => on_field("wrong_password", "password", c.err_password),
        ContactChangeError::Throttled => on_field("throttled", "password", t.factor.err_throttled),
        ContactChangeError::RateLimited { retry_at } => {
            ApiError::rate_limited(t, (*retry_at - now).whole_seconds())
        }
        ContactChangeError::NotFound => change_not_found(t),
        ContactChangeError::MalformedCode => on_field("code_malformed", "code", t.err_code_format),
        ContactChangeError::WrongCode { attempts_left } => {
            on_field("code_wrong", "code", &fill(t.err_code_wrong, attempts_left))
        }
        ContactChangeError::CodeExpired => on_field("code_expired", "code", t.err_code_expired),
        ContactChangeError::AttemptsExhausted => {
            on_field("code_attempts_exhausted", "code", t.err_code_exhausted)
        }
        ContactChangeError::LinkInvalid => on_field("token_invalid", "token", t.err_token),
        ContactChangeError::LinkExpired => on_field("token_expired", "token", t.err_token),
        ContactChangeError::ContactTaken => ApiError::conflict("contact_taken", c.err_taken),
        ContactChangeError::SecondFactor(fe) => factor_consent_answer(t, now, fe),
        ContactChangeError::Internal(_) => ApiError::internal(t, e),
    }
}

/// The second factor's refusal of a change: its code is typed on the
/// change's own form, so the messages speak of that field.
fn factor_consent_answer(t: &Tr, now: OffsetDateTime, e: &FactorError) -> ApiError {
    let f = t.factor;
    let on_code = |code, message: &str| ApiError::invalid_field(t, "code", message).with_code(code);
    match e {
        FactorError::MalformedCode => on_code("second_factor_required", f.err_code_or_backup),
        FactorError::WrongCode { .. } => on_code("code_wrong", f.err_wrong),
        FactorError::CodeExpired => on_code("code_expired", f.err_send_first),
        FactorError::AttemptsExhausted => on_code("code_attempts_exhausted", t.err_code_exhausted),
        FactorError::Throttled { retry_at } => {
            let secs = retry_at.map_or(60, |at| (at - now).whole_seconds());
            let mut err = ApiError::rate_limited(t, secs)
                .with_code("throttled")
                .with_message(f.err_throttled);
            err.fields.insert("code".into(), f.err_throttled.into());
            err
        }
        // The consent has no step, send, password or state of the factor
        // to refuse on (the use case never gives these); were one to come,
        // it means what it means on the factor's own pages.
        FactorError::NotFound
        | FactorError::RateLimited { .. }
        | FactorError::TooEarly { .. }
        | FactorError::WrongPassword
        | FactorError::AlreadyOn
        | FactorError::NotOn
        | FactorError::NoPhone
        | FactorError::NothingToSend
        | FactorError::Internal(_) => crate::second_factor::factor_answer(t, now, e),
    }
}

fn change_not_found(t: &Tr) -> ApiError {
    ApiError::not_found(t)
        .with_code("contact_change_not_found")
        .with_message(t.contacts.err_gone)
}

fn page_error(ctx: &Ctx, state: &AppState, e: ContactChangeError) -> PageError {
    PageError::from_answer(
        ctx.lang.0,
        contact_change_answer(ctx.tr, state.accounts.now(), &e),
    )
}

fn changed_query(contact: &Contact) -> &'static str {
    match contact {
        Contact::Phone(_) => "/me?contact_changed=phone",
        Contact::Email(_) => "/me?contact_changed=email",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::RU;

    /// A refusal of the second factor that is not about the typed code
    /// says what it is, as on the factor's own pages (these were a 500).
    #[test]
    fn every_refusal_of_the_factor_has_an_answer_of_its_own() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let later = now + time::Duration::seconds(40);
        let cases = [
            (FactorError::MalformedCode, 422, "second_factor_required"),
            (
                FactorError::WrongCode {
                    attempts_left: None,
                },
                422,
                "code_wrong",
            ),
            (FactorError::CodeExpired, 422, "code_expired"),
            (
                FactorError::AttemptsExhausted,
                422,
                "code_attempts_exhausted",
            ),
            (
                FactorError::Throttled {
                    retry_at: Some(later),
                },
                429,
                "throttled",
            ),
            (FactorError::NotFound, 404, "challenge_not_found"),
            (
                FactorError::RateLimited { retry_at: later },
                429,
                "rate_limited",
            ),
            (
                FactorError::TooEarly { retry_at: later },
                429,
                "rate_limited",
            ),
            (FactorError::WrongPassword, 401, "wrong_password"),
            (FactorError::AlreadyOn, 409, "second_factor_on"),
            (FactorError::NotOn, 409, "second_factor_off"),
            (FactorError::NoPhone, 422, "no_phone"),
            (FactorError::NothingToSend, 409, "nothing_to_send"),
        ];
        for (e, status, code) in cases {
            let text = e.to_string();
            let answer = contact_change_answer(&RU, now, &ContactChangeError::SecondFactor(e));
            assert_eq!(
                (answer.status.as_u16(), answer.code),
                (status, code),
                "{text}"
            );
        }
        let throttled = contact_change_answer(
            &RU,
            now,
            &ContactChangeError::SecondFactor(FactorError::Throttled {
                retry_at: Some(later),
            }),
        );
        assert_eq!(throttled.retry_after, Some(40));
        assert_eq!(
            throttled.fields.get("code").map(String::as_str),
            Some(RU.factor.err_throttled),
            "the page shows it on the code's field"
        );
    }

    #[test]
    fn a_change_that_is_gone_says_so_on_the_page_and_in_the_api() {
        let answer = contact_change_answer(
            &RU,
            OffsetDateTime::UNIX_EPOCH,
            &ContactChangeError::NotFound,
        );
        assert_eq!(
            (answer.status.as_u16(), answer.code),
            (404, "contact_change_not_found")
        );
        assert_eq!(answer.message, RU.contacts.err_gone);
    }
}
