use serde_json::{Value, json};
use time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn a_phone_registration_runs_from_form_to_my_data() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "phone": "8 925 391 02 02", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["channel"], "sms");
    assert_eq!(body["expires_in"], 300);
    let id = body["registration_id"].as_str().unwrap().to_owned();

    let sms = app.messages_to("+79253910202").await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].channel, "sms");
    let codes = six_digit_numbers(&sms[0].body);
    assert_eq!(
        codes.len(),
        1,
        "the code is the SMS's only six-digit number"
    );

    assert_eq!(app.confirm_code(&id, &codes[0]).await.status(), 200);
    let r = app.set_password(&id, PASSWORD).await;
    assert_eq!(r.status(), 201);
    let account: Value = r.json().await.unwrap();

    let token = app.token("+7 (925) 391-02-02", PASSWORD).await;
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({
            "account_id": account["account_id"], "level": "simplified", "surname": "Иванов",
            "given_name": "Иван", "phone": "+79253910202", "email": null,
            "confirmed_at": null, "confirmed_via": null, "password_change_required": false
        })
    );
    // The registration is over: its id leads nowhere now.
    assert_eq!(app.set_password(&id, PASSWORD).await.status(), 404);
}

#[tokio::test]
async fn an_email_registration_uses_a_link_built_from_the_configured_base_url() {
    let app = spawn_app().await;
    let r = app
        .post_with(
            "/api/v1/registrations",
            &json!({"surname": "Петрова", "given_name": "Анна", "email": " Anna.Petrova@Mail.RU ", "accept_terms": true}),
            &[("host", "evil.example"), ("x-forwarded-host", "evil.example")],
        )
        .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["channel"], "email");
    assert_eq!(body["expires_in"], 3 * 24 * 3600);
    let link = app.last_link("Anna.Petrova@mail.ru").await;
    assert!(
        link.starts_with(&format!("{}/register/confirm-email?token=", app.base)),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap();
    assert!(token.len() >= 43, "at least 256 bits, URL-safe base64");

    let id = body["registration_id"].as_str().unwrap();
    let r = app
        .confirm_registration(id, &json!({"token": "wrong"}))
        .await;
    assert_eq!(r.status(), 422);
    let r = app.confirm_registration(id, &json!({"token": token})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.set_password(id, PASSWORD).await.status(), 201);
    // E-mail is compared without case.
    app.token("anna.petrova@MAIL.ru", PASSWORD).await;
}

#[tokio::test]
async fn the_sms_code_is_accepted_at_299_seconds() {
    let app = spawn_app().await;
    let id = app.start_phone("+79001112233").await;
    let code = app.last_code("+79001112233").await;
    app.advance(Duration::seconds(299));
    assert_eq!(app.confirm_code(&id, &code).await.status(), 200);
}

#[tokio::test]
async fn the_sms_code_is_refused_at_301_seconds() {
    let app = spawn_app().await;
    let id = app.start_phone("+79001112234").await;
    let code = app.last_code("+79001112234").await;
    app.advance(Duration::seconds(301));
    let r = app.confirm_code(&id, &code).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&r.json().await.unwrap()), "code_expired");
}

#[tokio::test]
async fn the_email_link_is_refused_after_three_days() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Сидоров", "given_name": "Олег", "email": "oleg@example.ru", "accept_terms": true}),
        )
        .await;
    let id = r.json::<Value>().await.unwrap()["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.last_link("oleg@example.ru").await;
    let token = link.split("token=").nth(1).unwrap().to_owned();
    app.advance(Duration::days(3) + Duration::seconds(1));
    let r = app
        .confirm_registration(&id, &json!({"token": token}))
        .await;
    assert!(r.status() == 422 || r.status() == 404, "{}", r.status());
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 410);
}

#[tokio::test]
async fn three_wrong_codes_kill_the_code_and_a_new_one_must_be_requested() {
    let app = spawn_app().await;
    let id = app.start_phone("+79001112235").await;
    let code = app.last_code("+79001112235").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = app.confirm_code(&id, wrong).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "code_wrong");
    assert!(
        body["error"]["fields"]["code"]
            .as_str()
            .unwrap()
            .contains('2')
    );
    app.confirm_code(&id, wrong).await;
    let r = app.confirm_code(&id, wrong).await;
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "code_attempts_exhausted"
    );
    let r = app.confirm_code(&id, &code).await;
    assert_eq!(r.status(), 422, "the right code is dead too");
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "code_attempts_exhausted"
    );

    app.advance(Duration::seconds(60));
    let r = app
        .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
        .await;
    assert_eq!(r.status(), 202);
    let fresh = app.last_code("+79001112235").await;
    assert_eq!(app.confirm_code(&id, &fresh).await.status(), 200);
}

