//! «Удалить учётную запись» (`/me/delete`) and
//! `POST /api/v1/me/deletion`: the citizen's own deletion, with a 30-day
//! grace in which a login cancels it.
use time::OffsetDateTime;
use uslugi_app::DeletionError;

use crate::error::ApiError;
use crate::i18n::Tr;

mod api;
pub mod i18n;
mod page;

pub use api::routes as api_routes;
pub use page::routes;

/// The one answer to each deletion error, for the API and the page.
pub(crate) fn deletion_answer(t: &Tr, now: OffsetDateTime, e: &DeletionError) -> ApiError {
    match e {
        DeletionError::Proof(e) => crate::second_factor::factor_answer(t, now, e),
        DeletionError::CodeRequired => {
            ApiError::invalid_with_code("code_required", "code", t.deletion.err_code_required)
        }
        DeletionError::Pending => ApiError::conflict("deletion_pending", t.deletion.err_pending),
        DeletionError::Internal(_) => ApiError::internal(t, e),
    }
}
