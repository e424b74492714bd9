//! `/api/v1/me/personal-data…`, `/api/v1/me/verification` and
//! `/api/v1/me/addresses`.
//!
//! The form's entries travel as a draft: any field may be missing, null
//! (not typed yet) or wrong, since a draft is kept as typed. The data a
//! submission made of them, and the addresses, are sent as parsed, so their
//! schemas are strict.
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uslugi_app::verification::{AddressError, SubmitError};
use uslugi_domain::{
    AccountId, Address, AddressForm, Citizenship, DocumentForm, DocumentType, PersonalData,
    PersonalDataForm, Problem, Sex, Token, VerificationStatus,
};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::api::{Api, ApiRouter, token, token_schema};
use crate::auth::ApiSession;
use crate::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::{ApiJson, ClientIp};
use crate::i18n::Tr;
use crate::page::no_store;

use super::check::{VerificationAnswer, verification_answer};
use super::{field_errors, messages::problem_message};

pub(super) fn routes() -> ApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_personal_data, save_personal_data_draft))
        .routes(routes!(submit_personal_data))
        .routes(routes!(get_verification))
        .routes(routes!(get_addresses, replace_addresses))
}

/// A string that is one of `forms`.
fn one_of<const N: usize>(forms: [&'static str; N]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(forms))
        .build()
}

/// The form's entries as typed: kept whether valid or not, so each may be
/// anything; null (or absent) is an entry not typed yet. What a
/// submission requires of each is said in its description.
#[derive(Deserialize, Serialize, ToSchema)]
#[schema(as = PersonalDataDraft)]
struct Draft {
    /// At most 100 characters
    surname: Option<String>,
    /// At most 100 characters
    given_name: Option<String>,
    /// At most 100 characters; null if none
    patronymic: Option<String>,
    /// male or female
    #[schema(example = "male")]
    sex: Option<String>,
    /// YYYY-MM-DD or DD.MM.YYYY; in the past, age at least 14
    #[schema(example = "1980-05-17")]
    birth_date: Option<String>,
    /// At most 200 characters
    birth_place: Option<String>,
    /// 11 digits with the check number, in any usual spelling
    #[schema(example = "112-233-445 95")]
    snils: Option<String>,
    /// ISO 3166 alpha-3: RUS
    #[schema(example = "RUS")]
    citizenship: Option<String>,
    #[schema(inline)]
    document: Option<DocumentDraft>,
}

/// The identity document's entries as typed.
#[derive(Deserialize, Serialize, ToSchema)]
struct DocumentDraft {
    /// rf_passport
    #[serde(rename = "type")]
    #[schema(example = "rf_passport")]
    kind: Option<String>,
    /// 10 digits, spaces and hyphens between them ignored
    #[schema(example = "4510 123456")]
    series_number: Option<String>,
    /// YYYY-MM-DD or DD.MM.YYYY; not before the 14th birthday, not in the
    /// future
    #[schema(example = "2000-06-01")]
    issue_date: Option<String>,
    /// At most 250 characters
    issued_by: Option<String>,
    /// 6 digits, spaces and hyphens between them ignored
    #[schema(example = "770-001")]
    department_code: Option<String>,
}

/// An entry as the draft sends it: not typed is null, not "".
fn entry(typed: String) -> Option<String> {
    Some(typed).filter(|s| !s.is_empty())
}

impl From<PersonalDataForm> for Draft {
    fn from(f: PersonalDataForm) -> Self {
        Self {
            surname: entry(f.surname),
            given_name: entry(f.given_name),
            patronymic: entry(f.patronymic),
            sex: entry(f.sex),
            birth_date: entry(f.birth_date),
            birth_place: entry(f.birth_place),
            snils: entry(f.snils),
            citizenship: entry(f.citizenship),
            document: Some(DocumentDraft {
                kind: entry(f.document.kind),
                series_number: entry(f.document.series_number),
                issue_date: entry(f.document.issue_date),
                issued_by: entry(f.document.issued_by),
                department_code: entry(f.document.department_code),
            }),
        }
    }
}

impl From<Draft> for PersonalDataForm {
    fn from(d: Draft) -> Self {
        let doc = d.document.unwrap_or(DocumentDraft {
            kind: None,
            series_number: None,
            issue_date: None,
            issued_by: None,
            department_code: None,
        });
        Self {
            surname: d.surname.unwrap_or_default(),
            given_name: d.given_name.unwrap_or_default(),
            patronymic: d.patronymic.unwrap_or_default(),
            sex: d.sex.unwrap_or_default(),
            birth_date: d.birth_date.unwrap_or_default(),
            birth_place: d.birth_place.unwrap_or_default(),
            snils: d.snils.unwrap_or_default(),
            citizenship: d.citizenship.unwrap_or_default(),
            document: DocumentForm {
                kind: doc.kind.unwrap_or_default(),
                series_number: doc.series_number.unwrap_or_default(),
                issue_date: doc.issue_date.unwrap_or_default(),
                issued_by: doc.issued_by.unwrap_or_default(),
                department_code: doc.department_code.unwrap_or_default(),
            },
        }
    }
}

/// Personal data as a submission parsed them: names and texts trimmed,
/// dates as YYYY-MM-DD, numbers in their usual spelling.
#[derive(Serialize, ToSchema)]
#[schema(as = PersonalData)]
struct Data {
    #[schema(min_length = 1, max_length = 100)]
    surname: String,
    #[schema(min_length = 1, max_length = 100)]
    given_name: String,
    /// Empty if none
    #[schema(max_length = 100)]
    patronymic: String,
    #[schema(schema_with = sex_schema)]
    sex: String,
    #[schema(format = Date, example = "1980-05-17")]
    birth_date: String,
    #[schema(min_length = 1, max_length = 200)]
    birth_place: String,
    #[schema(
        pattern = "^[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}$",
        example = "112-233-445 95"
    )]
    snils: String,
    #[schema(schema_with = citizenship_schema)]
    citizenship: String,
    #[schema(inline)]
    document: Document,
}

