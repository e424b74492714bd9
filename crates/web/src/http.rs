//! Request plumbing shared by pages and the API: cookies, language, client
//! address, CSRF tokens, and the body extractors that turn bad input into a
//! clear answer instead of a crash.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use uslugi_app::Lang;
use uslugi_domain::IpNetwork;

use crate::error::{ApiError, PageError};
use crate::i18n::{Tr, tr};

pub const SESSION_COOKIE: &str = "__Host-uslugi-session";
pub const CSRF_COOKIE: &str = "__Host-uslugi-csrf";
pub const REGISTRATION_COOKIE: &str = "__Host-uslugi-registration";
/// The continuation of a registration, set only in the browser that
/// confirmed the code or pressed the e-mail link's button.
pub const REGISTRATION_CONTINUE_COOKIE: &str = "__Host-uslugi-registration-continue";
/// The same for a recovery of access.
pub const RECOVERY_CONTINUE_COOKIE: &str = "__Host-uslugi-recovery-continue";
pub const LANG_COOKIE: &str = "__Host-uslugi-lang";
pub const CSRF_FIELD: &str = "csrf_token";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `__Host-` cookie: only over HTTPS (browsers treat loopback as such),
/// for the whole site, never readable by scripts.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    let max_age = max_age_secs
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax{max_age}"
    ))
    .expect("cookie values are URL-safe base64 or ids")
}

pub fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", Some(0))
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// The person's language: the switcher's cookie, else `Accept-Language`.
#[derive(Clone, Copy)]
pub struct Language(pub Lang);

impl Language {
    pub fn tr(self) -> &'static Tr {
        tr(self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(lang_of(&parts.headers)))
    }
}

/// The address the request came from: the peer of the connection, or,
/// behind reverse proxies, the address they say they were reached from.
#[derive(Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// Whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub enum ForwardedFor {
    /// Nobody's: the peer is the client.
    #[default]
    Ignored,
    /// `trust_forwarded_for = true` (older): every peer's, and its last
    /// hop is the client. Right only when nothing but one proxy can reach
    /// the portal.
    LastHop,
    /// `trusted_proxies`: only a peer in these networks is believed, and
    /// the client is the rightmost hop that is not one of them (a client
    /// can put anything at the left of the header, never at its right).
    Proxies(Arc<[IpNetwork]>),
}

/// The client's address from the peer's and the `X-Forwarded-For` hops
/// (all the header's lines, in order, comma-separated).
pub fn client_address(peer: IpAddr, hops: &[&str], policy: &ForwardedFor) -> IpAddr {
    let hop = |h: &str| h.trim().parse::<IpAddr>().ok();
    match policy {
        ForwardedFor::Ignored => peer,
        ForwardedFor::LastHop => hops.last().and_then(|h| hop(h)).unwrap_or(peer),
        ForwardedFor::Proxies(trusted) => {
            let is_proxy = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
            let mut client = peer;
            if !is_proxy(peer) {
                return peer;
            }
            for h in hops.iter().rev() {
                // What does not read as an address was not written by a
                // proxy of ours: the last one believed stands.
                let Some(ip) = hop(h) else { return client };
                client = ip;
                if !is_proxy(ip) {
                    break;
                }
            }
            client
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        let policy = parts.extensions.get::<ForwardedFor>();
        let Some(policy) = policy.filter(|p| !matches!(p, ForwardedFor::Ignored)) else {
            return Ok(Self(peer));
        };
        let hops: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        Ok(Self(client_address(peer, &hops, policy)))
    }
}

/// This browser's CSRF token, made by [`csrf_cookie`] when it had none.
#[derive(Clone)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or_else(|| Self(String::new())))
    }
}

/// Gives every browser a CSRF token in a cookie; forms echo it back in a
/// hidden field, which a page on another site can neither read nor set.
pub async fn csrf_cookie(mut request: Request, next: Next) -> Response {
    // The JSON API takes no forms (a cross-site page cannot send JSON
    // without CORS), and static files and the health check none either:
    // minting a token there only costs a random number and a header.
    let path = request.uri().path();
    if path.starts_with("/api/") || path.starts_with("/static/") || path == "/health" {
        return next.run(request).await;
    }
    let existing = cookie(request.headers(), CSRF_COOKIE)
        .filter(|t| t.len() >= 32)
        .map(str::to_owned);
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (uslugi_app::crypto::random_token(), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, &token, None));
    }
    response
}

/// A form body, accepted only with this browser's CSRF token.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of(req.headers());
        let expected = req
            .extensions()
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let had_cookie = cookie(req.headers(), CSRF_COOKIE).is_some();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| PageError::from_body_rejection(lang, e.status()))?;
        let fields: HashMap<String, String> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::bad_request(lang))?;
        let given = fields.get(CSRF_FIELD).map(String::as_str).unwrap_or("");
        if !had_cookie
            || expected.is_empty()
            || !uslugi_app::crypto::constant_time_eq(given.as_bytes(), expected.as_bytes())
        {
            return Err(PageError::csrf(lang));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|_| PageError::bad_request(lang))
    }
}

/// A JSON body: 415 without the JSON content type, 400 when it is not JSON,
/// 422 naming the field when a value has the wrong type, 413 when too large.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let t = tr(lang_of(req.headers()));
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::unsupported_media(t));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::from_body_rejection(t, e.status()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(Self(v)),
            Err(e) if e.inner().is_data() => {
                let path = e.path().to_string();
                Err(ApiError::invalid_field(t, &path, t.err_field_type))
            }
            Err(_) => Err(ApiError::malformed(t)),
        }
    }
}

