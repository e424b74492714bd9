//! The JSON API: the contract for the mobile app, kiosks and partners.
//!
//! Each feature's module brings its own `/api/v1` routes (its
//! `api_routes`) as an [`ApiRouter`]: a handler is routed by its
//! `#[utoipa::path]` annotation, so the path, the method, the parameters
//! and the request and answer types in the document are the handler's
//! own and cannot drift from it. Here the features are put together, the
//! answers every operation shares are added by rule ([`conventions`]), and
//! the document is served at `/api/v1/openapi.json`. `crates/web/openapi.json`
//! is a copy of it kept in the repository so that a change of the contract
//! shows in review; a test fails when the copy is stale.
use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::{Router, routing};
use uslugi_app::Confirmation;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, HeaderBuilder, Ref, RefOr, ResponseBuilder, schema};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::http::{Language, SESSION_COOKIE};
use crate::i18n::Tr;

/// A feature's API routes together with their part of the document.
pub type ApiRouter = OpenApiRouter<AppState>;

/// Where an authenticated operation's annotation says who may call it:
/// `security(("bearer" = []), ("cookie" = []))`.
pub const BEARER: &str = "bearer";
pub const COOKIE: &str = "cookie";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "uslugi API",
        version = "1.0.0",
        description = "The contract for the mobile app, kiosks and partner systems. Errors are JSON {\"error\":{\"code\",\"message\",\"fields\"}}; messages follow Accept-Language (ru, en). A session is sent as the cookie __Host-uslugi-session or as Authorization: Bearer. A call authenticated by the cookie that changes something needs a JSON body or the X-CSRF-Token header."
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// Every feature's API, under `/api/v1`.
fn features() -> ApiRouter {
    OpenApiRouter::new()
        .merge(crate::registration::api_routes())
        .merge(crate::login::api_routes())
        .merge(crate::profile::api_routes())
        .merge(crate::personal_data::api_routes())
        .merge(crate::centers::api_routes())
        .merge(crate::identity_letter::api_routes())
        .merge(crate::password::api_routes())
        .merge(crate::recovery::api_routes())
        .merge(crate::security::api_routes())
        .merge(crate::second_factor::api_routes())
        .merge(crate::contacts::api_routes())
        .merge(crate::deletion::api_routes())
        .fallback(not_found)
}

/// The API's routes and its document, from the same annotations.
pub fn routes_and_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", features())
        .split_for_parts();
    conventions(&mut doc);
    (routes, doc)
}

/// The document as served and as kept in `crates/web/openapi.json`.
pub fn document_json() -> String {
    let (_, doc) = routes_and_document();
    let mut json = doc.to_pretty_json().expect("the document serializes");
    json.push('\n');
    json
}

/// The API's routes, the document among them.
pub fn routes() -> Router<AppState> {
    let (routes, doc) = routes_and_document();
    let mut json = doc.to_pretty_json().expect("the document serializes");
    json.push('\n');
    let json: Arc<str> = json.into();
    routes.route(
        "/api/v1/openapi.json",
        routing::get(move || {
            let json = Arc::clone(&json);
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    json.to_string(),
                )
                    .into_response()
            }
        }),
    )
}

async fn not_found(lang: Language) -> ApiError {
    ApiError::not_found(lang.tr())
}

/// The answers that follow from an operation's shape rather than from what
/// it does, added to every operation alike so none is forgotten:
/// - a JSON body can be malformed (400), too large (413) or not JSON (415);
/// - a query string can fail to parse (400);
/// - an authenticated operation can lack a session (401), and one that
///   changes something refuses a cookie without a JSON body or the CSRF
///   header (403);
/// - a public operation says so with `security: []`;
/// - a 429 carries `Retry-After`.
fn conventions(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build(),
        )),
    );
    components.security_schemes.insert(
        COOKIE.into(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
            SESSION_COOKIE,
        )))),
    );
    for (name, description) in SHARED {
        components.responses.insert(
            (*name).into(),
            RefOr::T(error_response(description).build()),
        );
    }
    for item in doc.paths.paths.values_mut() {
        for (unsafe_method, operation) in operations(item) {
            apply(operation, unsafe_method);
        }
    }
}

const SHARED: &[(&str, &str)] = &[
    ("Malformed", "The body or the query string does not parse"),
    ("Unauthenticated", "No session, or it has ended"),
    (
        "CrossSite",
        "A cookie-authenticated call without a JSON body or the X-CSRF-Token header",
    ),
    ("TooLarge", "The body is larger than 64 KiB"),
    ("NotJson", "The body is not application/json"),
];

fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (false, item.get.as_mut()),
        (true, item.put.as_mut()),
        (true, item.post.as_mut()),
        (true, item.delete.as_mut()),
        (true, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(unsafe_method, op)| op.map(|op| (unsafe_method, op)))
}

