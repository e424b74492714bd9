//! The two error types of the web layer: JSON for the API, pages for people.
//! Each variant has its status written out; the cause of an internal error
//! goes to the log, the person gets a clear message in their language.
//!
//! Each app error enum has one mapping, exhaustive and without a catch-all,
//! to an [`ApiError`] (status, stable code, message, fields, wait): the API
//! answers it as it is, and a page shows it through
//! [`PageError::from_answer`] (or puts its fields back on the form). A new
//! variant is then a compile error in exactly one place.
use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use uslugi_app::Lang;

use crate::i18n::{Tr, fill, tr};

/// Field name → message, in the request's language.
pub type FieldErrors = BTreeMap<String, String>;

/// Logs an internal error with its whole cause chain (no personal data is
/// ever put into errors, so the chain is safe to log).
pub fn log_internal(e: &(dyn std::error::Error + 'static)) {
    let mut chain = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %chain, "request failed");
}

/// An error's answer: for the API as JSON, and for a page through
/// [`PageError::from_answer`].
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: FieldErrors,
    pub retry_after: Option<i64>,
}

/// Every API error's body: `{"error": {"code", "message", "fields"}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid`, `not_found`, `too_many_requests`…
    pub code: &'static str,
    /// For the person, in the language of `Accept-Language`.
    pub message: String,
    /// Field name → message, for the fields that are wrong.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub fields: FieldErrors,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: FieldErrors::new(),
            retry_after: None,
        }
    }

    pub fn malformed(t: &Tr) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", t.err_malformed_json)
    }
    /// A query string that does not parse: a parameter given twice, say.
    pub fn malformed_query(t: &Tr) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", t.err_malformed_query)
    }
    pub fn unsupported_media(t: &Tr) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            t.err_unsupported_media,
        )
    }
    pub fn too_large(t: &Tr) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", t.too_large)
    }
    /// A cookie-authenticated call that did not show it came from this site.
    pub fn csrf(t: &Tr) -> Self {
        Self::new(StatusCode::FORBIDDEN, "csrf", t.forbidden_csrf)
    }
    pub fn unauthorized(t: &Tr) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", t.err_unauthorized)
    }
    pub fn bad_credentials(t: &Tr) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            t.bad_credentials,
        )
    }
    pub fn not_found(t: &Tr) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", t.not_found)
    }
    /// Logged in with a temporary password: only `POST /me/password` (and
    /// `GET /me`, logout) until it is replaced.
    pub fn password_change_required(t: &Tr) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            t.account.must_change_intro,
        )
    }
    pub fn account_disabled(t: &Tr) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "account_disabled",
            t.account.disabled,
        )
    }
    pub fn temporary_password_expired(t: &Tr) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "temporary_password_expired",
            t.account.temporary_expired,
        )
    }
    /// A flow's next step without the continuation that its confirmation
    /// handed to whoever proved control of the contact.
    pub fn continuation_required(t: &Tr) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "continuation_required",
            t.err_continuation,
        )
    }
    pub fn registration_not_found(t: &Tr) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "registration_not_found",
            t.registration_gone,
        )
    }
    /// The same error with its own stable code.
    #[must_use]
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
    /// The same error with another message for the person.
    #[must_use]
    pub fn with_message(mut self, message: &str) -> Self {
        message.clone_into(&mut self.message);
        self
    }
    /// The same error with another status (e.g. 404 with its own code).
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
    pub fn conflict(code: &'static str, message: &str) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn invalid(t: &Tr, fields: FieldErrors) -> Self {
        Self {
            fields,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                t.err_invalid_fields,
            )
        }
    }
    pub fn invalid_with_code(code: &'static str, field: &str, message: &str) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
        e.fields.insert(field.to_owned(), message.to_owned());
        e
    }
    pub fn invalid_field(t: &Tr, field: &str, message: &str) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), message.to_owned());
        Self::invalid(t, fields)
    }
    pub fn rate_limited(t: &Tr, retry_after_secs: i64) -> Self {
        let secs = retry_after_secs.max(1);
        Self {
            retry_after: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                fill(t.too_many, secs),
            )
        }
    }
    pub fn unavailable(t: &Tr) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            t.unavailable,
        )
    }
    pub fn internal(t: &Tr, e: &(dyn std::error::Error + 'static)) -> Self {
        log_internal(e);
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", t.internal)
    }
    pub fn from_body_rejection(t: &Tr, status: StatusCode) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::too_large(t)
        } else {
            Self::malformed(t)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                fields: self.fields,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub tr: &'static Tr,
    pub chrome: crate::page::Chrome,
    pub title: String,
    pub message: String,
    pub link: Option<(String, String)>,
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub lang: Lang,
    pub message: String,
    pub retry_after: Option<i64>,
}

impl PageError {
    pub fn new(status: StatusCode, lang: Lang, message: impl Into<String>) -> Self {
        Self {
            status,
            lang,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn csrf(lang: Lang) -> Self {
        Self::new(StatusCode::FORBIDDEN, lang, tr(lang).forbidden_csrf)
    }
    pub fn bad_request(lang: Lang) -> Self {
        Self::new(StatusCode::BAD_REQUEST, lang, tr(lang).bad_request)
    }
    pub fn not_found(lang: Lang) -> Self {
        Self::new(StatusCode::NOT_FOUND, lang, tr(lang).not_found)
    }
    pub fn internal(lang: Lang, e: &(dyn std::error::Error + 'static)) -> Self {
        log_internal(e);
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, lang, tr(lang).internal)
    }
    /// The page of an app error's answer (see the module's note): its
    /// status and wait, and its message; an answer about fields, shown
    /// where no form can hold them, says what the fields' messages say.
    pub fn from_answer(lang: Lang, answer: ApiError) -> Self {
        let message = if answer.fields.is_empty() {
            answer.message
        } else {
            answer.fields.into_values().collect::<Vec<_>>().join(" ")
        };
        Self {
            status: answer.status,
            lang,
            message,
            retry_after: answer.retry_after,
        }
    }
    /// What a form shows again of an app error's answer: its fields, beside
    /// the fields they name; an answer about no field is a page of its own
    /// ([`Self::from_answer`]).
    pub fn form_fields(lang: Lang, answer: ApiError) -> Result<FieldErrors, Self> {
        if answer.fields.is_empty() {
            Err(Self::from_answer(lang, answer))
        } else {
            Ok(answer.fields)
        }
    }
    pub fn from_body_rejection(lang: Lang, status: StatusCode) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(status, lang, tr(lang).too_large)
        } else {
            Self::bad_request(lang)
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let t = tr(self.lang);
        let page = MessagePage {
            tr: t,
            chrome: crate::page::Chrome::plain(),
            title: t.error_title.to_owned(),
            message: self.message,
            link: Some(("/".to_owned(), t.back_home.to_owned())),
        };
        let mut response = match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, t.internal).into_response(),
        };
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
