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
fn the_version_names_the_release_and_its_migration_level() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/storage/migrations/sqlite"
    ))
    .unwrap()
    .count();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!(
            "uslugi {} (migration level {migrations})",
            env!("CARGO_PKG_VERSION")
        )
    );
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
    // In a container: the node on its own listener, whatever public
    // address the portal has.
    let health = Command::new(BIN)
        .arg("healthcheck")
        .env("USLUGI_DATA_DIR", dir.path())
        .env("USLUGI_LISTEN", format!("0.0.0.0:{port}"))
        .env("USLUGI_BASE_URL", "https://portal.invalid")
        .env_remove("USLUGI_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );

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
    let confirmed: serde_json::Value = confirm.json().await.unwrap();
    let password = "зелёный слон танцует";
    let created = client
        .post(format!("{base}/api/v1/registrations/{id}/password"))
        .json(&json!({
            "continuation_token": confirmed["continuation_token"],
            "password": password,
            "password_confirmation": password,
        }))
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
    let gateway = uslugi_adapters::HttpRegistryGateway::new(
        &format!("http://{listen}"),
        Duration::from_secs(5),
    )
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

/// Starts `uslugi serve` on `listen` with cheap hashing; its stdout and
/// stderr go to files in `dir` (a pipe nobody reads could stall it).
fn serve(
    listen: &str,
    data_dir: &std::path::Path,
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", listen, "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env("USLUGI_PASSWORD_HASH__MEMORY_KIB", "64")
        .env("USLUGI_PASSWORD_HASH__ITERATIONS", "1")
        .env_remove("USLUGI_DATABASE_URL")
        .env_remove("USLUGI_DEV")
        .env_remove("USLUGI_BASE_URL")
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap());
    for (k, v) in env {
        command.env(k, v);
    }
    Server(command.spawn().unwrap())
}

async fn wait_for_health(base: &str) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A stand-in SMS gateway: answers every request 200 and keeps the bodies.
async fn fake_sms_gateway() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else {
                        continue;
                    };
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        kept.lock().unwrap().push(body.to_owned());
                        let _ = socket
                            .write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                            )
                            .await;
                        return;
                    }
                }
            });
        }
    });
    (url, bodies)
}

#[test]
fn production_without_real_transports_refuses_to_start_naming_each_setting() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |listen: &str, env: &[(&str, &str)]| {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(dir.path().join("data"))
            .env_remove("USLUGI_DATABASE_URL")
            .env_remove("USLUGI_DEV")
            .env_remove("USLUGI_BASE_URL");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    // Reachable from other machines, or announced at a public address:
    // either is production.
    for (listen, env) in [
        ("0.0.0.0:0", vec![]),
        (
            "127.0.0.1:0",
            vec![("USLUGI_BASE_URL", "https://uslugi.example")],
        ),
        (
            "127.0.0.1:0",
            vec![
                ("USLUGI_BASE_URL", "https://uslugi.example"),
                ("USLUGI_DEV", "0"),
            ],
        ),
    ] {
        let out = refused(listen, &env);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{listen} {env:?}: {}",
            text(&out)
        );
        let said = text(&out);
        for name in [
            "smtp.host (USLUGI_SMTP__HOST)",
            "smtp.from (USLUGI_SMTP__FROM)",
            "sms_gateway.url (USLUGI_SMS_GATEWAY__URL)",
            "registries.gateway",
            "registries.url (USLUGI_REGISTRIES__URL)",
            "post.mode = \"print\" (USLUGI_POST__MODE=print)",
            "--dev",
        ] {
            assert!(said.contains(name), "{name} in {said}");
        }
        assert!(
            !said.contains("DEVELOPMENT MODE"),
            "nothing started: {said}"
        );
    }
    let out = refused("0.0.0.0:0", &[]);
    assert!(text(&out).contains("base_url (USLUGI_BASE_URL)"));
}