#[tokio::test]
async fn fifty_concurrent_wrong_codes_count_as_at_most_three_attempts() {
    let app = spawn_app().await;
    let id = app.start_phone("+79001112236").await;
    let code = app.last_code("+79001112236").await;
    let wrong: u32 = (code.parse::<u32>().unwrap() + 1) % 1_000_000;
    let wrong = format!("{wrong:06}");
    let guesses: Vec<_> = (0..50)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url(&format!("/api/v1/registrations/{id}/confirm"));
            let wrong = wrong.clone();
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .json(&json!({"code": wrong}))
                    .send()
                    .await
                    .unwrap();
                let body: Value = r.json().await.unwrap();
                error_code(&body).to_owned()
            })
        })
        .collect();
    let mut judged_wrong = 0;
    for g in guesses {
        match g.await.unwrap().as_str() {
            "code_wrong" => judged_wrong += 1,
            "code_attempts_exhausted" => {}
            other => panic!("unexpected answer {other}"),
        }
    }
    assert!(
        judged_wrong <= 2,
        "at most three attempts were compared ({judged_wrong} + the last)"
    );
    let r = app.confirm_code(&id, &code).await;
    assert_eq!(r.status(), 422, "the right code is then refused");
}

#[tokio::test]
async fn a_new_code_waits_sixty_seconds_and_voids_the_previous_one() {
    let app = spawn_app().await;
    let id = app.start_phone("+79001112237").await;
    let first = app.last_code("+79001112237").await;
    let r = app
        .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "60");
    app.advance(Duration::seconds(59));
    let r = app
        .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
        .await;
    assert_eq!(r.headers()["retry-after"], "1");
    app.advance(Duration::seconds(1));
    let r = app
        .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
        .await;
    assert_eq!(r.status(), 202);
    let second = app.last_code("+79001112237").await;
    if first != second {
        let r = app.confirm_code(&id, &first).await;
        assert_eq!(error_code(&r.json().await.unwrap()), "code_wrong");
    }
    assert_eq!(app.confirm_code(&id, &second).await.status(), 200);
}

