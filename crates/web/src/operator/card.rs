//! A citizen's card, opened by a search's grant, and its actions after
//! the passport check: confirm the identity, restore access, move the SNILS.
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{self, MethodRouter};
use serde::Deserialize;
use uslugi_app::operators::{ActionError, Checklist, OperatorAuth};
use uslugi_domain::{AccountId, CenterService};

use crate::AppState;
use crate::error::{FieldErrors, PageError};
use crate::http::CsrfForm;
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, local_time, no_store, render, see_other};
use crate::personal_data::format_date;

use super::{Desk, GrantQuery, card_row, desk, operator_or_login, parse_account};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator/citizens/{id}", routing::get(citizen))
        .route(
            "/operator/citizens/{id}/confirm",
            action_route(CardAction::Confirm),
        )
        .route(
            "/operator/citizens/{id}/restore",
            action_route(CardAction::Restore),
        )
        .route(
            "/operator/citizens/{id}/snils",
            action_route(CardAction::TransferSnils),
        )
}

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
    Page(state, ctx, headers): Page,
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

/// The actions of the card after the passport check.
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

/// The address of one of the card's actions: they share one handler, told
/// which action it is.
fn action_route(action: CardAction) -> MethodRouter<AppState> {
    routing::post(
        move |State(state): State<AppState>,
              ctx: Ctx,
              headers: HeaderMap,
              Path(id): Path<String>,
              Query(q): Query<GrantQuery>,
              CsrfForm(input): CsrfForm<ChecklistInput>| {
            card_action(state, ctx, headers, (id, q.grant), input, action)
        },
    )
}