#[derive(Serialize, ToSchema)]
struct Document {
    #[serde(rename = "type")]
    #[schema(schema_with = document_type_schema)]
    kind: String,
    #[schema(pattern = "^[0-9]{4} [0-9]{6}$", example = "4510 123456")]
    series_number: String,
    /// Not before the 14th birthday, not in the future
    #[schema(format = Date, example = "2000-06-01")]
    issue_date: String,
    #[schema(min_length = 1, max_length = 250)]
    issued_by: String,
    #[schema(pattern = "^[0-9]{3}-[0-9]{3}$", example = "770-001")]
    department_code: String,
}

fn sex_schema() -> Object {
    one_of([Sex::Male, Sex::Female].map(Sex::as_str))
}

fn citizenship_schema() -> Object {
    // utoipa drops a doc comment beside `schema_with`: the schema says it.
    let mut schema = one_of([Citizenship::Rus.as_str()]);
    schema.description = Some("ISO 3166 alpha-3".into());
    schema
}

fn document_type_schema() -> Object {
    one_of([DocumentType::RfPassport.as_str()])
}

impl From<&PersonalData> for Data {
    /// The strings the form would show for these data, which are those
    /// the parsing keeps.
    fn from(d: &PersonalData) -> Self {
        let f = PersonalDataForm::from_data(d);
        Self {
            surname: f.surname,
            given_name: f.given_name,
            patronymic: f.patronymic,
            sex: f.sex,
            birth_date: f.birth_date,
            birth_place: f.birth_place,
            snils: f.snils,
            citizenship: f.citizenship,
            document: Document {
                kind: f.document.kind,
                series_number: f.document.series_number,
                issue_date: f.document.issue_date,
                issued_by: f.document.issued_by,
                department_code: f.document.department_code,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = PersonalDataView)]
struct PersonalDataAnswer {
    #[serde(serialize_with = "token")]
    #[schema(schema_with = token_schema::<VerificationStatus>)]
    status: VerificationStatus,
    /// What the form shows: the draft, else the last submission, else the
    /// data in force, else the names given at registration
    form: Draft,
    /// The data in force (they passed the checks); null until then
    #[schema(required = true)]
    verified: Option<Data>,
    /// The last submission, under check or failed; null before the first
    #[schema(required = true)]
    submitted: Option<Data>,
}

/// The account's personal data, addresses and checks.
async fn personal_data(
    state: &AppState,
    t: &Tr,
    account: AccountId,
) -> Result<uslugi_app::verification::PersonalDataView, ApiError> {
    state
        .verification
        .personal_data(account)
        .await
        .map_err(|e| ApiError::internal(t, &e))
}

/// Personal data: the form's entries (draft, else the last submission, else the data in force), the verified and the submitted data
#[utoipa::path(
    get,
    path = "/me/personal-data",
    tag = "personal_data",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Personal data", body = PersonalDataAnswer),
        (status = 403, description = "password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
    )
)]
async fn get_personal_data(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let v = personal_data(&state, t, session.account_id).await?;
    let body = PersonalDataAnswer {
        status: v.state.status,
        form: v.form.into(),
        verified: v.verified.as_ref().map(Data::from),
        submitted: v.submitted.as_ref().map(Data::from),
    };
    Ok(no_store(Json(body).into_response()))
}

