//! The operator console at `/operator`: enrolment, login with the second
//! factor, finding a citizen, confirming identity, registering in person,
//! restoring access, and the audit records the operator may read. It has
//! its own session cookie: a citizen's session never opens it, and an
//! operator's never opens a citizen's pages.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::desk::{DeskPhoneError, DeskPhoneView};
use uslugi_app::operators::{
    ActionError, Checklist, CitizenCard, EnrolError, EnrolInput, EnrolProblem, OperatorAuth,
    OperatorLoginFailure, RegisterError, SearchError,
};
use uslugi_app::ports::AuditRecord;
use uslugi_app::verification::InPersonError;
use uslugi_domain::{
    AccountId, CenterService, OperatorLoginError, PersonalDataForm, SearchBy, Token,
    VerificationStatus,
};

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::{CsrfForm, clear_cookie, cookie, set_cookie};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, local_time, no_store, render, see_other};
use crate::personal_data::{
    CheckRow, PersonalFormInput, check_rows, date_for_input, field_errors, format_date, labels,
    summary,
};

pub const OPERATOR_COOKIE: &str = "__Host-uslugi-operator";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", routing::get(home))
        .route(
            "/operator/login",
            routing::get(login_form).post(login_submit),
        )
        .route("/operator/logout", routing::post(logout))
        .route(
            "/operator/enrol",
            routing::get(enrol_form).post(enrol_submit),
        )
        .route("/operator/search", routing::post(search))
        .route("/operator/citizens/{id}", routing::get(citizen))
        .route("/operator/citizens/{id}/confirm", routing::post(confirm))
        .route("/operator/citizens/{id}/restore", routing::post(restore))
        .route(
            "/operator/citizens/{id}/snils",
            routing::post(transfer_snils),
        )
        .route(
            "/operator/register",
            routing::get(register_form).post(phone_submit),
        )
        .route(
            "/operator/register/{id}",
            routing::get(desk_step).post(register_submit),
        )
        .route("/operator/register/{id}/code", routing::post(desk_code))
        .route("/operator/register/{id}/resend", routing::post(desk_resend))
        .route(
            "/operator/registrations/{id}",
            routing::get(registration).post(resubmit),
        )
        .route("/operator/audit", routing::get(audit))
}

/// What every console page's frame shows: who is at the desk, where.
pub struct Desk {
    pub name: String,
    pub role: &'static str,
    pub center: String,
    pub registers: bool,
}

fn desk(t: &Tr, op: &OperatorAuth) -> Desk {
    Desk {
        name: op.name.clone(),
        role: t.console.role(op.role),
        center: op.center_name.clone(),
        registers: op.offers(CenterService::Registration),
    }
}

enum Console {
    In(OperatorAuth),
    Out(Response),
}

/// The operator of a console request, or the way to the console's login.
async fn console(state: &AppState, ctx: &Ctx, headers: &HeaderMap) -> Result<Console, PageError> {
    let Some(token) = cookie(headers, OPERATOR_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(Console::Out(see_other("/operator/login")));
    };
    match state
        .operators
        .authenticate(token)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
    {
        Some(op) => Ok(Console::In(op)),
        None => Ok(Console::Out(
            (
                [(header::SET_COOKIE, clear_cookie(OPERATOR_COOKIE))],
                Redirect::to("/operator/login?expired=1"),
            )
                .into_response(),
        )),
    }
}

macro_rules! operator_or_login {
    ($state:expr, $ctx:expr, $headers:expr) => {
        match console(&$state, &$ctx, &$headers).await? {
            Console::In(op) => op,
            Console::Out(r) => return Ok(r),
        }
    };
}

// ------------------------------------------------------------------ login

