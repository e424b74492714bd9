//! The audit records the operator may read.
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::ports::AuditRecord;

use crate::AppState;
use crate::error::PageError;
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, Page, local_time, no_store, render};

use super::{Desk, desk, operator_or_login};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/operator/audit", routing::get(audit))
}

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
    Page(state, ctx, headers): Page,
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
