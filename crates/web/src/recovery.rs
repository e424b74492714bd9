//! «Не удаётся войти?»: the pages `/recover…` and `/api/v1/recovery…`.
//! Thin: the rules (same answers for unknown logins, the second fact of a
//! verified account, what the new password ends) are in the use case.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uslugi_app::Confirmation;
use uslugi_app::recovery::{RecoveryError, RecoveryFact};
use uslugi_domain::{Channel, Token};

use crate::AppState;
use crate::error::{ApiError, FieldErrors, PageError};
use crate::http::{
    ApiJson, ClientIp, CsrfForm, Language, RECOVERY_CONTINUE_COOKIE, clear_cookie, cookie,
    set_cookie,
};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, local_time, render, see_other};

pub const RECOVERY_COOKIE: &str = "__Host-uslugi-recovery";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recover", routing::get(start_form).post(start_submit))
        .route(
            "/recover/confirm",
            routing::get(confirm_form).post(confirm_submit),
        )
        .route(
            "/recover/confirm-email",
            routing::get(email_link).post(email_submit),
        )
        .route(
            "/recover/password",
            routing::get(password_form).post(password_submit),
        )
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/recovery", routing::post(api_start))
        .route("/recovery/{id}/confirm", routing::post(api_confirm))
        .route("/recovery/{id}/password", routing::post(api_password))
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

fn api_error(t: &Tr, state: &AppState, e: RecoveryError) -> ApiError {
    recovery_answer(t, state.identity.now(), &e)
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

// ------------------------------------------------------------------ the API

#[derive(Deserialize)]
struct StartJson {
    #[serde(default)]
    login: String,
}

/// `POST /api/v1/recovery {"login"}` → `202 {"recovery_id","channel"}`,
/// the same for logins no account has.
async fn api_start(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<StartJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    if input.login.trim().is_empty() {
        return Err(ApiError::invalid_field(t, "login", t.err_required));
    }
    match state
        .identity
        .start_recovery(&input.login, lang.0, ip)
        .await
    {
        Ok(r) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "recovery_id": r.id,
                "channel": r.channel.as_str(),
                "expires_in": (r.secret_expires_at - state.identity.now()).whole_seconds(),
            })),
        )
            .into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize)]
struct ConfirmJson {
    code: Option<String>,
    token: Option<String>,
    passport_series_number: Option<String>,
    snils: Option<String>,
}

fn parse_id(t: &Tr, id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| recovery_not_found(t))
}