#[derive(Serialize, ToSchema)]
struct DraftSaved {
    #[serde(serialize_with = "token")]
    #[schema(schema_with = draft_status_schema)]
    status: VerificationStatus,
    /// What submitting would refuse, per field (document fields as
    /// document.series_number…)
    #[schema(value_type = std::collections::HashMap<String, String>)]
    problems: FieldErrors,
}

fn draft_status_schema() -> Object {
    one_of([VerificationStatus::Draft.as_str()])
}

/// Keep the entries as a draft (as typed, valid or not); the problems they still have are listed
///
/// The draft replaces the previous one whole: an entry absent or null is
/// not typed. Entries of the wrong JSON type are refused (422).
#[utoipa::path(
    put,
    path = "/me/personal-data",
    tag = "personal_data",
    security(("bearer" = []), ("cookie" = [])),
    request_body = Draft,
    responses(
        (status = 200, description = "Kept", body = DraftSaved),
        (status = 403, description = "csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header; or password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
        (status = 422, description = "An entry of the wrong JSON type (a number for a string…), named in fields", body = ErrorBody),
    )
)]
async fn save_personal_data_draft(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
    ApiJson(draft): ApiJson<Draft>,
) -> Result<Response, ApiError> {
    let form = PersonalDataForm::from(draft);
    state
        .verification
        .save_draft(session.account_id, &form)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    // The draft is kept as typed; the problems it still has are told, not refused.
    let problems = match form.parse(state.verification.today()) {
        Ok(_) => FieldErrors::new(),
        Err(ps) => field_errors(t, &ps),
    };
    let body = DraftSaved {
        status: VerificationStatus::Draft,
        problems,
    };
    Ok(Json(body).into_response())
}

#[derive(Serialize, ToSchema)]
struct SubmissionAccepted {
    #[schema(format = Uuid)]
    submission_id: String,
    #[serde(serialize_with = "token")]
    #[schema(schema_with = in_progress_schema)]
    status: VerificationStatus,
}

fn in_progress_schema() -> Object {
    one_of([VerificationStatus::InProgress.as_str()])
}