#[derive(Template)]
#[template(path = "operator_login.html")]
struct LoginPage {
    tr: &'static Tr,
    chrome: Chrome,
    login: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginQuery {
    expired: Option<String>,
    logged_out: Option<String>,
    enrolled: Option<String>,
}

async fn login_form(ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    let c = ctx.tr.console;
    let notice = if q.expired.is_some() {
        Some(c.timed_out)
    } else if q.logged_out.is_some() {
        Some(c.logged_out)
    } else if q.enrolled.is_some() {
        Some(c.enrol_done)
    } else {
        None
    };
    render(
        StatusCode::OK,
        &LoginPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            login: String::new(),
            notice,
            error: None,
            errors: FieldErrors::new(),
            summary: Vec::new(),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginInput {
    login: String,
    password: String,
    code: String,
}

async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(input): CsrfForm<LoginInput>,
) -> Result<Response, PageError> {
    let mut errors = FieldErrors::new();
    for (field, value) in [
        ("login", &input.login),
        ("password", &input.password),
        ("code", &input.code),
    ] {
        if value.trim().is_empty() {
            errors.insert(field.into(), ctx.tr.err_required.into());
        }
    }
    if errors.is_empty() {
        match state
            .operators
            .log_in(&input.login, &input.password, &input.code)
            .await
        {
            Ok(s) => {
                return Ok((
                    [(
                        header::SET_COOKIE,
                        set_cookie(OPERATOR_COOKIE, &s.token, None),
                    )],
                    Redirect::to("/operator"),
                )
                    .into_response());
            }
            Err(OperatorLoginFailure::Internal(e)) => {
                return Err(PageError::internal(ctx.lang.0, &e));
            }
            Err(OperatorLoginFailure::BadCredentials) => {}
        }
    }
    let status = if errors.is_empty() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let c = ctx.tr.console;
    let summary = summary(
        ctx.tr,
        &errors,
        &[
            ("login", c.login),
            ("password", c.password),
            ("code", c.code),
        ],
    );
    Ok(render(
        status,
        &LoginPage {
            error: errors.is_empty().then_some(ctx.tr.console.bad_credentials),
            tr: ctx.tr,
            chrome: ctx.chrome,
            login: input.login,
            notice: None,
            errors,
            summary,
        },
    ))
}

async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    if let Some(token) = cookie(&headers, OPERATOR_COOKIE) {
        state
            .operators
            .log_out(token)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(OPERATOR_COOKIE))],
        Redirect::to("/operator/login?logged_out=1"),
    )
        .into_response())
}

// ------------------------------------------------------------------ enrolment

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
    State(state): State<AppState>,
    ctx: Ctx,
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

fn login_error(c: &crate::i18n_operator::ConsoleTr, t: &Tr, e: OperatorLoginError) -> String {
    match e {
        OperatorLoginError::Empty => t.err_required.to_owned(),
        OperatorLoginError::Length | OperatorLoginError::Characters => {
            c.err_login_format.to_owned()
        }
    }
}

async fn enrol_submit(
    State(state): State<AppState>,
    ctx: Ctx,
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

// ------------------------------------------------------------------ search

#[derive(Template)]
#[template(path = "operator_home.html")]
struct HomePage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    by: &'static str,
    value: String,
    searched: bool,
    results: Vec<CardRow>,
    errors: FieldErrors,
}

/// One found citizen, as a line of the results.
struct CardRow {
    id: String,
    /// What opens the card to this session (empty where no link is shown).
    grant: String,
    name: String,
    level: &'static str,
    level_class: &'static str,
}

fn card_row(t: &Tr, c: &CitizenCard) -> CardRow {
    CardRow {
        id: c.account_id.to_string(),
        grant: String::new(),
        name: match &c.verified {
            Some(d) => full_name(d),
            None => format!("{} {}", c.surname, c.given_name),
        },
        level: t.level(c.level),
        level_class: c.level.as_str(),
    }
}

fn full_name(d: &uslugi_domain::PersonalData) -> String {
    let mut n = format!("{} {}", d.surname.as_str(), d.given_name.as_str());
    if let Some(p) = &d.patronymic {
        n.push(' ');
        n.push_str(p.as_str());
    }
    n
}

