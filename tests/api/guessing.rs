//! Guessing attacks of issue 13: bursts of concurrent wrong passwords and
//! codes, the password change as an oracle, and answers or writes that
//! would tell known accounts from unknown ones.
use serde_json::{Value, json};
use time::Duration;
use uslugi_domain::OperatorRole;

use crate::helpers::*;

const KALUGA: &str = "kaluga-mfc-kaluga-ul-khrustalnaya-34a";

/// The audit records of `action` with `outcome`.
async fn audited(app: &TestApp, action: &str, outcome: &str) -> usize {
    app.store
        .audit_chain(1, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.entry.action == action && r.entry.outcome == outcome)
        .count()
}

async fn burst_of_wrong_passwords(app: &TestApp, login: &str, n: usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/v1/sessions");
            let body = json!({"login": login, "password": format!("неверный пароль {i}")});
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 401);
    }
}

async fn sessions_of(app: &TestApp, account: &str) -> usize {
    app.store
        .account_sessions(account.parse().unwrap())
        .await
        .unwrap()
        .len()
}

/// Four wrong passwords one by one, then a burst of `n` at once: the fifth
/// failure starts the wait, so of the burst exactly one may be evaluated
/// (on the code before the fix, all of them were), and the right password
/// after it opens no session until the wait is over.
async fn a_burst_then_the_right_password(n: usize, phone: &str) {
    let app = spawn_app().await;
    let account = app.register_phone(phone).await;
    for i in 0..4 {
        let r = app.log_in(phone, &format!("по одному {i}")).await;
        assert_eq!(r.status(), 401);
    }
    burst_of_wrong_passwords(&app, phone, n).await;
    let evaluated = audited(&app, "login", "wrong_password").await;
    assert_eq!(evaluated, 5, "of the burst of {n}, one was evaluated");
    assert!(audited(&app, "login", "refused_throttled").await >= n - 1);
    assert_eq!(app.log_in(phone, PASSWORD).await.status(), 401);
    assert_eq!(sessions_of(&app, &account).await, 0);
    app.advance(Duration::seconds(3));
    assert_eq!(app.log_in(phone, PASSWORD).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_wrong_passwords_are_not_all_evaluated() {
    a_burst_then_the_right_password(50, "+79262000001").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_wrong_passwords_leave_a_throttled_account_without_a_session() {
    a_burst_then_the_right_password(200, "+79262000002").await;
}

#[tokio::test]
async fn the_password_change_is_no_unthrottled_oracle() {
    let app = spawn_app().await;
    let token = app.citizen("+79262000003").await;
    let change = |current: &str| {
        json!({
            "current_password": current,
            "password": "совсем новый пароль тут",
            "password_confirmation": "совсем новый пароль тут",
        })
    };
    let mut answers = Vec::new();
    for i in 0..8 {
        let r = app
            .client
            .post(app.url("/api/v1/me/password"))
            .bearer_auth(&token)
            .json(&change(&format!("догадка {i}")))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        answers.push(error_code(&body).to_owned());
    }
    assert_eq!(
        answers,
        [
            "wrong_current_password",
            "wrong_current_password",
            "wrong_current_password",
            "wrong_current_password",
            "wrong_current_password",
            "throttled",
            "throttled",
            "throttled",
        ]
    );
    // The right current password changes nothing while throttled…
    let r = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&change(PASSWORD))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "throttled");
    // …and the login is throttled by the same count.
    assert_eq!(app.log_in("+79262000003", PASSWORD).await.status(), 401);
    app.advance(Duration::seconds(3));
    assert_eq!(app.log_in("+79262000003", PASSWORD).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_codes_at_the_console_are_not_all_evaluated() {
    let app = spawn_app().await;
    let op = app.operator(KALUGA, OperatorRole::Operator, "olga.g").await;
    let before = audited(&app, "operator_login", "refused").await;
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let operators = std::sync::Arc::clone(&app.operators);
            let password = op.password.clone();
            tokio::spawn(async move {
                operators
                    .log_in("olga.g", &password, &format!("{:06}", 100_000 + i))
                    .await
                    .is_ok()
            })
        })
        .collect();
    for t in tasks {
        assert!(!t.await.unwrap(), "a made-up code never logs in");
    }
    let evaluated = audited(&app, "operator_login", "refused").await - before;
    assert!(
        (1..=5).contains(&evaluated),
        "{evaluated} of 40 codes were evaluated"
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_login_write_alike() {
    let app = spawn_app().await;
    app.register_phone("+79262000004").await;
    let records = || async { app.store.audit_chain(1, 10_000).await.unwrap().len() };
    let start = records().await;
    let known = app.log_in("+79262000004", "неверный пароль").await;
    let after_known = records().await;
    let unknown = app.log_in("+79262000005", "неверный пароль").await;
    let after_unknown = records().await;
    assert_eq!(known.status(), unknown.status());
    let known: Value = known.json().await.unwrap();
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(known, unknown, "the same answer");
    assert_eq!(after_known - start, 1, "a wrong password: one record");
    assert_eq!(
        after_unknown - after_known,
        1,
        "an unknown login: one record too"
    );
    assert_eq!(audited(&app, "login", "unknown_login").await, 1);
    // The unknown login's record keeps no login and names no account.
    let last = app
        .store
        .audit_chain(1, 10_000)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(last.entry.account_id.is_none());
    assert!(
        !last.entry.details.contains("2000005"),
        "{}",
        last.entry.details
    );
}

/// A recovery of a known login wrote a message row that an unknown one did
/// not; the bench measured the extra write (known +7–11 % on PostgreSQL).
#[tokio::test]
async fn a_recovery_of_a_known_and_an_unknown_login_write_alike() {
    let app = spawn_app().await;
    app.register_phone("+79262000006").await;
    let recipients = uslugi_storage::SEALED_COLUMNS
        .iter()
        .find(|c| c.table == "outbox" && c.column == "recipient")
        .unwrap();
    let rows = || async {
        app.store
            .sealed_values(recipients, "", 10_000)
            .await
            .unwrap()
            .len()
    };
    let start = rows().await;
    let known = app
        .post("/api/v1/recovery", &json!({"login": "+79262000006"}))
        .await;
    let after_known = rows().await;
    let unknown = app
        .post("/api/v1/recovery", &json!({"login": "+79262000007"}))
        .await;
    let after_unknown = rows().await;
    assert_eq!(
        (known.status().as_u16(), unknown.status().as_u16()),
        (202, 202)
    );
    assert_eq!(
        (after_known - start, after_unknown - after_known),
        (1, 1),
        "one message row each"
    );
    app.settle(5).await;
    assert_eq!(app.messages_to("+79262000006").await.len(), 2);
    assert!(
        app.messages_to("+79262000007").await.is_empty(),
        "the unknown login's row is never sent"
    );
}

#[tokio::test]
async fn a_snils_is_answered_alike_whatever_contacts_its_account_has() {
    let app = spawn_app().await;
    // An e-mail-only standard account.
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "email": "ivanov@example.org", "accept_terms": true}),
        )
        .await;
    let reg = r.json::<Value>().await.unwrap()["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.last_link("ivanov@example.org").await;
    let token = link.split("token=").nth(1).unwrap().to_owned();
    app.confirm_registration(&reg, &json!({"token": token}))
        .await;
    assert_eq!(app.set_password(&reg, PASSWORD).await.status(), 201);
    let session = app.token("ivanov@example.org", PASSWORD).await;
    assert_eq!(
        app.put_bearer("/api/v1/me/personal-data", &session, &ivanov())
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_bearer("/api/v1/me/personal-data/submit", &session)
            .await
            .status(),
        202
    );
    app.settle(8).await;

    let app = &app;
    let start = |login: &'static str| async move {
        let r = app.post("/api/v1/recovery", &json!({"login": login})).await;
        let body: Value = r.json().await.unwrap();
        body["channel"].as_str().unwrap().to_owned()
    };
    let known = start("112-233-445 95").await;
    let unknown = start("123-456-789 64").await;
    assert_eq!((known.as_str(), unknown.as_str()), ("sms", "sms"));
    // The account's code went where it can go: its e-mail, as a code.
    app.settle(1).await;
    let mail = app.messages_to("ivanov@example.org").await.remove(0);
    assert!(
        mail.body.contains("Код для восстановления доступа"),
        "{}",
        mail.body
    );
}