#[tokio::test]
async fn at_most_five_codes_per_phone_per_hour() {
    let app = spawn_app().await;
    let id = app.start_phone("+79001112238").await;
    for _ in 0..4 {
        app.advance(Duration::seconds(60));
        let r = app
            .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
            .await;
        assert_eq!(r.status(), 202);
    }
    app.advance(Duration::seconds(60));
    let r = app
        .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // A fresh registration of the same phone is counted against the same limit.
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79001112238", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(app.messages_to("+79001112238").await.len(), 5);
    app.advance(Duration::hours(1));
    let r = app
        .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
        .await;
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn sends_from_one_address_are_limited() {
    let app = spawn_with(|s| s.limits.sends_per_ip_per_hour = 3).await;
    for n in 0..3 {
        app.start_phone(&format!("+7900222334{n}")).await;
    }
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79002223349", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(app.messages_to("+79002223349").await.is_empty());
}

#[tokio::test]
async fn a_known_phone_gets_the_same_answer_and_a_note_instead_of_a_code() {
    let app = spawn_app().await;
    app.register_phone("+79003334455").await;
    let register = |phone: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/registrations",
                &json!({"surname": "Кузнецов", "given_name": "Павел", "phone": phone, "accept_terms": true}),
            )
            .await
        }
    };
    let known = register("+79003334455").await;
    let unknown = register("+79003334466").await;
    assert_eq!(known.status(), unknown.status());
    let known: Value = known.json().await.unwrap();
    let unknown: Value = unknown.json().await.unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(known["expires_in"], unknown["expires_in"]);
    assert_eq!(known["channel"], unknown["channel"]);

    let note = &app.messages_to("+79003334455").await[0];
    assert!(
        six_digit_numbers(&note.body).is_empty(),
        "no code for an existing account"
    );
    assert!(note.body.contains("/login"), "{}", note.body);
    // Whatever is typed, the known phone's registration never confirms.
    let id = known["registration_id"].as_str().unwrap();
    let r = app.confirm_code(id, "123456").await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn a_known_email_gets_the_same_answer_and_a_note_instead_of_a_link() {
    let app = spawn_app().await;
    let body = json!({"surname": "Орлова", "given_name": "Мария", "email": "orlova@example.ru", "accept_terms": true});
    let id = app
        .post("/api/v1/registrations", &body)
        .await
        .json::<Value>()
        .await
        .unwrap()["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.last_link("orlova@example.ru").await;
    let token = link.split("token=").nth(1).unwrap();
    app.confirm_registration(&id, &json!({"token": token}))
        .await;
    assert_eq!(app.set_password(&id, PASSWORD).await.status(), 201);

    let again = app.post("/api/v1/registrations", &body).await;
    assert_eq!(again.status(), 202);
    let letter = &app.messages_to("orlova@example.ru").await[0];
    assert!(!letter.body.contains("token="));
    assert!(letter.body.contains(&format!("{}/login", app.base)));
}

#[tokio::test]
async fn passwords_are_checked_and_explained_per_field() {
    let app = spawn_app().await;
    let id = app.start_phone("+79004445566").await;
    let code = app.last_code("+79004445566").await;
    let early = app.set_password(&id, PASSWORD).await;
    assert_eq!(early.status(), 409, "the contact must be confirmed first");
    app.confirm_code(&id, &code).await;

    let cases = [
        ("qwerty123", "qwerty123", "password"),
        ("short", "short", "password"),
        ("Иванов-навсегда", "Иванов-навсегда", "password"),
        ("мой 4445566 пароль", "мой 4445566 пароль", "password"),
        (PASSWORD, "другой пароль тут", "password_confirmation"),
    ];
    for (password, confirmation, field) in cases {
        let r = app
            .post(
                &format!("/api/v1/registrations/{id}/password"),
                &json!({
                    "continuation_token": app.continuation(&id),
                    "password": password,
                    "password_confirmation": confirmation,
                }),
            )
            .await;
        assert_eq!(r.status(), 422, "{password}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["fields"][field].is_string(),
            "{password}: {body}"
        );
    }
    let r = app
        .post_with(
            &format!("/api/v1/registrations/{id}/password"),
            &json!({
                "continuation_token": app.continuation(&id),
                "password": "password",
                "password_confirmation": "password",
            }),
            &[("accept-language", "en-GB,en;q=0.9")],
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["fields"]["password"],
        "This password is too common and easy to guess"
    );
    // A 64-character passphrase is welcome.
    let long = "в лесу родилась ёлочка, в лесу она росла; зимой и летом стройная";
    assert!(long.chars().count() >= 64);
    assert_eq!(app.set_password(&id, long).await.status(), 201);
}

#[tokio::test]
async fn codes_contacts_and_names_are_not_stored_in_the_clear() {
    let app = spawn_app().await;
    if app.on_postgres {
        return; // The file check below reads the SQLite file.
    }
    let id = app.start_phone("+79005556677").await;
    let code = app.last_code("+79005556677").await;
    let db = std::fs::read(app.data_dir.join("uslugi.db")).unwrap();
    let wal = std::fs::read(app.data_dir.join("uslugi.db-wal")).unwrap_or_default();
    for needle in [
        code.as_bytes(),
        b"+79005556677",
        "Иванов".as_bytes(),
        b"9005556677",
    ] {
        let found = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(
            !found(&db) && !found(&wal),
            "{} stored in the clear",
            String::from_utf8_lossy(needle)
        );
    }
    assert_eq!(app.confirm_code(&id, &code).await.status(), 200);
}

#[tokio::test]
async fn a_failed_send_leaves_no_registration_behind() {
    let app = spawn_app().await;
    // The development mailbox cannot be written while a directory stands
    // in its place.
    std::fs::create_dir(&app.dev_mailbox).unwrap();
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79006667788", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(error_code(&r.json().await.unwrap()), "unavailable");
    std::fs::remove_dir(&app.dev_mailbox).unwrap();
    // The person simply tries again.
    app.register_phone("+79006667788").await;
}

/// The code goes out through the outbox like every message, tried at once
/// by the request that wrote it: it is there before any worker runs, and
/// the workers, running later, do not send it again.
#[tokio::test]
async fn the_registration_code_goes_through_the_outbox_at_once_and_once() {
    let app = spawn_app().await;
    let id = app.start_phone("+79006667701").await;
    assert_eq!(app.messages_to("+79006667701").await.len(), 1);
    // Past the first try's hold, a worker would take an undelivered message.
    app.advance(Duration::minutes(2));
    app.settle(3).await;
    assert_eq!(app.messages_to("+79006667701").await.len(), 1);
    // The resend goes the same way.
    let r = app
        .post(&format!("/api/v1/registrations/{id}/resend"), &json!({}))
        .await;
    assert_eq!(r.status(), 202);
    app.advance(Duration::minutes(2));
    app.settle(3).await;
    assert_eq!(app.messages_to("+79006667701").await.len(), 2);
    let delivered = app
        .store
        .wipe_delivered_outbox_bodies(uslugi_app::Clock::now(&app.clock) + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(delivered, 2, "both codes are outbox rows marked delivered");
}