fn apply(operation: &mut Operation, unsafe_method: bool) {
    let responses = &mut operation.responses.responses;
    let mut shared = |status: &str, name: &str| {
        responses
            .entry(status.into())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    };
    if operation.request_body.is_some() {
        shared("400", "Malformed");
        shared("413", "TooLarge");
        shared("415", "NotJson");
    }
    let has_query = operation.parameters.iter().flatten().any(
        |p| matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query),
    );
    if has_query {
        shared("400", "Malformed");
    }
    match &operation.security {
        Some(security) if !security.is_empty() => {
            shared("401", "Unauthenticated");
            if unsafe_method {
                shared("403", "CrossSite");
            }
        }
        _ => operation.security = Some(Vec::new()),
    }
    if let Some(RefOr::T(too_many)) = responses.get_mut("429") {
        too_many
            .headers
            .entry("Retry-After".into())
            .or_insert_with(|| {
                RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(
                            schema::ObjectBuilder::new()
                                .schema_type(schema::Type::Integer)
                                .build(),
                        ))
                        .description(Some("Seconds to wait"))
                        .build(),
                )
            });
    }
}

/// The schema of a domain value sent as one of its string forms (a
/// channel, a status…): an enumeration of exactly the forms the domain
/// knows, for `#[schema(schema_with = api::token_schema::<Channel>)]`.
pub fn token_schema<T: uslugi_domain::Token>() -> schema::Object {
    schema::ObjectBuilder::new()
        .schema_type(schema::Type::String)
        .enum_values(Some(T::forms()))
        .build()
}

/// Serializes a domain value as its string form, for
/// `#[serde(serialize_with = "api::token")]` beside [`token_schema`].
pub fn token<T: uslugi_domain::Token, S: serde::Serializer>(
    value: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.as_str())
}

/// What an API handler starts from: the application and the caller's
/// language with its texts, in that order, taken in one extractor so that every handler
/// names them the same way.
pub(crate) struct Api(pub AppState, pub Language, pub &'static Tr);

impl axum::extract::FromRequestParts<AppState> for Api {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = Language::from_request_parts(parts, state).await?;
        Ok(Self(state.clone(), lang, lang.tr()))
    }
}

fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("Error"))),
    )
}

/// The request of the step that sets the password once the contact is
/// confirmed (a registration's, a recovery's): the same fields, under the
/// schema name given, each operation's own in the document.
macro_rules! continuation_password_request {
    ($schema:ident) => {
        #[derive(serde::Deserialize, utoipa::ToSchema)]
        #[schema(as = $schema)]
        struct PasswordInput {
            /// From the answer of …/confirm: whoever confirmed continues.
            #[schema(required = true, nullable = false, min_length = 1)]
            continuation_token: Option<String>,
            #[schema(required = true, nullable = false, min_length = 8, max_length = 128)]
            password: Option<String>,
            #[schema(required = true, nullable = false, min_length = 8, max_length = 128)]
            password_confirmation: Option<String>,
        }

        impl PasswordInput {
            /// The continuation token as sent; the two passwords, empty
            /// when missing (the app names what is wrong with them).
            fn parts(&self) -> (Option<&str>, &str, &str) {
                (
                    self.continuation_token.as_deref(),
                    self.password.as_deref().unwrap_or_default(),
                    self.password_confirmation.as_deref().unwrap_or_default(),
                )
            }
        }
    };
}
pub(crate) use continuation_password_request;

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The copy in the repository is the served document. To renew it:
    /// `UPDATE_OPENAPI=1 cargo test -p uslugi-web openapi`.
    #[test]
    fn the_kept_openapi_json_is_the_generated_one() {
        let generated = document_json();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &generated).expect("write openapi.json");
        }
        let kept = std::fs::read_to_string(path).expect("read openapi.json");
        assert!(
            kept == generated,
            "crates/web/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p uslugi-web openapi"
        );
    }

    /// A `$ref` written by hand (`body = ref(...)`) or a schema renamed
    /// with `as` could point nowhere; a client generator would stop there.
    #[test]
    fn every_reference_in_the_document_resolves() {
        fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        match (k.as_str(), v) {
                            ("$ref", serde_json::Value::String(r)) => out.push(r),
                            _ => refs(v, out),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc: serde_json::Value = serde_json::from_str(&document_json()).expect("JSON");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r.strip_prefix('#').expect("a local reference");
            assert!(doc.pointer(pointer).is_some(), "{r} points nowhere");
        }
    }

    #[test]
    fn every_operation_has_its_own_id_and_says_who_may_call_it() {
        let (_, mut doc) = routes_and_document();
        let mut ids = BTreeSet::new();
        let mut count = 0;
        for (path, item) in doc.paths.paths.iter_mut() {
            for (_, op) in operations(item) {
                count += 1;
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(!id.is_empty(), "{path}: no operationId");
                assert!(
                    ids.insert(id.clone()),
                    "{path}: operationId {id} used twice"
                );
                assert!(op.security.is_some(), "{path}: no security");
                assert!(op.summary.is_some(), "{path}: no summary");
                for (status, answer) in &op.responses.responses {
                    if let RefOr::T(answer) = answer {
                        assert!(
                            !answer.description.is_empty(),
                            "{path} {status}: no description"
                        );
                    }
                }
            }
        }
        assert!(count >= 36, "{count} operations");
    }
}