/// Send the draft to the Social Fund (SNILS) and the Interior Ministry (passport)
///
/// No body is read: what is sent is the draft kept by
/// `PUT /api/v1/me/personal-data`.
#[utoipa::path(
    post,
    path = "/me/personal-data/submit",
    tag = "personal_data",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 202, description = "Checks started", body = SubmissionAccepted),
        (status = 403, description = "csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header; or password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
        (status = 409, description = "in_progress: a submission is being checked. A SNILS verified in another account is not refused here: it is told only as the outcome of the checks, once both passed (GET /api/v1/me/verification: status failed, snils_taken true)", body = ErrorBody),
        (status = 422, description = "Invalid entries: a message per field (fields named as in the request, document fields as document.series_number…)", body = ErrorBody),
        (status = 429, description = "rate_limited: at most 5 submissions an hour per account and 30 per client address (an IPv6 address by its /64); Retry-After says when", body = ErrorBody),
    )
)]
async fn submit_personal_data(
    Api(state, lang, t): Api,
    ClientIp(ip): ClientIp,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let v = personal_data(&state, t, session.account_id).await?;
    if v.state.status == VerificationStatus::InProgress {
        return Err(ApiError::conflict("in_progress", t.pd.err_in_progress));
    }
    match state
        .verification
        .submit(session.account_id, &v.form, lang.0, ip)
        .await
    {
        Ok(id) => Ok((
            StatusCode::ACCEPTED,
            Json(SubmissionAccepted {
                submission_id: id.to_string(),
                status: VerificationStatus::InProgress,
            }),
        )
            .into_response()),
        Err(SubmitError::Invalid(problems)) => {
            Err(ApiError::invalid(t, field_errors(t, &problems)))
        }
        Err(SubmitError::InProgress) => {
            Err(ApiError::conflict("in_progress", t.pd.err_in_progress))
        }
        Err(SubmitError::TooMany { retry_at }) => Err(ApiError::rate_limited(
            t,
            (retry_at - state.verification.now()).whole_seconds(),
        )),
        Err(SubmitError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}

/// The state of the checks
#[utoipa::path(
    get,
    path = "/me/verification",
    tag = "personal_data",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "State", body = VerificationAnswer),
        (status = 403, description = "password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
    )
)]
async fn get_verification(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let s = state
        .verification
        .state(session.account_id)
        .await
        .map_err(|e| ApiError::internal(t, &e))?;
    Ok(no_store(Json(verification_answer(t, &s)).into_response()))
}

/// Both addresses, or both null until they are given.
#[derive(Serialize, ToSchema)]
#[schema(as = Addresses)]
struct AddressesAnswer {
    #[schema(required = true)]
    registration: Option<AddressAnswer>,
    #[schema(required = true)]
    actual: Option<AddressAnswer>,
}

/// An address as kept: trimmed, runs of spaces made one.
#[derive(Serialize, ToSchema)]
#[schema(as = Address)]
struct AddressAnswer {
    #[schema(pattern = "^[0-9]{6}$")]
    postal_code: String,
    #[schema(min_length = 1, max_length = 200)]
    region: String,
    #[schema(min_length = 1, max_length = 200)]
    locality: String,
    #[schema(min_length = 1, max_length = 200)]
    street: String,
    #[schema(min_length = 1, max_length = 20)]
    house: String,
    /// Empty if none
    #[schema(max_length = 20)]
    building: String,
    /// Empty if none
    #[schema(max_length = 20)]
    flat: String,
}

impl From<&Address> for AddressAnswer {
    fn from(a: &Address) -> Self {
        let f = AddressForm::from_address(a);
        Self {
            postal_code: f.postal_code,
            region: f.region,
            locality: f.locality,
            street: f.street,
            house: f.house,
            building: f.building,
            flat: f.flat,
        }
    }
}

fn addresses_answer(a: Option<&uslugi_app::verification::Addresses>) -> AddressesAnswer {
    AddressesAnswer {
        registration: a.map(|a| AddressAnswer::from(&a.registration)),
        actual: a.map(|a| AddressAnswer::from(&a.actual)),
    }
}

