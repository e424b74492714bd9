//! «Удалить учётную запись»: the citizen's own deletion. The password (and
//! the factor) ask for it, every session ends, a login within 30 days
//! cancels it, and after them the account is erased: nothing of the person
//! is left but the audit records, by id.
use serde_json::{Value, json};
use time::Duration;
use uslugi_domain::AccountId;

use crate::helpers::*;

async fn ask(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/me/deletion"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn account_id(app: &TestApp, token: &str) -> AccountId {
    let data: Value = app
        .get_bearer("/api/v1/me/data", token)
        .await
        .json()
        .await
        .unwrap();
    data["account"]["id"].as_str().unwrap().parse().unwrap()
}

async fn bodies_to(app: &TestApp, phone: &str) -> Vec<String> {
    app.settle(0).await;
    app.messages_to(phone)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect()
}

#[tokio::test]
async fn a_deletion_ends_every_session_and_erases_the_account_after_thirty_days() {
    let app = spawn_app().await;
    let phone = "+79261800001";
    let token = app.standard_citizen(phone, &ivanov()).await;
    let other = app.token(phone, PASSWORD).await;
    let id = account_id(&app, &token).await;

    let r = ask(&app, &token, &json!({"password": "not the password"})).await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(&r.json().await.unwrap()), "wrong_password");
    let r = ask(&app, &token, &json!({})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.accounts.pending_deletion(id).await.unwrap(), None);

    let r = ask(&app, &token, &json!({"password": PASSWORD})).await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["erase_in"], 30 * 24 * 3600);
    for t in [&token, &other] {
        assert_eq!(
            app.get_bearer("/api/v1/me", t).await.status(),
            401,
            "every session has ended"
        );
    }
    assert!(
        bodies_to(&app, phone)
            .await
            .iter()
            .any(|b| b.contains("будет удалена")),
        "the contacts are told the date"
    );

    // Not before its date.
    app.advance(Duration::days(29));
    app.accounts.sweep().await.unwrap();
    assert!(app.store.account(id).await.unwrap().is_some());

    app.advance(Duration::days(1) + Duration::minutes(1));
    app.accounts.sweep().await.unwrap();
    assert!(app.store.account(id).await.unwrap().is_none(), "erased");
    assert_eq!(app.log_in(phone, PASSWORD).await.status(), 401);
    assert!(app.store.personal_data(id).await.unwrap().is_none());
    let about = uslugi_app::ports::AuditFilter {
        account_id: Some(id),
        ..Default::default()
    };
    let kept = app.store.audit_records(&about, None, 100).await.unwrap();
    let actions: Vec<&str> = kept.iter().map(|r| r.entry.action.as_str()).collect();
    assert!(actions.contains(&"deletion_requested"), "{actions:?}");
    assert!(actions.contains(&"account_deleted"), "{actions:?}");
    for r in &kept {
        assert!(
            !r.entry.details.contains("926") && !r.entry.details.contains("Иван"),
            "no personal data in what is kept: {}",
            r.entry.details
        );
    }
    // The chain still links every record, the erased account's included.
    let (path, generate) = app.settings.secrets_path();
    let secrets = uslugi::secrets::load(&path, generate).unwrap();
    let log = uslugi_app::audit::AuditLog::new(std::sync::Arc::new(
        uslugi_app::crypto::Crypto::new(secrets),
    ));
    let report = log.verify(app.store.as_ref()).await.unwrap();
    assert_eq!(report.first_problem, None);
    assert!(report.records > 0);
    // The phone is free again.
    app.register_phone(phone).await;
}

#[tokio::test]
async fn a_login_within_the_grace_cancels_the_deletion() {
    let app = spawn_app().await;
    let phone = "+79261800002";
    let token = app.citizen(phone).await;
    let id = account_id(&app, &token).await;
    assert_eq!(
        ask(&app, &token, &json!({"password": PASSWORD}))
            .await
            .status(),
        202
    );
    app.advance(Duration::days(10));
    assert_eq!(app.log_in(phone, PASSWORD).await.status(), 201);
    assert_eq!(app.accounts.pending_deletion(id).await.unwrap(), None);
    assert!(
        bodies_to(&app, phone)
            .await
            .iter()
            .any(|b| b.contains("удаление отменено")),
        "the contacts are told"
    );
    app.advance(Duration::days(25));
    app.accounts.sweep().await.unwrap();
    assert!(app.store.account(id).await.unwrap().is_some(), "kept");
    assert_eq!(app.log_in(phone, PASSWORD).await.status(), 201);
    let history: Value = app
        .get_bearer("/api/v1/me/data", &app.token(phone, PASSWORD).await)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"deletion_cancelled"), "{actions:?}");
}