async fn api_confirm(
    State(state): State<AppState>,
    lang: Language,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConfirmJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &id)?;
    let with = match (input.code, input.token) {
        (Some(c), _) => Confirmation::Code(c),
        (None, Some(tok)) => Confirmation::Token(tok),
        (None, None) => return Err(ApiError::invalid_field(t, "code", t.err_required)),
    };
    let fact = fact_of(
        input.passport_series_number.as_deref(),
        input.snils.as_deref(),
    );
    match state.identity.confirm_recovery(id, with, fact).await {
        Ok(continuation) => Ok(Json(json!({
            "confirmed": true,
            "continuation_token": continuation.token,
            "continuation_expires_in": (continuation.expires_at - state.identity.now()).whole_seconds(),
        }))
        .into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

#[derive(Deserialize)]
struct PasswordJson {
    /// From the answer of the confirmation: whoever confirmed continues.
    continuation_token: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

async fn api_password(
    State(state): State<AppState>,
    lang: Language,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasswordJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let id = parse_id(t, &id)?;
    match state
        .identity
        .finish_recovery(
            id,
            input.continuation_token.as_deref(),
            &input.password,
            &input.password_confirmation,
        )
        .await
    {
        Ok(()) => Ok(Json(json!({ "password_changed": true })).into_response()),
        Err(e) => Err(api_error(t, &state, e)),
    }
}

// ------------------------------------------------------------------ the pages

#[derive(Template)]
#[template(path = "recover.html")]
struct StartPage {
    tr: &'static Tr,
    chrome: Chrome,
    login: String,
    errors: FieldErrors,
}

async fn start_form(ctx: Ctx) -> Response {
    render(
        StatusCode::OK,
        &StartPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            login: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StartInput {
    login: String,
}

fn page_error(ctx: &Ctx, state: &AppState, e: RecoveryError) -> PageError {
    PageError::from_answer(
        ctx.lang.0,
        recovery_answer(ctx.tr, state.identity.now(), &e),
    )
}

async fn start_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<StartInput>,
) -> Result<Response, PageError> {
    let result = if input.login.trim().is_empty() {
        Err(RecoveryError::MalformedLogin)
    } else {
        state
            .identity
            .start_recovery(&input.login, ctx.lang.0, ip)
            .await
    };
    match result {
        Ok(r) => Ok((
            [(
                header::SET_COOKIE,
                set_cookie(RECOVERY_COOKIE, &r.id.to_string(), Some(3600 * 25)),
            )],
            Redirect::to("/recover/confirm"),
        )
            .into_response()),
        Err(e) => {
            let answer = recovery_answer(ctx.tr, state.identity.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &StartPage {
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    login: input.login,
                    errors: answer.fields,
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "recover_confirm.html")]
struct ConfirmPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_email: bool,
    action: &'static str,
    valid_until: String,
    /// The code or token already given, kept while the fact is asked.
    code: String,
    token: String,
    ask_fact: bool,
    snils_allowed: bool,
    passport: String,
    snils: String,
    errors: FieldErrors,
}

fn recovery_id(headers: &HeaderMap) -> Option<uuid::Uuid> {
    cookie(headers, RECOVERY_COOKIE).and_then(|v| v.parse().ok())
}

async fn confirm_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    let view = match state.identity.recovery(id).await {
        Ok(v) => v,
        Err(e) => return Err(page_error(&ctx, &state, e)),
    };
    if view.confirmed {
        return Ok(see_other("/recover/password"));
    }
    let valid_until = fill(
        ctx.tr.recovery.code_valid_until,
        local_time(&state, view.secret_expires_at, &ctx),
    );
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            by_email: view.channel == Channel::Email,
            action: "/recover/confirm",
            valid_until,
            code: String::new(),
            token: String::new(),
            ask_fact: false,
            snils_allowed: false,
            passport: String::new(),
            snils: String::new(),
            errors: FieldErrors::new(),
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmInput {
    code: String,
    token: String,
    passport_series_number: String,
    snils: String,
}

/// Confirms, then on to the password; a verified account is asked for its
/// second fact on the same page, with what was typed kept.
async fn confirm_and_continue(
    state: &AppState,
    ctx: Ctx,
    id: uuid::Uuid,
    input: ConfirmInput,
    by_email: bool,
) -> Result<Response, PageError> {
    let with = if by_email {
        Confirmation::Token(input.token.clone())
    } else {
        Confirmation::Code(input.code.clone())
    };
    let fact = fact_of(Some(&input.passport_series_number), Some(&input.snils));
    let asked = fact.is_some();
    match state.identity.confirm_recovery(id, with, fact).await {
        Ok(continuation) => {
            // This browser proved control: it, and only it, continues.
            let mut response = see_other("/recover/password");
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(RECOVERY_COOKIE, &id.to_string(), Some(3600 * 25)),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    RECOVERY_CONTINUE_COOKIE,
                    &continuation.token,
                    Some(uslugi_app::challenge::CONTINUATION_TTL.whole_seconds()),
                ),
            );
            Ok(response)
        }
        Err(e) => {
            let answer = recovery_answer(ctx.tr, state.identity.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            let mut errors = answer.fields;
            let secret_ok = matches!(
                e,
                RecoveryError::FactRequired { .. }
                    | RecoveryError::FactMalformed { .. }
                    | RecoveryError::WrongFact { .. }
            );
            if matches!(e, RecoveryError::FactRequired { .. }) && !asked {
                // The first time the fact is asked it is no error yet.
                errors.clear();
            }
            let view = state
                .identity
                .recovery(id)
                .await
                .map_err(|e| page_error(&ctx, state, e))?;
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok(render(
                status,
                &ConfirmPage {
                    valid_until: fill(
                        ctx.tr.recovery.code_valid_until,
                        local_time(state, view.secret_expires_at, &ctx),
                    ),
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    by_email,
                    action: if by_email {
                        "/recover/confirm-email"
                    } else {
                        "/recover/confirm"
                    },
                    code: if secret_ok { input.code } else { String::new() },
                    token: input.token,
                    ask_fact: secret_ok,
                    snils_allowed: view.snils_allowed,
                    passport: input.passport_series_number,
                    snils: input.snils,
                    errors,
                },
            ))
        }
    }
}

async fn confirm_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(input): CsrfForm<ConfirmInput>,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    confirm_and_continue(&state, ctx, id, input, false).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkQuery {
    token: String,
}

/// The e-mail's link: its page shows a button and confirms nothing; a
/// mail scanner that opens it changes nothing.
async fn email_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LinkQuery>,
) -> Result<Response, PageError> {
    if state.identity.recovery_by_link(&q.token).await.is_err() {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            ctx.lang.0,
            ctx.tr.err_token,
        ));
    }
    Ok(render(
        StatusCode::OK,
        &crate::page::LinkConfirmPage {
            lead: ctx.tr.link_confirm_recovery,
            tr: ctx.tr,
            chrome: ctx.chrome,
            who: None,
            action: "/recover/confirm-email",
            token: q.token,
        },
    ))
}

async fn email_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(input): CsrfForm<ConfirmInput>,
) -> Result<Response, PageError> {
    let id = match state.identity.recovery_by_link(&input.token).await {
        Ok(id) => id,
        Err(_) => {
            return Err(PageError::new(
                StatusCode::NOT_FOUND,
                ctx.lang.0,
                ctx.tr.err_token,
            ));
        }
    };
    confirm_and_continue(&state, ctx, id, input, true).await
}

#[derive(Template)]
#[template(path = "recover_password.html")]
struct PasswordPage {
    tr: &'static Tr,
    chrome: Chrome,
    errors: FieldErrors,
}

async fn password_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    match state.identity.recovery(id).await {
        // Confirmed in another browser: this one only started the recovery.
        Ok(v) if v.confirmed && cookie(&headers, RECOVERY_CONTINUE_COOKIE).is_none() => Err(
            page_error(&ctx, &state, RecoveryError::ContinuationRequired),
        ),
        Ok(v) if v.confirmed => Ok(render(
            StatusCode::OK,
            &PasswordPage {
                tr: ctx.tr,
                chrome: ctx.chrome,
                errors: FieldErrors::new(),
            },
        )),
        Ok(_) => Ok(see_other("/recover/confirm")),
        Err(e) => Err(page_error(&ctx, &state, e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordInput {
    password: String,
    password_confirmation: String,
}

async fn password_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(input): CsrfForm<PasswordInput>,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    match state
        .identity
        .finish_recovery(
            id,
            cookie(&headers, RECOVERY_CONTINUE_COOKIE),
            &input.password,
            &input.password_confirmation,
        )
        .await
    {
        Ok(()) => {
            let mut response = see_other("/login?recovered=1");
            let h = response.headers_mut();
            h.append(header::SET_COOKIE, clear_cookie(RECOVERY_COOKIE));
            h.append(header::SET_COOKIE, clear_cookie(RECOVERY_CONTINUE_COOKIE));
            Ok(response)
        }
        Err(e) => {
            let answer = recovery_answer(ctx.tr, state.identity.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    errors: answer.fields,
                },
            ))
        }
    }
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
