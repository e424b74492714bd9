//! Each request's id and span. The id — the client's `X-Request-Id` when it
//! is a plain token, else a new UUID — goes back in the answer's
//! `X-Request-Id` and, with the method and the route template, into the
//! span every log line of the request is written in; one line at the end
//! gives the status and the duration. Never the path itself nor its query:
//! they can carry tokens and personal data.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
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

/// Gives each request its id (the client's, if sane) for the span, and
/// the answer the same id, so a person's report can be found in the log.
/// A layer of its own rather than `middleware::from_fn`, which boxes the
/// inner service and the future of every request: on `/health` that cost
/// a tenth of the throughput (docs/benchmarks.md).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> tower::Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S, B, R> tower::Service<axum::http::Request<B>> for RequestIdService<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        let id = match request.headers().get(&REQUEST_ID) {
            Some(given) if is_sane_request_id(given.as_bytes()) => given.clone(),
            _ => new_request_id(),
        };
        request.headers_mut().insert(REQUEST_ID, id.clone());
        RequestIdFuture {
            inner: self.inner.call(request),
            id: Some(id),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer, with the request's id put on it.
    pub struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        id: Option<HeaderValue>,
    }
}

impl<F, R, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<axum::http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(id) = this.id.take() {
            response.headers_mut().insert(REQUEST_ID, id);
        }
        Poll::Ready(Ok(response))
    }
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
        request_id = %id,
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