/// The query string of an API call: 400 with the JSON error when it does
/// not parse (axum's own `Query` answers in plain text).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(Self)
            .map_err(|_| ApiError::malformed_query(tr(lang_of(&parts.headers))))
    }
}

/// The session token of the request: the `Authorization: Bearer` header
/// (apps and kiosks) or the session cookie (browsers).
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .or_else(|| cookie(headers, SESSION_COOKIE).map(str::to_owned))
        .filter(|t| !t.is_empty() && t.len() <= 128)
}

/// The header a browser's own script may send with its CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Whether a call that changes something may act on the session it names.
/// A bearer token is never sent by a browser on its own; a cookie is, by any
/// site's form. So a cookie-authenticated call must prove it came from this
/// site: a JSON body (another site cannot send `application/json` without a
/// preflight we never grant) or the CSRF header matching the CSRF cookie.
pub fn api_call_is_same_site(method: &axum::http::Method, headers: &HeaderMap) -> bool {
    use axum::http::Method;
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if bearer {
        return true;
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    let token_matches = match (
        headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()),
        cookie(headers, CSRF_COOKIE),
    ) {
        (Some(given), Some(expected)) => {
            uslugi_app::crypto::constant_time_eq(given.as_bytes(), expected.as_bytes())
        }
        _ => false,
    };
    json || token_matches
}

/// Where a login or a language switch goes on to: only a path of this site,
/// else `/` (a login then lands on «Мои данные»). `next` is resolved as a
/// browser resolves it and must keep our origin; control characters and
/// backslashes are refused outright, raw or percent-encoded, because
/// browsers drop or reinterpret them (`/\t/evil.example` is
/// `//evil.example` to a browser). What is returned is the resolved path,
/// percent-encoded, so it is always a valid `Location`.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(same_origin_path)
        .unwrap_or_else(|| "/".to_owned())
}

fn same_origin_path(next: &str) -> Option<String> {
    if next.len() > 512 || !next.starts_with('/') || next.starts_with("//") {
        return None;
    }
    let decoded = percent_decode(next);
    let refused = |b: &u8| b.is_ascii_control() || *b == b'\\';
    if next.as_bytes().iter().any(refused) || decoded.iter().any(refused) {
        return None;
    }
    // `/%2F/evil.example` is a path here, but whatever decodes it once more
    // (a proxy, a script) would meet a protocol-relative address.
    if decoded.starts_with(b"//") {
        return None;
    }
    // Any origin of our own would do: only whether `next` leaves it matters.
    let ours = reqwest::Url::parse("https://uslugi.invalid/").ok()?;
    let resolved = ours.join(next).ok()?;
    if resolved.origin() != ours.origin() {
        return None;
    }
    let mut path = resolved.path().to_owned();
    if let Some(query) = resolved.query() {
        path.push('?');
        path.push_str(query);
    }
    if let Some(fragment) = resolved.fragment() {
        path.push('#');
        path.push_str(fragment);
    }
    Some(path)
}

/// `%XX` decoded once; a `%` not followed by two hex digits stays as it is.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten();
        match escaped {
            Some((hi, lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_rightmost_hop_that_is_no_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxies = ForwardedFor::Proxies(
            ["10.0.0.0/8", "2001:db8::/32"]
                .map(|n| IpNetwork::parse(n).unwrap())
                .into(),
        );
        let peer = ip("10.0.0.1");
        let at = |hops: &[&str]| client_address(peer, hops, &proxies);
        assert_eq!(at(&["6.6.6.6", "203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            at(&["6.6.6.6", " 203.0.113.9", "10.2.2.2 "]),
            ip("203.0.113.9"),
            "through two proxies"
        );
        assert_eq!(at(&["10.3.3.3", "10.2.2.2"]), ip("10.3.3.3"), "all ours");
        assert_eq!(at(&[]), peer, "no header");
        assert_eq!(
            at(&["203.0.113.9", "junk"]),
            peer,
            "garbage is not believed"
        );
        assert_eq!(at(&["junk", "203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            client_address(ip("198.51.100.7"), &["6.6.6.6"], &proxies),
            ip("198.51.100.7"),
            "a peer that is no proxy of ours"
        );
        assert_eq!(
            client_address(peer, &["6.6.6.6"], &ForwardedFor::Ignored),
            peer
        );
        assert_eq!(
            client_address(peer, &["6.6.6.6", "7.7.7.7"], &ForwardedFor::LastHop),
            ip("7.7.7.7")
        );
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-uslugi-lang=en; b=2"),
        );
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(lang_of(&h), Lang::En);
    }

    #[test]
    fn redirects_stay_on_the_site() {
        assert_eq!(safe_next(Some("/me")), "/me");
        assert_eq!(safe_next(Some("/me/security")), "/me/security");
        assert_eq!(
            safe_next(Some("/register?via=email#top")),
            "/register?via=email#top"
        );
        assert_eq!(safe_next(Some("/me/../services")), "/services");
        assert_eq!(
            safe_next(Some("/поиск?q=мфц")),
            "/%D0%BF%D0%BE%D0%B8%D1%81%D0%BA?q=%D0%BC%D1%84%D1%86"
        );
        for evil in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/\n/evil.example",
            "/%0a/evil.example",
            "/%0D%0ASet-Cookie:x=1",
            "/%5Cevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/\u{7f}",
            "me",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(600)))), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("/a%20b"), b"/a b");
        assert_eq!(percent_decode("/100%"), b"/100%");
        assert_eq!(percent_decode("/%zz%4"), b"/%zz%4");
        assert_eq!(percent_decode("%D0%BF"), "п".as_bytes());
    }

    #[test]
    fn bearer_wins_over_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-uslugi-session=cookie-token"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("cookie-token"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer api-token"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("api-token"));
    }
}
