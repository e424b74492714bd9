//! The addresses of registration and of residence.
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::verification::AddressError;
use uslugi_domain::AddressForm;

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::http::CsrfForm;
use crate::i18n::Tr;
use crate::page::{Chrome, Page, no_store, render, see_other};

use super::{field_errors, summary};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/me/addresses",
        routing::get(addresses_form).post(addresses_submit),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AddressesInput {
    #[serde(rename = "registration.postal_code")]
    r_postal_code: String,
    #[serde(rename = "registration.region")]
    r_region: String,
    #[serde(rename = "registration.locality")]
    r_locality: String,
    #[serde(rename = "registration.street")]
    r_street: String,
    #[serde(rename = "registration.house")]
    r_house: String,
    #[serde(rename = "registration.building")]
    r_building: String,
    #[serde(rename = "registration.flat")]
    r_flat: String,
    /// The checkbox «Совпадает с адресом регистрации».
    same: Option<String>,
    #[serde(rename = "actual.postal_code")]
    a_postal_code: String,
    #[serde(rename = "actual.region")]
    a_region: String,
    #[serde(rename = "actual.locality")]
    a_locality: String,
    #[serde(rename = "actual.street")]
    a_street: String,
    #[serde(rename = "actual.house")]
    a_house: String,
    #[serde(rename = "actual.building")]
    a_building: String,
    #[serde(rename = "actual.flat")]
    a_flat: String,
}

impl AddressesInput {
    fn forms(self) -> (AddressForm, AddressForm, bool) {
        let registration = AddressForm {
            postal_code: self.r_postal_code,
            region: self.r_region,
            locality: self.r_locality,
            street: self.r_street,
            house: self.r_house,
            building: self.r_building,
            flat: self.r_flat,
        };
        let same = self.same.is_some();
        let actual = if same {
            registration.clone()
        } else {
            AddressForm {
                postal_code: self.a_postal_code,
                region: self.a_region,
                locality: self.a_locality,
                street: self.a_street,
                house: self.a_house,
                building: self.a_building,
                flat: self.a_flat,
            }
        };
        (registration, actual, same)
    }
}

#[derive(Template)]
#[template(path = "addresses.html")]
struct AddressesPage {
    tr: &'static Tr,
    chrome: Chrome,
    registration: AddressForm,
    actual: AddressForm,
    same: bool,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
}

impl AddressesPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

async fn addresses_form(Page(state, ctx, headers): Page) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/addresses");
    let view = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let (registration, actual, same) = match &view.addresses {
        Some(a) => (
            AddressForm::from_address(&a.registration),
            AddressForm::from_address(&a.actual),
            a.registration == a.actual,
        ),
        None => (AddressForm::default(), AddressForm::default(), false),
    };
    Ok(no_store(render(
        StatusCode::OK,
        &AddressesPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            registration,
            actual,
            same,
            errors: FieldErrors::new(),
            summary: Vec::new(),
        },
    )))
}

async fn addresses_submit(
    Page(state, ctx, headers): Page,
    CsrfForm(input): CsrfForm<AddressesInput>,
) -> Result<Response, PageError> {
    let session = citizen_or_login!(state, ctx, headers, "/me/addresses");
    let (registration, actual, same) = input.forms();
    match state
        .verification
        .save_addresses(session.account_id, &registration, &actual)
        .await
    {
        Ok(_) => Ok(see_other("/me?addresses_saved=1")),
        Err(AddressError::Invalid(problems)) => {
            let errors = field_errors(ctx.tr, &problems);
            let summary = summary(ctx.tr, &errors, &[]);
            Ok(no_store(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AddressesPage {
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    registration,
                    actual,
                    same,
                    errors,
                    summary,
                },
            )))
        }
        Err(AddressError::Internal(e)) => Err(PageError::internal(ctx.lang.0, &e)),
    }
}
