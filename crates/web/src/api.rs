//! The JSON API: the contract for the mobile app, kiosks and partners.
//! Field names, paths and statuses are fixed; see `openapi.json`. Each
//! feature's module brings its own `/api/v1` routes (its `api_routes`);
//! here are the document itself and the answer to an unknown path.
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing};

use crate::AppState;
use crate::error::ApiError;
use crate::http::Language;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", routing::get(openapi))
        .fallback(not_found)
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
        .into_response()
}

async fn not_found(lang: Language) -> ApiError {
    ApiError::not_found(lang.tr())
}
