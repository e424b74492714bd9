//! An operator's enrolment by the link a supervisor gave: name, login,
//! password and the authenticator app's first code.
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::operators::{EnrolError, EnrolInput, EnrolProblem};
use uslugi_domain::OperatorLoginError;

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::CsrfForm;
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, Page, local_time, no_store, render, see_other};
use crate::personal_data::summary;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/operator/enrol",
        routing::get(enrol_form).post(enrol_submit),
    )
}

#[derive(Template)]
#[template(path = "operator_enrol.html")]
struct EnrolPage {
    tr: &'static Tr,
    chrome: Chrome,
    token: String,
    intro: String,
    role: String,
    qr: String,
    key: String,
    valid_until: String,
    name: String,
    login: String,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnrolQuery {
    token: String,
}

fn enrol_link_error(ctx: &Ctx, e: EnrolError) -> PageError {
    let c = ctx.tr.console;
    match e {
        EnrolError::LinkExpired => PageError::new(StatusCode::GONE, ctx.lang.0, c.link_expired),
        EnrolError::Internal(e) => PageError::internal(ctx.lang.0, &e),
        EnrolError::LinkInvalid | EnrolError::Invalid(_) => {
            PageError::new(StatusCode::NOT_FOUND, ctx.lang.0, c.link_invalid)
        }
    }
}

async fn enrol_page(
    state: &AppState,
    ctx: Ctx,
    token: &str,
    name: String,
    login: String,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let view = match state.operators.enrolment(token).await {
        Ok(v) => v,
        Err(e) => return Err(enrol_link_error(&ctx, e)),
    };
    let qr = crate::qr::svg_data_uri(&view.otpauth_uri)
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let c = ctx.tr.console;
    let valid_until = fill(
        c.enrol_valid_until,
        local_time(state, view.expires_at, &ctx),
    );
    let summary = summary(
        ctx.tr,
        &errors,
        &[
            ("name", c.full_name),
            ("login", c.login),
            ("password", c.new_password),
            ("password_confirmation", c.password_confirmation),
            ("code", c.code),
        ],
    );
    Ok(no_store(render(
        status,
        &EnrolPage {
            intro: fill(c.enrol_intro, &view.center_name),
            role: fill(c.enrol_role, c.role(view.role)),
            summary,
            tr: ctx.tr,
            chrome: ctx.chrome,
            token: token.to_owned(),
            qr,
            key: view.secret_grouped.clone(),
            valid_until,
            name,
            login,
            errors,
        },
    )))
}

async fn enrol_form(
    Page(state, ctx, _): Page,
    Query(q): Query<EnrolQuery>,
) -> Result<Response, PageError> {
    enrol_page(
        &state,
        ctx,
        &q.token,
        String::new(),
        String::new(),
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnrolInputForm {
    token: String,
    name: String,
    login: String,
    password: String,
    password_confirmation: String,
    code: String,
}

fn login_error(c: &crate::operator::i18n::ConsoleTr, t: &Tr, e: OperatorLoginError) -> String {
    match e {
        OperatorLoginError::Empty => t.err_required.to_owned(),
        OperatorLoginError::Length | OperatorLoginError::Characters => {
            c.err_login_format.to_owned()
        }
    }
}

async fn enrol_submit(
    Page(state, ctx, _): Page,
    CsrfForm(f): CsrfForm<EnrolInputForm>,
) -> Result<Response, PageError> {
    let input = EnrolInput {
        name: &f.name,
        login: &f.login,
        password: &f.password,
        password_confirmation: &f.password_confirmation,
        code: &f.code,
    };
    let problems = match state.operators.enrol(&f.token, input).await {
        Ok(()) => return Ok(see_other("/operator/login?enrolled=1")),
        Err(EnrolError::Invalid(p)) => p,
        Err(e) => return Err(enrol_link_error(&ctx, e)),
    };
    let (t, c) = (ctx.tr, ctx.tr.console);
    let mut errors = FieldErrors::new();
    for p in problems {
        let (field, message) = match p {
            EnrolProblem::Name(e) => ("name", t.name_error(e).to_owned()),
            EnrolProblem::Login(e) => ("login", login_error(c, t, e)),
            EnrolProblem::LoginTaken => ("login", c.err_login_taken.to_owned()),
            EnrolProblem::Password(ps) => (
                "password",
                ps.iter()
                    .map(|p| t.password_problem(*p))
                    .collect::<Vec<_>>()
                    .join(". "),
            ),
            EnrolProblem::PasswordMismatch => {
                ("password_confirmation", t.err_pw_mismatch.to_owned())
            }
            EnrolProblem::Code => ("code", c.err_code.to_owned()),
        };
        errors.entry(field.into()).or_insert(message);
    }
    let token = f.token.clone();
    enrol_page(
        &state,
        ctx,
        &token,
        f.name,
        f.login,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
