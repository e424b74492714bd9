//! `GET /api/v1/service-centers`.
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uslugi_app::centers::CenterQuery;
use uslugi_domain::center::format_offset;
use uslugi_domain::{CenterKind, CenterService, ServiceCenter};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::api::{Api, ApiRouter};
use crate::error::{ApiError, ErrorBody};
use crate::http::ApiQuery;

use super::{SearchProblem, some_text};

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new().routes(routes!(search_service_centers))
}

/// A string that is one of `forms`.
fn one_of<const N: usize>(forms: [&'static str; N]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(forms))
        .build()
}

/// The search; every part optional, none given twice. Unlike the page's
/// form, the API takes a service and `open_now` only in their exact forms.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CenterSearch {
    /// One region exactly, e.g. Калужская область
    region: Option<String>,
    /// Words to find in the name, locality, region, postal code or address
    /// (case and ё/е ignored)
    q: Option<String>,
    // The two below take their descriptions from their schemas: utoipa
    // drops a doc comment beside `schema_with`.
    #[param(schema_with = service_param_schema)]
    service: Option<String>,
    #[param(schema_with = open_now_schema)]
    open_now: Option<String>,
}

fn service_schema() -> Object {
    one_of(CenterService::ALL.map(CenterService::as_str))
}

fn service_param_schema() -> Object {
    let mut schema = service_schema();
    schema.description = Some("Only the centers that offer this service".into());
    schema
}

fn open_now_schema() -> Object {
    let mut schema = one_of(["1", "true", "0", "false"]);
    schema.description = Some(
        "1 or true: only centers open now, in each center's time zone; 0, false or absent: all"
            .into(),
    );
    schema
}

impl CenterSearch {
    fn query(&self) -> Result<CenterQuery, SearchProblem> {
        let service = match self.service.as_deref() {
            None => None,
            Some(s) => Some(
                CenterService::ALL
                    .into_iter()
                    .find(|k| k.as_str() == s)
                    .ok_or(SearchProblem::Service)?,
            ),
        };
        let open_now = match self.open_now.as_deref() {
            Some("1" | "true") => true,
            None | Some("0" | "false") => false,
            Some(_) => return Err(SearchProblem::OpenNow),
        };
        let text = |s: &Option<String>| s.as_deref().and_then(some_text);
        Ok(CenterQuery {
            region: text(&self.region),
            text: text(&self.q),
            service,
            open_now,
        })
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = ServiceCenters)]
struct CentersAnswer {
    /// By region, locality and name
    centers: Vec<CenterAnswer>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ServiceCenter)]
struct CenterAnswer {
    /// Stable
    #[schema(pattern = "^[a-z0-9-]+$", example = "kaluga-mfc-khrustalnaya")]
    id: String,
    #[schema(min_length = 1)]
    name: String,
    #[schema(schema_with = kind_schema)]
    kind: String,
    #[schema(min_length = 1, example = "Калужская область")]
    region: String,
    #[schema(min_length = 1, example = "г. Калуга")]
    locality: String,
    #[schema(pattern = "^[0-9]{6}$")]
    postal_code: String,
    /// As written on a letter, without the postal code
    #[schema(min_length = 1)]
    address: String,
    /// Empty if none
    phone: String,
    /// Empty if none
    email: String,
    /// The center's time zone (Russia keeps no summer time)
    #[schema(pattern = "^[+-][0-9]{2}:[0-9]{2}$", example = "+03:00")]
    utc_offset: String,
    #[schema(inline)]
    hours: WeekAnswer,
    #[schema(schema_with = services_schema)]
    services: Vec<String>,
    /// Null when not known, as is the longitude then
    #[schema(required = true)]
    latitude: Option<f64>,
    #[schema(required = true)]
    longitude: Option<f64>,
    /// At the time of the answer, in the center's own time zone
    open_now: bool,
}

/// Each day's opening intervals, Monday first, in the center's local time.
#[derive(Serialize, ToSchema)]
struct WeekAnswer {
    #[schema(schema_with = day_schema)]
    mon: String,
    #[schema(schema_with = day_schema)]
    tue: String,
    #[schema(schema_with = day_schema)]
    wed: String,
    #[schema(schema_with = day_schema)]
    thu: String,
    #[schema(schema_with = day_schema)]
    fri: String,
    #[schema(schema_with = day_schema)]
    sat: String,
    #[schema(schema_with = day_schema)]
    sun: String,
}