#[cfg(unix)]
#[tokio::test]
async fn development_mode_is_said_in_capitals_and_keeps_its_files_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // An earlier version left the directory and the files open to all.
    let out = uslugi(&["migrate"], &data);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(data.join("outbox.jsonl"), "").unwrap();
    for (path, m) in [
        (data.clone(), 0o755),
        (data.join("uslugi.db"), 0o644),
        (data.join("outbox.jsonl"), 0o644),
    ] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
    }
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let server = serve(&listen, &data, dir.path(), &[], &[]);
    wait_for_health(&base).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/api/v1/registrations"))
        .json(&json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79251234568", "accept_terms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let outbox = client
        .get(format!("{base}/dev/outbox.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(outbox.status(), 200, "this machine reads the outbox");
    for (header, value) in [
        ("x-forwarded-for", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9"),
        ("x-real-ip", "203.0.113.9"),
    ] {
        let r = client
            .get(format!("{base}/dev/outbox.json"))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "through a proxy: {header}");
    }
    drop(server);
    let stdout = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
    assert!(
        stdout.contains("DEVELOPMENT MODE (listening on loopback only)"),
        "{stdout}"
    );
    assert_eq!(mode(&data), 0o700);
    for file in ["uslugi.db", "secrets.toml", "outbox.jsonl"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert!(
        std::fs::read_to_string(data.join("outbox.jsonl"))
            .unwrap()
            .contains("+79251234568"),
        "the code went to the local outbox"
    );

    // Asked for by name, development mode runs at a public address too.
    let listen = format!("127.0.0.1:{}", free_port());
    let server = serve(
        &listen,
        &data,
        dir.path(),
        &["--dev"],
        &[("USLUGI_BASE_URL", "https://uslugi.example")],
    );
    wait_for_health(&format!("http://{listen}")).await;
    drop(server);
    let stdout = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
    assert!(
        stdout.contains("DEVELOPMENT MODE (asked for with --dev"),
        "{stdout}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn production_has_no_development_pages_and_prints_no_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (sms_url, sent) = fake_sms_gateway().await;
    let closed = format!("127.0.0.1:{}", free_port());
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let server = serve(
        &listen,
        &data,
        dir.path(),
        &[],
        &[
            ("USLUGI_BASE_URL", "https://uslugi.example"),
            ("USLUGI_SMTP__HOST", "127.0.0.1"),
            ("USLUGI_SMTP__PORT", &free_port().to_string()),
            ("USLUGI_SMTP__TLS", "none"),
            ("USLUGI_SMTP__FROM", "uslugi@example.org"),
            ("USLUGI_SMS_GATEWAY__URL", &sms_url),
            ("USLUGI_REGISTRIES__GATEWAY", "http"),
            ("USLUGI_REGISTRIES__URL", &format!("http://{closed}/")),
            ("USLUGI_POST__MODE", "print"),
            ("USLUGI_POST__TRACKING_PREFIX", "10100012"),
            ("USLUGI_POST__TRACKING_RANGE_START", "00001"),
            ("USLUGI_POST__TRACKING_RANGE_END", "99999"),
        ],
    );
    wait_for_health(&base).await;
    let client = reqwest::Client::new();
    for path in ["/dev/outbox", "/dev/outbox.json"] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path} does not exist in production");
    }
    let r = client
        .post(format!("{base}/api/v1/registrations"))
        .json(&json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79251234569", "accept_terms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let sms = sent.lock().unwrap().join("\n");
    let code: String = sms
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("the code went to the SMS gateway")
        .to_owned();
    drop(server);
    let stdout = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    assert!(!stdout.contains("DEVELOPMENT"), "{stdout}");
    assert!(
        !stdout.contains(&code) && !stderr.contains(&code),
        "no code on the console"
    );
    assert!(!data.join("outbox.jsonl").exists(), "no local outbox");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("uslugi.db")), 0o600);
}

#[tokio::test]
async fn records_cut_from_the_end_of_the_audit_log_are_found_by_its_head_file() {
    let dir = tempfile::tempdir().unwrap();
    let env_dir = dir.path();
    let center = "kaluga-mfc-kaluga-ul-khrustalnaya-34a";
    let out = uslugi(
        &[
            "admin", "operator", "add", "--center", center, "--role", "operator",
        ],
        env_dir,
    );
    assert!(out.status.success(), "{}", text(&out));
    let id = text(&out).split_whitespace().nth(1).unwrap().to_owned();
    let out = uslugi(&["admin", "operator", "disable", &id], env_dir);
    assert!(out.status.success(), "{}", text(&out));
    let head = env_dir.join("audit-head");
    let kept = std::fs::read_to_string(&head).expect("the head is kept outside the database");
    assert!(kept.contains("seq = 2"), "{kept}");
    #[cfg(unix)]
    assert_eq!(mode(&head), 0o600);
    let out = uslugi(&["admin", "audit", "verify"], env_dir);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("holds record 2"), "{}", text(&out));

    // Someone with the database file removes the last record: the chain
    // left behind links soundly, but is shorter than the head saw.
    let db = format!("sqlite://{}", env_dir.join("uslugi.db").display());
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = uslugi(&["admin", "audit", "verify"], env_dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("broken at record 2") && text(&out).contains("tail was cut"),
        "{}",
        text(&out)
    );

    // Later records do not cover the cut: the head file does not move on
    // past a head the database lost.
    let out = uslugi(
        &[
            "admin", "operator", "add", "--center", center, "--role", "operator",
        ],
        env_dir,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&head).unwrap(), kept);
    let out = uslugi(&["admin", "audit", "verify"], env_dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // A head file that cannot be read stops the start rather than be
    // overwritten.
    std::fs::write(&head, "seq = \"many\"\n").unwrap();
    let out = uslugi(&["admin", "operator", "list"], env_dir);
    assert!(!out.status.success());
    assert!(text(&out).contains("audit_head_file"), "{}", text(&out));
}

