//! The `uslugi` command as an operator runs it: serve on a real port, check
//! health, read the outbox, unlock an account, generate secrets.
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_uslugi");

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

fn uslugi(args: &[&str], data_dir: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("USLUGI_DATA_DIR", data_dir)
        .env_remove("USLUGI_DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn help_names_every_command() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for command in ["serve", "migrate", "outbox", "admin", "healthcheck"] {
        assert!(text.contains(command), "{command} in {text}");
    }
    let serve = String::from_utf8(
        Command::new(BIN)
            .args(["serve", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for flag in [
        "--listen",
        "--data-dir",
        "--database-url",
        "USLUGI_LISTEN",
        "USLUGI_DATA_DIR",
        "USLUGI_DATABASE_URL",
        "--sim-citizens",
        "--sim-delay-ms",
        "--sim-failure-rate",
        "USLUGI_SIM_CITIZENS_FILE",
        "--post-delivery-s",
        "USLUGI_POST_DELIVERY_S",
    ] {
        assert!(serve.contains(flag), "{flag} in {serve}");
    }
    let admin = String::from_utf8(
        Command::new(BIN)
            .args(["admin", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for command in [
        "unlock",
        "rotate-keys",
        "secrets",
        "operator",
        "letters",
        "audit",
    ] {
        assert!(admin.contains(command), "{command} in {admin}");
    }
    let bad = Command::new(BIN)
        .args(["serve", "--sim-delay-ms", "5-2"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("greater than its maximum"),
        "a reversed delay is named"
    );
}

#[tokio::test]
async fn serve_answers_and_the_operator_commands_work_on_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--listen", &listen, "--data-dir"])
            .arg(dir.path())
            .env("USLUGI_PASSWORD_HASH__MEMORY_KIB", "64")
            .env("USLUGI_PASSWORD_HASH__ITERATIONS", "1")
            .env_remove("USLUGI_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dir.path().join("secrets.toml").exists(),
        "secrets generated on first start"
    );
    assert!(dir.path().join("uslugi.db").exists());

    let health = uslugi(&["healthcheck", "--url", &base], dir.path());
    assert!(health.status.success());

    // The shipped centers, exported, corrected in a spreadsheet, imported.
    let csv = dir.path().join("centers.csv");
    let out = uslugi(
        &["admin", "centers", "export", csv.to_str().unwrap()],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("kogalym-administration"));
    std::fs::write(&csv, text.replace("ОАО «Ростелеком»", "ПАО «Ростелеком»")).unwrap();
    let out = uslugi(
        &["admin", "centers", "import", csv.to_str().unwrap()],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("imported 38 centers"));
    let json = dir.path().join("centers.json");
    let out = uslugi(
        &["admin", "centers", "export", json.to_str().unwrap()],
        dir.path(),
    );
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(&json)
            .unwrap()
            .contains("ПАО «Ростелеком»")
    );
    std::fs::write(&csv, "id,name\nx,y\n").unwrap();
    let out = uslugi(
        &["admin", "centers", "import", csv.to_str().unwrap()],
        dir.path(),
    );
    assert!(!out.status.success(), "a broken file is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));

    let r: Value = client
        .post(format!("{base}/api/v1/registrations"))
        .json(&json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79251234567", "accept_terms": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["registration_id"].as_str().unwrap();

    let out = uslugi(&["outbox", "--json"], dir.path());
    let messages: Value = serde_json::from_slice(&out.stdout).unwrap();
    let body = messages[0]["body"].as_str().unwrap();
    assert_eq!(messages[0]["to"], "+79251234567");
    let code: String = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned();
    let human = String::from_utf8(uslugi(&["outbox"], dir.path()).stdout).unwrap();
    assert!(human.contains(&code));

    let confirm = client
        .post(format!("{base}/api/v1/registrations/{id}/confirm"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let password = "зелёный слон танцует";
    let created = client
        .post(format!("{base}/api/v1/registrations/{id}/password"))
        .json(&json!({"password": password, "password_confirmation": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let unlock = uslugi(&["admin", "unlock", "+7 925 123-45-67"], dir.path());
    assert!(
        unlock.status.success(),
        "{}",
        String::from_utf8_lossy(&unlock.stderr)
    );
    let unknown = uslugi(&["admin", "unlock", "+79250000000"], dir.path());
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn secrets_are_generated_once_and_a_missing_configured_file_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node-secrets.toml");
    let out = uslugi(
        &[
            "admin",
            "secrets",
            "generate",
            "--out",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let again = uslugi(
        &[
            "admin",
            "secrets",
            "generate",
            "--out",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!again.status.success(), "never overwrites keys");

    let missing = Command::new(BIN)
        .args(["migrate"])
        .env("USLUGI_DATA_DIR", dir.path())
        .env("USLUGI_SECRETS_FILE", dir.path().join("absent.toml"))
        .output()
        .unwrap();
    // migrate needs no secrets; serve does, and says how to fix it.
    assert!(missing.status.success());
    let port = free_port();
    let serve = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("USLUGI_DATA_DIR", dir.path())
        .env("USLUGI_SECRETS_FILE", dir.path().join("absent.toml"))
        .output()
        .unwrap();
    assert!(!serve.status.success());
    let err = String::from_utf8(serve.stderr).unwrap();
    assert!(err.contains("uslugi admin secrets generate"), "{err}");

    let http = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("USLUGI_DATA_DIR", dir.path())
        .env("USLUGI_BASE_URL", "http://portal.example")
        .output()
        .unwrap();
    assert!(!http.status.success());
    assert!(String::from_utf8(http.stderr).unwrap().contains("TLS"));
}

#[tokio::test]
async fn the_standalone_registry_simulator_answers_over_http() {
    use uslugi_app::registries::{
        PersonFacts, RegistryAnswer, RegistryGateway, RegistryRequest, Sex,
    };
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _sim = Server(
        Command::new(BIN)
            .args([
                "sim",
                "serve",
                "--listen",
                &listen,
                "--delay-ms",
                "0",
                "--failure-rate",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let gateway =
        uslugi_sim::HttpRegistryGateway::new(&format!("http://{listen}"), Duration::from_secs(5))
            .unwrap();
    let request = RegistryRequest::Sfr {
        snils: "11223344595".into(),
        person: PersonFacts {
            surname: "ИВАНОВ".into(),
            given_name: "Иван".into(),
            patronymic: Some("Иванович".into()),
            birth_date: time::macros::date!(1980 - 05 - 17),
        },
        sex: Sex::Male,
    };
    let started = Instant::now();
    let id = loop {
        match gateway.submit("cli-test-1", &request).await {
            Ok(id) => break id,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("the simulator did not start: {e}"),
        }
    };
    let answer = gateway.poll(&id).await.unwrap();
    assert_eq!(answer, Some(RegistryAnswer::SfrMatch));
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn operators_are_added_listed_and_disabled_and_the_audit_log_checks_itself() {
    let dir = tempfile::tempdir().unwrap();
    let env_dir = dir.path();
    let center = "kaluga-mfc-kaluga-ul-khrustalnaya-34a";
    let out = uslugi(
        &[
            "admin",
            "operator",
            "add",
            "--center",
            center,
            "--role",
            "supervisor",
        ],
        env_dir,
    );
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/operator/enrol?token="))
        .expect("a one-time link");
    assert!(
        link.starts_with("http://127.0.0.1:8080/operator/enrol?token="),
        "{link}"
    );
    let id = printed.split_whitespace().nth(1).unwrap().to_owned();

    let out = uslugi(
        &[
            "admin", "operator", "add", "--center", "nowhere", "--role", "operator",
        ],
        env_dir,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no service center with id"));
    let out = uslugi(
        &[
            "admin", "operator", "add", "--center", center, "--role", "boss",
        ],
        env_dir,
    );
    assert!(!out.status.success(), "roles are operator or supervisor");

    let out = uslugi(&["admin", "operator", "list"], env_dir);
    assert!(text(&out).contains(&id) && text(&out).contains("waiting for enrolment"));
    let out = uslugi(&["admin", "operator", "disable", &id], env_dir);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        uslugi(&["admin", "operator", "disable", &id], env_dir)
            .status
            .code(),
        Some(2)
    );
    assert!(text(&uslugi(&["admin", "operator", "list"], env_dir)).contains("disabled"));

    let out = uslugi(&["admin", "audit", "verify"], env_dir);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 records"), "{}", text(&out));

    // Someone with the database file changes a record behind the log's back.
    let db = format!("sqlite://{}", env_dir.join("uslugi.db").display());
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let refused = sqlx::query("UPDATE audit_log SET outcome = 'forged' WHERE seq = 1")
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the database refuses it");
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET outcome = 'forged' WHERE seq = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = uslugi(&["admin", "audit", "verify"], env_dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("broken at record 1"), "{}", text(&out));
}

#[test]
fn the_letters_of_a_day_are_exported_for_the_mailing_center() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("batch");
    let out = uslugi(
        &[
            "admin",
            "letters",
            "export",
            "--date",
            "01.12.2026",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0 letters of 2026-12-01"));
    let pdf = std::fs::read(out_dir.join("letters-2026-12-01.pdf")).unwrap();
    assert!(
        pdf.starts_with(b"%PDF-"),
        "a printable file even for an empty day"
    );
    let csv = std::fs::read_to_string(out_dir.join("letters-2026-12-01.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1, "the header only");
    let bad = uslugi(
        &["admin", "letters", "export", "--date", "2026/12/01"],
        dir.path(),
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--date must be YYYY-MM-DD or DD.MM.YYYY"));
}

#[test]
fn a_broken_places_file_stops_start_up_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let places = dir.path().join("places.csv");
    std::fs::write(&places, "95.165.0.0/16,Москва\n95.165.0.0,Москва\n").unwrap();
    let port = free_port();
    let serve = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("USLUGI_DATA_DIR", dir.path())
        .env("USLUGI_PLACES_FILE", &places)
        .output()
        .unwrap();
    assert!(!serve.status.success());
    let err = String::from_utf8(serve.stderr).unwrap();
    assert!(
        err.contains("places_file") && err.contains("line 2"),
        "{err}"
    );
}
