//! The registration form at the desk, and the page that follows the
//! registry checks of what it sent (or sends it back corrected).
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::operators::{OperatorAuth, RegisterError};
use uslugi_app::verification::InPersonError;
use uslugi_domain::{PersonalDataForm, Token, VerificationStatus};

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::CsrfForm;
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, no_store, render, see_other};
use crate::personal_data::{
    CheckRow, PersonalFormInput, check_rows, date_for_input, field_errors, labels, summary,
};

use super::desk::{own_desk_phone, parse_desk_phone};
use super::{Desk, GrantQuery, card_row, desk, not_offered, operator_or_login, parse_account};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/operator/registrations/{id}",
        routing::get(registration).post(resubmit),
    )
}

#[derive(Template)]
#[template(path = "operator_register.html")]
struct RegisterPage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    action: String,
    heading: &'static str,
    submit: &'static str,
    v: PersonalDataForm,
    birth_date: String,
    issue_date: String,
    phone: String,
    fresh: bool,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

impl RegisterPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RegisterInput {
    phone: String,
    #[serde(flatten)]
    pd: PersonalFormInput,
}

pub(super) struct RegisterForm {
    pub(super) action: String,
    pub(super) fresh: bool,
    pub(super) v: PersonalDataForm,
    pub(super) phone: String,
}

pub(super) fn register_page(
    ctx: Ctx,
    op: &OperatorAuth,
    form: RegisterForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let t = ctx.tr;
    let mut order: Vec<(&'static str, &'static str)> = labels(t).to_vec();
    order.push(("phone", t.console.mobile_phone));
    let summary = summary(t, &errors, &order);
    let (heading, submit) = if form.fresh {
        (t.console.register_title, t.console.register_submit)
    } else {
        (t.console.registration_title, t.console.resubmit)
    };
    no_store(render(
        status,
        &RegisterPage {
            desk: desk(t, op),
            action: form.action,
            heading,
            submit,
            birth_date: date_for_input(&form.v.birth_date),
            issue_date: date_for_input(&form.v.document.issue_date),
            v: form.v,
            phone: form.phone,
            fresh: form.fresh,
            errors,
            summary,
            tr: t,
            chrome: ctx.chrome,
        },
    ))
}

pub(super) fn empty_registration() -> PersonalDataForm {
    PersonalDataForm {
        citizenship: "RUS".into(),
        document: uslugi_domain::DocumentForm {
            kind: "rf_passport".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn register_errors(ctx: &Ctx, e: RegisterError) -> Result<(FieldErrors, StatusCode), PageError> {
    let (t, c) = (ctx.tr, ctx.tr.console);
    let mut errors = FieldErrors::new();
    let status = match e {
        RegisterError::Invalid(problems) => {
            errors = field_errors(t, &problems);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        RegisterError::NotOffered => return Err(not_offered(ctx)),
        RegisterError::PhoneNotConfirmed | RegisterError::InPerson(InPersonError::NotFound) => {
            return Err(PageError::not_found(ctx.lang.0));
        }
        RegisterError::InPerson(InPersonError::PhoneTaken) => {
            errors.insert("registration".into(), c.err_phone_taken.into());
            StatusCode::CONFLICT
        }
        RegisterError::InPerson(InPersonError::SnilsTaken) => {
            errors.insert("snils".into(), c.err_snils_taken.into());
            StatusCode::CONFLICT
        }
        RegisterError::InPerson(InPersonError::InProgress) => {
            errors.insert("surname".into(), c.err_in_progress.into());
            StatusCode::CONFLICT
        }
        RegisterError::InPerson(InPersonError::Internal(e)) => {
            return Err(PageError::internal(ctx.lang.0, &e));
        }
    };
    Ok((errors, status))
}

/// The personal data, with the phone confirmed at the desk: the account is
/// created with that phone, and the page that follows the checks opens
/// with a grant of its own.
pub(super) async fn register_submit(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<RegisterInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let desk_phone = parse_desk_phone(&ctx, &id)?;
    let (v, _) = input.pd.into_form();
    match state
        .operators
        .register(&op, desk_phone, &v, ctx.lang.0)
        .await
    {
        Ok(account) => Ok(see_other(&format!(
            "/operator/registrations/{account}?grant={}",
            state.operators.grant_card(&op, account)
        ))),
        Err(e) => {
            let (errors, status) = register_errors(&ctx, e)?;
            let view = own_desk_phone(&state, &ctx, &op, desk_phone).await?;
            let form = RegisterForm {
                action: format!("/operator/register/{desk_phone}"),
                fresh: true,
                v,
                phone: view.phone.e164().to_owned(),
            };
            Ok(register_page(ctx, &op, form, errors, status))
        }
    }
}

#[derive(Template)]
#[template(path = "operator_registration.html")]
struct RegistrationPage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    id: String,
    grant: String,
    name: String,
    phone: String,
    status: &'static str,
    confirmed: bool,
    checks: Vec<CheckRow>,
}

async fn registration(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    Query(q): Query<GrantQuery>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let account = parse_account(&ctx, &id)?;
    let grant = q.grant.unwrap_or_default();
    let Some((card, view)) = state
        .operators
        .registration(&op, account, Some(&grant))
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
    else {
        return Err(PageError::not_found(ctx.lang.0));
    };
    if view.state.status == VerificationStatus::Failed
        && card.level == uslugi_domain::AccountLevel::Simplified
    {
        // The data go back to the form with what the registries said.
        let mut errors = FieldErrors::new();
        let reasons: Vec<&str> = check_rows(ctx.tr, &view.state)
            .iter()
            .filter_map(|c| c.reason)
            .collect();
        let message = if view.state.snils_taken {
            ctx.tr.console.err_snils_taken.to_owned()
        } else {
            format!(
                "{} {}",
                ctx.tr.console.registration_failed,
                reasons.join("; ")
            )
        };
        errors.insert("registration".into(), message);
        let form = RegisterForm {
            action: format!("/operator/registrations/{account}?grant={grant}"),
            fresh: false,
            v: view.form,
            phone: card.phone.unwrap_or_default(),
        };
        return Ok(register_page(ctx, &op, form, errors, StatusCode::OK));
    }
    let row = card_row(ctx.tr, &card);
    Ok(no_store(render(
        StatusCode::OK,
        &RegistrationPage {
            desk: desk(ctx.tr, &op),
            id: row.id,
            grant,
            name: row.name,
            phone: card.phone.unwrap_or_default(),
            status: view.state.status.as_str(),
            confirmed: card.level == uslugi_domain::AccountLevel::Confirmed,
            checks: check_rows(ctx.tr, &view.state),
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )))
}

async fn resubmit(
    Page(state, ctx, headers): Page,
    Path(id): Path<String>,
    Query(q): Query<GrantQuery>,
    CsrfForm(input): CsrfForm<RegisterInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let account = parse_account(&ctx, &id)?;
    let (v, _) = input.pd.into_form();
    let grant = q.grant.unwrap_or_default();
    match state
        .operators
        .resubmit(&op, account, Some(&grant), &v, ctx.lang.0)
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/operator/registrations/{account}?grant={grant}"
        ))),
        Err(e) => {
            let (errors, status) = register_errors(&ctx, e)?;
            let form = RegisterForm {
                action: format!("/operator/registrations/{account}?grant={grant}"),
                fresh: false,
                v,
                phone: input.phone,
            };
            Ok(register_page(ctx, &op, form, errors, status))
        }
    }
}
