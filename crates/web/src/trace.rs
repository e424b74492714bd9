//! Each request's id and span. The id — the client's `X-Request-Id` when it
//! is a plain token, else a new UUID — goes back in the answer's
//! `X-Request-Id` and, with the method and the route template, into the
//! span every log line of the request is written in; one line at the end
//! gives the status and the duration. Never the path itself nor its query:
//! they can carry tokens and personal data.
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-given id kept.
const MAX_ID_LEN: usize = 64;

/// A client's id is written into every log line of its request: only a
/// short plain token, so it cannot forge fields or lines there.
pub fn is_sane_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Gives the request its id (the client's, if sane) for the span, and the
/// answer the same id, so a person's report can be found in the log.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(&REQUEST_ID) {
        Some(given) if is_sane_request_id(given.as_bytes()) => given.clone(),
        _ => new_request_id(),
    };
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// A UUID v4 from the thread's generator: no system call per request.
fn new_request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
        .unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// The request's span: its id, method and route template (`-` for a path
/// no route has). Fields are borrowed, so a span no one listens to costs
/// nothing.
pub fn request_span(request: &Request) -> Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str);
    tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        route = %route
    )
}

/// The request's last line, inside its span.
pub fn request_done(response: &Response, latency: Duration, _: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        duration_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        "request done"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_tokens_are_kept_as_request_ids() {
        assert!(is_sane_request_id(b"0f6c2a1e-93b4-4d1e-8b8e-2f4c1d9a7b10"));
        assert!(is_sane_request_id(b"app.v2_7-Z"));
        assert!(is_sane_request_id(&[b'a'; MAX_ID_LEN]));
        assert!(!is_sane_request_id(&[b'a'; MAX_ID_LEN + 1]));
        assert!(!is_sane_request_id(b""));
        for forged in [
            &b"abc\nINFO request done"[..],
            b"abc\r\n",
            b"abc route=/forged",
            b"abc\"}",
            "абв".as_bytes(),
            b"a\x7f",
        ] {
            assert!(!is_sane_request_id(forged), "{forged:?}");
        }
    }

    #[test]
    fn a_new_request_id_is_a_uuid_v4() {
        let id = new_request_id();
        let parsed = uuid::Uuid::parse_str(id.to_str().unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert!(is_sane_request_id(id.as_bytes()));
        assert_ne!(new_request_id(), id);
    }
}
