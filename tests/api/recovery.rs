//! «Не удаётся войти?»: recovery by phone, e-mail or SNILS for each level,
//! the second fact of a verified account, and answers that tell nothing.
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::*;

async fn start(app: &TestApp, login: &str) -> (u16, Value) {
    let r = app.post("/api/v1/recovery", &json!({"login": login})).await;
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn confirm(app: &TestApp, id: &str, body: &Value) -> (u16, Value) {
    let r = app.confirm_recovery(id, body).await;
    (r.status.as_u16(), r.body)
}

/// The password step, with the continuation this client was handed.
async fn new_password(app: &TestApp, id: &str, password: &str) -> u16 {
    app.post(
        &format!("/api/v1/recovery/{id}/password"),
        &json!({
            "continuation_token": app.continuation(id),
            "password": password,
            "password_confirmation": password,
        }),
    )
    .await
    .status()
    .as_u16()
}

const NEW: &str = "синий кит плывёт на север";

/// An account registered by e-mail alone, with [`PASSWORD`].
async fn email_citizen(app: &TestApp, email: &str) {
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Волков", "given_name": "Иван", "email": email, "accept_terms": true}),
        )
        .await;
    let reg = r.json::<Value>().await.unwrap()["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.last_link(email).await;
    let token = link.split("token=").nth(1).unwrap().to_owned();
    app.confirm_registration(&reg, &json!({"token": token}))
        .await;
    assert_eq!(app.set_password(&reg, PASSWORD).await.status(), 201);
}

/// The token of the newest recovery letter to `email`.
async fn recovery_token(app: &TestApp, email: &str) -> String {
    let mail = app.messages_to(email).await.remove(0);
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/recover/confirm-email?token="))
        .expect("the letter holds a link")
        .to_owned();
    link.split("token=").nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn a_simplified_account_recovers_by_phone_with_the_code_alone() {
    let app = spawn_app().await;
    let old = app.citizen("+79261500001").await;
    for _ in 0..6 {
        app.log_in("+79261500001", "wrong password").await;
    }
    let (s, body) = start(&app, "8 (926) 150-00-01").await;
    assert_eq!(s, 202);
    assert_eq!(body["channel"], "sms");
    assert_eq!(body["expires_in"], 300);
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500001").await;
    assert_eq!(new_password(&app, &id, NEW).await, 409, "the code first");
    let (s, body) = confirm(&app, &id, &json!({"code": code})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        new_password(&app, &id, "12345678").await,
        422,
        "the rules hold"
    );
    assert_eq!(new_password(&app, &id, NEW).await, 200);
    assert_eq!(
        app.get_bearer("/api/v1/me", &old).await.status(),
        401,
        "every session ended"
    );
    assert_eq!(app.log_in("+79261500001", PASSWORD).await.status(), 401);
    let token = app.token("+79261500001", NEW).await;
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "simplified");
    app.settle(1).await;
    let sms = app.messages_to("+79261500001").await;
    assert!(
        sms[0]
            .body
            .contains("Доступ к вашей учётной записи восстановлен"),
        "{}",
        sms[0].body
    );
    assert_eq!(
        new_password(&app, &id, "другой хороший пароль").await,
        404,
        "once"
    );
    let audit = app.store.audit_chain(1, 100).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "access_recovered"));
}

