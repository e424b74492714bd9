//! Request ids: every answer names its request, and a client's plain id is
//! kept (and only a plain one). The lines a request logs are tested in
//! `tests/request_log.rs`, a process of their own.
use reqwest::header::HeaderValue;

use crate::helpers::*;

fn request_id(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-request-id")
        .expect("an X-Request-Id")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn get_with_id(app: &TestApp, path: &str, id: HeaderValue) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("x-request-id", id)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_answer_carries_a_request_id_of_its_own() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for path in ["/health", "/login", "/api/v1/no-such-call", "/no-such-page"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let id = request_id(&r);
        let uuid = uuid::Uuid::parse_str(&id).unwrap_or_else(|_| panic!("{path}: {id}"));
        assert_eq!(uuid.get_version_num(), 4, "{path}");
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "one id per request");
}

#[tokio::test]
async fn a_plain_request_id_from_the_client_is_kept() {
    let app = spawn_app().await;
    for given in ["kiosk-17.req_0042", &"a".repeat(64)] {
        let r = get_with_id(&app, "/health", HeaderValue::from_str(given).unwrap()).await;
        assert_eq!(request_id(&r), given);
    }
}

#[tokio::test]
async fn any_other_request_id_is_replaced() {
    let app = spawn_app().await;
    // A newline cannot cross HTTP/1.1 in a header value at all; the rule's
    // own test covers it.
    for given in [
        HeaderValue::from_str(&"a".repeat(65)).unwrap(),
        HeaderValue::from_static("abc route=/forged status=200"),
        HeaderValue::from_static("abc\tdef"),
        HeaderValue::from_bytes("абв".as_bytes()).unwrap(),
    ] {
        let r = get_with_id(&app, "/health", given.clone()).await;
        let id = request_id(&r);
        assert_ne!(id.as_bytes(), given.as_bytes());
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }
}
