use serde_json::{Value, json};
use time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn one_field_takes_a_phone_in_any_spelling_or_an_email() {
    let app = spawn_app().await;
    app.register_phone("+79101234567").await;
    for login in [
        "+79101234567",
        "89101234567",
        "8 910 123 45 67",
        "+7 (910) 123-45-67",
    ] {
        assert_eq!(app.log_in(login, PASSWORD).await.status(), 201, "{login}");
    }
    let r = app.log_in("+79101234567", "wrong password").await;
    assert_eq!(r.status(), 401);
    let wrong: Value = r.json().await.unwrap();
    let r = app.log_in("+79109999999", PASSWORD).await;
    assert_eq!(r.status(), 401);
    let unknown: Value = r.json().await.unwrap();
    assert_eq!(
        wrong, unknown,
        "an unknown login and a wrong password answer alike"
    );
    let r = app.log_in("123-456-789 01", PASSWORD).await;
    assert_eq!(
        r.status(),
        401,
        "the SNILS path exists and finds no account"
    );
}

#[tokio::test]
async fn wrong_passwords_throttle_then_lock_until_unlocked() {
    let app = spawn_app().await;
    app.register_phone("+79101234568").await;
    for _ in 0..5 {
        assert_eq!(
            app.log_in("+79101234568", "not the password")
                .await
                .status(),
            401
        );
    }
    // Throttled: even the right password is refused, with the same answer.
    let r = app.log_in("+79101234568", PASSWORD).await;
    assert_eq!(r.status(), 401);
    app.advance(Duration::seconds(2));
    assert_eq!(
        app.log_in("+79101234568", PASSWORD).await.status(),
        201,
        "the wait is over"
    );

    // Each further wrong try waits longer.
    for _ in 0..5 {
        app.log_in("+79101234568", "not the password").await;
    }
    app.advance(Duration::seconds(2));
    app.log_in("+79101234568", "not the password").await; // sixth in a row: 4 s
    app.advance(Duration::seconds(3));
    assert_eq!(
        app.log_in("+79101234568", PASSWORD).await.status(),
        401,
        "still waiting"
    );
    app.advance(Duration::seconds(1));
    assert_eq!(app.log_in("+79101234568", PASSWORD).await.status(), 201);

    // A hundred in a row lock the account.
    for _ in 0..100 {
        app.advance(Duration::minutes(31));
        assert_eq!(
            app.log_in("+79101234568", "not the password")
                .await
                .status(),
            401
        );
    }
    app.advance(Duration::days(1));
    let r = app.log_in("+79101234568", PASSWORD).await;
    assert_eq!(r.status(), 401, "locked until access is recovered");
    assert!(app.accounts.unlock("8 910 123 45 68").await.unwrap());
    assert_eq!(app.log_in("+79101234568", PASSWORD).await.status(), 201);
    assert!(!app.accounts.unlock("+79990000000").await.unwrap());
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes() {
    let app = spawn_app().await;
    app.register_phone("+79101234569").await;
    let token = app.token("+79101234569", PASSWORD).await;
    app.advance(Duration::minutes(29));
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 200);
    app.advance(Duration::minutes(29));
    assert_eq!(
        app.get_bearer("/api/v1/me", &token).await.status(),
        200,
        "activity keeps it alive"
    );
    app.advance(Duration::minutes(31));
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 401);
}

#[tokio::test]
async fn a_session_ends_after_twelve_hours_however_active() {
    let app = spawn_app().await;
    app.register_phone("+79101234570").await;
    let token = app.token("+79101234570", PASSWORD).await;
    for _ in 0..30 {
        app.advance(Duration::minutes(29));
        if app.get_bearer("/api/v1/me", &token).await.status() != 200 {
            break;
        }
    }
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 401);
}

/// A remembered login: its cookie, and its token.
async fn remembered(app: &TestApp, phone: &str) -> (String, String) {
    app.register_phone(phone).await;
    let r = app
        .post(
            "/api/v1/sessions",
            &json!({"login": phone, "password": PASSWORD, "remember_me": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-uslugi-session="))
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (cookie, token)
}

#[tokio::test]
async fn remember_me_keeps_a_session_in_use_thirty_days_and_not_after() {
    let app = spawn_app().await;
    let (cookie, token) = remembered(&app, "+79101234571").await;
    assert!(cookie.contains("Max-Age=2592000"), "{cookie}");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    // Used every six days: alive on days 6, 12, 18 and 24…
    for _ in 0..4 {
        app.advance(Duration::days(6));
        assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 200);
    }
    // …and to the last minute of day 30, but not a minute after.
    app.advance(Duration::days(6) - Duration::minutes(1));
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 200);
    app.advance(Duration::minutes(1));
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 401);
}

