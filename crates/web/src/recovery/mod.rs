//! «Не удаётся войти?»: the pages `/recover…` and `/api/v1/recovery…`.
//! Thin: the rules (same answers for unknown logins, the second fact of a
//! verified account, what the new password ends) are in the use case.
use axum::Router;
use axum::http::HeaderMap;
use time::OffsetDateTime;
use uslugi_app::recovery::{RecoveryError, RecoveryFact};

use crate::AppState;
use crate::error::{ApiError, PageError};
use crate::http::cookie;
use crate::i18n::{Tr, fill};
use crate::page::Ctx;

mod api;
mod confirm;
pub mod i18n;
mod password;
mod start;

pub const RECOVERY_COOKIE: &str = "__Host-uslugi-recovery";

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(start::routes())
        .merge(confirm::routes())
        .merge(password::routes())
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}

/// The one answer to each recovery error, for the API and the pages (see
/// [`crate::error`]): what the person can fix is named by its field.
fn recovery_answer(t: &Tr, now: OffsetDateTime, e: &RecoveryError) -> ApiError {
    let r = t.recovery;
    let on_field = |code, field: &str, message: &str| {
        ApiError::invalid_field(t, field, message).with_code(code)
    };
    match e {
        RecoveryError::MalformedLogin => on_field("login_malformed", "login", r.err_login),
        RecoveryError::RateLimited { retry_at } => {
            ApiError::rate_limited(t, (*retry_at - now).whole_seconds())
        }
        RecoveryError::NotFound => recovery_not_found(t),
        RecoveryError::MalformedCode => on_field("code_malformed", "code", t.err_code_format),
        RecoveryError::WrongCode { attempts_left } => {
            on_field("code_wrong", "code", &fill(t.err_code_wrong, attempts_left))
        }
        RecoveryError::CodeExpired => on_field("code_expired", "code", t.err_code_expired),
        RecoveryError::AttemptsExhausted => {
            on_field("code_attempts_exhausted", "code", t.err_code_exhausted)
        }
        RecoveryError::LinkInvalid => on_field("token_invalid", "token", t.err_token),
        RecoveryError::LinkExpired => on_field("token_expired", "token", t.err_token),
        RecoveryError::FactRequired { snils_allowed } => {
            let mut err = on_field(
                "fact_required",
                "passport_series_number",
                r.err_fact_required,
            );
            if *snils_allowed {
                err.fields.insert("snils".into(), r.or_snils.into());
            }
            err
        }
        RecoveryError::FactMalformed { field } => on_field(
            "fact_malformed",
            field,
            if *field == "snils" {
                r.err_fact_snils
            } else {
                r.err_fact_passport
            },
        ),
        RecoveryError::WrongFact { attempts_left } => on_field(
            "fact_wrong",
            "passport_series_number",
            &fill(r.err_fact_wrong, attempts_left),
        ),
        RecoveryError::NotConfirmed => ApiError::conflict("not_confirmed", t.err_not_confirmed),
        RecoveryError::ContinuationRequired => ApiError::continuation_required(t),
        RecoveryError::Password { problems, mismatch } => {
            ApiError::invalid(t, crate::password::password_fields(t, problems, *mismatch))
                .with_code("password_rejected")
        }
        RecoveryError::Internal(_) => ApiError::internal(t, e),
    }
}

fn recovery_not_found(t: &Tr) -> ApiError {
    ApiError::not_found(t)
        .with_code("recovery_not_found")
        .with_message(t.recovery.err_gone)
}

fn fact_of(passport: Option<&str>, snils: Option<&str>) -> Option<RecoveryFact> {
    match (
        passport.map(str::trim).filter(|p| !p.is_empty()),
        snils.map(str::trim).filter(|s| !s.is_empty()),
    ) {
        (Some(p), _) => Some(RecoveryFact::Passport(p.to_owned())),
        (None, Some(s)) => Some(RecoveryFact::Snils(s.to_owned())),
        (None, None) => None,
    }
}

fn page_error(ctx: &Ctx, state: &AppState, e: RecoveryError) -> PageError {
    PageError::from_answer(
        ctx.lang.0,
        recovery_answer(ctx.tr, state.accounts.now(), &e),
    )
}

fn recovery_id(headers: &HeaderMap) -> Option<uuid::Uuid> {
    cookie(headers, RECOVERY_COOKIE).and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::RU;
    use uslugi_app::Lang;

    /// A field's error shown where its form is not (once a 500), and the
    /// password before the code: the same answer on the page as in the API.
    #[test]
    fn the_pages_answer_each_recovery_error_as_the_api_does() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let cases = [
            (RecoveryError::MalformedLogin, 422, "login_malformed"),
            (RecoveryError::NotFound, 404, "recovery_not_found"),
            (RecoveryError::MalformedCode, 422, "code_malformed"),
            (
                RecoveryError::WrongCode { attempts_left: 1 },
                422,
                "code_wrong",
            ),
            (RecoveryError::CodeExpired, 422, "code_expired"),
            (
                RecoveryError::AttemptsExhausted,
                422,
                "code_attempts_exhausted",
            ),
            (RecoveryError::LinkInvalid, 422, "token_invalid"),
            (RecoveryError::LinkExpired, 422, "token_expired"),
            (
                RecoveryError::FactRequired {
                    snils_allowed: false,
                },
                422,
                "fact_required",
            ),
            (
                RecoveryError::FactMalformed { field: "snils" },
                422,
                "fact_malformed",
            ),
            (
                RecoveryError::WrongFact { attempts_left: 2 },
                422,
                "fact_wrong",
            ),
            (RecoveryError::NotConfirmed, 409, "not_confirmed"),
            (
                RecoveryError::ContinuationRequired,
                403,
                "continuation_required",
            ),
        ];
        for (e, status, code) in cases {
            let answer = recovery_answer(&RU, now, &e);
            assert_eq!((answer.status.as_u16(), answer.code), (status, code), "{e}");
            let page = PageError::from_answer(Lang::Ru, answer);
            assert_eq!(page.status.as_u16(), status, "{e}");
        }
        let page = PageError::from_answer(
            Lang::Ru,
            recovery_answer(&RU, now, &RecoveryError::CodeExpired),
        );
        assert_eq!(page.message, RU.err_code_expired);
    }
}