#[tokio::test]
async fn one_phone_has_one_quota_of_messages_across_every_flow() {
    let app = spawn_app().await;
    app.register_phone("+79262000006").await;
    // Registration's note «already registered» and recovery's codes, to
    // the same phone, count against the same five an hour.
    let register = || async {
        app.post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79262000006", "accept_terms": true}),
        )
        .await
        .status()
        .as_u16()
    };
    let recover = || async {
        app.post("/api/v1/recovery", &json!({"login": "+79262000006"}))
            .await
            .status()
            .as_u16()
    };
    // The registration itself sent the first message of the hour.
    assert_eq!(register().await, 202);
    assert_eq!(register().await, 202);
    assert_eq!(recover().await, 202);
    assert_eq!(recover().await, 202);
    assert_eq!(recover().await, 429, "the sixth message to one phone");
    assert_eq!(register().await, 429);
}

#[tokio::test]
async fn an_ipv6_client_is_limited_by_its_slash_64_for_messages() {
    let app = spawn_with(|s| {
        s.trust_forwarded_for = true;
        s.limits.sends_per_ip_per_hour = 3;
    })
    .await;
    let from = |ip: &'static str, n: u32| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/registrations"))
                .header("x-forwarded-for", ip)
                .json(&json!({
                    "surname": "Иванов", "given_name": "Иван",
                    "phone": format!("+7926200{n:04}"), "accept_terms": true,
                }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(from("2001:db8:1:2::1", 101).await, 202);
    assert_eq!(from("2001:db8:1:2::2", 102).await, 202);
    assert_eq!(from("2001:db8:1:2:ffff::3", 103).await, 202);
    assert_eq!(
        from("2001:db8:1:2:abcd::4", 104).await,
        429,
        "another address of the same /64"
    );
    assert_eq!(from("2001:db8:1:3::1", 105).await, 202, "another /64");
}

/// Behind a proxy that appends the address it was reached from, a client
/// that writes addresses of its own at the left of `X-Forwarded-For` is
/// still counted by its real one; a request that did not come through the
/// proxy is counted by its peer, whatever it says.
#[tokio::test]
async fn a_client_cannot_choose_its_address_through_the_proxies_header() {
    let app = spawn_with(|s| {
        s.trusted_proxies = vec!["127.0.0.0/8".into(), "10.0.0.0/8".into()];
        s.limits.sends_per_ip_per_hour = 3;
    })
    .await;
    let from = |forwarded: String, n: u32| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/registrations"))
                .header("x-forwarded-for", forwarded)
                .json(&json!({
                    "surname": "Иванов", "given_name": "Иван",
                    "phone": format!("+7926300{n:04}"), "accept_terms": true,
                }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // The client says 198.51.100.N; the edge proxy appended what it saw
    // (203.0.113.9), an inner proxy (10.1.1.1) appended the edge's.
    for n in 1..=3 {
        let forwarded = format!("198.51.100.{n}, 203.0.113.9, 10.1.1.1");
        assert_eq!(from(forwarded, n).await, 202);
    }
    assert_eq!(
        from("198.51.100.4, 203.0.113.9, 10.1.1.1".into(), 4).await,
        429,
        "the same client, whatever it wrote on the left"
    );
    assert_eq!(
        from("203.0.113.10, 10.1.1.1".into(), 5).await,
        202,
        "another client behind the same proxies"
    );

    let direct = spawn_with(|s| s.limits.sends_per_ip_per_hour = 1).await;
    let first = direct
        .client
        .post(direct.url("/api/v1/registrations"))
        .header("x-forwarded-for", "198.51.100.1")
        .json(&json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79263009001", "accept_terms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 202);
    let second = direct
        .client
        .post(direct.url("/api/v1/registrations"))
        .header("x-forwarded-for", "198.51.100.2")
        .json(&json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79263009002", "accept_terms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        second.status(),
        429,
        "without trusted proxies the header is not believed"
    );
}

#[tokio::test]
async fn the_portals_name_and_ones_own_snils_are_no_password() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79262000007", &ivanov()).await;
    for (password, problem) in [
        ("Gosuslugi2026!", "Пароль не должен быть названием портала"),
        (
            "мой снилс 112-233-445 95",
            "Пароль не должен содержать СНИЛС",
        ),
    ] {
        let r = app
            .client
            .post(app.url("/api/v1/me/password"))
            .bearer_auth(&token)
            .json(&json!({
                "current_password": PASSWORD,
                "password": password,
                "password_confirmation": password,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{password}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["fields"]["password"], problem, "{body}");
    }
    // Someone else's SNILS is just digits.
    let r = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({
            "current_password": PASSWORD,
            "password": "мой снилс 123-456-789 64",
            "password_confirmation": "мой снилс 123-456-789 64",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
