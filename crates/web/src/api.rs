//! The JSON API: the contract for the mobile app, kiosks and partners.
//! Field names, paths and statuses are fixed; see `openapi.json`. Each
//! feature's module brings its own `/api/v1` routes (its `api_routes`);
//! here are the document itself and the answer to an unknown path.
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing};
use uslugi_app::Confirmation;

use crate::AppState;
use crate::error::ApiError;
use crate::http::Language;
use crate::i18n::Tr;

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

/// What a confirmation sent: the code, else the e-mail link's token;
/// with neither, the code is asked for.
pub(crate) fn code_or_token(
    t: &Tr,
    code: Option<String>,
    token: Option<String>,
) -> Result<Confirmation, ApiError> {
    match (code, token) {
        (Some(c), _) => Ok(Confirmation::Code(c)),
        (None, Some(tok)) => Ok(Confirmation::Token(tok)),
        (None, None) => Err(ApiError::invalid_field(t, "code", t.err_required)),
    }
}
