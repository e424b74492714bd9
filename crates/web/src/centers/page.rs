//! The page «Центры обслуживания»: the search form and each center's card.
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use uslugi_app::centers::CenterQuery;
use uslugi_domain::center::format_offset;
use uslugi_domain::{CenterKind, CenterService, ServiceCenter};

use crate::AppState;
use crate::error::PageError;
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Page, render};

use super::SearchInput;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/service-centers", routing::get(page))
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
    Page(state, ctx, _): Page,
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