/// Registration and actual addresses (null until given)
#[utoipa::path(
    get,
    path = "/me/addresses",
    tag = "personal_data",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Addresses", body = AddressesAnswer),
        (status = 403, description = "password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
    )
)]
async fn get_addresses(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    let v = personal_data(&state, t, session.account_id).await?;
    Ok(no_store(
        Json(addresses_answer(v.addresses.as_ref())).into_response(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = AddressesRequest)]
struct AddressesInput {
    #[schema(required = true, nullable = false)]
    registration: Option<AddressInput>,
    #[schema(required = true, nullable = false)]
    actual: Option<AddressInput>,
}

/// An address as typed. Spaces around a value and runs of spaces within
/// it do not count, but the bounds hold for the value as sent.
#[derive(Deserialize, ToSchema)]
#[schema(as = AddressRequest)]
struct AddressInput {
    #[schema(required = true, nullable = false, pattern = "^[0-9]{6}$")]
    postal_code: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    region: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    locality: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    street: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 20)]
    house: Option<String>,
    /// May be empty
    #[serde(default)]
    #[schema(max_length = 20)]
    building: String,
    /// May be empty
    #[serde(default)]
    #[schema(max_length = 20)]
    flat: String,
}

/// The longest part of an address, as the domain bounds it (its
/// `MAX_ADDRESS_PART`; the test below holds the two together).
const MAX_PART: usize = 200;
/// The longest house, building or flat (the domain's `MAX_HOUSE`).
const MAX_HOUSE: usize = 20;

impl From<AddressInput> for AddressForm {
    fn from(a: AddressInput) -> Self {
        Self {
            postal_code: a.postal_code.unwrap_or_default(),
            region: a.region.unwrap_or_default(),
            locality: a.locality.unwrap_or_default(),
            street: a.street.unwrap_or_default(),
            house: a.house.unwrap_or_default(),
            building: a.building,
            flat: a.flat,
        }
    }
}

/// What the schema refuses but the domain would take: the domain trims a
/// postal code and counts a text's length once its spaces are tidied, the
/// schema (and so a client that checks by it) takes the value as sent.
fn as_sent_problems(a: &AddressForm) -> Vec<(&'static str, Problem)> {
    let mut problems = Vec::new();
    let postal = &a.postal_code;
    let six_digits = postal.len() == 6 && postal.bytes().all(|b| b.is_ascii_digit());
    // An empty one is the domain's to name (as missing).
    if !postal.is_empty() && !six_digits {
        problems.push(("postal_code", Problem::PostalCodeFormat));
    }
    for (field, value, max) in [
        ("region", &a.region, MAX_PART),
        ("locality", &a.locality, MAX_PART),
        ("street", &a.street, MAX_PART),
        ("house", &a.house, MAX_HOUSE),
        ("building", &a.building, MAX_HOUSE),
        ("flat", &a.flat, MAX_HOUSE),
    ] {
        if value.chars().count() > max {
            problems.push((field, Problem::TooLong { max }));
        }
    }
    problems
}

/// Every problem of both addresses, the domain's and those of the values
/// as sent, by field (`registration.postal_code`…).
fn address_errors(t: &Tr, forms: [(&str, &AddressForm); 2]) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for (prefix, form) in forms {
        let domain = form.parse().err().unwrap_or_default();
        let domain = domain.iter().map(|p| (p.field, p.problem));
        for (field, problem) in domain.chain(as_sent_problems(form)) {
            errors.insert(format!("{prefix}.{field}"), problem_message(t, &problem));
        }
    }
    errors
}

