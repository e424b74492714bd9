//! A lean HTTP/1.1 client on one keep-alive connection (hyper's connection
//! API, no pool): the load generator shares the machine with the server, so
//! every microsecond it spends is one the server does not get.
use std::net::SocketAddr;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

pub struct Http {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Http {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the server
            // closes it; either way the next request reports it.
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: HeaderValue::from_str(&addr.to_string())?,
        })
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// `GET path`, with `Authorization` when given.
    pub async fn get(
        &mut self,
        path: &str,
        authorization: Option<&HeaderValue>,
    ) -> anyhow::Result<(u16, Bytes)> {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(HOST, self.host.clone());
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        self.send(request.body(Full::new(Bytes::new()))?).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&mut self, path: &str, body: String) -> anyhow::Result<(u16, Bytes)> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?;
        self.send(request).await
    }
}

/// `Authorization: Bearer TOKEN`.
pub fn bearer(token: &str) -> anyhow::Result<HeaderValue> {
    Ok(HeaderValue::from_str(&format!("Bearer {token}"))?)
}

/// A string field of a JSON answer.
pub fn json_field(body: &[u8], field: &str) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .with_context(|| format!("answer is not JSON: {}", String::from_utf8_lossy(body)))?;
    match value.get(field).and_then(serde_json::Value::as_str) {
        Some(s) => Ok(s.to_owned()),
        None => bail!(
            "answer has no \"{field}\": {}",
            String::from_utf8_lossy(body)
        ),
    }
}
