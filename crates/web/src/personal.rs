//! Personal data, addresses and the check page, as pages and as the JSON API.
//! Handlers stay thin: who is signed in, what was sent, one use case, render.
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration as StdDuration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::{Value, json};
use uslugi_app::registries::Registry;
use uslugi_app::verification::{
    AddressError, Addresses, FailureReason, PersonalDataView, SubmitError, VerificationState,
};
use uslugi_domain::{
    Address, AddressForm, CheckStatus, DocumentForm, FieldProblem, PersonalData, PersonalDataForm,
    Problem, SnilsError, TextProblem, Token, VerificationStatus,
};

use crate::AppState;
use crate::auth::{ApiSession, citizen_or_login};
use crate::error::{ApiError, FieldErrors, PageError};
use crate::http::{ApiJson, ClientIp, CsrfForm, Language};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, no_store, render, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/personal-data",
            routing::get(personal_form).post(personal_submit),
        )
        .route("/me/verification", routing::get(check_page))
        .route("/me/verification/events", routing::get(check_events))
        .route(
            "/me/addresses",
            routing::get(addresses_form).post(addresses_submit),
        )
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/personal-data",
            routing::get(api_personal_data).put(api_save_draft),
        )
        .route("/me/personal-data/submit", routing::post(api_submit))
        .route("/me/verification", routing::get(api_verification))
        .route(
            "/me/addresses",
            routing::get(api_addresses).put(api_save_addresses),
        )
}

// ------------------------------------------------------------------ messages

/// The fields of the form, in its order, with their labels.
pub(crate) fn labels(t: &Tr) -> [(&'static str, &'static str); 13] {
    let p = t.pd;
    [
        ("surname", t.surname),
        ("given_name", t.given_name),
        ("patronymic", p.patronymic),
        ("sex", p.sex),
        ("birth_date", p.birth_date),
        ("birth_place", p.birth_place),
        ("snils", p.snils),
        ("citizenship", p.citizenship),
        ("document.type", p.document_type),
        ("document.series_number", p.series_number),
        ("document.issue_date", p.issue_date),
        ("document.issued_by", p.issued_by),
        ("document.department_code", p.department_code),
    ]
}

pub(crate) fn address_label(t: &Tr, field: &str) -> &'static str {
    let p = t.pd;
    match field.rsplit('.').next().unwrap_or(field) {
        "postal_code" => p.postal_code,
        "region" => p.region,
        "locality" => p.locality,
        "street" => p.street,
        "house" => p.house,
        "building" => p.building,
        _ => p.flat,
    }
}

/// A field's length limit as the count a plural form is chosen by.
fn count(max: usize) -> i64 {
    i64::try_from(max).unwrap_or(i64::MAX)
}

pub fn problem_message(t: &Tr, problem: &Problem) -> String {
    let p = t.pd;
    match problem {
        Problem::Missing => p.err_required.to_owned(),
        Problem::TooLong { max } => p.err_too_long.fill(count(*max)),
        Problem::Text(TextProblem::Empty) => p.err_required.to_owned(),
        Problem::Text(TextProblem::TooLong { max }) => p.err_too_long.fill(count(*max)),
        Problem::Text(_) => p.err_text.to_owned(),
        Problem::Name(e) => t.name_error(*e).to_owned(),
        Problem::Snils(SnilsError::Empty) => p.err_required.to_owned(),
        Problem::Snils(SnilsError::InvalidCharacters) => p.err_snils_characters.to_owned(),
        Problem::Snils(SnilsError::WrongLength) => p.err_snils_length.to_owned(),
        Problem::Snils(SnilsError::CheckNumberMismatch) => p.err_snils_check.to_owned(),
        Problem::UnknownSex => p.err_sex.to_owned(),
        Problem::UnsupportedCitizenship => p.err_citizenship.to_owned(),
        Problem::UnsupportedDocument => p.err_document.to_owned(),
        Problem::PassportFormat => p.err_passport.to_owned(),
        Problem::DepartmentCodeFormat => p.err_department_code.to_owned(),
        Problem::PostalCodeFormat => p.err_postal_code.to_owned(),
        Problem::DateFormat => p.err_date.to_owned(),
        Problem::BirthDateInFuture => p.err_birth_future.to_owned(),
        Problem::TooYoung => p.err_too_young.to_owned(),
        Problem::IssueDateInFuture => p.err_issue_future.to_owned(),
        Problem::IssuedBeforeFourteen => p.err_issued_before_14.to_owned(),
    }
}

