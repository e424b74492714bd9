//! Personal data, addresses and the check page, as pages and as the JSON API.
//! Handlers stay thin: who is signed in, what was sent, one use case, render.
use axum::Router;

use crate::AppState;

mod addresses;
mod api;
mod check;
mod form;
pub mod i18n;
mod messages;
mod my_data;

pub(crate) use check::{CheckRow, check_rows, check_state_text, reason_text};
pub(crate) use form::{PersonalFormInput, date_for_input};
pub(crate) use messages::{field_errors, labels, summary};
pub(crate) use my_data::{
    MyPersonalData, address_line, data_rows, format_date, full_name, my_personal_data,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(form::routes())
        .merge(check::routes())
        .merge(addresses::routes())
}

pub fn api_routes() -> crate::api::ApiRouter {
    api::routes()
}
