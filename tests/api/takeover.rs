//! The account-takeover paths of issue 13, each performed as an attack: a
//! stranger starts a flow for the victim's address, a mail scanner opens the
//! link, and the stranger tries to finish what the victim's mailbox proved.
use serde_json::{Value, json};

use crate::helpers::*;

const VICTIM: &str = "victim@example.org";
const STRANGERS_PASSWORD: &str = "чужой пароль злоумышленника";

/// The token of the newest link of `kind` (`register`, `recover`,
/// `me/contacts`) in the letters to `to`.
async fn link_token(app: &TestApp, to: &str, kind: &str) -> String {
    let needle = format!("/{kind}/confirm-email?token=");
    app.messages_to(to)
        .await
        .into_iter()
        .find_map(|m| {
            m.body
                .split_whitespace()
                .find(|w| w.contains(&needle))
                .map(|w| w.split("token=").nth(1).unwrap().to_owned())
        })
        .expect("a letter with the link")
}

/// A mail scanner: follows the link with GET, as many as it likes.
async fn scanner_opens(app: &TestApp, path: &str) {
    for _ in 0..3 {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
}

async fn register_by_email(app: &TestApp, email: &str) -> String {
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Волков", "given_name": "Иван", "email": email, "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["registration_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn recovery_password(app: &TestApp, id: &str, continuation: Option<&str>) -> (u16, Value) {
    let r = app
        .post(
            &format!("/api/v1/recovery/{id}/password"),
            &json!({
                "continuation_token": continuation,
                "password": STRANGERS_PASSWORD,
                "password_confirmation": STRANGERS_PASSWORD,
            }),
        )
        .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_recovery_a_stranger_started_is_finished_only_by_whoever_pressed_the_button() {
    let app = spawn_app().await;
    let reg = register_by_email(&app, VICTIM).await;
    let token = link_token(&app, VICTIM, "register").await;
    app.confirm_registration(&reg, &json!({"token": token}))
        .await;
    assert_eq!(app.set_password(&reg, PASSWORD).await.status(), 201);

    // The stranger starts a recovery of the victim's account.
    let r = app
        .post("/api/v1/recovery", &json!({"login": VICTIM}))
        .await;
    let id = r.json::<Value>().await.unwrap()["recovery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settle(1).await;
    let token = link_token(&app, VICTIM, "recover").await;
    scanner_opens(&app, &format!("/recover/confirm-email?token={token}")).await;
    let (s, body) = recovery_password(&app, &id, None).await;
    assert_eq!(
        (s, error_code(&body)),
        (409, "not_confirmed"),
        "a scanner's GET confirmed nothing"
    );

    // The victim presses the button in their own browser.
    let mut victim = Browser::new(&app);
    let (s, _, _) = victim
        .get(&format!("/recover/confirm-email?token={token}"))
        .await;
    assert_eq!(s, 200);
    let (s, _, to) = victim
        .post("/recover/confirm-email", &[("token", &token)])
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/recover/password")));

    // The stranger, who knows the recovery's id, still cannot continue.
    for guess in [None, Some("made-up-token"), Some("")] {
        let (s, body) = recovery_password(&app, &id, guess).await;
        assert_eq!(
            (s, error_code(&body)),
            (403, "continuation_required"),
            "{guess:?}"
        );
    }
    let (s, _, to) = victim
        .post(
            "/recover/password",
            &[
                ("password", "новый пароль хозяйки"),
                ("password_confirmation", "новый пароль хозяйки"),
            ],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/login?recovered=1")));
    assert_eq!(app.log_in(VICTIM, STRANGERS_PASSWORD).await.status(), 401);
    assert_eq!(
        app.log_in(VICTIM, "новый пароль хозяйки").await.status(),
        201
    );
}

#[tokio::test]
async fn a_recovery_by_the_api_continues_only_with_the_token_its_confirmation_returned() {
    let app = spawn_app().await;
    app.citizen("+79261900001").await;
    let r = app
        .post("/api/v1/recovery", &json!({"login": "+79261900001"}))
        .await;
    let id = r.json::<Value>().await.unwrap()["recovery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261900001").await;
    let confirmed = app.confirm_recovery(&id, &json!({"code": code})).await;
    assert_eq!(confirmed.status(), 200);
    let continuation = confirmed.body["continuation_token"].as_str().unwrap();
    assert_eq!(continuation.len(), 43, "256 bits");
    assert_eq!(confirmed.body["continuation_expires_in"], 1800);
    let (s, body) = recovery_password(&app, &id, None).await;
    assert_eq!((s, error_code(&body)), (403, "continuation_required"));
    let (s, _) = recovery_password(&app, &id, Some(continuation)).await;
    assert_eq!(s, 200);
    let (s, _) = recovery_password(&app, &id, Some(continuation)).await;
    assert_eq!(s, 404, "spent with the recovery");
}

#[tokio::test]
async fn a_registration_of_someone_elses_address_cannot_be_finished_by_the_registrant() {
    let app = spawn_app().await;
    // The stranger registers the victim's address through the API…
    let reg = register_by_email(&app, VICTIM).await;
    let token = link_token(&app, VICTIM, "register").await;
    // …and a mail scanner opens the link.
    scanner_opens(&app, &format!("/register/confirm-email?token={token}")).await;
    let r = app
        .post(
            &format!("/api/v1/registrations/{reg}/password"),
            &json!({"password": STRANGERS_PASSWORD, "password_confirmation": STRANGERS_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), 409, "a scanner's GET confirmed nothing");

    // Even once the owner presses the button, only their browser goes on.
    let mut owner = Browser::new(&app);
    let (s, _, _) = owner
        .get(&format!("/register/confirm-email?token={token}"))
        .await;
    assert_eq!(s, 200);
    let (s, _, to) = owner
        .post("/register/confirm-email", &[("token", &token)])
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/register/password")));
    let r = app
        .post(
            &format!("/api/v1/registrations/{reg}/password"),
            &json!({
                "continuation_token": "guessed",
                "password": STRANGERS_PASSWORD,
                "password_confirmation": STRANGERS_PASSWORD,
            }),
        )
        .await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "continuation_required");
    assert_eq!(app.log_in(VICTIM, STRANGERS_PASSWORD).await.status(), 401);
    let (s, _, to) = owner
        .post(
            "/register/password",
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/register/done")));
    assert_eq!(app.log_in(VICTIM, PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn a_contact_change_to_someone_elses_address_is_not_made_by_a_scanner() {
    let app = spawn_app().await;
    let stranger = app.citizen("+79261900002").await;
    let r = app
        .client
        .post(app.url("/api/v1/me/contacts"))
        .bearer_auth(&stranger)
        .json(&json!({"email": VICTIM, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    app.settle(1).await;
    let token = link_token(&app, VICTIM, "me/contacts").await;
    scanner_opens(&app, &format!("/me/contacts/confirm-email?token={token}")).await;
    let me: Value = app
        .get_bearer("/api/v1/me", &stranger)
        .await
        .json()
        .await
        .unwrap();
    assert!(me["email"].is_null(), "{me}");
    // The address is still free for its owner.
    let reg = register_by_email(&app, VICTIM).await;
    let token = link_token(&app, VICTIM, "register").await;
    assert_eq!(
        app.confirm_registration(&reg, &json!({"token": token}))
            .await
            .status(),
        200
    );
    assert_eq!(app.set_password(&reg, PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn a_completed_recovery_ends_what_others_started_and_says_so() {
    let app = spawn_app().await;
    let old = app.citizen("+79261900003").await;
    // Someone else's pending recovery and a pending contact change.
    let r = app
        .post("/api/v1/recovery", &json!({"login": "+79261900003"}))
        .await;
    let strangers = r.json::<Value>().await.unwrap()["recovery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .client
        .post(app.url("/api/v1/me/contacts"))
        .bearer_auth(&old)
        .json(&json!({"email": "new@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let change = r.json::<Value>().await.unwrap()["change_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(time::Duration::seconds(61));
    let r = app
        .post("/api/v1/recovery", &json!({"login": "+79261900003"}))
        .await;
    let mine = r.json::<Value>().await.unwrap()["recovery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261900003").await;
    let confirmed = app.confirm_recovery(&mine, &json!({"code": code})).await;
    assert_eq!(confirmed.status(), 200);
    let continuation = app.continuation(&mine);
    let (s, _) = recovery_password(&app, &mine, continuation.as_deref()).await;
    assert_eq!(s, 200);
    assert_eq!(app.get_bearer("/api/v1/me", &old).await.status(), 401);
    assert_eq!(
        app.confirm_recovery(&strangers, &json!({"code": "000000"}))
            .await
            .status(),
        404,
        "the other recovery ended"
    );
    assert!(
        app.store
            .contact_change(change.parse().unwrap())
            .await
            .unwrap()
            .is_none(),
        "the pending contact change ended"
    );
    app.settle(1).await;
    let notice = app.messages_to("+79261900003").await.remove(0);
    assert!(
        notice.body.contains("Завершено сеансов: 1")
            && notice.body.contains("смену телефона или почты: 2"),
        "{}",
        notice.body
    );
}

/// A browser that holds the portal's session cookie, made to send a request
/// by another site: no JSON body, no CSRF header.
async fn cross_site_post(app: &TestApp, path: &str, session: &str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .header("cookie", format!("__Host-uslugi-session={session}"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn cookie_authenticated_calls_without_a_body_are_refused_cross_site() {
    let app = spawn_app().await;
    let session = app.citizen("+79261900004").await;
    assert_eq!(
        app.put_bearer("/api/v1/me/personal-data", &session, &ivanov())
            .await
            .status(),
        200
    );
    for path in [
        "/api/v1/me/personal-data/submit",
        "/api/v1/me/second-factor/code",
        "/api/v1/me/identity/letter",
    ] {
        let (s, body) = cross_site_post(&app, path, &session).await;
        assert_eq!((s, error_code(&body)), (403, "csrf"), "{path}");
    }
    let me: Value = app
        .get_bearer("/api/v1/me/verification", &session)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(me["status"], "in_progress", "nothing was submitted: {me}");
    // The same call with the CSRF header of this site's cookie goes through.
    let r = app
        .client
        .post(app.url("/api/v1/me/personal-data/submit"))
        .header(
            "cookie",
            format!("__Host-uslugi-session={session}; __Host-uslugi-csrf=abc"),
        )
        .header("x-csrf-token", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // An app's bearer token needs neither.
    let r = app
        .post_bearer("/api/v1/me/second-factor/code", &session)
        .await;
    let body: Value = r.json().await.unwrap();
    assert_ne!(error_code(&body), "csrf", "{body}");
}