pub fn field_errors(t: &Tr, problems: &[FieldProblem]) -> FieldErrors {
    problems
        .iter()
        .map(|fp| (fp.field.to_owned(), problem_message(t, &fp.problem)))
        .collect()
}

/// The error summary: form order, each message led by its field's label.
pub(crate) fn summary(
    t: &Tr,
    errors: &FieldErrors,
    order: &[(&'static str, &'static str)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = order
        .iter()
        .filter_map(|(field, label)| {
            errors
                .get(*field)
                .map(|m| ((*field).to_owned(), format!("{label}: {m}")))
        })
        .collect();
    for (field, message) in errors {
        if !order.iter().any(|(f, _)| f == field) {
            let label = if field.starts_with("registration.")
                || field.starts_with("actual.")
                || field.starts_with("address.")
            {
                address_label(t, field)
            } else {
                ""
            };
            let text = if label.is_empty() {
                message.clone()
            } else {
                format!("{label}: {message}")
            };
            out.push((field.clone(), text));
        }
    }
    out
}

pub fn reason_text(t: &Tr, reason: FailureReason) -> &'static str {
    let p = t.pd;
    match reason {
        FailureReason::SnilsNotFound => p.reason_snils_not_found,
        FailureReason::DataMismatch => p.reason_data_mismatch,
        FailureReason::PassportNotFound => p.reason_passport_not_found,
        FailureReason::PassportInvalid(uslugi_app::registries::PassportInvalidity::Lost) => {
            p.reason_passport_lost
        }
        FailureReason::PassportInvalid(uslugi_app::registries::PassportInvalidity::Expired) => {
            p.reason_passport_expired
        }
        FailureReason::PassportInvalid(uslugi_app::registries::PassportInvalidity::Replaced) => {
            p.reason_passport_replaced
        }
        FailureReason::Unavailable => p.reason_unavailable,
        FailureReason::Rejected => p.reason_rejected,
    }
}

fn check_state_text(t: &Tr, status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pending => t.pd.state_pending,
        CheckStatus::Retrying => t.pd.state_retrying,
        CheckStatus::Passed => t.pd.state_passed,
        CheckStatus::Failed => t.pd.state_failed,
    }
}

fn registry_str(r: Registry) -> &'static str {
    match r {
        Registry::Sfr => "sfr",
        Registry::Mvd => "mvd",
    }
}

/// The state as the API and the live page read it.
pub fn state_json(t: &Tr, s: &VerificationState) -> Value {
    json!({
        "status": s.status.as_str(),
        "checks": s.checks.iter().map(|c| json!({
            "registry": registry_str(c.registry),
            "status": c.status.as_str(),
            "reason": c.reason.map(FailureReason::as_str),
            "reason_text": c.reason.map(|r| reason_text(t, r)),
            "status_text": check_state_text(t, c.status),
        })).collect::<Vec<_>>(),
        "snils_taken": s.snils_taken,
    })
}

// ------------------------------------------------------------------ the form

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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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

// ------------------------------------------------------------------ the check page

pub(crate) struct CheckRow {
    pub id: &'static str,
    pub title: &'static str,
    pub status: &'static str,
    pub status_text: &'static str,
    pub reason: Option<&'static str>,
}

