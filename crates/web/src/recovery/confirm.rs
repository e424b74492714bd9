//! The code (or the e-mail link's button) and, for a verified account, its
//! second fact; then this browser continues to the new password.
use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::Confirmation;
use uslugi_app::recovery::{RecoveryError, RecoveryView};
use uslugi_domain::Channel;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm, RECOVERY_CONTINUE_COOKIE, set_cookie};
use crate::i18n::Tr;
use crate::page::{
    Chrome, CodeActions, CodeStep, Ctx, EmptyForm, LinkToken, Page, SecretClock, render,
    resend_refused, see_other,
};

use super::{RECOVERY_COOKIE, fact_of, page_error, recovery_answer, recovery_id};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/recover/confirm",
            routing::get(confirm_form).post(confirm_submit),
        )
        .route(
            "/recover/confirm-email",
            routing::get(email_link).post(email_submit),
        )
        .route("/recover/resend", routing::post(resend_submit))
}

#[derive(Template)]
#[template(path = "recover_confirm.html")]
struct ConfirmPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_email: bool,
    /// The code step every code page shows; its action is where this
    /// page's form goes (the code, or the link's button and its fact).
    step: CodeStep,
    /// A recovery made before resends existed is only started again.
    can_resend: bool,
    notice: Option<&'static str>,
    /// The code or token already given, kept while the fact is asked.
    code: String,
    token: String,
    ask_fact: bool,
    snils_allowed: bool,
    passport: String,
    snils: String,
    errors: FieldErrors,
}

/// What a confirmation page was sent, kept when it is shown again.
#[derive(Default)]
struct Given {
    input: ConfirmInput,
    ask_fact: bool,
}

fn confirm_page(
    state: &AppState,
    ctx: Ctx,
    view: &RecoveryView,
    link: bool,
    (given, notice, errors): (Given, Option<&'static str>, FieldErrors),
) -> ConfirmPage {
    let by_email = view.channel == Channel::Email;
    let r = ctx.tr.recovery;
    ConfirmPage {
        by_email,
        step: CodeStep::new(
            state,
            &ctx,
            CodeActions {
                confirm: if link {
                    "/recover/confirm-email".into()
                } else {
                    "/recover/confirm".into()
                },
                submit_label: r.confirm,
                resend: "/recover/resend".into(),
            },
            ctx.tr.resend_email,
            r.code_valid_until,
            &SecretClock {
                by_email,
                expires_at: view.secret_expires_at,
                resend_at: view.resend_at,
                attempts_left: view.attempts_left,
            },
        ),
        can_resend: view.can_resend,
        notice,
        code: given.input.code,
        token: given.input.token,
        ask_fact: given.ask_fact,
        snils_allowed: view.snils_allowed,
        passport: given.input.passport_series_number,
        snils: given.input.snils,
        errors,
        tr: ctx.tr,
        chrome: ctx.chrome,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmQuery {
    sent: Option<String>,
}

async fn confirm_form(
    Page(state, ctx, headers): Page,
    Query(q): Query<ConfirmQuery>,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    let view = match state.accounts.recovery(id).await {
        Ok(v) => v,
        Err(e) => return Err(page_error(&ctx, &state, e)),
    };
    if view.confirmed {
        return Ok(see_other("/recover/password"));
    }
    let notice = q
        .sent
        .is_some()
        .then_some(if view.channel == Channel::Email {
            ctx.tr.new_letter_sent
        } else {
            ctx.tr.new_code_sent
        });
    let page = confirm_page(
        &state,
        ctx,
        &view,
        false,
        (Given::default(), notice, FieldErrors::new()),
    );
    Ok(render(StatusCode::OK, &page))
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
    match state.accounts.confirm_recovery(id, with, fact).await {
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
            let fields = PageError::form_fields(
                ctx.lang.0,
                recovery_answer(ctx.tr, state.accounts.now(), &e),
            )?;
            let mut errors = fields;
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
                .accounts
                .recovery(id)
                .await
                .map_err(|e| page_error(&ctx, state, e))?;
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut input = input;
            if !secret_ok {
                input.code.clear();
            }
            let given = Given {
                input,
                ask_fact: secret_ok,
            };
            let page = confirm_page(state, ctx, &view, by_email, (given, None, errors));
            Ok(render(status, &page))
        }
    }
}

async fn confirm_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(input): CsrfForm<ConfirmInput>,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    confirm_and_continue(&state, ctx, id, input, false).await
}

/// A link no recovery has (unknown, used or expired): what its page and
/// its button answer.
fn link_no_good(ctx: &Ctx) -> PageError {
    PageError::new(StatusCode::NOT_FOUND, ctx.lang.0, ctx.tr.err_token)
}

/// The e-mail's link: its page shows a button and confirms nothing; a
/// mail scanner that opens it changes nothing.
async fn email_link(
    Page(state, ctx, _): Page,
    Query(q): Query<LinkToken>,
) -> Result<Response, PageError> {
    if state.accounts.recovery_by_link(&q.token).await.is_err() {
        return Err(link_no_good(&ctx));
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
    Page(state, ctx, _): Page,
    CsrfForm(input): CsrfForm<ConfirmInput>,
) -> Result<Response, PageError> {
    let id = state
        .accounts
        .recovery_by_link(&input.token)
        .await
        .map_err(|_| link_no_good(&ctx))?;
    confirm_and_continue(&state, ctx, id, input, true).await
}

/// «Получить новый код» (or the letter again): the new one voids the last.
async fn resend_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let Some(id) = recovery_id(&headers) else {
        return Ok(see_other("/recover"));
    };
    match state.accounts.resend_recovery(id, ip).await {
        Ok(_) => Ok(see_other("/recover/confirm?sent=1")),
        Err(RecoveryError::RateLimited { retry_at }) => {
            let view = state
                .accounts
                .recovery(id)
                .await
                .map_err(|e| page_error(&ctx, &state, e))?;
            Ok(resend_refused(&state, ctx.tr, retry_at, |errors| {
                confirm_page(&state, ctx, &view, false, (Given::default(), None, errors))
            }))
        }
        Err(e) => Err(page_error(&ctx, &state, e)),
    }
}
