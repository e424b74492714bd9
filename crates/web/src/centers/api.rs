//! `GET /api/v1/service-centers`.
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use crate::http::{ApiQuery, Language};

use super::{SearchInput, SearchProblem};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/service-centers", routing::get(api))
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
