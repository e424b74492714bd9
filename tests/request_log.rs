//! The lines a request logs carry its id, its method and its route
//! template, never the path's values nor its query.
//!
//! Alone in a process of its own: whether a log line is wanted is cached
//! for the whole process, and a subscriber set for one test's thread does
//! not see lines that other tests, running at the same time on other
//! threads, had tracing cache as unwanted (it failed one run in three in
//! the API suite).
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

#[expect(dead_code, reason = "the API tests' harness; this test uses a part")]
#[path = "api/helpers.rs"]
mod helpers;

use helpers::*;

const NEW: &str = "синий кит плывёт на север";

fn request_id(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-request-id")
        .expect("an X-Request-Id")
        .to_str()
        .unwrap()
        .to_owned()
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
    let request =
        "request{request_id=test-req-61 method=POST route=/api/v1/recovery/{id}/password}";
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
