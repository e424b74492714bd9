//! «Центры обслуживания»: the public page and `GET /api/v1/service-centers`.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::Deserialize;
use serde_json::json;
use uslugi_app::centers::CenterQuery;
use uslugi_domain::center::format_offset;
use uslugi_domain::{CenterKind, CenterService, ServiceCenter};

use crate::AppState;
use crate::error::{ApiError, PageError};
use crate::http::{ApiQuery, Language};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/service-centers", routing::get(page))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/service-centers", routing::get(api))
}

/// The search as the form and the API send it; every part optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchInput {
    region: String,
    q: String,
    service: String,
    open_now: String,
}

/// What is wrong with a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchProblem {
    Service,
    OpenNow,
}

impl SearchInput {
    /// The page's form: its checkbox sends `on`; anything else is off.
    fn page_query(&self) -> Result<CenterQuery, SearchProblem> {
        self.query(matches!(self.open_now.trim(), "1" | "true" | "on" | "yes"))
    }

    /// The API: `open_now` is 1 or true, 0 or false, or absent.
    fn api_query(&self) -> Result<CenterQuery, SearchProblem> {
        let open_now = match self.open_now.trim() {
            "1" | "true" => true,
            "" | "0" | "false" => false,
            _ => return Err(SearchProblem::OpenNow),
        };
        self.query(open_now)
    }

    fn query(&self, open_now: bool) -> Result<CenterQuery, SearchProblem> {
        let service = match self.service.trim() {
            "" => None,
            s => Some(CenterService::parse(s).ok_or(SearchProblem::Service)?),
        };
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(CenterQuery {
            region: some(&self.region),
            text: some(&self.q),
            service,
            open_now,
        })
    }
}

fn kind_name(t: &Tr, k: CenterKind) -> &'static str {
    match k {
        CenterKind::Mfc => t.centers.kind_mfc,
        CenterKind::Rostelecom => t.centers.kind_rostelecom,
        CenterKind::Post => t.centers.kind_post,
        CenterKind::Administration => t.centers.kind_administration,
    }
}

fn service_name(t: &Tr, s: CenterService) -> &'static str {
    match s {
        CenterService::Registration => t.centers.registration,
        CenterService::IdentityConfirmation => t.centers.identity_confirmation,
        CenterService::AccessRecovery => t.centers.access_recovery,
    }
}

fn hm(t: time::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

struct DayRow {
    day: &'static str,
    hours: String,
    today: bool,
}

struct Card {
    id: String,
    name: String,
    kind: &'static str,
    address: String,
    phone: String,
    email: String,
    services: String,
    open: bool,
    local_time: String,
    days: Vec<DayRow>,
}

fn card(t: &Tr, c: &ServiceCenter, now: time::OffsetDateTime) -> Card {
    let today = now.to_offset(c.utc_offset).weekday();
    let days = c
        .hours
        .days()
        .iter()
        .enumerate()
        .map(|(i, (weekday, d))| {
            let hours = match (d.intervals().first(), d.intervals().last()) {
                (Some(first), Some(last)) => {
                    let mut s = format!("{}–{}", hm(first.opens), hm(last.closes));
                    for b in d.breaks() {
                        s.push_str(&format!(
                            ", {} {}–{}",
                            t.centers.lunch,
                            hm(b.opens),
                            hm(b.closes)
                        ));
                    }
                    s
                }
                _ => t.centers.day_off.to_owned(),
            };
            DayRow {
                day: t.centers.days[i],
                hours,
                today: *weekday == today,
            }
        })
        .collect();
    Card {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: kind_name(t, c.kind),
        address: format!("{}, {}", c.postal_code, c.address),
        phone: c.phone.clone(),
        email: c.email.clone(),
        services: c
            .services
            .iter()
            .map(|s| service_name(t, *s))
            .collect::<Vec<_>>()
            .join(", "),
        open: c.is_open_at(now),
        local_time: fill(t.centers.local_time, format_offset(c.utc_offset)),
        days,
    }
}

#[derive(Template)]
#[template(path = "centers.html")]
struct CentersPage {
    tr: &'static Tr,
    chrome: Chrome,
    regions: Vec<String>,
    region: String,
    q: String,
    service: String,
    open_now: bool,
    found_text: String,
    cards: Vec<Card>,
    service_error: bool,
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(input): Query<SearchInput>,
) -> Result<Response, PageError> {
    let internal = |e: uslugi_app::InternalError| PageError::internal(ctx.lang.0, &e);
    let regions = state.centers.regions().await.map_err(internal)?;
    let (status, query, service_error) = match input.page_query() {
        Ok(q) => (StatusCode::OK, q, false),
        Err(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            CenterQuery::default(),
            true,
        ),
    };
    let found = state.centers.search(&query).await.map_err(internal)?;
    let now = state.centers.now();
    Ok(render(
        status,
        &CentersPage {
            tr: ctx.tr,
            found_text: fill(ctx.tr.centers.found, found.len()),
            cards: found.iter().map(|c| card(ctx.tr, c, now)).collect(),
            chrome: ctx.chrome,
            regions,
            region: query.region.unwrap_or_default(),
            q: query.text.unwrap_or_default(),
            service: query
                .service
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            open_now: query.open_now,
            service_error,
        },
    ))
}

async fn api(
    State(state): State<AppState>,
    lang: Language,
    ApiQuery(input): ApiQuery<SearchInput>,
) -> Result<Response, ApiError> {
    let t = lang.tr();
    let query = input.api_query().map_err(|p| match p {
        SearchProblem::Service => ApiError::invalid_field(t, "service", t.centers.err_service),
        SearchProblem::OpenNow => ApiError::invalid_field(t, "open_now", t.centers.err_open_now),
    })?;
    let found = state
        .centers
        .search(&query)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    let now = state.centers.now();
    let centers: Vec<serde_json::Value> = found
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["open_now"] = json!(c.is_open_at(now));
            v
        })
        .collect();
    Ok(Json(json!({ "centers": centers })).into_response())
}
