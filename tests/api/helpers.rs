//! `spawn_app()`: the real application on port 0 with a fresh database (a
//! SQLite file, or a new PostgreSQL database when USLUGI_TEST_DATABASE_URL
//! is set), a fake clock, cheap password hashing, and the local outbox.
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use time::Duration;
use uslugi::config::Settings;
use uslugi_app::FakeClock;
use uslugi_storage::Backend;
use uslugi_storage::testing::TestDatabase;
use uslugi_web::messaging::{OutboxEntry, read_outbox};

pub const PASSWORD: &str = "зелёный слон танцует";

pub struct TestApp {
    pub base: String,
    pub clock: FakeClock,
    pub client: reqwest::Client,
    pub outbox: PathBuf,
    pub data_dir: PathBuf,
    pub store: Arc<dyn Backend>,
    pub identity: Arc<uslugi_app::Identity>,
    /// The checks and the outbox; the test runs them (see [`TestApp::settle`]).
    pub verification: Arc<uslugi_app::verification::Verification>,
    /// The in-process registry simulator, on the test's fake clock.
    pub sim: uslugi_sim::SimState,
    pub on_postgres: bool,
    /// What the application was built from, to start a second node on the
    /// same data.
    pub settings: Settings,
    _dir: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings {
        listen: addr.to_string(),
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    settings.base_url = Some(format!("http://{addr}"));
    settings.password_hash.memory_kib = 64;
    settings.password_hash.iterations = 1;
    settings.password_hash.workers = 2;
    // The registries answer 2 s (of the fake clock) after a request and never
    // fail unless a test says so; a simulated timeout is over quickly.
    settings.registries.sim.delay_ms = "2000".into();
    settings.registries.sim.failure_rate = 0.0;
    settings.registries.sim.timeout_hold_ms = 400;
    settings.registries.timeout_ms = 200;
    let db = TestDatabase::postgres().await;
    if let Some(db) = &db {
        settings.database_url = Some(db.url.clone());
    }
    configure(&mut settings);
    let clock = FakeClock::default();
    let built_from = settings.clone();
    let mut app = uslugi::server::build(&settings, Arc::new(clock.clone()), false)
        .await
        .expect("build the application");
    app.run_workers = false;
    let store = app.store.clone();
    let identity = app.state.identity.clone();
    let verification = app.state.verification.clone();
    let sim = app
        .sim
        .as_ref()
        .expect("the in-process simulator")
        .state
        .clone();
    tokio::spawn(uslugi::server::serve(app, listener, std::future::pending()));
    TestApp {
        base: format!("http://{addr}"),
        clock,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        outbox: dir.path().join("outbox.jsonl"),
        data_dir: dir.path().to_path_buf(),
        store,
        identity,
        verification,
        sim,
        on_postgres: db.is_some(),
        settings: built_from,
        _dir: dir,
        _db: db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_with(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&'static str, &str)],
    ) -> reqwest::Response {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        self.client
            .post(self.url(path))
            .headers(h)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn messages(&self) -> Vec<OutboxEntry> {
        read_outbox(&self.outbox).await.unwrap()
    }

    pub async fn messages_to(&self, to: &str) -> Vec<OutboxEntry> {
        self.messages()
            .await
            .into_iter()
            .filter(|m| m.to == to)
            .collect()
    }

    /// The code in the newest SMS to `phone`, read as a person reads it.
    pub async fn last_code(&self, phone: &str) -> String {
        let m = self
            .messages_to(phone)
            .await
            .into_iter()
            .next()
            .expect("an SMS was sent");
        six_digit_numbers(&m.body)
            .pop()
            .expect("the SMS holds a code")
    }

    pub async fn last_link(&self, email: &str) -> String {
        let m = self
            .messages_to(email)
            .await
            .into_iter()
            .next()
            .expect("a letter was sent");
        m.body
            .split_whitespace()
            .find(|w| w.contains("/register/confirm-email?token="))
            .expect("the letter holds a link")
            .to_owned()
    }

    pub async fn start_phone(&self, phone: &str) -> String {
        let r = self
            .post(
                "/api/v1/registrations",
                &json!({"surname": "Иванов", "given_name": "Иван", "phone": phone, "accept_terms": true}),
            )
            .await;
        assert_eq!(r.status(), 202);
        r.json::<Value>().await.unwrap()["registration_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn confirm_code(&self, id: &str, code: &str) -> reqwest::Response {
        self.post(
            &format!("/api/v1/registrations/{id}/confirm"),
            &json!({"code": code}),
        )
        .await
    }

    pub async fn set_password(&self, id: &str, password: &str) -> reqwest::Response {
        self.post(
            &format!("/api/v1/registrations/{id}/password"),
            &json!({"password": password, "password_confirmation": password}),
        )
        .await
    }

    /// A whole registration by phone; returns the account id.
    pub async fn register_phone(&self, phone: &str) -> String {
        let id = self.start_phone(phone).await;
        let code = self.last_code(&e164(phone)).await;
        assert_eq!(self.confirm_code(&id, &code).await.status(), 200);
        let r = self.set_password(&id, PASSWORD).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["account_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn log_in(&self, login: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/v1/sessions",
            &json!({"login": login, "password": password}),
        )
        .await
    }

    pub async fn token(&self, login: &str, password: &str) -> String {
        let r = self.log_in(login, password).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["session_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Runs the workers, a second of the fake clock at a time, until nothing
    /// is left to do (at most `seconds`).
    pub async fn settle(&self, seconds: i64) {
        for _ in 0..seconds {
            while !self.verification.run_once().await.unwrap().is_idle() {}
            self.advance(Duration::seconds(1));
        }
        while !self.verification.run_once().await.unwrap().is_idle() {}
    }

    pub async fn put_bearer(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// A registered, logged-in account: its session token.
    pub async fn citizen(&self, phone: &str) -> String {
        self.register_phone(phone).await;
        self.token(phone, PASSWORD).await
    }

    pub async fn verification_of(&self, token: &str) -> Value {
        let r = self.get_bearer("/api/v1/me/verification", token).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

/// Иванов Иван Иванович of the simulator's demo set: both registries agree.
pub fn ivanov() -> Value {
    json!({
        "surname": "Иванов", "given_name": "Иван", "patronymic": "Иванович",
        "sex": "male", "birth_date": "1980-05-17", "birth_place": "гор. Москва",
        "snils": "112-233-445 95", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4510 123456",
            "issue_date": "2000-06-01", "issued_by": "ОВД района Арбат гор. Москвы",
            "department_code": "770-001"}
    })
}

pub fn six_digit_numbers(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 6)
        .map(str::to_owned)
        .collect()
}

pub fn e164(phone: &str) -> String {
    uslugi_domain::PhoneNumber::parse(phone)
        .unwrap()
        .e164()
        .to_owned()
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
