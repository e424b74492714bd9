//! «Личные данные»: the form, its draft, and its submission to the checks.
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::verification::SubmitError;
use uslugi_domain::{DocumentForm, PersonalDataForm, VerificationStatus};

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::{ClientIp, CsrfForm};
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, no_store, render, see_other};

use super::{field_errors, labels, summary};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/me/personal-data",
        routing::get(personal_form).post(personal_submit),
    )
}

/// The form as posted: flat names, `document.*` for the document.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PersonalFormInput {
    surname: String,
    given_name: String,
    patronymic: String,
    sex: String,
    birth_date: String,
    birth_place: String,
    snils: String,
    citizenship: String,
    #[serde(rename = "document.type")]
    document_type: String,
    #[serde(rename = "document.series_number")]
    series_number: String,
    #[serde(rename = "document.issue_date")]
    issue_date: String,
    #[serde(rename = "document.issued_by")]
    issued_by: String,
    #[serde(rename = "document.department_code")]
    department_code: String,
    /// `draft` («Продолжить позже») or `submit` («Продолжить»).
    action: String,
}

impl PersonalFormInput {
    pub(crate) fn into_form(self) -> (PersonalDataForm, bool) {
        let submit = self.action != "draft";
        (
            PersonalDataForm {
                surname: self.surname,
                given_name: self.given_name,
                patronymic: self.patronymic,
                sex: self.sex,
                birth_date: self.birth_date,
                birth_place: self.birth_place,
                snils: self.snils,
                citizenship: self.citizenship,
                document: DocumentForm {
                    kind: self.document_type,
                    series_number: self.series_number,
                    issue_date: self.issue_date,
                    issued_by: self.issued_by,
                    department_code: self.department_code,
                },
            },
            submit,
        )
    }
}

/// A date as the form shows it: `ДД.ММ.ГГГГ` (what people read and type),
/// whichever way it was stored.
pub(crate) fn date_for_input(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        format!("{}.{}.{}", &s[8..10], &s[5..7], &s[0..4])
    } else {
        s.to_owned()
    }
}

#[derive(Template)]
#[template(path = "personal_data.html")]
struct PersonalPage {
    tr: &'static Tr,
    chrome: Chrome,
    v: PersonalDataForm,
    birth_date: String,
    issue_date: String,
    locked: bool,
    notice: Option<&'static str>,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    snils_taken: bool,
}

impl PersonalPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    saved: Option<String>,
}

async fn personal_form(
    Page(state, ctx, headers): Page,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/personal-data");
    let view = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let locked = view.state.status == VerificationStatus::InProgress;
    let notice = if locked {
        Some(ctx.tr.pd.in_progress_note)
    } else if q.saved.is_some() {
        Some(ctx.tr.pd.draft_saved)
    } else {
        None
    };
    // The checks found the SNILS in another account: the way to it.
    let snils_taken = view.state.snils_taken;
    Ok(no_store(personal_page(
        &ctx,
        StatusCode::OK,
        view.form,
        locked,
        notice,
        FieldErrors::new(),
        snils_taken,
    )))
}

fn personal_page(
    ctx: &Ctx,
    status: StatusCode,
    v: PersonalDataForm,
    locked: bool,
    notice: Option<&'static str>,
    errors: FieldErrors,
    snils_taken: bool,
) -> Response {
    let summary = summary(ctx.tr, &errors, &labels(ctx.tr));
    render(
        status,
        &PersonalPage {
            tr: ctx.tr,
            chrome: ctx.chrome.clone(),
            birth_date: date_for_input(&v.birth_date),
            issue_date: date_for_input(&v.document.issue_date),
            v,
            locked,
            notice,
            errors,
            summary,
            snils_taken,
        },
    )
}

async fn personal_submit(
    Page(state, ctx, headers): Page,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<PersonalFormInput>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/personal-data");
    let (form, submit) = input.into_form();
    if !submit {
        state
            .verification
            .save_draft(session.account_id, &form)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
        return Ok(see_other("/me/personal-data?saved=1"));
    }
    match state
        .verification
        .submit(session.account_id, &form, ctx.lang.0, ip)
        .await
    {
        Ok(_) => Ok(see_other("/me/verification")),
        Err(SubmitError::Invalid(problems)) => Ok(no_store(personal_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            false,
            None,
            field_errors(ctx.tr, &problems),
            false,
        ))),
        Err(SubmitError::TooMany { .. }) => Ok(no_store(personal_page(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            form,
            false,
            Some(ctx.tr.pd.err_too_many_submissions),
            FieldErrors::new(),
            false,
        ))),
        Err(SubmitError::InProgress) => Ok(see_other("/me/verification")),
        Err(SubmitError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
    }
}
