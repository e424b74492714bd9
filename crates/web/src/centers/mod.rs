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

pub fn api_routes() -> Router<AppState> {
    api::routes()
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