#[tokio::test]
async fn an_e_mail_account_recovers_with_the_link_built_from_the_configured_address() {
    let app = spawn_app().await;
    email_citizen(&app, "volkov@example.org").await;

    // A forged Host header changes nothing in the link.
    let r = app
        .client
        .post(app.url("/api/v1/recovery"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .json(&json!({"login": "Volkov@Example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["channel"], "email");
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let mail = app
        .messages_to("volkov@example.org")
        .await
        .into_iter()
        .next()
        .unwrap();
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/recover/confirm-email?token="))
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/recover/confirm-email?token=", app.base)),
        "{link}"
    );
    assert!(!mail.body.contains("evil.example"));
    let token = link.split("token=").nth(1).unwrap();
    let (s, _) = confirm(&app, &id, &json!({"token": "not-the-token"})).await;
    assert_eq!(s, 422);
    let (s, _) = confirm(&app, &id, &json!({"token": token})).await;
    assert_eq!(s, 200);
    assert_eq!(new_password(&app, &id, NEW).await, 200);
    let (s, body) = confirm(&app, &id, &json!({"token": token})).await;
    assert_eq!(
        (s, error_code(&body)),
        (404, "recovery_not_found"),
        "the link works once"
    );
    assert_eq!(app.log_in("volkov@example.org", NEW).await.status(), 201);
}

#[tokio::test]
async fn an_e_mail_link_works_for_24_hours() {
    let app = spawn_app().await;
    email_citizen(&app, "volkov2@example.org").await;
    let (_, body) = start(&app, "volkov2@example.org").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let mail = app.messages_to("volkov2@example.org").await.remove(0);
    let token = mail
        .body
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    app.advance(Duration::hours(24) + Duration::seconds(1));
    let (s, body) = confirm(&app, &id, &json!({"token": token})).await;
    assert_eq!((s, error_code(&body)), (422, "token_expired"));
}

#[tokio::test]
async fn a_verified_account_needs_the_passport_or_the_snils_as_well() {
    let app = spawn_app().await;
    app.standard_citizen("+79261500002", &ivanov()).await;
    // By phone: the code alone is not enough.
    let (_, body) = start(&app, "+79261500002").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500002").await;
    let (s, body) = confirm(&app, &id, &json!({"code": code})).await;
    assert_eq!((s, error_code(&body)), (422, "fact_required"));
    assert!(body["error"]["fields"]["passport_series_number"].is_string());
    assert!(
        body["error"]["fields"]["snils"].is_string(),
        "after a phone the SNILS will do"
    );
    assert_eq!(
        new_password(&app, &id, NEW).await,
        409,
        "nothing confirmed yet"
    );
    let (s, body) = confirm(
        &app,
        &id,
        &json!({"code": code, "passport_series_number": "4510 654321"}),
    )
    .await;
    assert_eq!((s, error_code(&body)), (422, "fact_wrong"));
    let (s, body) = confirm(&app, &id, &json!({"code": code, "snils": "11223344595"})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(new_password(&app, &id, NEW).await, 200);
    let token = app.token("+79261500002", NEW).await;
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "standard", "recovery never lowers the level");

    // By SNILS: the code goes to the phone, and the SNILS is no second fact.
    app.advance(Duration::hours(1));
    let (s, body) = start(&app, "112-233-445 95").await;
    assert_eq!((s, body["channel"].as_str()), (202, Some("sms")));
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500002").await;
    let (s, body) = confirm(&app, &id, &json!({"code": code, "snils": "112-233-445 95"})).await;
    assert_eq!((s, error_code(&body)), (422, "fact_required"));
    assert!(body["error"]["fields"].get("snils").is_none());
    let (s, _) = confirm(
        &app,
        &id,
        &json!({"code": code, "passport_series_number": "4510123456"}),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_confirmed_account_is_asked_too_and_stays_confirmed() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261500003", &ivanov()).await;
    app.client
        .post(app.url("/api/v1/me/identity/letter"))
        .bearer_auth(&token)
        .json(&json!({"address": {"postal_code": "248000", "region": "Калужская обл.", "locality": "г. Калуга", "street": "ул. Ленина", "house": "5"}}))
        .send()
        .await
        .unwrap();
    app.settle(1).await;
    let post = app
        .messages()
        .await
        .into_iter()
        .find(|m| m.channel == "post")
        .unwrap();
    let code = post
        .body
        .split_whitespace()
        .find(|w| w.len() == 9 && w.as_bytes()[4] == b'-')
        .unwrap()
        .to_owned();
    let r = app
        .client
        .post(app.url("/api/v1/me/identity/letter/code"))
        .bearer_auth(&token)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, body) = start(&app, "+79261500003").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500003").await;
    let (s, body) = confirm(&app, &id, &json!({"code": code})).await;
    assert_eq!((s, error_code(&body)), (422, "fact_required"));
    let (s, _) = confirm(
        &app,
        &id,
        &json!({"code": code, "passport_series_number": "4510 123456"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(new_password(&app, &id, NEW).await, 200);
    let token = app.token("+79261500003", NEW).await;
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "confirmed");
}

#[tokio::test]
async fn known_and_unknown_logins_get_the_same_answers_in_the_same_time() {
    let app = spawn_with(|s| {
        s.limits.sends_per_ip_per_hour = 10_000;
        s.limits.sends_per_contact_per_hour = 10_000;
    })
    .await;
    app.citizen("+79261500004").await;
    let (s1, known) = start(&app, "+79261500004").await;
    let (s2, unknown) = start(&app, "+79261599999").await;
    assert_eq!((s1, s2), (202, 202));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(known["channel"], unknown["channel"]);
    assert_eq!(known["expires_in"], unknown["expires_in"]);
    app.settle(1).await;
    assert!(
        app.messages_to("+79261599999").await.is_empty(),
        "nothing is sent to an unknown number"
    );
    let id = unknown["recovery_id"].as_str().unwrap();
    let (s, body) = confirm(&app, id, &json!({"code": "123456"})).await;
    assert_eq!((s, error_code(&body)), (422, "code_wrong"));
    assert_eq!(
        body["error"]["fields"]["code"],
        "Неверный код. Осталось попыток: 2"
    );
    let known_id = known["recovery_id"].as_str().unwrap();
    let code = app.last_code("+79261500004").await;
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (s, known_wrong) = confirm(&app, known_id, &json!({"code": wrong})).await;
    assert_eq!(s, 422);
    assert_eq!(
        known_wrong["error"], body["error"],
        "the same answer word for word"
    );

    // Timing: the medians of many tries, alternated so that load hits both.
    let mut known_times = Vec::new();
    let mut unknown_times = Vec::new();
    for i in 0..30 {
        for (login, times) in [
            ("+79261500004", &mut known_times),
            ("+79261599999", &mut unknown_times),
        ] {
            let started = std::time::Instant::now();
            let (s, _) = start(&app, login).await;
            times.push(started.elapsed());
            assert_eq!(s, 202, "try {i}");
        }
    }
    known_times.sort();
    unknown_times.sort();
    let (k, u) = (
        known_times[15].as_secs_f64(),
        unknown_times[15].as_secs_f64(),
    );
    assert!(
        (k - u).abs() < 0.002 + 0.5 * k.max(u),
        "medians: known {k:.4} s, unknown {u:.4} s"
    );
}

#[tokio::test]
async fn a_contact_that_is_not_confirmed_receives_nothing() {
    let app = spawn_app().await;
    // A registration that never got its code confirmed.
    app.start_phone("+79261500005").await;
    let before = app.messages_to("+79261500005").await.len();
    let (s, _) = start(&app, "+79261500005").await;
    assert_eq!(s, 202);
    app.settle(1).await;
    assert_eq!(app.messages_to("+79261500005").await.len(), before);
}

#[tokio::test]
async fn fifty_concurrent_guesses_compare_three_codes_at_most() {
    let app = spawn_app().await;
    app.citizen("+79261500006").await;
    let (_, body) = start(&app, "+79261500006").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500006").await;
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let guesses: Vec<_> = (0..50)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url(&format!("/api/v1/recovery/{id}/confirm"));
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
    let mut compared = 0;
    for g in guesses {
        match g.await.unwrap().as_str() {
            "code_wrong" => compared += 1,
            "code_attempts_exhausted" => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(compared <= 2, "{compared} wrong codes judged");
    let (s, body) = confirm(&app, &id, &json!({"code": code})).await;
    assert_eq!(
        (s, error_code(&body)),
        (422, "code_attempts_exhausted"),
        "even the right one now"
    );
}

#[tokio::test]
async fn the_code_dies_after_five_minutes_and_bad_logins_are_named() {
    let app = spawn_app().await;
    app.citizen("+79261500007").await;
    let (s, body) = start(&app, "not a login").await;
    assert_eq!((s, error_code(&body)), (422, "login_malformed"));
    assert!(body["error"]["fields"]["login"].is_string());
    let (_, body) = start(&app, "+79261500007").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500007").await;
    app.advance(Duration::seconds(301));
    let (s, body) = confirm(&app, &id, &json!({"code": code})).await;
    assert_eq!((s, error_code(&body)), (422, "code_expired"));
}

#[tokio::test]
async fn without_javascript_recovery_runs_from_the_login_page_to_a_new_password() {
    let app = spawn_app().await;
    app.standard_citizen("+79261500008", &ivanov()).await;
    let mut b = Browser::new(&app);
    let (_, html, _) = b.get("/login").await;
    assert!(html.contains("href=\"/recover\"") && html.contains("Не удаётся войти?"));
    b.get("/recover").await;
    let (s, html, _) = b.post("/recover", &[("login", "")]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Укажите телефон, почту или СНИЛС"));
    let (s, _, to) = b.post("/recover", &[("login", "+7 926 150-00-08")]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/recover/confirm")));
    let (_, html, _) = b.get("/recover/confirm").await;
    assert!(html.contains("на её телефон отправлен код"));
    app.settle(1).await;
    let code = app.last_code("+79261500008").await;
    let (s, html, _) = b.post("/recover/confirm", &[("code", &code)]).await;
    assert_eq!(s, 200);
    assert!(html.contains("Серия и номер паспорта") && html.contains("name=\"snils\""));
    assert!(
        !html.contains("has-error") && !html.contains("aria-invalid"),
        "asked, not yet wrong"
    );
    let (s, html, _) = b
        .post(
            "/recover/confirm",
            &[("code", &code), ("passport_series_number", "4510 000000")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("Данные не совпадают с учётной записью. Осталось попыток: 2"),
        "the right code cost no try, the wrong passport one"
    );
    let (s, _, to) = b
        .post(
            "/recover/confirm",
            &[("code", &code), ("passport_series_number", "4510 123456")],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/recover/password")));
    let (s, _, to) = b
        .post(
            "/recover/password",
            &[("password", NEW), ("password_confirmation", NEW)],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/login?recovered=1")));
    let (_, html, _) = b.get("/login?recovered=1").await;
    assert!(html.contains("Пароль изменён. Войдите с новым паролем."));
    assert_eq!(app.log_in("+79261500008", NEW).await.status(), 201);
}

#[tokio::test]
async fn only_mistakes_cost_a_try_at_the_second_fact() {
    let app = spawn_app().await;
    app.standard_citizen("+79261500031", &ivanov()).await;
    let (_, body) = start(&app, "+79261500031").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let code = app.last_code("+79261500031").await;
    // The right code, sent again with each try of the passport, and two
    // typos in the passport: none of them is a wrong guess.
    for typed in ["", "4600 12", "46OO 300000", "45 10 12"] {
        let body = if typed.is_empty() {
            json!({"code": code})
        } else {
            json!({"code": code, "passport_series_number": typed})
        };
        let (s, body) = confirm(&app, &id, &body).await;
        assert_eq!(s, 422, "{body}");
        assert_ne!(
            error_code(&body),
            "code_attempts_exhausted",
            "{typed}: {body}"
        );
    }
    // Wrong passports do cost a try each: three in all.
    for left in [2, 1] {
        let (_, body) = confirm(
            &app,
            &id,
            &json!({"code": code, "passport_series_number": "4510 000000"}),
        )
        .await;
        assert_eq!(error_code(&body), "fact_wrong");
        assert!(
            body["error"]["fields"]["passport_series_number"]
                .as_str()
                .unwrap()
                .ends_with(&format!("Осталось попыток: {left}")),
            "{body}"
        );
    }
    let (_, body) = confirm(
        &app,
        &id,
        &json!({"code": code, "passport_series_number": "4510 000000"}),
    )
    .await;
    assert_eq!(error_code(&body), "code_attempts_exhausted");
    let (s, _) = confirm(
        &app,
        &id,
        &json!({"code": code, "passport_series_number": "4510 123456"}),
    )
    .await;
    assert_eq!(s, 422, "the tries are used up, even for the right passport");
}

#[tokio::test]
async fn the_password_before_the_code_is_told_to_confirm_first_on_the_page_as_in_the_api() {
    let app = spawn_app().await;
    app.citizen("+79261500051").await;
    let mut b = Browser::new(&app);
    b.get("/recover").await;
    let (s, _, to) = b.post("/recover", &[("login", "+79261500051")]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/recover/confirm")));
    let (s, html, _) = b
        .post(
            "/recover/password",
            &[("password", NEW), ("password_confirmation", NEW)],
        )
        .await;
    assert_eq!(s, 409, "not a missing recovery: an unconfirmed one");
    assert!(
        html.contains("Сначала подтвердите телефон или почту"),
        "{html}"
    );
    assert!(!html.contains("Восстановление не найдено"));

    let r = app
        .post(
            &format!("/api/v1/recovery/{}/confirm", uuid::Uuid::new_v4()),
            &json!({"code": "123456"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "recovery_not_found");
    assert_eq!(
        body["error"]["message"], "Восстановление не найдено или его срок истёк. Начните заново.",
        "the recovery, not a page, is gone"
    );
}

/// What the document's `RecoveryRequest` and `RecoveryConfirmRequest`
/// allow is what the server takes: a login missing, null, empty or blank
/// is named on its field, and a code with spaces (its pattern allows them)
/// is the code.
#[tokio::test]
async fn the_requests_the_document_forbids_are_named_and_those_it_allows_are_taken() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"login": null}),
        json!({"login": ""}),
        json!({"login": "   "}),
    ] {
        let r = app.post("/api/v1/recovery", &body).await;
        assert_eq!(r.status(), 422, "{body}");
        let answer: Value = r.json().await.unwrap();
        assert!(answer["error"]["fields"]["login"].is_string(), "{body}");
    }
    app.citizen("+79261500061").await;
    let (_, body) = start(&app, "+79261500061").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let (s, body) = confirm(&app, &id, &json!({})).await;
    assert_eq!(s, 422, "neither code nor token");
    assert!(body["error"]["fields"]["code"].is_string(), "{body}");
    let code = app.last_code("+79261500061").await;
    let spaced = format!(" {} {} ", &code[..3], &code[3..]);
    let (s, body) = confirm(&app, &id, &json!({"code": spaced})).await;
    assert_eq!(s, 200, "{body}");
}

async fn resend(app: &TestApp, id: &str) -> (u16, Value) {
    let r = app
        .post(&format!("/api/v1/recovery/{id}/resend"), &json!({}))
        .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_new_code_once_a_minute_voids_the_last_and_its_attempts_start_again() {
    let app = spawn_app().await;
    app.citizen("+79261500041").await;
    let (_, body) = start(&app, "+79261500041").await;
    assert_eq!(body["resend_in"], 60);
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let first = app.last_code("+79261500041").await;
    let wrong = format!("{:06}", (first.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (s, _) = confirm(&app, &id, &json!({"code": wrong})).await;
    assert_eq!(s, 422);

    let (s, body) = resend(&app, &id).await;
    assert_eq!((s, error_code(&body)), (429, "rate_limited"), "too soon");
    app.advance(Duration::seconds(60));
    let (s, body) = resend(&app, &id).await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(
        (
            &body["recovery_id"],
            &body["channel"],
            &body["expires_in"],
            &body["resend_in"]
        ),
        (&json!(id), &json!("sms"), &json!(300), &json!(60))
    );
    app.settle(1).await;
    assert_eq!(
        app.messages_to("+79261500041").await.len(),
        2 + 1,
        "registration, then two"
    );
    let second = app.last_code("+79261500041").await;
    if second != first {
        let (s, body) = confirm(&app, &id, &json!({"code": first})).await;
        assert_eq!(
            (s, body["error"]["fields"]["code"].as_str()),
            (422, Some("Неверный код. Осталось попыток: 2")),
            "the last code is void, and the new one's attempts start again"
        );
    }
    let (s, body) = confirm(&app, &id, &json!({"code": second})).await;
    assert_eq!(s, 200, "{body}");
    app.advance(Duration::seconds(60));
    let (s, body) = resend(&app, &id).await;
    assert_eq!(
        (s, error_code(&body)),
        (404, "recovery_not_found"),
        "nothing to resend once confirmed"
    );
    assert_eq!(new_password(&app, &id, NEW).await, 200);
}

#[tokio::test]
async fn resends_spend_the_contact_s_quota_alike_for_known_and_unknown_logins() {
    let app = spawn_with(|s| {
        s.limits.sends_per_ip_per_hour = 10_000;
        s.limits.sends_per_contact_per_hour = 3;
    })
    .await;
    app.citizen("+79261500042").await;
    let mut answers = Vec::new();
    for login in ["+79261500042", "+79261599942"] {
        let (_, body) = start(&app, login).await;
        let id = body["recovery_id"].as_str().unwrap().to_owned();
        let mut statuses = Vec::new();
        for _ in 0..3 {
            app.advance(Duration::seconds(60));
            let (s, body) = resend(&app, &id).await;
            statuses.push(s);
            if s == 202 {
                let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
                keys.sort();
                answers.push((keys, body["channel"].clone(), body["expires_in"].clone()));
            }
        }
        // The registration's code counted for the known phone: the unknown
        // one is refused one resend later than the known, never earlier.
        assert_eq!(statuses[..1], [202], "{login}: {statuses:?}");
        assert_eq!(statuses[2], 429, "{login}: {statuses:?}");
        app.advance(Duration::hours(1));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    app.settle(1).await;
    assert!(
        app.messages_to("+79261599942").await.is_empty(),
        "nothing is ever sent to a number no account has"
    );
}

#[tokio::test]
async fn twenty_concurrent_resends_send_one_code() {
    let app = spawn_app().await;
    app.citizen("+79261500043").await;
    let (_, body) = start(&app, "+79261500043").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let before = app.messages_to("+79261500043").await.len();
    app.advance(Duration::seconds(60));
    let presses: Vec<_> = (0..20)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url(&format!("/api/v1/recovery/{id}/resend"));
            tokio::spawn(async move {
                let r = client.post(url).json(&json!({})).send().await.unwrap();
                r.status().as_u16()
            })
        })
        .collect();
    let mut sent = 0;
    for p in presses {
        match p.await.unwrap() {
            202 => sent += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(sent, 1);
    app.settle(1).await;
    assert_eq!(app.messages_to("+79261500043").await.len(), before + 1);
}

#[tokio::test]
async fn the_code_page_sends_a_new_code_once_its_wait_is_over() {
    let app = spawn_app().await;
    app.citizen("+79261500044").await;
    let mut b = Browser::new(&app);
    b.get("/recover").await;
    let (s, _, to) = b.post("/recover", &[("login", "+79261500044")]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/recover/confirm")));
    let (_, html, _) = b.get("/recover/confirm").await;
    assert!(
        html.contains("action=\"/recover/resend\"") && html.contains("Получить новый код"),
        "{html}"
    );
    assert!(
        html.contains("data-countdown-until"),
        "the code's countdown"
    );
    let (s, html, _) = b.post("/recover/resend", &[]).await;
    assert_eq!(s, 429);
    assert!(html.contains("id=\"resend\""), "the wait beside the button");
    app.settle(1).await;
    let first = app.last_code("+79261500044").await;
    app.advance(Duration::seconds(60));
    let (s, _, to) = b.post("/recover/resend", &[]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/recover/confirm?sent=1")));
    let (_, html, _) = b.get("/recover/confirm?sent=1").await;
    assert!(html.contains("Новый код отправлен. Предыдущий код больше не действует."));
    app.settle(1).await;
    let second = app.last_code("+79261500044").await;
    assert_eq!(app.messages_to("+79261500044").await.len(), 3);
    if first != second {
        let (s, _, _) = b.post("/recover/confirm", &[("code", &first)]).await;
        assert_eq!(s, 422, "the last code is void");
    }
    let (s, _, to) = b.post("/recover/confirm", &[("code", &second)]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/recover/password")));
}

#[tokio::test]
async fn a_new_letter_voids_the_last_link() {
    let app = spawn_app().await;
    email_citizen(&app, "volkov3@example.org").await;
    let (_, body) = start(&app, "volkov3@example.org").await;
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.settle(1).await;
    let first = recovery_token(&app, "volkov3@example.org").await;
    app.advance(Duration::seconds(60));
    let (s, body) = resend(&app, &id).await;
    assert_eq!(
        (s, &body["channel"], &body["expires_in"]),
        (202, &json!("email"), &json!(86_400))
    );
    app.settle(1).await;
    let second = recovery_token(&app, "volkov3@example.org").await;
    assert_ne!(first, second);
    let (s, body) = confirm(&app, &id, &json!({"token": first})).await;
    assert_eq!(
        (s, error_code(&body)),
        (422, "token_invalid"),
        "the last link is void"
    );
    let (s, _) = confirm(&app, &id, &json!({"token": second})).await;
    assert_eq!(s, 200);
}