#[test]
fn the_keyed_hash_key_of_the_blind_indexes_is_rotated_by_its_own_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.toml");
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
    assert!(
        !std::fs::read_to_string(&file)
            .unwrap()
            .contains("index_key")
    );
    let out = uslugi(&["admin", "rotate-keys", "--keyed-hash"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("moved"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("index_key") && !text.contains("next_index_key"));
    let both = uslugi(
        &["admin", "rotate-keys", "--keyed-hash", "--retire"],
        dir.path(),
    );
    assert_eq!(both.status.code(), Some(2), "one rotation at a time");
}

/// Registers `phone` through the API, reading the code from the development
/// mailbox; `true` once the account's creation was answered 201.
async fn register(base: &str, data: &std::path::Path, phone: &str, password: &str) -> bool {
    let client = reqwest::Client::new();
    let started: Value = client
        .post(format!("{base}/api/v1/registrations"))
        .json(&json!({"surname": "Резервова", "given_name": "Анна", "phone": phone, "accept_terms": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["registration_id"].as_str().unwrap().to_owned();
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let mailbox = std::fs::read_to_string(data.join("outbox.jsonl")).unwrap();
    let code = mailbox
        .lines()
        .rev()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|m| m["to"].as_str().unwrap_or_default().ends_with(&digits[1..]))
        .and_then(|m| {
            m["body"]
                .as_str()
                .unwrap()
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .map(str::to_owned)
        })
        .unwrap();
    let confirmed: Value = client
        .post(format!("{base}/api/v1/registrations/{id}/confirm"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = client
        .post(format!("{base}/api/v1/registrations/{id}/password"))
        .json(&json!({
            "continuation_token": confirmed["continuation_token"],
            "password": password,
            "password_confirmation": password,
        }))
        .send()
        .await
        .unwrap();
    created.status() == 201
}

#[tokio::test]
async fn a_backup_taken_while_people_register_starts_a_portal_with_every_account_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let limits = [
        ("USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR", "100000"),
        ("USLUGI_LIMITS__SENDS_PER_CONTACT_PER_HOUR", "100000"),
    ];
    let server = serve(&listen, &data, dir.path(), &[], &limits);
    wait_for_health(&base).await;
    let password = "резервная копия на месте";

    // People keep registering, one after another, while the copy is taken.
    // The phones acknowledged so far, watched (no polling).
    let (acknowledged, watched) = tokio::sync::watch::channel(Vec::<String>::new());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let registering = tokio::spawn({
        let (base, data, stop) = (base.clone(), data.clone(), stop.clone());
        async move {
            for n in 0.. {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let phone = format!("+7926{n:07}");
                if register(&base, &data, &phone, password).await {
                    acknowledged.send_modify(|a| a.push(phone));
                }
            }
            acknowledged
        }
    });
    let registered = |watched: &tokio::sync::watch::Receiver<Vec<String>>, at_least: usize| {
        let mut watched = watched.clone();
        async move {
            tokio::time::timeout(
                Duration::from_secs(60),
                watched.wait_for(|a| a.len() >= at_least),
            )
            .await
            .expect("registrations go on")
            .unwrap()
            .clone()
        }
    };
    let before = registered(&watched, 5).await;
    let out = dir.path().join("copy.db");
    let backup = tokio::task::spawn_blocking({
        let (out, data) = (out.clone(), data.clone());
        move || uslugi(&["admin", "backup", "--out", out.to_str().unwrap()], &data)
    })
    .await
    .unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
    registered(&watched, before.len() + 3).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    drop(registering.await.unwrap());
    drop(server);

    let keys = dir.path().join("copy.db.secrets.toml");
    #[cfg(unix)]
    {
        assert_eq!(mode(&out), 0o600);
        assert_eq!(mode(&keys), 0o600);
    }
    // A second backup to the same name replaces nothing.
    let copied = std::fs::read(&out).unwrap();
    let again = uslugi(&["admin", "backup", "--out", out.to_str().unwrap()], &data);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("never replaces"));
    assert_eq!(std::fs::read(&out).unwrap(), copied);

    // Restored as the documentation says: the copy as uslugi.db, the keys
    // as secrets.toml, in a new data directory.
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(&out, restored.join("uslugi.db")).unwrap();
    std::fs::copy(&keys, restored.join("secrets.toml")).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let _restored_server = serve(&listen, &restored, dir.path(), &[], &[]);
    wait_for_health(&base).await;
    let client = reqwest::Client::new();
    for phone in &before {
        let login = client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({"login": phone, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            login.status(),
            201,
            "{phone} was acknowledged before the backup"
        );
        let token = login.json::<Value>().await.unwrap()["session_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me: Value = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            me["phone"],
            phone.as_str(),
            "sealed values open with the keys"
        );
    }
}

/// One open live-check stream used to keep a stopping node alive for 75 s.
/// Now SIGTERM closes the listener, ends the stream with a reconnect hint,
/// and the process exits 0 well within its grace period.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_ends_the_live_check_streams_and_exits_within_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    // The registries take ten minutes: the checks stay in progress. They
    // never fail here: a simulated timeout would hold the worker's call up
    // to the gateway's timeout, and the stop up to its grace period.
    let mut server = serve(
        &listen,
        &data,
        dir.path(),
        &["--sim-delay-ms", "600000", "--sim-failure-rate", "0"],
        &[("USLUGI_SHUTDOWN_GRACE_S", "5")],
    );
    wait_for_health(&base).await;
    let password = "живые проверки идут";
    assert!(register(&base, &data, "+79264000001", password).await);
    let client = reqwest::Client::new();
    let token = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"login": "+79264000001", "password": password}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = json!({
        "surname": "Резервова", "given_name": "Анна", "patronymic": "Ивановна",
        "sex": "female", "birth_date": "1980-05-17", "birth_place": "гор. Москва",
        "snils": "112-233-445 95", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4510 123456",
            "issue_date": "2000-06-01", "issued_by": "ОВД района Арбат гор. Москвы",
            "department_code": "770-001"}
    });
    let saved = client
        .put(format!("{base}/api/v1/me/personal-data"))
        .bearer_auth(&token)
        .json(&draft)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let submitted = client
        .post(format!("{base}/api/v1/me/personal-data/submit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 202);

    let mut events = client
        .get(format!("{base}/me/verification/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let first = events.chunk().await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("in_progress"),
        "{first:?}"
    );

    let asked = Instant::now();
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = String::new();
    while let Ok(Some(bytes)) = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .expect("the stream ends at once")
    {
        rest.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(rest.contains("event: shutdown"), "{rest}");
    assert!(rest.contains("retry: 3000"), "{rest}");
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(asked.elapsed() < Duration::from_secs(5), "still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(0));
    assert!(
        client.get(format!("{base}/health")).send().await.is_err(),
        "the listener is closed"
    );
}

/// The metrics listener after a journey: the series an operator alerts on
/// are there, by route template, and nothing in them names a person.
#[tokio::test]
async fn metrics_are_served_apart_and_say_nothing_of_anyone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let metrics = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let _server = serve(
        &listen,
        &data,
        dir.path(),
        &["--metrics-listen", &metrics],
        &[
            ("USLUGI_POST__MODE", "print"),
            ("USLUGI_POST__TRACKING_PREFIX", "10100012"),
            ("USLUGI_POST__TRACKING_RANGE_START", "00001"),
            ("USLUGI_POST__TRACKING_RANGE_END", "99999"),
        ],
    );
    wait_for_health(&base).await;
    let password = "счётчики без имён";
    let phone = "+79265000001";
    assert!(register(&base, &data, phone, password).await);
    let client = reqwest::Client::new();
    let session: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"login": phone, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["session_token"].as_str().unwrap();
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let wrong = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"login": phone, "password": "не тот"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let unknown_path = client
        .get(format!("{base}/api/v1/me/{phone}"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_path.status(), 404);

    let text = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        r#"uslugi_http_requests_total{route="/api/v1/me",method="GET",status="200"} 1"#,
        r#"uslugi_http_requests_total{route="/api/v1/registrations/{id}/confirm",method="POST",status="200"} 1"#,
        r#"uslugi_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
        r#"uslugi_http_request_duration_seconds_bucket{route="/api/v1/me",le="0.5"} 1"#,
        r#"uslugi_logins_total{result="success"} 1"#,
        r#"uslugi_logins_total{result="refused"} 1"#,
        r#"uslugi_messages_total{channel="sms",result="sent"} 1"#,
        "uslugi_password_hash_duration_seconds_bucket",
        &format!(
            r#"uslugi_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        ),
        "uslugi_workers_alive 1",
        r#"uslugi_job_failures_total{kind="letter"} 0"#,
        r#"uslugi_logins_total{result="error"} 0"#,
        r#"uslugi_messages_total{channel="email",result="failed"} 0"#,
        r#"uslugi_jobs_pending{kind="registry_check"} 0"#,
        r#"uslugi_jobs_pending{kind="outbox"} 0"#,
        r#"uslugi_jobs_pending{kind="letter"} 0"#,
        "uslugi_post_tracking_numbers_left 99999",
        r#"uslugi_db_pool_connections{state="busy"}"#,
        r#"uslugi_db_pool_connections{state="idle"}"#,
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
    for personal in ["9265000001", "Резервова", "Анна", token, password] {
        assert!(!text.contains(personal), "{personal} in\n{text}");
    }
    // The dashboard and the alert rules shipped in deploy/ read only series
    // the node exports.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let dashboard = std::fs::read_to_string(root.join("grafana/uslugi-dashboard.json")).unwrap();
    serde_json::from_str::<Value>(&dashboard).expect("the dashboard is JSON");
    let alerts = std::fs::read_to_string(root.join("prometheus/alerts.yml")).unwrap();
    let mut used = std::collections::BTreeSet::new();
    for file in [&dashboard, &alerts] {
        for (at, _) in file.match_indices("uslugi_") {
            let name: String = file[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            used.insert(name);
        }
    }
    assert!(used.len() >= 9, "{used:?}");
    for name in &used {
        let exported = text
            .lines()
            .any(|l| l.split(['{', ' ']).next() == Some(name.as_str()));
        assert!(
            exported,
            "deploy/ uses {name}, which /metrics lacks:\n{text}"
        );
    }
    let live = client
        .get(format!("http://{metrics}/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let ready = client
        .get(format!("http://{metrics}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "database: ok\nworkers: ok\n");
    let public = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "not on the public listener");
}

/// With `log_format = "json"` (from the file here) everything the process
/// writes is a JSON line, the start banner included; a request's lines
/// carry its id; no colours.
#[cfg(unix)]
#[tokio::test]
async fn json_logs_are_json_lines_from_the_banner_to_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("uslugi.toml");
    std::fs::write(&config, "log_format = \"json\"\nnot_a_setting = 1\n").unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let mut server = serve(
        &listen,
        &data,
        dir.path(),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_for_health(&base).await;
    assert!(register(&base, &data, "+79266000001", "строки журнала в JSON").await);
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .header("x-request-id", "json-line-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(server.0.wait().unwrap().code(), Some(0));

    let stdout = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .chain(stderr.lines())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for line in &lines {
        for key in ["timestamp", "level", "target", "fields"] {
            assert!(line.get(key).is_some(), "{key} in {line}");
        }
    }
    let said = |text: &str| {
        lines.iter().any(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(text))
        })
    };
    assert!(said("DEVELOPMENT MODE"), "the banner");
    assert!(said("uslugi is listening on"));
    assert!(said("unknown setting ignored"), "warned in JSON too");
    assert!(lines.iter().any(|l| {
        l["span"]["request_id"] == "json-line-1"
            && l["span"]["route"] == "/api/v1/me"
            && l["fields"]["status"] == 401
    }));
    assert!(!stderr.contains('\u{1b}'), "no colours");
    assert!(
        !stdout.contains("[mailbox]"),
        "codes are not echoed into the log"
    );
}

/// `config check` prints the settings in effect from the same layers as
/// `serve`, secrets redacted, and every problem at once (exit 2); `serve`
/// with a problem refuses before it writes anything.
#[test]
fn config_check_names_every_problem_and_serve_refuses_before_any_side_effect() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("never-made");
    let file = dir.path().join("uslugi.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:8080\"\nbase_url = \"https://uslugi.example\"\n\
         trusted_proxies = [\"10.0.0.0/33\"]\ndisplay_utc_offset = \"Moscow\"\n\
         [smtp]\nhost = \"relay.example\"\nfrom = \"portal@uslugi.example\"\n\
         password = \"smtp-secret-value\"\ntypo_key = 1\n",
    )
    .unwrap();
    let check = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.args(["config", "check", "--config", file.to_str().unwrap()])
            .args(args)
            .env_remove("USLUGI_DATABASE_URL")
            .env_remove("USLUGI_DEV")
            .env("USLUGI_DATA_DIR", &data);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = check(
        &[],
        &[("USLUGI_SMS_GATEWAY__URL", "https://sms.example/send")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    for problem in [
        "trusted_proxies: /33 is longer",
        "display_utc_offset: 'Moscow'",
        "registries.url (USLUGI_REGISTRIES__URL)",
    ] {
        assert!(said.contains(problem), "{problem} in {said}");
    }
    assert!(
        said.contains("smtp.typo_key"),
        "the unknown key by its path: {said}"
    );
    assert!(said.contains("host = \"relay.example\""), "{said}");
    assert!(
        said.contains("sms.example"),
        "the environment's layer: {said}"
    );
    assert!(said.contains("[redacted]") && !said.contains("smtp-secret-value"));
    // A flag is a layer too: --dev makes it development, where the
    // missing transports are no problem; the other problems stay.
    let dev = text(&check(&["--dev"], &[]));
    assert!(!dev.contains("registries.url"), "{dev}");
    assert!(dev.contains("trusted_proxies"));

    let serve = Command::new(BIN)
        .args(["serve", "--config", file.to_str().unwrap()])
        .env_remove("USLUGI_DATABASE_URL")
        .env_remove("USLUGI_DEV")
        .env("USLUGI_DATA_DIR", &data)
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(2), "{}", text(&serve));
    assert!(text(&serve).contains("cannot start: trusted_proxies"));
    assert!(
        !data.exists(),
        "nothing written before the settings were checked"
    );

    std::fs::write(&file, "listen = \"127.0.0.1:8080\"\n").unwrap();
    let fine = check(&[], &[]);
    assert_eq!(fine.status.code(), Some(0), "{}", text(&fine));
    assert!(text(&fine).contains("# no problems"));
}

/// An administrator's account commands beside a running node: find by a
/// login, show, disable (the session in use ends at once; a login with the
/// right password is told the account is disabled, a wrong one gets the
/// usual answer), enable; wrong arguments refused before anything opens;
/// each recorded in an audit log that still verifies.
#[tokio::test]
async fn an_administrator_finds_shows_disables_and_enables_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let _server = serve(&listen, &data, dir.path(), &[], &[]);
    wait_for_health(&base).await;
    let password = "администратор не знает пароля";
    let phone = "+79265000077";
    assert!(register(&base, &data, phone, password).await);
    let client = reqwest::Client::new();
    let log_in = |password: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            client
                .post(format!("{base}/api/v1/sessions"))
                .json(&json!({"login": phone, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let session: Value = log_in(password).await.json().await.unwrap();
    let token = session["session_token"].as_str().unwrap().to_owned();
    let me = || {
        client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(me().await.unwrap().status(), 200);

    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "account"];
        all.extend_from_slice(args);
        uslugi(&all, &data)
    };
    let found = admin(&["find", "--phone", "8 926 500-00-77"]);
    assert!(found.status.success(), "{}", text(&found));
    let id = String::from_utf8(found.stdout).unwrap().trim().to_owned();
    assert_eq!(
        admin(&["find", "--phone", "+79265000078"]).status.code(),
        Some(2)
    );
    assert_eq!(
        admin(&["find", "--email", "not an address"]).status.code(),
        Some(2)
    );
    assert_eq!(admin(&["show", "not-an-id"]).status.code(), Some(2));
    assert_eq!(
        admin(&["disable", &id, "--reason", "  "]).status.code(),
        Some(2),
        "a reason is required"
    );

    let shown = text(&admin(&["show", &id]));
    for line in [
        "level: simplified",
        "name: Резервова Анна",
        "phone: +79265000077",
        "sessions: 1",
        "disabled: no",
    ] {
        assert!(shown.contains(line), "{line} in {shown}");
    }

    let disabled = admin(&["disable", &id, "--reason", "обращение № 17"]);
    assert!(disabled.status.success(), "{}", text(&disabled));
    assert!(text(&disabled).contains("1 sessions ended"));
    assert_eq!(
        me().await.unwrap().status(),
        401,
        "the session ended at once"
    );
    let refused = log_in(password).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "account_disabled");
    let wrong = log_in("не тот пароль").await;
    assert_eq!(wrong.status(), 401, "a wrong password learns nothing");
    assert!(text(&admin(&["disable", &id, "--reason", "x"])).contains("disabled already"));
    assert!(text(&admin(&["show", &id])).contains("sessions: 0"));

    // Everything held, for the person's request made in person.
    let file = dir.path().join("account.json");
    let exported = admin(&["export", &id, "--out", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["account"]["id"], id.as_str());
    assert_eq!(doc["account"]["phone"], phone);
    assert!(
        doc["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "account_disabled" && h["by"] == "admin")
    );
    assert_eq!(
        admin(&["export", &id, "--out", file.to_str().unwrap()])
            .status
            .code(),
        Some(2),
        "never replaced"
    );

    assert!(admin(&["enable", &id]).status.success());
    assert_eq!(
        admin(&["enable", &id]).status.code(),
        Some(2),
        "not disabled"
    );
    assert_eq!(log_in(password).await.status(), 201);

    let verified = uslugi(&["admin", "audit", "verify"], &data);
    assert!(verified.status.success(), "{}", text(&verified));

    // The period's records for an auditor, checked with the key alone.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+3))
        .date();
    let (since, until) = (
        today.previous_day().unwrap().to_string(),
        today.next_day().unwrap().to_string(),
    );
    let export = dir.path().join("audit.jsonl");
    let exported = uslugi(
        &[
            "admin",
            "audit",
            "export",
            "--since",
            &since,
            "--until",
            &until,
            "--out",
            export.to_str().unwrap(),
        ],
        &data,
    );
    assert!(exported.status.success(), "{}", text(&exported));
    #[cfg(unix)]
    assert_eq!(mode(&export), 0o600);
    let lines = std::fs::read_to_string(&export).unwrap();
    assert!(lines.contains("account_disabled") && lines.contains("обращение № 17"));
    assert!(
        !lines.contains("+79265000077") && !lines.contains("Резервова"),
        "no personal data"
    );
    let check = |file: &std::path::Path| {
        uslugi(
            &["admin", "audit", "verify", "--file", file.to_str().unwrap()],
            &data,
        )
    };
    assert!(check(&export).status.success(), "{}", text(&check(&export)));
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, lines.replace("обращение № 17", "обращение № 18")).unwrap();
    let broken = check(&tampered);
    assert_eq!(broken.status.code(), Some(1));
    assert!(text(&broken).contains("altered"), "{}", text(&broken));
    let again = uslugi(
        &[
            "admin",
            "audit",
            "export",
            "--since",
            &since,
            "--until",
            &until,
            "--out",
            export.to_str().unwrap(),
        ],
        &data,
    );
    assert_eq!(
        again.status.code(),
        Some(2),
        "an export is never overwritten"
    );
    let backwards = uslugi(
        &[
            "admin", "audit", "export", "--since", &until, "--until", &since, "--out", "x",
        ],
        &data,
    );
    assert_eq!(backwards.status.code(), Some(2));

    // Erased at once, on a verified request: nothing of the person is
    // left, the login is free, the audit chain still verifies.
    let erased = admin(&["delete", &id]);
    assert!(erased.status.success(), "{}", text(&erased));
    assert_eq!(admin(&["show", &id]).status.code(), Some(2));
    assert_eq!(admin(&["delete", &id]).status.code(), Some(2));
    assert_eq!(admin(&["find", "--phone", phone]).status.code(), Some(2));
    assert_eq!(log_in(password).await.status(), 401);
    let verified = uslugi(&["admin", "audit", "verify"], &data);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(
        register(&base, &data, phone, password).await,
        "the phone registers anew"
    );
}
