//! «Центры обслуживания»: the public page and `GET /api/v1/service-centers`.
use axum::Router;
use serde::Deserialize;
use uslugi_app::centers::CenterQuery;
use uslugi_domain::CenterService;

use crate::AppState;

mod api;
pub mod i18n;
mod page;

pub fn routes() -> Router<AppState> {
    page::routes()
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}

/// The search as the page's form sends it; every part optional.
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
    /// The page's form: its checkbox sends `on`; anything else is off. An
    /// empty choice of service is any service.
    fn page_query(&self) -> Result<CenterQuery, SearchProblem> {
        let service = match self.service.trim() {
            "" => None,
            s => Some(CenterService::parse(s).ok_or(SearchProblem::Service)?),
        };
        Ok(CenterQuery {
            region: some_text(&self.region),
            text: some_text(&self.q),
            service,
            open_now: matches!(self.open_now.trim(), "1" | "true" | "on" | "yes"),
        })
    }
}

/// A text to search by, trimmed; blank is none.
fn some_text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}
