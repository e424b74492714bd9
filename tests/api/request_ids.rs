//! Request ids and the request's log lines: every answer names its request,
//! a client's plain id is kept (and only a plain one), and every line the
//! request logs carries the id, the method and the route template, never
//! the path's values nor its query.
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::helpers::*;

const NEW: &str = "синий кит плывёт на север";

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

/// What the log subscriber wrote, kept for the test to read.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Written {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_line_logged_inside_a_request_names_the_request_and_its_route_but_not_its_values() {
    let app = spawn_app().await;
    app.citizen("+79261500061").await;
    let r = app
        .post("/api/v1/recovery", &json!({"login": "+79261500061"}))
        .await;
    let recovery = r.json::<Value>().await.unwrap()["recovery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500061").await;
    app.confirm_recovery(&recovery, &json!({"code": code}))
        .await;

    // The server runs on this test's thread: a subscriber of this thread
    // sees its lines.
    let written = Written::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let written = written.clone();
            move || written.clone()
        })
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // Whether a log line is wanted is cached per line, for every thread: a
    // line another test's thread met first, while no subscriber listened,
    // may be cached as unwanted. Ask every line again, now that this one does.
    tracing::callsite::rebuild_interest_cache();
    let continuation = app.continuation(&recovery).unwrap();
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/recovery/{recovery}/password?secret=query-value"
        )))
        .header("x-request-id", "test-req-61")
        .json(&json!({
            "continuation_token": continuation,
            "password": NEW,
            "password_confirmation": NEW,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(request_id(&r), "test-req-61");
    drop(guard);

    let log = String::from_utf8(written.0.lock().unwrap().clone()).unwrap();
    let request = "request{id=test-req-61 method=POST route=/api/v1/recovery/{id}/password}";
    let inside = log
        .lines()
        .find(|l| l.contains("access recovered"))
        .unwrap_or_else(|| panic!("the use case's line:\n{log}"));
    assert!(inside.contains(request), "{inside}");
    let done = log
        .lines()
        .find(|l| l.contains("request done"))
        .unwrap_or_else(|| panic!("the last line:\n{log}"));
    assert!(
        done.contains(request) && done.contains("status=200"),
        "{done}"
    );
    assert!(done.contains("duration_us="), "{done}");
    assert!(
        !log.contains("query-value") && !log.contains("secret="),
        "no query string: {log}"
    );
    assert!(!log.contains(&recovery), "no value from the path: {log}");
    assert!(!log.contains(&continuation));
}
