//! The real `uslugi serve`, killed with SIGKILL while the registry checks
//! are pending and started again on the same data: every check completes
//! exactly once and the person gets exactly one notification.
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_uslugi");
const PHONE: &str = "+79263004001";
const PASSWORD: &str = "зелёный слон танцует";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(dir: &Path, client: &reqwest::Client) -> (Server, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let server = Server(
        Command::new(BIN)
            .args(["serve", "--listen", &listen, "--data-dir"])
            .arg(dir)
            // The registries answer after 3 s and never fail: the kill
            // falls between a request and its answer.
            .args(["--sim-delay-ms", "3000", "--sim-failure-rate", "0"])
            .env("USLUGI_PASSWORD_HASH__MEMORY_KIB", "64")
            .env("USLUGI_PASSWORD_HASH__ITERATIONS", "1")
            .env_remove("USLUGI_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{listen}");
    wait_until(30, || async {
        client.get(format!("{base}/health")).send().await.is_ok()
    })
    .await;
    (server, base)
}

/// Polls `ready` until it holds; the guard only stops a test that hangs.
async fn wait_until<F, Fut>(seconds: u64, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !ready().await {
        assert!(
            started.elapsed() < Duration::from_secs(seconds),
            "gave up waiting"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn outbox(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("outbox.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: &Value) -> Value {
    let mut r = client.post(url).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_finishes_every_check_once_with_one_notification() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut server, base) = start(dir.path(), &client).await;

    let started = post(
        &client,
        format!("{base}/api/v1/registrations"),
        None,
        &json!({"surname": "Иванов", "given_name": "Иван", "phone": PHONE, "accept_terms": true}),
    )
    .await;
    let id = started["registration_id"].as_str().unwrap().to_owned();
    let sms = outbox(dir.path());
    let code: String = sms[0]["body"]
        .as_str()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned();
    let confirmed = post(
        &client,
        format!("{base}/api/v1/registrations/{id}/confirm"),
        None,
        &json!({"code": code}),
    )
    .await;
    post(
        &client,
        format!("{base}/api/v1/registrations/{id}/password"),
        None,
        &json!({
            "continuation_token": confirmed["continuation_token"],
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
        }),
    )
    .await;
    let session = post(
        &client,
        format!("{base}/api/v1/sessions"),
        None,
        &json!({"login": PHONE, "password": PASSWORD}),
    )
    .await;
    let token = session["session_token"].as_str().unwrap().to_owned();
    let data = json!({
        "surname": "Иванов", "given_name": "Иван", "patronymic": "Иванович",
        "sex": "male", "birth_date": "1980-05-17", "birth_place": "гор. Москва",
        "snils": "112-233-445 95", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4510 123456",
            "issue_date": "2000-06-01", "issued_by": "ОВД", "department_code": "770-001"}
    });
    let r = client
        .put(format!("{base}/api/v1/me/personal-data"))
        .bearer_auth(&token)
        .json(&data)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let submitted = post(
        &client,
        format!("{base}/api/v1/me/personal-data/submit"),
        Some(&token),
        &json!({}),
    )
    .await;
    let submission: uuid::Uuid = submitted["submission_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Both requests reached the registries, whose answers are seconds away.
    let store = uslugi_storage::connect(&format!(
        "sqlite://{}",
        dir.path().join("uslugi.db").display()
    ))
    .await
    .unwrap();
    wait_until(20, || async {
        let checks = store.checks_of_submission(submission).await.unwrap();
        checks.len() == 2 && checks.iter().all(|c| c.gateway_request_id.is_some())
    })
    .await;
    let before = store.checks_of_submission(submission).await.unwrap();
    assert!(
        before.iter().all(|c| c.status.is_open()),
        "the kill comes while the checks are pending"
    );
    server.0.kill().unwrap(); // SIGKILL: no shutdown, no cleanup
    server.0.wait().unwrap();
    drop(server);

    // The new process has a new simulator that never heard of the requests:
    // the checks ask again under the same keys and carry on.
    let (_server, base) = start(dir.path(), &client).await;
    let token = post(
        &client,
        format!("{base}/api/v1/sessions"),
        None,
        &json!({"login": PHONE, "password": PASSWORD}),
    )
    .await["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let verification = || async {
        client
            .get(format!("{base}/api/v1/me/verification"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    // A check the killed process held waits out its 30 s lease first.
    wait_until(90, || async {
        verification().await["status"] == "verified"
    })
    .await;
    let notified = || {
        outbox(dir.path())
            .into_iter()
            .filter(|m| m["body"].as_str().unwrap().contains("/me/verification"))
            .count()
    };
    wait_until(20, || async { notified() >= 1 }).await;

    let after = store.checks_of_submission(submission).await.unwrap();
    assert_eq!(after.len(), 2, "no check was added or lost");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((a.id, a.registry), (b.id, b.registry));
        assert_eq!(a.status, uslugi_domain::CheckStatus::Passed);
    }
    let v = verification().await;
    assert_eq!(v["checks"][0]["status"], "passed");
    assert_eq!(v["checks"][1]["status"], "passed");
    assert_eq!(notified(), 1, "exactly one notification");
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "standard");
}