async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    Ok(no_store(render(
        StatusCode::OK,
        &HomePage {
            desk: desk(ctx.tr, &op),
            tr: ctx.tr,
            chrome: ctx.chrome,
            by: "snils",
            value: String::new(),
            searched: false,
            results: Vec::new(),
            errors: FieldErrors::new(),
        },
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchInput {
    by: String,
    value: String,
}

/// A search is a POST: SNILS and passport numbers stay out of addresses,
/// browser history and access logs.
async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(input): CsrfForm<SearchInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let c = ctx.tr.console;
    let by = SearchBy::parse(&input.by).unwrap_or(SearchBy::Snils);
    let mut errors = FieldErrors::new();
    let mut results = Vec::new();
    let mut status = StatusCode::OK;
    if input.value.trim().is_empty() {
        errors.insert("value".into(), ctx.tr.err_required.into());
        status = StatusCode::UNPROCESSABLE_ENTITY;
    } else {
        match state.operators.find(&op, by, &input.value).await {
            Ok(cards) => {
                results = cards
                    .into_iter()
                    .map(|(card, grant)| CardRow {
                        grant,
                        ..card_row(ctx.tr, &card)
                    })
                    .collect();
            }
            Err(SearchError::Malformed(_)) => {
                errors.insert("value".into(), c.err_search_value.into());
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(SearchError::TooMany { retry_at }) => {
                let secs = (retry_at - state.operators.now()).whole_seconds().max(1);
                errors.insert("value".into(), fill(c.err_too_many_searches, secs));
                status = StatusCode::TOO_MANY_REQUESTS;
            }
            Err(SearchError::Internal(e)) => return Err(PageError::internal(ctx.lang.0, &e)),
        }
    }
    Ok(no_store(render(
        status,
        &HomePage {
            desk: desk(ctx.tr, &op),
            tr: ctx.tr,
            chrome: ctx.chrome,
            by: by.as_str(),
            value: input.value,
            searched: errors.is_empty(),
            results,
            errors,
        },
    )))
}

// ------------------------------------------------------------------ the card

#[derive(Template)]
#[template(path = "operator_citizen.html")]
struct CitizenPage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    id: String,
    /// Carried by every link and form of the card.
    grant: String,
    name: String,
    level: &'static str,
    level_class: &'static str,
    confirmed: Option<String>,
    contacts: Vec<String>,
    registered_at: String,
    document: Option<DocumentRows>,
    locked: bool,
    pending: bool,
    can_confirm: bool,
    can_restore: bool,
    /// The data submitted by this account passed both checks, but another
    /// account holds their SNILS: what the passport is compared with.
    taken_snils: Option<DocumentRows>,
    /// What was ticked in a form that came back refused.
    confirm_ticked: Checklist,
    restore_ticked: Checklist,
    snils_ticked: Checklist,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

/// The verified data, laid out as in a passport.
struct DocumentRows {
    series_number: String,
    issued: String,
    department_code: String,
    birth: String,
    snils: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CardQuery {
    done: Option<String>,
    grant: Option<String>,
}

/// The grant a search gave, on every address of a card.
#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantQuery {
    grant: Option<String>,
}

fn parse_account(ctx: &Ctx, id: &str) -> Result<AccountId, PageError> {
    id.parse().map_err(|_| PageError::not_found(ctx.lang.0))
}

/// Which form of the card came back, with what was ticked in it.
#[derive(Clone, Copy, Default)]
enum Ticked {
    #[default]
    None,
    Confirm(Checklist),
    Restore(Checklist),
    Snils(Checklist),
}

fn document_rows(d: &uslugi_domain::PersonalData) -> DocumentRows {
    DocumentRows {
        series_number: d.document.series_number.as_str().to_owned(),
        issued: format!(
            "{}, {}",
            format_date(d.document.issue_date),
            d.document.issued_by.as_str()
        ),
        department_code: d.document.department_code.as_str().to_owned(),
        birth: format!("{}, {}", format_date(d.birth_date), d.birth_place.as_str()),
        snils: d.snils.to_string(),
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "what the card shows after each action"
)]
async fn citizen_page(
    state: &AppState,
    ctx: Ctx,
    op: &OperatorAuth,
    (account, grant): (AccountId, Option<String>),
    notice: Option<&'static str>,
    errors: FieldErrors,
    ticked: Ticked,
    status: StatusCode,
) -> Result<Response, PageError> {
    let card = state
        .operators
        .citizen(op, account, grant.as_deref())
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
        .ok_or_else(|| PageError::not_found(ctx.lang.0))?;
    let t = ctx.tr;
    let document = card.verified.as_ref().map(document_rows);
    let taken_snils = if op.offers(CenterService::IdentityConfirmation) {
        let v = state
            .verification
            .personal_data(account)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
        v.submitted
            .as_ref()
            .filter(|_| v.state.snils_taken)
            .map(document_rows)
    } else {
        None
    };
    let confirmed = card.confirmed_at.map(|at| {
        let via = match card.confirmed_via {
            Some(uslugi_domain::ConfirmedVia::Letter) => t.letter.confirmed_via_letter,
            _ => t.letter.confirmed_via_center,
        };
        format!("{via}, {}", local_time(state, at, &ctx))
    });
    let row = card_row(t, &card);
    let verified_level = card.level != uslugi_domain::AccountLevel::Simplified;
    Ok(no_store(render(
        status,
        &CitizenPage {
            desk: desk(t, op),
            id: row.id,
            grant: grant.unwrap_or_default(),
            name: row.name,
            level: row.level,
            level_class: row.level_class,
            confirmed,
            contacts: card
                .phone
                .iter()
                .chain(card.email.iter())
                .cloned()
                .collect(),
            registered_at: local_time(state, card.created_at, &ctx),
            document,
            locked: card.locked,
            pending: card.registration_pending,
            can_confirm: card.level == uslugi_domain::AccountLevel::Standard
                && op.offers(CenterService::IdentityConfirmation),
            can_restore: verified_level && op.offers(CenterService::AccessRecovery),
            confirm_ticked: match ticked {
                Ticked::Confirm(c) => c,
                _ => Checklist::default(),
            },
            restore_ticked: match ticked {
                Ticked::Restore(c) => c,
                _ => Checklist::default(),
            },
            snils_ticked: match ticked {
                Ticked::Snils(c) => c,
                _ => Checklist::default(),
            },
            taken_snils,
            notice,
            errors,
            tr: t,
            chrome: ctx.chrome,
        },
    )))
}

async fn citizen(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CardQuery>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let account = parse_account(&ctx, &id)?;
    let c = ctx.tr.console;
    let notice = match q.done.as_deref() {
        Some("confirmed") => Some(c.confirmed_done),
        Some("restored") => Some(c.restored_done),
        Some("snils") => Some(c.snils_done),
        _ => None,
    };
    citizen_page(
        &state,
        ctx,
        &op,
        (account, q.grant),
        notice,
        FieldErrors::new(),
        Ticked::None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChecklistInput {
    document_matches: Option<String>,
    person_matches: Option<String>,
}

impl ChecklistInput {
    fn checklist(&self) -> Checklist {
        Checklist {
            document_matches: self.document_matches.is_some(),
            person_matches: self.person_matches.is_some(),
        }
    }
}

fn action_error(
    ctx: &Ctx,
    field: &str,
    e: ActionError,
) -> Result<(FieldErrors, StatusCode), PageError> {
    let c = ctx.tr.console;
    let (message, status) = match e {
        ActionError::ChecklistIncomplete(_) => (c.err_checklist, StatusCode::UNPROCESSABLE_ENTITY),
        ActionError::NotOffered => (c.err_not_offered, StatusCode::FORBIDDEN),
        ActionError::NotVerified => (c.err_not_verified, StatusCode::CONFLICT),
        ActionError::AlreadyConfirmed => (c.err_already_confirmed, StatusCode::CONFLICT),
        ActionError::NoContact => (c.err_no_contact, StatusCode::CONFLICT),
        ActionError::SnilsNotTaken => (c.err_snils_not_taken, StatusCode::CONFLICT),
        ActionError::NotFound | ActionError::NoGrant(_) => {
            return Err(PageError::not_found(ctx.lang.0));
        }
        ActionError::Internal(e) => return Err(PageError::internal(ctx.lang.0, &e)),
    };
    let mut errors = FieldErrors::new();
    errors.insert(field.to_owned(), message.to_owned());
    Ok((errors, status))
}

/// The two actions of the card after the passport check.
#[derive(Clone, Copy)]
enum CardAction {
    Confirm,
    Restore,
    TransferSnils,
}

async fn card_action(
    state: AppState,
    ctx: Ctx,
    headers: HeaderMap,
    (id, grant): (String, Option<String>),
    input: ChecklistInput,
    action: CardAction,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let account = parse_account(&ctx, &id)?;
    let checklist = input.checklist();
    let g = grant.as_deref();
    let ops = &state.operators;
    let (result, done, field, ticked) = match action {
        CardAction::Confirm => (
            ops.confirm_identity(&op, account, g, checklist, ctx.lang.0)
                .await,
            "confirmed",
            "confirm",
            Ticked::Confirm(checklist),
        ),
        CardAction::Restore => (
            ops.restore_access(&op, account, g, checklist, ctx.lang.0)
                .await,
            "restored",
            "restore",
            Ticked::Restore(checklist),
        ),
        CardAction::TransferSnils => (
            ops.transfer_snils(&op, account, g, checklist, ctx.lang.0)
                .await,
            "snils",
            "snils",
            Ticked::Snils(checklist),
        ),
    };
    match result {
        // The grant the action came with, not a new one: acting on a card
        // does not keep it open longer.
        Ok(()) => Ok(see_other(&format!(
            "/operator/citizens/{account}?done={done}&grant={}",
            grant.unwrap_or_default()
        ))),
        Err(e) => {
            let (errors, status) = action_error(&ctx, field, e)?;
            citizen_page(
                &state,
                ctx,
                &op,
                (account, grant),
                None,
                errors,
                ticked,
                status,
            )
            .await
        }
    }
}

async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<GrantQuery>,
    CsrfForm(input): CsrfForm<ChecklistInput>,
) -> Result<Response, PageError> {
    card_action(
        state,
        ctx,
        headers,
        (id, q.grant),
        input,
        CardAction::Confirm,
    )
    .await
}

async fn restore(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<GrantQuery>,
    CsrfForm(input): CsrfForm<ChecklistInput>,
) -> Result<Response, PageError> {
    card_action(
        state,
        ctx,
        headers,
        (id, q.grant),
        input,
        CardAction::Restore,
    )
    .await
}

async fn transfer_snils(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<GrantQuery>,
    CsrfForm(input): CsrfForm<ChecklistInput>,
) -> Result<Response, PageError> {
    card_action(
        state,
        ctx,
        headers,
        (id, q.grant),
        input,
        CardAction::TransferSnils,
    )
    .await
}

// ------------------------------------------------------------------ registration

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
struct RegisterInput {
    phone: String,
    #[serde(flatten)]
    pd: PersonalFormInput,
}

struct RegisterForm {
    action: String,
    fresh: bool,
    v: PersonalDataForm,
    phone: String,
}

fn register_page(
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

#[derive(Template)]
#[template(path = "operator_register_phone.html")]
struct PhonePage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    /// Set once a code went out: the code step; otherwise the phone step.
    id: Option<String>,
    sent_to: String,
    phone: String,
    notice: Option<String>,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

impl PhonePage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// The first steps of a registration at the desk: the phone, then the code
/// the citizen reads out from it.
fn phone_page(
    ctx: Ctx,
    op: &OperatorAuth,
    step: Option<&DeskPhoneView>,
    phone: String,
    notice: Option<String>,
    (errors, status): (FieldErrors, StatusCode),
) -> Response {
    let (t, c) = (ctx.tr, ctx.tr.console);
    let summary = summary(
        t,
        &errors,
        &[
            ("phone", c.mobile_phone),
            ("code", c.sms_code),
            ("resend", c.resend_code),
        ],
    );
    no_store(render(
        status,
        &PhonePage {
            desk: desk(t, op),
            id: step.map(|v| v.id.to_string()),
            sent_to: step
                .map(|v| fill(c.code_sent_to, v.phone.e164()))
                .unwrap_or_default(),
            phone,
            notice,
            errors,
            summary,
            tr: t,
            chrome: ctx.chrome,
        },
    ))
}

fn not_offered(ctx: &Ctx) -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        ctx.lang.0,
        ctx.tr.console.err_not_offered,
    )
}

async fn register_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    if !op.offers(CenterService::Registration) {
        return Err(not_offered(&ctx));
    }
    Ok(phone_page(
        ctx,
        &op,
        None,
        String::new(),
        None,
        (FieldErrors::new(), StatusCode::OK),
    ))
}

/// What the console says about a refused step of the desk's phone check:
/// the field it belongs to, the message, the status.
fn desk_phone_error(
    state: &AppState,
    ctx: &Ctx,
    e: DeskPhoneError,
) -> Result<(&'static str, String, StatusCode), PageError> {
    let (t, c) = (ctx.tr, ctx.tr.console);
    let secs = |at: time::OffsetDateTime| (at - state.operators.now()).whole_seconds().max(1);
    Ok(match e {
        DeskPhoneError::Phone(e) => (
            "phone",
            t.phone_error(e).to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::PhoneTaken => ("phone", c.err_phone_taken.into(), StatusCode::CONFLICT),
        DeskPhoneError::RateLimited { retry_at } => (
            "phone",
            fill(c.err_too_many_codes, secs(retry_at)),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        DeskPhoneError::Malformed => (
            "code",
            c.err_desk_code_malformed.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::WrongCode { attempts_left } => (
            "code",
            fill(c.err_desk_code_wrong, attempts_left),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::Exhausted => (
            "code",
            c.err_desk_code_exhausted.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::CodeExpired => (
            "code",
            c.err_desk_code_expired.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        DeskPhoneError::TooSoon { retry_at } => (
            "resend",
            fill(c.err_resend_too_soon, secs(retry_at)),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        DeskPhoneError::NotOffered => return Err(not_offered(ctx)),
        DeskPhoneError::NotFound => return Err(PageError::not_found(ctx.lang.0)),
        DeskPhoneError::Internal(e) => return Err(PageError::internal(ctx.lang.0, &e)),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PhoneInput {
    phone: String,
}

async fn phone_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(input): CsrfForm<PhoneInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    match state
        .operators
        .start_desk_phone(&op, &input.phone, ctx.lang.0)
        .await
    {
        Ok(id) => Ok(see_other(&format!("/operator/register/{id}"))),
        Err(e) => {
            let (field, message, status) = desk_phone_error(&state, &ctx, e)?;
            let mut errors = FieldErrors::new();
            errors.insert(field.into(), message);
            Ok(phone_page(
                ctx,
                &op,
                None,
                input.phone,
                None,
                (errors, status),
            ))
        }
    }
}

fn parse_desk_phone(ctx: &Ctx, id: &str) -> Result<uuid::Uuid, PageError> {
    id.parse().map_err(|_| PageError::not_found(ctx.lang.0))
}

/// This operator's phone confirmation, or 404.
async fn own_desk_phone(
    state: &AppState,
    ctx: &Ctx,
    op: &OperatorAuth,
    id: uuid::Uuid,
) -> Result<DeskPhoneView, PageError> {
    state
        .operators
        .desk_phone(op, id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
        .ok_or_else(|| PageError::not_found(ctx.lang.0))
}

fn empty_registration() -> PersonalDataForm {
    PersonalDataForm {
        citizenship: "RUS".into(),
        document: uslugi_domain::DocumentForm {
            kind: "rf_passport".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeskQuery {
    resent: Option<String>,
}

/// The code step until the phone is confirmed; then the registration form.
async fn desk_step(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DeskQuery>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let id = parse_desk_phone(&ctx, &id)?;
    let view = own_desk_phone(&state, &ctx, &op, id).await?;
    if view.confirmed {
        let form = RegisterForm {
            action: format!("/operator/register/{id}"),
            fresh: true,
            v: empty_registration(),
            phone: view.phone.e164().to_owned(),
        };
        return Ok(register_page(
            ctx,
            &op,
            form,
            FieldErrors::new(),
            StatusCode::OK,
        ));
    }
    let notice = q
        .resent
        .is_some()
        .then(|| ctx.tr.console.code_resent.to_owned());
    Ok(phone_page(
        ctx,
        &op,
        Some(&view),
        String::new(),
        notice,
        (FieldErrors::new(), StatusCode::OK),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeInput {
    code: String,
}

async fn desk_code(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<CodeInput>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let id = parse_desk_phone(&ctx, &id)?;
    match state
        .operators
        .confirm_desk_phone(&op, id, &input.code)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/operator/register/{id}"))),
        Err(e) => {
            let (field, message, status) = desk_phone_error(&state, &ctx, e)?;
            let view = own_desk_phone(&state, &ctx, &op, id).await?;
            let mut errors = FieldErrors::new();
            errors.insert(field.into(), message);
            Ok(phone_page(
                ctx,
                &op,
                Some(&view),
                String::new(),
                None,
                (errors, status),
            ))
        }
    }
}

async fn desk_resend(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let id = parse_desk_phone(&ctx, &id)?;
    match state.operators.resend_desk_code(&op, id, ctx.lang.0).await {
        Ok(()) => Ok(see_other(&format!("/operator/register/{id}?resent=1"))),
        Err(e) => {
            let (field, message, status) = desk_phone_error(&state, &ctx, e)?;
            let view = own_desk_phone(&state, &ctx, &op, id).await?;
            let mut errors = FieldErrors::new();
            // The limit of the phone shows where the button is.
            let field = if field == "phone" { "resend" } else { field };
            errors.insert(field.into(), message);
            Ok(phone_page(
                ctx,
                &op,
                Some(&view),
                String::new(),
                None,
                (errors, status),
            ))
        }
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
async fn register_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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

// ------------------------------------------------------------------ the log

#[derive(Template)]
#[template(path = "operator_audit.html")]
struct AuditPage {
    tr: &'static Tr,
    chrome: Chrome,
    desk: Desk,
    supervisor: bool,
    rows: Vec<AuditRow>,
    older: Option<i64>,
}

struct AuditRow {
    seq: i64,
    at: String,
    operator: String,
    action: String,
    outcome: String,
    account: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    before: Option<i64>,
}

fn audit_row(state: &AppState, ctx: &Ctx, r: &AuditRecord) -> AuditRow {
    AuditRow {
        seq: r.seq,
        at: local_time(state, r.entry.at, ctx),
        operator: r
            .entry
            .operator_id
            .map(|o| o.to_string()[..8].to_owned())
            .unwrap_or_else(|| r.entry.actor.clone()),
        action: r.entry.action.clone(),
        outcome: r.entry.outcome.clone(),
        account: r.entry.account_id.map(|a| a.to_string()),
    }
}

async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let op = operator_or_login!(state, ctx, headers);
    let records = state
        .operators
        .audit_records(&op, q.before)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let page = state.operators.policy().audit_page as usize;
    let older = (records.len() == page)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    Ok(no_store(render(
        StatusCode::OK,
        &AuditPage {
            desk: desk(ctx.tr, &op),
            supervisor: op.role == uslugi_domain::OperatorRole::Supervisor,
            rows: records.iter().map(|r| audit_row(&state, &ctx, r)).collect(),
            older,
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )))
}