/// Each check as the check page lays it out: title, state, reason.
pub(crate) fn check_rows(t: &Tr, s: &VerificationState) -> Vec<CheckRow> {
    s.checks
        .iter()
        .map(|c| CheckRow {
            id: registry_str(c.registry),
            title: match c.registry {
                Registry::Sfr => t.pd.check_sfr,
                Registry::Mvd => t.pd.check_mvd,
            },
            status: c.status.as_str(),
            status_text: check_state_text(t, c.status),
            reason: c.reason.map(|r| reason_text(t, r)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "verification.html")]
struct CheckPage {
    tr: &'static Tr,
    chrome: Chrome,
    status: &'static str,
    checks: Vec<CheckRow>,
    in_progress_text: String,
    snils_taken: bool,
}

async fn check_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/verification");
    let internal = |e: uslugi_app::InternalError| PageError::internal(ctx.lang.0, &e);
    let s = state
        .verification
        .state(session.account_id)
        .await
        .map_err(internal)?;
    if s.status == VerificationStatus::Draft {
        return Ok(see_other("/me/personal-data"));
    }
    let profile = state
        .identity
        .profile(session.account_id)
        .await
        .map_err(internal)?;
    let contact = profile
        .map(|p| match (p.phone, p.email) {
            (Some(phone), _) => phone.to_string(),
            (None, Some(email)) => email.as_str().to_owned(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let checks = check_rows(ctx.tr, &s);
    Ok(no_store(render(
        StatusCode::OK,
        &CheckPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            status: s.status.as_str(),
            checks,
            in_progress_text: fill(ctx.tr.pd.in_progress_text, contact),
            snils_taken: s.snils_taken,
        },
    )))
}

/// Server-sent events: the state whenever it changes, until the checks end.
/// The page closes the stream and reloads when the status is final.
async fn check_events(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let account = session.account_id;
    let stream = futures_util::stream::unfold(
        (state, None::<Value>, false),
        move |(state, last, done)| async move {
            if done {
                return None;
            }
            loop {
                let current = match state.verification.state(account).await {
                    Ok(s) => s,
                    Err(e) => {
                        crate::error::log_internal(&e);
                        return None;
                    }
                };
                let value = state_json(t, &current);
                let finished = current.status != VerificationStatus::InProgress;
                if last.as_ref() != Some(&value) {
                    let event = Event::default().event("state").data(value.to_string());
                    return Some((
                        Ok::<Event, Infallible>(event),
                        (state, Some(value), finished),
                    ));
                }
                if finished {
                    return None;
                }
                tokio::time::sleep(StdDuration::from_secs(1)).await;
            }
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

// ------------------------------------------------------------------ addresses

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AddressesInput {
    #[serde(rename = "registration.postal_code")]
    r_postal_code: String,
    #[serde(rename = "registration.region")]
    r_region: String,
    #[serde(rename = "registration.locality")]
    r_locality: String,
    #[serde(rename = "registration.street")]
    r_street: String,
    #[serde(rename = "registration.house")]
    r_house: String,
    #[serde(rename = "registration.building")]
    r_building: String,
    #[serde(rename = "registration.flat")]
    r_flat: String,
    /// The checkbox «Совпадает с адресом регистрации».
    same: Option<String>,
    #[serde(rename = "actual.postal_code")]
    a_postal_code: String,
    #[serde(rename = "actual.region")]
    a_region: String,
    #[serde(rename = "actual.locality")]
    a_locality: String,
    #[serde(rename = "actual.street")]
    a_street: String,
    #[serde(rename = "actual.house")]
    a_house: String,
    #[serde(rename = "actual.building")]
    a_building: String,
    #[serde(rename = "actual.flat")]
    a_flat: String,
}

impl AddressesInput {
    fn forms(self) -> (AddressForm, AddressForm, bool) {
        let registration = AddressForm {
            postal_code: self.r_postal_code,
            region: self.r_region,
            locality: self.r_locality,
            street: self.r_street,
            house: self.r_house,
            building: self.r_building,
            flat: self.r_flat,
        };
        let same = self.same.is_some();
        let actual = if same {
            registration.clone()
        } else {
            AddressForm {
                postal_code: self.a_postal_code,
                region: self.a_region,
                locality: self.a_locality,
                street: self.a_street,
                house: self.a_house,
                building: self.a_building,
                flat: self.a_flat,
            }
        };
        (registration, actual, same)
    }
}

#[derive(Template)]
#[template(path = "addresses.html")]
struct AddressesPage {
    tr: &'static Tr,
    chrome: Chrome,
    registration: AddressForm,
    actual: AddressForm,
    same: bool,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

impl AddressesPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

async fn addresses_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/addresses");
    let view = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let (registration, actual, same) = match &view.addresses {
        Some(a) => (
            AddressForm::from_address(&a.registration),
            AddressForm::from_address(&a.actual),
            a.registration == a.actual,
        ),
        None => (AddressForm::default(), AddressForm::default(), false),
    };
    Ok(no_store(render(
        StatusCode::OK,
        &AddressesPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            registration,
            actual,
            same,
            errors: FieldErrors::new(),
            summary: Vec::new(),
        },
    )))
}

async fn addresses_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(input): CsrfForm<AddressesInput>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/addresses");
    let (registration, actual, same) = input.forms();
    match state
        .verification
        .save_addresses(session.account_id, &registration, &actual)
        .await
    {
        Ok(_) => Ok(see_other("/me?addresses_saved=1")),
        Err(AddressError::Invalid(problems)) => {
            let errors = field_errors(ctx.tr, &problems);
            let summary = summary(ctx.tr, &errors, &[]);
            Ok(no_store(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AddressesPage {
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    registration,
                    actual,
                    same,
                    errors,
                    summary,
                },
            )))
        }
        Err(AddressError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
    }
}

// ------------------------------------------------------------------ «Мои данные»

/// What «Мои данные» shows of personal data and addresses.
pub struct MyPersonalData {
    pub status: &'static str,
    pub badge: &'static str,
    /// Label and value, in the form's order.
    pub rows: Vec<(&'static str, String)>,
    pub changes_checking: bool,
    pub registration_address: Option<String>,
    pub actual_address: Option<String>,
}

pub(crate) fn format_date(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

pub fn address_line(a: &Address) -> String {
    let mut parts = vec![
        a.postal_code.as_str().to_owned(),
        a.region.as_str().to_owned(),
        a.locality.as_str().to_owned(),
        a.street.as_str().to_owned(),
        a.house.as_str().to_owned(),
    ];
    if let Some(b) = &a.building {
        parts.push(b.as_str().to_owned());
    }
    if let Some(f) = &a.flat {
        parts.push(f.as_str().to_owned());
    }
    parts.join(", ")
}

fn data_rows(t: &Tr, d: &PersonalData) -> Vec<(&'static str, String)> {
    let p = t.pd;
    let mut name = format!("{} {}", d.surname.as_str(), d.given_name.as_str());
    if let Some(pat) = &d.patronymic {
        name.push(' ');
        name.push_str(pat.as_str());
    }
    vec![
        (t.me_name, name),
        (
            p.sex,
            match d.sex {
                uslugi_domain::Sex::Male => p.sex_male,
                uslugi_domain::Sex::Female => p.sex_female,
            }
            .to_owned(),
        ),
        (p.birth_date, format_date(d.birth_date)),
        (p.birth_place, d.birth_place.as_str().to_owned()),
        (p.snils, d.snils.to_string()),
        (p.citizenship, p.citizenship_russia.to_owned()),
        (
            p.document,
            format!(
                "{}, {} {} {}, {}",
                d.document.series_number.as_str(),
                p.issued,
                format_date(d.document.issue_date),
                d.document.issued_by.as_str(),
                d.document.department_code.as_str()
            ),
        ),
    ]
}

pub fn my_personal_data(t: &Tr, v: &PersonalDataView) -> MyPersonalData {
    let p = t.pd;
    let (badge, shown) = match v.state.status {
        VerificationStatus::Verified => (p.data_verified_badge, v.verified.as_ref()),
        VerificationStatus::InProgress => (
            p.data_checking_badge,
            v.verified.as_ref().or(v.submitted.as_ref()),
        ),
        VerificationStatus::Failed => (
            p.data_failed_badge,
            v.verified.as_ref().or(v.submitted.as_ref()),
        ),
        VerificationStatus::Draft => (p.data_draft_badge, None),
    };
    MyPersonalData {
        status: v.state.status.as_str(),
        badge,
        rows: shown.map(|d| data_rows(t, d)).unwrap_or_default(),
        changes_checking: v.verified.is_some() && v.state.status == VerificationStatus::InProgress,
        registration_address: v.addresses.as_ref().map(|a| address_line(&a.registration)),
        actual_address: v.addresses.as_ref().map(|a| address_line(&a.actual)),
    }
}

// ------------------------------------------------------------------ the API

fn personal_json(d: &PersonalData) -> Value {
    serde_json::to_value(PersonalDataForm::from_data(d)).unwrap_or(Value::Null)
}

async fn api_personal_data(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let v = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(no_store(
        Json(json!({
            "status": v.state.status.as_str(),
            "form": v.form,
            "verified": v.verified.as_ref().map(personal_json),
            "submitted": v.submitted.as_ref().map(personal_json),
        }))
        .into_response(),
    ))
}

async fn api_save_draft(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    ApiJson(form): ApiJson<PersonalDataForm>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    state
        .verification
        .save_draft(session.account_id, &form)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    // The draft is kept as typed; the problems it still has are told, not refused.
    let problems = match form.parse(state.verification.today()) {
        Ok(_) => BTreeMap::new(),
        Err(ps) => field_errors(t, &ps),
    };
    Ok(Json(json!({ "status": "draft", "problems": problems })).into_response())
}

async fn api_submit(
    State(state): State<AppState>,
    lang: Language,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let v = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    if v.state.status == VerificationStatus::InProgress {
        return Err(ApiError::conflict("in_progress", t.pd.err_in_progress));
    }
    match state
        .verification
        .submit(session.account_id, &v.form, lang.0, ip)
        .await
    {
        Ok(id) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "submission_id": id.to_string(), "status": "in_progress" })),
        )
            .into_response()),
        Err(SubmitError::Invalid(problems)) => {
            Err(ApiError::invalid(t, field_errors(t, &problems)))
        }
        Err(SubmitError::InProgress) => {
            Err(ApiError::conflict("in_progress", t.pd.err_in_progress))
        }
        Err(SubmitError::TooMany { retry_at }) => Err(ApiError::rate_limited(
            t,
            (retry_at - state.verification.now()).whole_seconds(),
        )),
        Err(SubmitError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}

async fn api_verification(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let s = state
        .verification
        .state(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(no_store(Json(state_json(t, &s)).into_response()))
}

#[derive(Deserialize)]
struct AddressesJson {
    registration: AddressForm,
    actual: AddressForm,
}

async fn api_addresses(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let v = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(no_store(
        Json(addresses_json(v.addresses.as_ref())).into_response(),
    ))
}

fn addresses_json(a: Option<&Addresses>) -> Value {
    match a {
        Some(a) => json!({
            "registration": AddressForm::from_address(&a.registration),
            "actual": AddressForm::from_address(&a.actual),
        }),
        None => json!({ "registration": null, "actual": null }),
    }
}

async fn api_save_addresses(
    State(state): State<AppState>,
    lang: Language,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<AddressesJson>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    match state
        .verification
        .save_addresses(session.account_id, &input.registration, &input.actual)
        .await
    {
        Ok(a) => Ok(Json(addresses_json(Some(&a))).into_response()),
        Err(AddressError::Invalid(problems)) => {
            Err(ApiError::invalid(t, field_errors(t, &problems)))
        }
        Err(AddressError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}