#[tokio::test]
async fn with_a_second_factor_the_deletion_needs_its_code_once() {
    let app = spawn_app().await;
    let phone = "+79261800003";
    let token = app.citizen(phone).await;
    let id = account_id(&app, &token).await;
    let (_, codes) = with_app(&app, &token).await;
    let backup = &codes[0];

    let r = ask(&app, &token, &json!({"password": PASSWORD})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&r.json().await.unwrap()), "code_required");
    let r = ask(
        &app,
        &token,
        &json!({"password": PASSWORD, "code": "000000"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&r.json().await.unwrap()), "code_wrong");
    assert_eq!(app.accounts.pending_deletion(id).await.unwrap(), None);
    let r = ask(&app, &token, &json!({"password": PASSWORD, "code": backup})).await;
    assert_eq!(r.status(), 202);
    assert!(app.accounts.pending_deletion(id).await.unwrap().is_some());
}

/// Thirty requests at once from one session: one deletion, one audit
/// record, one notice; the others find the session ended or the request
/// made.
#[tokio::test]
async fn a_deletion_asked_thirty_times_at_once_is_asked_once() {
    let app = spawn_app().await;
    let phone = "+79261800004";
    let token = app.citizen(phone).await;
    let id = account_id(&app, &token).await;
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let request = app
                .client
                .post(app.url("/api/v1/me/deletion"))
                .bearer_auth(&token)
                .json(&json!({"password": PASSWORD}));
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(
        answers.iter().filter(|&&s| s == 202).count(),
        1,
        "{answers:?}"
    );
    for s in &answers {
        assert!([202, 401, 409, 429].contains(s), "{answers:?}");
    }
    let about = uslugi_app::ports::AuditFilter {
        account_id: Some(id),
        ..Default::default()
    };
    let asked = app
        .store
        .audit_records(&about, None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.action == "deletion_requested")
        .count();
    assert_eq!(asked, 1);
}

#[tokio::test]
async fn the_page_asks_the_password_and_logs_the_browser_out() {
    let app = spawn_app().await;
    let phone = "+79261800005";
    app.citizen(phone).await;
    let mut b = Browser::new(&app);
    b.get("/login").await;
    let (s, _, _) = b
        .post("/login", &[("login", phone), ("password", PASSWORD)])
        .await;
    assert_eq!(s, 303);
    let (s, me, _) = b.get("/me").await;
    assert_eq!(s, 200);
    assert!(
        me.contains("href=\"/me/delete\""),
        "offered on «Мои данные»"
    );
    let (s, page, _) = b.get("/me/delete").await;
    assert_eq!(s, 200);
    assert!(page.contains("через 30 дней") && page.contains("name=\"password\""));
    assert!(!page.contains("name=\"code\""), "no factor, no code asked");

    let (s, page, _) = b.post("/me/delete", &[("password", "wrong")]).await;
    assert_eq!(s, 422);
    assert!(page.contains("error-summary"));
    let (s, page, _) = b.post("/me/delete", &[("password", PASSWORD)]).await;
    assert_eq!(s, 200);
    assert!(page.contains("Учётная запись будет удалена"), "{page}");
    assert!(
        !b.cookies.contains_key("__Host-uslugi-session"),
        "the browser is logged out"
    );
    let (s, _, to) = b.get("/me").await;
    assert_eq!(s, 303);
    assert!(to.unwrap().starts_with("/login"));
    // Without the CSRF token nothing is asked.
    let mut stranger = Browser::new(&app);
    let token = app.token(phone, PASSWORD).await;
    stranger
        .cookies
        .insert("__Host-uslugi-session".into(), token);
    let (s, _, _) = stranger.post("/me/delete", &[("password", PASSWORD)]).await;
    assert_eq!(s, 403);
}
