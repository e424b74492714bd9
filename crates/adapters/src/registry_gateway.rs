//! The registry gateway over HTTP: the product's side of the protocol in
//! `docs/registries.md`, for the registry simulator and for a real gateway
//! alike.
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use uslugi_app::registries::{
    GatewayError, RegistryAnswer, RegistryGateway, RegistryRequest, RegistryRequestId,
};

use crate::registry_protocol::{
    IDEMPOTENCY_KEY_HEADER, Polled, Submitted, WireRequest, is_valid_idempotency_key,
};

/// Long enough for a gateway under load, short enough that a stuck call
/// does not hold a verification for long; shorter than the simulator's
/// default hold, so its simulated timeouts are seen as timeouts.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum GatewayConfigError {
    #[error("the registry gateway URL `{url}` is not an http(s) base URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot set up the HTTP client for the registry gateway: {0}")]
    Client(#[from] reqwest::Error),
}

/// [`RegistryGateway`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpRegistryGateway {
    base: Url,
    client: reqwest::Client,
}

impl HttpRegistryGateway {
    /// `base_url` is where the protocol's paths start, e.g.
    /// `http://127.0.0.1:9090` or `https://gateway.example/registries/`;
    /// `timeout` bounds each HTTP call as a whole.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, GatewayConfigError> {
        let invalid = |reason: &str| GatewayConfigError::InvalidUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.cannot_be_a_base() || base.query().is_some() || base.fragment().is_some() {
            return Err(invalid(
                "it must be a plain base URL, without query or fragment",
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self { base, client })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// `base` + `segments`, each segment percent-encoded, so that an id the
    /// gateway chose cannot change the path.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

#[async_trait]
impl RegistryGateway for HttpRegistryGateway {
    async fn submit(
        &self,
        idempotency_key: &str,
        request: &RegistryRequest,
    ) -> Result<RegistryRequestId, GatewayError> {
        if !is_valid_idempotency_key(idempotency_key) {
            return Err(GatewayError::Rejected(
                "the idempotency key must be 1 to 255 visible ASCII characters".into(),
            ));
        }
        let response = self
            .client
            .post(self.url(&["v1", "requests"]))
            .header(IDEMPOTENCY_KEY_HEADER, idempotency_key)
            .json(&WireRequest::from(request))
            .send()
            .await
            .map_err(transport_error)?;
        if !response.status().is_success() {
            return Err(failure(response, Call::Submit).await);
        }
        let Submitted { request_id } = response.json().await.map_err(body_error)?;
        if request_id.is_empty() {
            return Err(GatewayError::Unavailable(
                "the gateway answered with an empty request id".into(),
            ));
        }
        Ok(RegistryRequestId(request_id))
    }

    async fn poll(&self, id: &RegistryRequestId) -> Result<Option<RegistryAnswer>, GatewayError> {
        let response = self
            .client
            .get(self.url(&["v1", "requests", &id.0]))
            .send()
            .await
            .map_err(transport_error)?;
        if !response.status().is_success() {
            return Err(failure(response, Call::Poll).await);
        }
        match response.json().await.map_err(body_error)? {
            Polled::Pending => Ok(None),
            Polled::Done { answer } => Ok(Some(answer)),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    Submit,
    Poll,
}

fn transport_error(e: reqwest::Error) -> GatewayError {
    if e.is_timeout() {
        GatewayError::Timeout
    } else {
        GatewayError::Unavailable(e.without_url().to_string())
    }
}

/// A body that is not what the protocol promises: the gateway is broken or
/// is not this protocol's, neither of which the request can be blamed for.
/// The decoder's words are left out: they quote the values they choke on.
fn body_error(e: reqwest::Error) -> GatewayError {
    if e.is_timeout() {
        GatewayError::Timeout
    } else {
        GatewayError::Unavailable("the gateway's answer does not follow the protocol".into())
    }
}

/// 408 and 504 say that no answer came in time, like a timeout of our own;
/// 429 and 5xx that the gateway cannot serve now; other 4xx that it refuses
/// the request itself; 404 on a poll that it does not know the id.
///
/// The error (which is logged) names the status and the body's length, never
/// the body: a gateway explaining a refusal may quote what it was sent, the
/// SNILS, the passport, the name.
async fn failure(response: reqwest::Response, call: Call) -> GatewayError {
    let status = response.status();
    if call == Call::Poll && status == StatusCode::NOT_FOUND {
        return GatewayError::UnknownRequest;
    }
    if status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::GATEWAY_TIMEOUT {
        return GatewayError::Timeout;
    }
    let described = match response.bytes().await {
        Ok(body) => format!("{status}, a body of {} bytes", body.len()),
        Err(_) => format!("{status}, the body unreadable"),
    };
    if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
        GatewayError::Rejected(described)
    } else {
        GatewayError::Unavailable(described)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_base_path_and_encode_ids() {
        let gateway = HttpRegistryGateway::new(
            "https://gateway.example/registries/",
            DEFAULT_CLIENT_TIMEOUT,
        )
        .unwrap();
        assert_eq!(
            gateway.url(&["v1", "requests"]).as_str(),
            "https://gateway.example/registries/v1/requests"
        );
        assert_eq!(
            gateway.url(&["v1", "requests", "a/../b?c"]).as_str(),
            "https://gateway.example/registries/v1/requests/a%2F..%2Fb%3Fc"
        );
        let bare =
            HttpRegistryGateway::new("http://127.0.0.1:9090", DEFAULT_CLIENT_TIMEOUT).unwrap();
        assert_eq!(
            bare.url(&["v1", "requests", "42"]).as_str(),
            "http://127.0.0.1:9090/v1/requests/42"
        );
    }

    #[test]
    fn refuses_urls_that_are_not_bases() {
        for url in [
            "",
            "127.0.0.1:9090",
            "ftp://gateway.example/",
            "mailto:registry@example.ru",
            "http://gateway.example/?key=1",
            "http://gateway.example/#top",
        ] {
            assert!(
                matches!(
                    HttpRegistryGateway::new(url, DEFAULT_CLIENT_TIMEOUT),
                    Err(GatewayConfigError::InvalidUrl { .. })
                ),
                "{url}"
            );
        }
    }
}
