//! `spawn_app()`: the real application on port 0 with a fresh database (a
//! SQLite file, or a new PostgreSQL database when USLUGI_TEST_DATABASE_URL
//! is set), a fake clock, cheap password hashing, and the development mailbox.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use time::Duration;
use uslugi::config::Settings;
use uslugi_adapters::{MailboxEntry, dev_mailbox};
use uslugi_app::{Clock as _, FakeClock};
use uslugi_storage::Backend;
use uslugi_storage::testing::TestDatabase;

pub const PASSWORD: &str = "зелёный слон танцует";

pub struct TestApp {
    pub base: String,
    pub clock: FakeClock,
    pub client: reqwest::Client,
    /// The development mailbox's file, where it has always been.
    pub dev_mailbox: PathBuf,
    pub data_dir: PathBuf,
    pub store: Arc<dyn Backend>,
    pub accounts: Arc<uslugi_app::Accounts>,
    /// The checks and the outbox; the test runs them (see [`TestApp::settle`]).
    pub verification: Arc<uslugi_app::verification::Verification>,
    /// The in-process registry simulator, on the test's fake clock.
    pub sim: uslugi_sim::SimState,
    pub operators: Arc<uslugi_app::operators::Operators>,
    pub letters: Arc<uslugi_app::letters::Letters>,
    pub on_postgres: bool,
    /// What the application was built from, to start a second node on the
    /// same data.
    pub settings: Settings,
    /// The continuation each confirmed registration or recovery handed
    /// this client (by flow id): it is the one that confirmed.
    pub continuations: Mutex<HashMap<String, String>>,
    _dir: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

/// An answer whose body was read (to keep what it handed over).
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }
    #[expect(clippy::unused_async, reason = "reads like reqwest::Response::json")]
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.body)
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_seeded(configure, async |_| {}).await
}