/// Replace both addresses
#[utoipa::path(
    put,
    path = "/me/addresses",
    tag = "personal_data",
    security(("bearer" = []), ("cookie" = [])),
    request_body = AddressesInput,
    responses(
        (status = 200, description = "Kept", body = AddressesAnswer),
        (status = 403, description = "csrf: a cookie-authenticated call without a JSON body or the X-CSRF-Token header; or password_change_required: the session was opened with a temporary password, which must be replaced first", body = ErrorBody),
        (status = 422, description = "Invalid: fields registration.postal_code, actual.house…; a missing address as registration or actual", body = ErrorBody),
    )
)]
async fn replace_addresses(
    Api(state, _, t): Api,
    ApiSession(session): ApiSession,
    ApiJson(input): ApiJson<AddressesInput>,
) -> Result<Response, ApiError> {
    let (registration, actual) = match (input.registration, input.actual) {
        (Some(r), Some(a)) => (AddressForm::from(r), AddressForm::from(a)),
        (registration, actual) => {
            let mut missing = FieldErrors::new();
            for (field, given) in [
                ("registration", registration.is_some()),
                ("actual", actual.is_some()),
            ] {
                if !given {
                    missing.insert(field.to_owned(), t.err_required.to_owned());
                }
            }
            return Err(ApiError::invalid(t, missing));
        }
    };
    let as_sent_ok =
        as_sent_problems(&registration).is_empty() && as_sent_problems(&actual).is_empty();
    if !as_sent_ok {
        return Err(ApiError::invalid(
            t,
            address_errors(t, [("registration", &registration), ("actual", &actual)]),
        ));
    }
    match state
        .verification
        .save_addresses(session.account_id, &registration, &actual)
        .await
    {
        Ok(a) => Ok(Json(addresses_answer(Some(&a))).into_response()),
        Err(AddressError::Invalid(problems)) => {
            Err(ApiError::invalid(t, field_errors(t, &problems)))
        }
        Err(AddressError::Internal(e)) => Err(ApiError::internal(t, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's bounds are the domain's: a value at the bound passes
    /// it, one character more is refused by the domain too.
    #[test]
    fn the_address_bounds_are_the_domains() {
        let at = |region: usize, house: usize| AddressForm {
            postal_code: "248000".into(),
            region: "р".repeat(region),
            locality: "г. Калуга".into(),
            street: "ул. Ленина".into(),
            house: "д".repeat(house),
            ..AddressForm::default()
        };
        assert!(at(MAX_PART, MAX_HOUSE).parse().is_ok());
        let fields: Vec<_> = at(MAX_PART + 1, MAX_HOUSE + 1)
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.problem))
            .collect();
        assert_eq!(
            fields,
            [
                ("region", Problem::TooLong { max: MAX_PART }),
                ("house", Problem::TooLong { max: MAX_HOUSE })
            ]
        );
    }

    #[test]
    fn values_the_schema_refuses_are_refused_as_sent() {
        let form = AddressForm {
            postal_code: " 248000".into(),
            region: format!("{}  {}", "р".repeat(100), "р".repeat(99)),
            ..AddressForm::default()
        };
        let tidy = AddressForm {
            postal_code: "248000".into(),
            region: format!("{} {}", "р".repeat(100), "р".repeat(99)),
            ..AddressForm::default()
        };
        assert_eq!(
            as_sent_problems(&form),
            [
                ("postal_code", Problem::PostalCodeFormat),
                ("region", Problem::TooLong { max: MAX_PART })
            ]
        );
        assert!(as_sent_problems(&tidy).is_empty());
        let errors = address_errors(
            crate::i18n::tr(uslugi_app::Lang::En),
            [("actual", &form), ("registration", &tidy)],
        );
        assert!(errors.contains_key("actual.postal_code"), "{errors:?}");
        assert!(errors.contains_key("actual.region"), "{errors:?}");
        assert!(
            errors.contains_key("actual.street"),
            "the domain's too: {errors:?}"
        );
        assert!(errors.contains_key("registration.house"), "{errors:?}");
    }

    #[test]
    fn a_draft_sends_what_was_not_typed_as_null_and_keeps_the_rest() {
        let form = PersonalDataForm {
            surname: "Иванов".into(),
            sex: " x ".into(),
            ..PersonalDataForm::default()
        };
        let json = serde_json::to_value(Draft::from(form.clone())).unwrap();
        assert_eq!(json["surname"], "Иванов");
        assert_eq!(json["sex"], " x ", "kept as typed");
        assert_eq!(json["given_name"], serde_json::Value::Null);
        assert_eq!(json["document"]["type"], serde_json::Value::Null);
        let back: Draft = serde_json::from_value(json).unwrap();
        assert_eq!(PersonalDataForm::from(back), form);
        let empty: Draft = serde_json::from_str("{\"document\": null}").unwrap();
        assert_eq!(PersonalDataForm::from(empty), PersonalDataForm::default());
    }
}
