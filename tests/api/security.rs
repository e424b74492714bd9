//! The account's sessions and history, and the notices of a new device
//! and a changed password.
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::*;

async fn log_in_from(app: &TestApp, login: &str, password: &str, device: &str, ua: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("user-agent", ua)
        .json(&json!({"login": login, "password": password, "device_id": device}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const PHONE: &str = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120 YaBrowser/24.1 Mobile Safari/537.36";

#[tokio::test]
async fn a_login_from_a_new_device_is_told_once() {
    let app = spawn_app().await;
    app.register_phone("+79261600001").await;
    log_in_from(&app, "+79261600001", PASSWORD, "device-a", CHROME).await;
    log_in_from(&app, "+79261600001", PASSWORD, "device-a", CHROME).await;
    app.settle(1).await;
    assert_eq!(
        new_device_notices(&app).await,
        0,
        "the first device is the one registered on"
    );
    log_in_from(&app, "+79261600001", PASSWORD, "device-b", PHONE).await;
    app.settle(1).await;
    assert_eq!(new_device_notices(&app).await, 1);
    let sms = app.messages_to("+79261600001").await.remove(0);
    assert!(sms.body.contains("Яндекс Браузер, Android"), "{}", sms.body);
    log_in_from(&app, "+79261600001", PASSWORD, "device-b", PHONE).await;
    app.settle(1).await;
    assert_eq!(
        new_device_notices(&app).await,
        1,
        "a known device is not told again"
    );
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_by_one_or_all_others() {
    let app = spawn_app().await;
    app.register_phone("+79261600002").await;
    let a = log_in_from(&app, "+79261600002", PASSWORD, "a", CHROME).await;
    let b = log_in_from(&app, "+79261600002", PASSWORD, "b", PHONE).await;
    let c = log_in_from(&app, "+79261600002", PASSWORD, "c", "uslugi-kiosk/2.1").await;
    let list: Value = app
        .get_bearer("/api/v1/me/sessions", &a)
        .await
        .json()
        .await
        .unwrap();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let current = sessions.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(current["device"], "Chrome, Windows");
    assert_eq!(current["network"], "127.0.0.0/24");
    let phone = sessions
        .iter()
        .find(|s| s["device"] == "Яндекс Браузер, Android")
        .unwrap();
    let r = app
        .client
        .delete(app.url(&format!(
            "/api/v1/me/sessions/{}",
            phone["id"].as_str().unwrap()
        )))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_bearer("/api/v1/me", &b).await.status(), 401);
    let r = app
        .client
        .delete(app.url("/api/v1/me/sessions/0000000000000000"))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .delete(app.url("/api/v1/me/sessions"))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["ended"], 1);
    assert_eq!(app.get_bearer("/api/v1/me", &c).await.status(), 401);
    assert_eq!(
        app.get_bearer("/api/v1/me", &a).await.status(),
        200,
        "this one stays"
    );
}

#[tokio::test]
async fn the_history_shows_logins_and_changes_of_the_last_90_days() {
    let app = spawn_app().await;
    app.register_phone("+79261600003").await;
    app.log_in("+79261600003", "wrong password").await;
    let token = log_in_from(&app, "+79261600003", PASSWORD, "a", CHROME).await;
    let r = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": PASSWORD, "password": "новый пароль для портала", "password_confirmation": "новый пароль для портала"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.settle(1).await;
    let sms = app.messages_to("+79261600003").await.remove(0);
    assert!(
        sms.body.contains("Пароль вашей учётной записи изменён"),
        "{}",
        sms.body
    );
    let events: Value = app
        .get_bearer("/api/v1/me/security-events", &token)
        .await
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Пароль изменён",
            "Вход",
            "Неудачная попытка входа: неверный пароль",
            "Регистрация учётной записи"
        ],
        "newest first"
    );
    app.advance(Duration::days(91));
    let token = app.token("+79261600003", "новый пароль для портала").await;
    let events: Value = app
        .get_bearer("/api/v1/me/security-events", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        events["events"].as_array().unwrap().len(),
        1,
        "only the login just now"
    );
}