/// As [`spawn_with`], with `seed` run on the settings before the node is
/// built: to put in the database what an older version left there.
pub async fn spawn_seeded(
    configure: impl FnOnce(&mut Settings),
    seed: impl AsyncFnOnce(&Settings),
) -> TestApp {
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
    // The post accepts every letter unless a test says otherwise.
    settings.post_failure_rate = 0.0;
    let db = TestDatabase::postgres_if_configured().await;
    if let Some(db) = &db {
        settings.database_url = Some(db.url.clone());
    }
    configure(&mut settings);
    seed(&settings).await;
    let clock = FakeClock::default();
    let built_from = settings.clone();
    let mut app = uslugi::server::build(&settings, Arc::new(clock.clone()), false)
        .await
        .expect("build the application");
    app.run_workers = false;
    let store = app.store.clone();
    let accounts = app.state.accounts.clone();
    let verification = app.state.verification.clone();
    let operators = app.state.operators.clone();
    let letters = app.state.letters.clone();
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
        dev_mailbox: dir.path().join("outbox.jsonl"),
        data_dir: dir.path().to_path_buf(),
        store,
        accounts,
        verification,
        sim,
        operators,
        letters,
        on_postgres: db.is_some(),
        settings: built_from,
        continuations: Mutex::default(),
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

    pub async fn messages(&self) -> Vec<MailboxEntry> {
        dev_mailbox::read(&self.dev_mailbox).await.unwrap()
    }

    pub async fn messages_to(&self, to: &str) -> Vec<MailboxEntry> {
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

    pub async fn confirm_code(&self, id: &str, code: &str) -> Answer {
        self.confirm_registration(id, &json!({"code": code})).await
    }

    /// `POST /api/v1/registrations/{id}/confirm`; keeps the continuation.
    pub async fn confirm_registration(&self, id: &str, body: &Value) -> Answer {
        self.confirming(&format!("/api/v1/registrations/{id}/confirm"), id, body)
            .await
    }

    /// `POST /api/v1/recovery/{id}/confirm`; keeps the continuation.
    pub async fn confirm_recovery(&self, id: &str, body: &Value) -> Answer {
        self.confirming(&format!("/api/v1/recovery/{id}/confirm"), id, body)
            .await
    }

    async fn confirming(&self, path: &str, id: &str, body: &Value) -> Answer {
        let r = self.post(path, body).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if let Some(token) = body["continuation_token"].as_str() {
            self.continuations
                .lock()
                .unwrap()
                .insert(id.to_owned(), token.to_owned());
        }
        Answer { status, body }
    }

    /// The continuation this client was handed for flow `id`, if any.
    pub fn continuation(&self, id: &str) -> Option<String> {
        self.continuations.lock().unwrap().get(id).cloned()
    }

    /// The password step, with the continuation this client was handed.
    pub async fn set_password(&self, id: &str, password: &str) -> reqwest::Response {
        self.post(
            &format!("/api/v1/registrations/{id}/password"),
            &json!({
                "continuation_token": self.continuation(id),
                "password": password,
                "password_confirmation": password,
            }),
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

    /// Runs `statements` on the application's database behind its back:
    /// for staging what a test cannot reach through the product (a race).
    pub async fn sql(&self, statements: &[&str]) {
        use sqlx::Connection;
        match &self._db {
            Some(db) => {
                let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
                for s in statements {
                    sqlx::raw_sql(s).execute(&mut c).await.unwrap();
                }
            }
            None => {
                let url = format!("sqlite://{}", self.data_dir.join("uslugi.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                for s in statements {
                    sqlx::raw_sql(s).execute(&mut c).await.unwrap();
                }
            }
        }
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

    /// A logged-in account whose personal data (Иванов's, unless `data` says
    /// otherwise) passed both checks: standard.
    pub async fn standard_citizen(&self, phone: &str, data: &Value) -> String {
        let token = self.citizen(phone).await;
        let r = self
            .put_bearer("/api/v1/me/personal-data", &token, data)
            .await;
        assert_eq!(r.status(), 200);
        let r = self
            .post_bearer("/api/v1/me/personal-data/submit", &token)
            .await;
        assert_eq!(r.status(), 202);
        self.settle(8).await;
        let me: Value = self
            .get_bearer("/api/v1/me", &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["level"], "standard", "the checks passed");
        token
    }

    /// An enrolled operator of `center`, logged in to the console.
    pub async fn operator(
        &self,
        center: &str,
        role: uslugi_domain::OperatorRole,
        login: &str,
    ) -> Operator<'_> {
        let added = self.operators.add(center, role).await.unwrap();
        let path = added
            .enrolment_link
            .strip_prefix(&self.base)
            .unwrap()
            .to_owned();
        let mut browser = Browser::new(self);
        let (s, html, _) = browser.get(&path).await;
        assert_eq!(s, 200, "the enrolment page opens");
        let key = between(&html, "<code id=\"totp-key\" class=\"key\">", "</code>");
        let secret =
            uslugi_app::totp::TotpSecret::from_base32(&key).expect("the page shows the key");
        let token = path.split("token=").nth(1).unwrap().to_owned();
        let code = totp_now(self, &secret);
        let password = "пароль оператора смены";
        let (s, html, to) = browser
            .post(
                "/operator/enrol",
                &[
                    ("token", &token),
                    ("name", "Оператова Ольга Петровна"),
                    ("login", login),
                    ("password", password),
                    ("password_confirmation", password),
                    ("code", &code),
                ],
            )
            .await;
        assert_eq!(
            (s, to.as_deref()),
            (303, Some("/operator/login?enrolled=1")),
            "{html}"
        );
        let mut op = Operator {
            browser,
            secret,
            login: login.to_owned(),
            password: password.to_owned(),
            grants: HashMap::new(),
        };
        op.log_in().await;
        op
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

/// A browser without JavaScript: cookies kept by hand, forms posted with
/// their CSRF token.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: std::collections::HashMap<String, String>,
    pub lang: &'static str,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: std::collections::HashMap::new(),
            lang: "ru",
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> (u16, String, Option<String>) {
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .send()
            .await
            .unwrap();
        self.keep(&r);
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (r.status().as_u16(), r.text().await.unwrap(), location)
    }

    pub fn csrf(&self) -> String {
        self.cookies
            .get("__Host-uslugi-csrf")
            .cloned()
            .unwrap_or_default()
    }

    pub async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, Option<String>) {
        let csrf = self.csrf();
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
        form.extend_from_slice(fields);
        let r = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .form(&form)
            .send()
            .await
            .unwrap();
        self.keep(&r);
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (r.status().as_u16(), r.text().await.unwrap(), location)
    }
}

/// The text between two markers of a page.
pub fn between(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in the page"))
        + start.len();
    let len = html[from..].find(end).expect("the end marker");
    html[from..from + len].to_owned()
}

/// The code an authenticator app shows now on the test's clock. Each call
/// first moves the clock to the next 30-second step: a code works once.
pub fn totp_now(app: &TestApp, secret: &uslugi_app::totp::TotpSecret) -> String {
    app.advance(Duration::seconds(30));
    let step = uslugi_app::totp::step_of(app.clock.now());
    format!("{:06}", uslugi_app::totp::code_at_step(secret, step))
}

/// An operator at the console.
pub struct Operator<'a> {
    pub browser: Browser<'a>,
    pub secret: uslugi_app::totp::TotpSecret,
    pub login: String,
    pub password: String,
    /// The grant each search result's link carried, by account id.
    pub grants: HashMap<String, String>,
}

impl Operator<'_> {
    pub async fn log_in(&mut self) {
        let code = totp_now(self.browser.app, &self.secret);
        let (login, password) = (self.login.clone(), self.password.clone());
        let (s, html, to) = self
            .browser
            .post(
                "/operator/login",
                &[("login", &login), ("password", &password), ("code", &code)],
            )
            .await;
        assert_eq!((s, to.as_deref()), (303, Some("/operator")), "{html}");
    }

    pub async fn get(&mut self, path: &str) -> (u16, String, Option<String>) {
        self.browser.get(path).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, Option<String>) {
        self.browser.post(path, fields).await
    }

    /// Searches and returns the account ids found; the grants their links
    /// carried are kept for [`Self::card`] and [`Self::act`].
    pub async fn find(&mut self, by: &str, value: &str) -> Vec<String> {
        let (s, html, _) = self
            .post("/operator/search", &[("by", by), ("value", value)])
            .await;
        assert_eq!(s, 200, "{html}");
        let mut ids = Vec::new();
        for rest in html.split("href=\"/operator/citizens/").skip(1) {
            let link = rest.split('"').next().unwrap();
            let (id, grant) = link
                .split_once("?grant=")
                .expect("every result's link carries a grant");
            self.grants.insert(id.to_owned(), grant.to_owned());
            ids.push(id.to_owned());
        }
        ids
    }

    /// Registers a citizen at the desk: the phone, the code the citizen
    /// reads out from it, then the data. Returns the answer to the data.
    pub async fn register_at_desk(
        &mut self,
        phone: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, Option<String>) {
        let step = self.confirm_desk_phone(phone).await;
        self.post(&step, fields).await
    }

    /// The phone and code steps of a registration at the desk; returns the
    /// address of the data step.
    pub async fn confirm_desk_phone(&mut self, phone: &str) -> String {
        let (s, html, to) = self.post("/operator/register", &[("phone", phone)]).await;
        assert_eq!(s, 303, "{html}");
        let step = to.unwrap();
        let app = self.browser.app;
        app.settle(0).await;
        let code = app.last_code(&e164(phone)).await;
        let (s, html, to) = self.post(&format!("{step}/code"), &[("code", &code)]).await;
        assert_eq!((s, to.as_deref()), (303, Some(step.as_str())), "{html}");
        step
    }

    /// The grant the last search gave for `id`.
    pub fn grant(&self, id: &str) -> String {
        self.grants.get(id).cloned().unwrap_or_default()
    }

    /// The card of `id`, as the search result's link opens it.
    pub fn card(&self, id: &str) -> String {
        format!("/operator/citizens/{id}?grant={}", self.grant(id))
    }

    /// The address of an action of the card of `id`, as its form posts.
    pub fn act(&self, id: &str, action: &str) -> String {
        format!("/operator/citizens/{id}/{action}?grant={}", self.grant(id))
    }
}

/// Turns an app on for the account of `token`; its key and backup codes.
pub async fn with_app(app: &TestApp, token: &str) -> (uslugi_app::totp::TotpSecret, Vec<String>) {
    let r = app
        .client
        .post(app.url("/api/v1/me/second-factor"))
        .bearer_auth(token)
        .json(&json!({"method": "totp", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    let secret =
        uslugi_app::totp::TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
    let id = body["enrolment_id"].as_str().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/me/second-factor/{id}/confirm")))
        .bearer_auth(token)
        .json(&json!({"code": totp_now(app, &secret)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let codes = body["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}