#[tokio::test]
async fn a_remembered_session_unused_for_a_week_is_gone() {
    let app = spawn_app().await;
    let (_, token) = remembered(&app, "+79101234573").await;
    app.advance(Duration::days(7) + Duration::minutes(1));
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 401);
    let (_, token) = remembered(&app, "+79101234574").await;
    app.advance(Duration::days(7) - Duration::minutes(1));
    assert_eq!(
        app.get_bearer("/api/v1/me", &token).await.status(),
        200,
        "a week less a minute is not yet idle"
    );
}

#[tokio::test]
async fn each_login_gets_a_new_session_and_logout_ends_it() {
    let app = spawn_app().await;
    app.register_phone("+79101234572").await;
    let a = app.token("+79101234572", PASSWORD).await;
    let b = app.token("+79101234572", PASSWORD).await;
    assert_ne!(a, b);
    assert!(a.len() >= 43, "at least 256 bits");
    // The cookie works as well as the bearer header.
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("__Host-uslugi-session={a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let r = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_bearer("/api/v1/me", &a).await.status(), 401);
    assert_eq!(app.get_bearer("/api/v1/me", &b).await.status(), 200);
}

#[tokio::test]
async fn logging_out_without_a_live_session_answers_401_like_any_authenticated_call() {
    let app = spawn_app().await;
    app.register_phone("+79101234575").await;
    let token = app.token("+79101234575", PASSWORD).await;
    let log_out = |token: Option<&str>| {
        let mut r = app.client.delete(app.url("/api/v1/sessions/current"));
        if let Some(token) = token {
            r = r.bearer_auth(token);
        }
        r.send()
    };
    assert_eq!(log_out(Some(&token)).await.unwrap().status(), 204);
    for (token, why) in [
        (
            Some(token.as_str()),
            "a second logout: the session has ended",
        ),
        (Some("not-a-session"), "an unknown token"),
        (None, "no token"),
    ] {
        let r = log_out(token).await.unwrap();
        assert_eq!(r.status(), 401, "{why}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "unauthorized", "{why}");
    }
}

/// An administrator disables the account while a login with the right
/// password is being written (staged by a trigger that blocks the account
/// inside the login's own transaction, after the disabled check): no
/// session opens, and the answer is the disabled account's, not a failure
/// of the server. It was a 500.
#[tokio::test]
async fn an_account_disabled_while_its_login_is_written_opens_nothing_and_says_so() {
    let app = spawn_app().await;
    app.citizen("+79101234590").await;
    // One wrong try first, so the login's own reset of the count is the
    // update the trigger sees.
    assert_eq!(app.log_in("+79101234590", "wrong").await.status(), 401);
    if app.on_postgres {
        app.sql(&[
            "CREATE FUNCTION disable_during_login() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN INSERT INTO account_blocks (account_id, disabled_at) VALUES (NEW.id, 0); \
             RETURN NEW; END $$",
            "CREATE TRIGGER disable_during_login AFTER UPDATE OF failed_logins ON accounts \
             FOR EACH ROW WHEN (OLD.failed_logins > 0 AND NEW.failed_logins = 0) \
             EXECUTE FUNCTION disable_during_login()",
        ])
        .await;
    } else {
        app.sql(&[
            "CREATE TRIGGER disable_during_login AFTER UPDATE OF failed_logins ON accounts \
             WHEN OLD.failed_logins > 0 AND NEW.failed_logins = 0 \
             BEGIN INSERT INTO account_blocks (account_id, disabled_at) VALUES (NEW.id, 0); END",
        ])
        .await;
    }
    let r = app.log_in("+79101234590", PASSWORD).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (status.as_u16(), error_code(&body)),
        (403, "account_disabled")
    );
    let audit = app.store.audit_chain(1, 1000).await.unwrap();
    assert_eq!(
        audit.last().map(|r| r.entry.outcome.as_str()),
        Some("refused_disabled")
    );
    // The staged block went with the refused transaction: once the trigger
    // is gone the same password opens a session, the attempt given back.
    app.sql(&[if app.on_postgres {
        "DROP TRIGGER disable_during_login ON accounts"
    } else {
        "DROP TRIGGER disable_during_login"
    }])
    .await;
    assert_eq!(app.log_in("+79101234590", PASSWORD).await.status(), 201);
}