#[tokio::test]
async fn without_javascript_the_security_page_lists_and_ends_sessions() {
    let app = spawn_app().await;
    app.register_phone("+79261600004").await;
    let other = log_in_from(&app, "+79261600004", PASSWORD, "other", PHONE).await;
    let mut b = Browser::new(&app);
    b.get("/login").await;
    let (s, _, _) = b
        .post(
            "/login",
            &[("login", "+79261600004"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(s, 303);
    assert!(
        b.cookies.contains_key("__Host-uslugi-device"),
        "the browser gets a device id"
    );
    let (_, html, _) = b.get("/me").await;
    assert!(html.contains("href=\"/me/security\""));
    let (s, html, _) = b.get("/me/security").await;
    assert_eq!(s, 200);
    assert!(html.contains("Активные сеансы") && html.contains("это устройство"));
    assert!(html.contains("Яндекс Браузер, Android"));
    assert!(html.contains("Вход"), "the history");
    let (s, _, to) = b.post("/me/security/sessions/end-others", &[]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/me/security?ended=1")));
    assert_eq!(app.get_bearer("/api/v1/me", &other).await.status(), 401);
    let (_, html, _) = b.get("/me/security?ended=1").await;
    assert!(html.contains("Сеанс завершён."));
    assert!(!html.contains("Яндекс Браузер, Android"));
}

async fn new_device_notices(app: &TestApp) -> usize {
    app.messages_to("+79261600001")
        .await
        .iter()
        .filter(|m| m.body.contains("с нового устройства"))
        .count()
}

#[tokio::test]
async fn places_are_named_only_when_a_file_of_networks_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("places.csv");
    std::fs::write(
        &file,
        "# network,place\n127.0.0.0/8,Тестоград\n127.0.0.0/24,Тестоград-Центр\n",
    )
    .unwrap();
    let app = spawn_with(|s| s.places_file = Some(file.clone())).await;
    app.register_phone("+79261600031").await;
    let token = log_in_from(&app, "+79261600031", PASSWORD, "a", CHROME).await;
    log_in_from(&app, "+79261600031", PASSWORD, "b", PHONE).await;
    let list: Value = app
        .get_bearer("/api/v1/me/sessions", &token)
        .await
        .json()
        .await
        .unwrap();
    let sessions = list["sessions"].as_array().unwrap();
    assert!(
        sessions.iter().all(|s| s["place"] == "Тестоград-Центр"),
        "the most specific network: {sessions:?}"
    );
    let events: Value = app
        .get_bearer("/api/v1/me/security-events", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"][0]["place"], "Тестоград-Центр");
    app.settle(1).await;
    let notice = app
        .messages_to("+79261600031")
        .await
        .into_iter()
        .find(|m| m.body.contains("нового устройства"))
        .expect("the new device's notice");
    assert!(
        notice
            .body
            .contains("Яндекс Браузер, Android (Тестоград-Центр)"),
        "{}",
        notice.body
    );
    let mut b = Browser::new(&app);
    b.get("/login").await;
    b.post(
        "/login",
        &[("login", "+79261600031"), ("password", PASSWORD)],
    )
    .await;
    let (_, page, _) = b.get("/me/security").await;
    assert!(page.contains("Место (примерно): Тестоград-Центр"));

    // Without the file nothing is guessed.
    let plain = spawn_app().await;
    plain.register_phone("+79261600032").await;
    let token = log_in_from(&plain, "+79261600032", PASSWORD, "a", CHROME).await;
    let list: Value = plain
        .get_bearer("/api/v1/me/sessions", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["sessions"][0]["place"], Value::Null);
}

/// A session opened with a temporary password may only replace it (and see
/// `/me`, and log out): the sessions and the history are refused as every
/// other `/me` call is, listed or ended.
#[tokio::test]
async fn a_temporary_password_opens_neither_the_sessions_nor_the_history() {
    let app = spawn_app().await;
    let phone = "+79261600006";
    app.standard_citizen(phone, &ivanov()).await;
    let mut op = app
        .operator(
            "kaluga-mfc-kaluga-ul-khrustalnaya-34a",
            uslugi_domain::OperatorRole::Operator,
            "sessions",
        )
        .await;
    let id = op.find("phone", phone).await.remove(0);
    let restore = op.act(&id, "restore");
    let (s, html, _) = op
        .post(
            &restore,
            &[("document_matches", "1"), ("person_matches", "1")],
        )
        .await;
    assert_eq!(s, 303, "{html}");
    app.settle(1).await;
    let sms = app.messages_to(phone).await.remove(0);
    // The temporary password: the SMS's only word of ten lower-case letters
    // and digits.
    let temporary = sms
        .body
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| {
            w.len() == 10
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        .expect("the SMS holds a temporary password")
        .to_owned();
    let token = app.token(phone, &temporary).await;
    for (method, path) in [
        ("GET", "/api/v1/me/sessions"),
        ("DELETE", "/api/v1/me/sessions"),
        ("DELETE", "/api/v1/me/sessions/0000000000000000"),
        ("GET", "/api/v1/me/security-events"),
    ] {
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{method} {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            error_code(&body),
            "password_change_required",
            "{method} {path}"
        );
    }
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 200);
}