fn kind_schema() -> Object {
    one_of(CenterKind::ALL.map(CenterKind::as_str))
}

fn services_schema() -> Array {
    ArrayBuilder::new()
        .items(service_schema())
        .min_items(Some(1))
        .build()
}

fn day_schema() -> Object {
    const INTERVAL: &str = "[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}";
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Opening intervals, e.g. 08:30-12:30,14:00-18:00 (a gap is a break); empty for a day off",
        ))
        .pattern(Some(format!("^({INTERVAL}(,{INTERVAL})*)?$")))
        .build()
}

impl CenterAnswer {
    fn new(c: &ServiceCenter, now: OffsetDateTime) -> Self {
        let h = &c.hours;
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            kind: c.kind.as_str().to_owned(),
            region: c.region.clone(),
            locality: c.locality.clone(),
            postal_code: c.postal_code.clone(),
            address: c.address.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            utc_offset: format_offset(c.utc_offset),
            hours: WeekAnswer {
                mon: h.mon.to_string(),
                tue: h.tue.to_string(),
                wed: h.wed.to_string(),
                thu: h.thu.to_string(),
                fri: h.fri.to_string(),
                sat: h.sat.to_string(),
                sun: h.sun.to_string(),
            },
            services: c.services.iter().map(|s| s.as_str().to_owned()).collect(),
            latitude: c.latitude,
            longitude: c.longitude,
            open_now: c.is_open_at(now),
        }
    }
}

/// Service centers: search by region, text and service; «open now» in each center's time zone
#[utoipa::path(
    get,
    path = "/service-centers",
    tag = "centers",
    params(CenterSearch),
    responses(
        (status = 200, description = "The centers, by region, locality and name", body = CentersAnswer),
        (status = 422, description = "Unknown service, or open_now other than 1, true, 0 or false (fields service, open_now)", body = ErrorBody),
    )
)]
async fn search_service_centers(
    Api(state, _, t): Api,
    ApiQuery(search): ApiQuery<CenterSearch>,
) -> Result<Response, ApiError> {
    let query = search.query().map_err(|p| match p {
        SearchProblem::Service => ApiError::invalid_field(t, "service", t.centers.err_service),
        SearchProblem::OpenNow => ApiError::invalid_field(t, "open_now", t.centers.err_open_now),
    })?;
    let found = state
        .centers
        .search(&query)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    let now = state.centers.now();
    let centers = found.iter().map(|c| CenterAnswer::new(c, now)).collect();
    Ok(Json(CentersAnswer { centers }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(query: &str) -> Result<CenterQuery, SearchProblem> {
        serde_urlencoded::from_str::<CenterSearch>(query)
            .unwrap()
            .query()
    }

    /// What the document's enumerations allow is taken, anything else is
    /// refused, an empty value and stray spaces too.
    #[test]
    fn service_and_open_now_are_taken_only_in_their_exact_forms() {
        assert_eq!(search("").unwrap(), CenterQuery::default());
        let q = search("service=access_recovery&open_now=true").unwrap();
        assert_eq!(
            (q.service, q.open_now),
            (Some(CenterService::AccessRecovery), true)
        );
        assert!(!search("open_now=0").unwrap().open_now);
        for (query, problem) in [
            ("service=", SearchProblem::Service),
            ("service=%20registration", SearchProblem::Service),
            ("service=Registration", SearchProblem::Service),
            ("open_now=", SearchProblem::OpenNow),
            ("open_now=AAA", SearchProblem::OpenNow),
            ("open_now=on", SearchProblem::OpenNow),
            ("open_now=1%20", SearchProblem::OpenNow),
        ] {
            assert_eq!(search(query).unwrap_err(), problem, "{query}");
        }
        let q = search("region=%20&q=%20Калуга%20").unwrap();
        assert_eq!((q.region, q.text.as_deref()), (None, Some("Калуга")));
    }
}
