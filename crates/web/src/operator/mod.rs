//! The operator console at `/operator`: enrolment, login with the second
//! factor, finding a citizen, confirming identity, registering in person,
//! restoring access, and the audit records the operator may read. It has
//! its own session cookie: a citizen's session never opens it, and an
//! operator's never opens a citizen's pages.
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uslugi_app::operators::{CitizenCard, OperatorAuth};
use uslugi_domain::{AccountId, CenterService, Token};

use crate::AppState;
use crate::error::PageError;
use crate::http::{clear_cookie, cookie};
use crate::i18n::Tr;
use crate::page::{Ctx, see_other};
use crate::personal_data::full_name;

mod audit;
mod card;
mod desk;
mod enrolment;
pub mod i18n;
mod login;
mod registration;
mod search;

pub const OPERATOR_COOKIE: &str = "__Host-uslugi-operator";

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(login::routes())
        .merge(enrolment::routes())
        .merge(search::routes())
        .merge(card::routes())
        .merge(desk::routes())
        .merge(registration::routes())
        .merge(audit::routes())
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

/// The operator of a console request, or the handler returns the way to
/// the console's login (see [`console`]).
macro_rules! operator_or_login {
    ($state:expr, $ctx:expr, $headers:expr) => {
        match $crate::operator::console(&$state, &$ctx, &$headers).await? {
            $crate::operator::Console::In(op) => op,
            $crate::operator::Console::Out(r) => return Ok(r),
        }
    };
}
use operator_or_login;

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

/// The grant a search gave, on every address of a card.
#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantQuery {
    grant: Option<String>,
}

fn parse_account(ctx: &Ctx, id: &str) -> Result<AccountId, PageError> {
    id.parse().map_err(|_| PageError::not_found(ctx.lang.0))
}

fn not_offered(ctx: &Ctx) -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        ctx.lang.0,
        ctx.tr.console.err_not_offered,
    )
}
