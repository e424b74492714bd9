//! A change of phone or e-mail in «Мои данные»: confirmed before it
//! replaces the old contact, told to the old contact, the same answers for
//! a contact that already has an account, and the pages without JavaScript.
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::*;

async fn post_json(app: &TestApp, path: &str, token: &str, body: &Value) -> (u16, Value) {
    post_json_lang(app, path, token, body, "ru").await
}

async fn post_json_lang(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &Value,
    lang: &str,
) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("accept-language", lang)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn start(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    post_json(app, "/api/v1/me/contacts", token, &body).await
}

async fn confirm(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    post_json(
        app,
        &format!("/api/v1/me/contacts/{id}/confirm"),
        token,
        &body,
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.get_bearer("/api/v1/me", token)
        .await
        .json()
        .await
        .unwrap()
}

fn change_id(body: &Value) -> String {
    body["change_id"].as_str().unwrap().to_owned()
}

async fn history(app: &TestApp, token: &str, lang: &str) -> Vec<String> {
    let events: Value = app
        .client
        .get(app.url("/api/v1/me/security-events"))
        .bearer_auth(token)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_phone_replaces_the_old_one_only_after_its_code() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700001").await;
    app.settle(1).await;
    let before = app.messages().await.len();

    let (s, body) = start(
        &app,
        &token,
        json!({"phone": "8 (926) 170-00-99", "password": PASSWORD}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(body["channel"], "sms");
    assert_eq!(body["expires_in"], 300);
    let id = change_id(&body);
    app.settle(1).await;
    assert_eq!(
        me(&app, &token).await["phone"],
        "+79261700001",
        "nothing changes before the code"
    );
    assert_eq!(app.messages().await.len(), before + 1, "only the code");
    let code = app.last_code("+79261700099").await;
    assert!(
        app.messages_to("+79261700001").await.len() == 1,
        "the old phone got nothing yet (only its registration code)"
    );

    let (s, body) = confirm(&app, &token, &id, json!({"code": code})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body, json!({"phone": "+79261700099"}));
    assert_eq!(
        me(&app, &token).await["phone"],
        "+79261700099",
        "the session keeps working"
    );
    app.settle(1).await;
    let notice = app.messages_to("+79261700001").await.remove(0);
    assert!(
        notice.body.contains("изменён на +7 *** ***-**-99"),
        "{}",
        notice.body
    );
    assert!(notice.body.contains(&format!("{}/recover", app.base)));
    assert!(notice.body.contains("центр обслуживания"));
    assert!(
        !notice.body.contains("170-00-99") && !notice.body.contains("79261700099"),
        "the new number is masked"
    );

    assert_eq!(app.log_in("+79261700001", PASSWORD).await.status(), 401);
    assert_eq!(app.log_in("+7 926 170 00 99", PASSWORD).await.status(), 201);
    let (s, body) = confirm(&app, &token, &id, json!({"code": code})).await;
    assert_eq!(
        (s, error_code(&body)),
        (404, "contact_change_not_found"),
        "once"
    );
    assert_eq!(
        body["error"]["message"], "Изменение не найдено или его срок истёк. Начните заново.",
        "the API says what the page says: the change, not a page, is gone"
    );

    let records = app.store.audit_chain(1, 100).await.unwrap();
    let record = records
        .iter()
        .find(|r| r.entry.action == "contact_changed")
        .expect("an audit record");
    assert_eq!(record.entry.outcome, "phone");
    assert_eq!(record.entry.details, r#"{"kind":"phone"}"#);
    assert_eq!(record.entry.actor, "citizen");
    assert!(
        history(&app, &token, "ru")
            .await
            .contains(&"Изменён номер телефона".to_owned())
    );
    assert!(
        history(&app, &token, "en")
            .await
            .contains(&"Phone number changed".to_owned())
    );
}

#[tokio::test]
async fn a_wrong_password_is_named_on_its_field_and_sends_nothing() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700002").await;
    app.settle(1).await;
    let before = app.messages().await.len();
    let (s, body) = start(
        &app,
        &token,
        json!({"phone": "+79261700098", "password": "not my password"}),
    )
    .await;
    assert_eq!((s, error_code(&body)), (422, "wrong_password"));
    assert_eq!(
        body["error"]["fields"]["password"],
        "Неверный текущий пароль"
    );
    let (s, body) = post_json_lang(
        &app,
        "/api/v1/me/contacts",
        &token,
        &json!({"email": "x@example.org", "password": "not my password"}),
        "en",
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(
        body["error"]["fields"]["password"],
        "The current password is wrong"
    );
    let (s, body) = start(
        &app,
        &token,
        json!({"phone": "+1 202 555 0100", "password": PASSWORD}),
    )
    .await;
    assert_eq!(s, 422);
    assert!(body["error"]["fields"]["phone"].is_string(), "{body}");
    let (s, body) = start(&app, &token, json!({"password": PASSWORD})).await;
    assert_eq!((s, error_code(&body)), (422, "contact_required"));
    app.settle(1).await;
    assert_eq!(app.messages().await.len(), before, "no message at all");
    assert_eq!(
        app.post(
            "/api/v1/me/contacts",
            &json!({"phone": "+79261700098", "password": PASSWORD})
        )
        .await
        .status(),
        401,
        "a session is needed"
    );
}

#[tokio::test]
async fn a_taken_contact_gets_the_same_answer_and_a_note_but_never_moves() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700003").await;
    app.register_phone("+79261700004").await;
    app.settle(1).await;

    let (s_free, free) = start(
        &app,
        &token,
        json!({"phone": "+79261700097", "password": PASSWORD}),
    )
    .await;
    let (s_own, own) = start(
        &app,
        &token,
        json!({"phone": "+79261700003", "password": PASSWORD}),
    )
    .await;
    // The last request of a kind is the live one.
    let (s_taken, taken) = start(
        &app,
        &token,
        json!({"phone": "+79261700004", "password": PASSWORD}),
    )
    .await;
    assert_eq!((s_free, s_taken, s_own), (202, 202, 202));
    let shape = |v: &Value| {
        let mut v = v.clone();
        v["change_id"] = json!("…");
        v
    };
    assert_eq!(shape(&free), shape(&taken), "the same answer and body");
    assert_eq!(shape(&free), shape(&own));
    app.settle(1).await;
    for phone in ["+79261700004", "+79261700003"] {
        let note = app.messages_to(phone).await.remove(0);
        assert!(
            six_digit_numbers(&note.body).is_empty(),
            "a note, no code: {}",
            note.body
        );
        assert!(
            note.body.contains("уже принадлежит учётной записи"),
            "{}",
            note.body
        );
    }
    let id = change_id(&taken);
    for guess in ["000000", "111111"] {
        let (s, body) = confirm(&app, &token, &id, json!({"code": guess})).await;
        assert_eq!((s, error_code(&body)), (422, "code_wrong"));
    }
    assert_eq!(me(&app, &token).await["phone"], "+79261700003");
    assert_eq!(
        app.log_in("+79261700004", PASSWORD).await.status(),
        201,
        "still the other's"
    );
}

#[tokio::test]
async fn a_contact_taken_after_the_request_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700005").await;
    let (_, body) = start(
        &app,
        &token,
        json!({"phone": "+79261700096", "password": PASSWORD}),
    )
    .await;
    let id = change_id(&body);
    app.settle(1).await;
    let code = app.last_code("+79261700096").await;
    app.register_phone("+79261700096").await;
    let (s, body) = confirm(&app, &token, &id, json!({"code": code})).await;
    assert_eq!((s, error_code(&body)), (409, "contact_taken"), "{body}");
    assert_eq!(me(&app, &token).await["phone"], "+79261700005");
    app.settle(1).await;
    assert_eq!(app.messages_to("+79261700005").await.len(), 1, "no notice");
    let records = app.store.audit_chain(1, 100).await.unwrap();
    assert!(!records.iter().any(|r| r.entry.action == "contact_changed"));
}

#[tokio::test]
async fn the_code_expires_and_three_wrong_codes_kill_it_until_a_new_one() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700006").await;
    let (_, body) = start(
        &app,
        &token,
        json!({"phone": "+79261700095", "password": PASSWORD}),
    )
    .await;
    let id = change_id(&body);
    app.settle(1).await;
    let code = app.last_code("+79261700095").await;
    app.advance(Duration::seconds(301));
    let (s, body) = confirm(&app, &token, &id, json!({"code": code})).await;
    assert_eq!((s, error_code(&body)), (422, "code_expired"));

    let (s, _) = post_json(
        &app,
        &format!("/api/v1/me/contacts/{id}/resend"),
        &token,
        &json!({}),
    )
    .await;
    assert_eq!(s, 202);
    let (s, body) = post_json(
        &app,
        &format!("/api/v1/me/contacts/{id}/resend"),
        &token,
        &json!({}),
    )
    .await;
    assert_eq!(
        (s, error_code(&body)),
        (429, "rate_limited"),
        "once a minute"
    );
    app.settle(1).await;
    let fresh = app.last_code("+79261700095").await;
    assert_ne!(fresh, code);
    let wrong = if fresh == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (s, body) = confirm(&app, &token, &id, json!({"code": wrong})).await;
    assert_eq!((s, error_code(&body)), (422, "code_wrong"));
    assert_eq!(
        body["error"]["fields"]["code"],
        "Неверный код. Осталось попыток: 2"
    );
    confirm(&app, &token, &id, json!({"code": wrong})).await;
    let (s, body) = confirm(&app, &token, &id, json!({"code": wrong})).await;
    assert_eq!((s, error_code(&body)), (422, "code_attempts_exhausted"));
    let (s, body) = confirm(&app, &token, &id, json!({"code": fresh})).await;
    assert_eq!(
        (s, error_code(&body)),
        (422, "code_attempts_exhausted"),
        "dead"
    );
    assert_eq!(me(&app, &token).await["phone"], "+79261700006");
}

#[tokio::test]
async fn fifty_concurrent_guesses_never_take_more_than_three_tries() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700007").await;
    let (_, body) = start(
        &app,
        &token,
        json!({"phone": "+79261700094", "password": PASSWORD}),
    )
    .await;
    let id = change_id(&body);
    app.settle(1).await;
    let code = app.last_code("+79261700094").await;
    let guesses: Vec<String> = (0..50)
        .map(|i| format!("{:06}", (i * 7919 + 13) % 1_000_000))
        .filter(|g| *g != code)
        .collect();
    let tasks: Vec<_> = guesses
        .into_iter()
        .map(|g| {
            let client = app.client.clone();
            let url = app.url(&format!("/api/v1/me/contacts/{id}/confirm"));
            let token = token.clone();
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"code": g}))
                    .send()
                    .await
                    .unwrap();
                let body: Value = r.json().await.unwrap();
                body["error"]["code"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut wrong = 0;
    for t in tasks {
        if t.await.unwrap() == "code_wrong" {
            wrong += 1;
        }
    }
    assert_eq!(wrong, 2, "two wrong, the third kills the code");
    let (s, body) = confirm(&app, &token, &id, json!({"code": code})).await;
    assert_eq!((s, error_code(&body)), (422, "code_attempts_exhausted"));
    let change = app
        .store
        .contact_change(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.attempts, 3);
}

#[tokio::test]
async fn an_e_mail_link_comes_from_the_base_url_and_works_once() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700008").await;
    let r = app
        .client
        .post(app.url("/api/v1/me/contacts"))
        .bearer_auth(&token)
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .json(&json!({"email": "Volkov@Example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["channel"], "email");
    assert_eq!(body["expires_in"], 86400);
    app.settle(1).await;
    let mail = app.messages_to("Volkov@example.org").await.remove(0);
    assert!(!mail.body.contains("evil.example"));
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/me/contacts/confirm-email?token="))
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/me/contacts/confirm-email?token=", app.base)),
        "{link}"
    );
    assert!(
        me(&app, &token).await["email"].is_null(),
        "not before the link"
    );

    // Opened in another browser, without logging in.
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let link_token = path.split("token=").nth(1).unwrap().to_owned();
    let mut other = Browser::new(&app);
    // Opening the link (a person, or a mail scanner) changes nothing.
    let (s, html, _) = other.get(&path).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Volkov@example.org") && html.contains("Подтвердить"),
        "{html}"
    );
    assert!(me(&app, &token).await["email"].is_null(), "not on GET");
    let (s, html, _) = other
        .post("/me/contacts/confirm-email", &[("token", &link_token)])
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("Адрес электронной почты изменён"), "{html}");
    assert_eq!(me(&app, &token).await["email"], "Volkov@example.org");
    let (s, _, _) = other.get(&path).await;
    assert_eq!(s, 410, "once");
    let (s, _, _) = other
        .post("/me/contacts/confirm-email", &[("token", &link_token)])
        .await;
    assert_eq!(s, 410, "once");
    assert_eq!(
        app.log_in("volkov@example.org", PASSWORD).await.status(),
        201
    );

    // An address added where there was none is told to the phone.
    app.settle(1).await;
    let notice = app.messages_to("+79261700008").await.remove(0);
    assert!(
        notice
            .body
            .contains("добавлена электронная почта Vo***@example.org"),
        "{}",
        notice.body
    );
    assert!(
        history(&app, &token, "ru")
            .await
            .contains(&"Изменена электронная почта".to_owned())
    );
}

#[tokio::test]
async fn the_pages_work_without_javascript() {
    let app = spawn_app().await;
    app.register_phone("+79261700009").await;
    let mut b = Browser::new(&app);
    b.get("/login").await;
    let (s, _, _) = b
        .post(
            "/login",
            &[("login", "+79261700009"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(s, 303);
    let (_, html, _) = b.get("/me").await;
    assert!(html.contains(r#"<a href="/me/contacts/phone" id="change-phone">Изменить</a>"#));
    assert!(html.contains(r#"<a href="/me/contacts/email" id="change-email">Добавить</a>"#));

    let (s, html, _) = b.get("/me/contacts/phone").await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"name="csrf_token""#) && html.contains(r#"name="password""#));

    // No CSRF token: refused.
    let r = app
        .client
        .post(app.url("/me/contacts/phone"))
        .header("cookie", b.cookie_header())
        .form(&[("phone", "+79261700093"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let (s, html, _) = b
        .post(
            "/me/contacts/phone",
            &[("phone", "+79261700093"), ("password", "wrong")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("Неверный текущий пароль"));
    let (s, html, _) = b
        .post("/me/contacts/phone", &[("phone", "12"), ("password", "")])
        .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("Введите номер полностью"),
        "the phone's own problem"
    );
    assert!(html.contains("Заполните это поле"));

    let (s, _, location) = b
        .post(
            "/me/contacts/phone",
            &[("phone", "+79261700093"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(s, 303);
    let page = location.unwrap();
    assert!(page.starts_with("/me/contacts/changes/"));
    let (s, html, _) = b.get(&page).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Код отправлен на номер +7 (926) 170-00-93"),
        "{html}"
    );
    assert!(html.contains("Получить новый код"));
    assert!(
        html.contains("Новый код можно будет запросить в"),
        "the wait, without JS"
    );

    app.settle(1).await;
    let code = app.last_code("+79261700093").await;
    let (s, html, _) = b
        .post(&format!("{page}/confirm"), &[("code", "000000")])
        .await;
    if code != "000000" {
        assert_eq!(s, 422);
        assert!(html.contains("Неверный код. Осталось попыток: 2"));
    }
    let (s, _, location) = b.post(&format!("{page}/confirm"), &[("code", &code)]).await;
    assert_eq!(
        (s, location.as_deref()),
        (303, Some("/me?contact_changed=phone"))
    );
    let (_, html, _) = b.get("/me?contact_changed=phone").await;
    assert!(html.contains("Номер телефона изменён"));
    assert!(html.contains("+7 (926) 170-00-93"));

    // In English, each field's error in English.
    b.lang = "en";
    let (_, html, _) = b.get("/me/contacts/email").await;
    assert!(html.contains("New e-mail address"));
    let (s, html, _) = b
        .post(
            "/me/contacts/email",
            &[("email", "no-at-sign"), ("password", "")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("An e-mail address contains the @ sign"));
    assert!(html.contains("Fill in this field"));
}

#[tokio::test]
async fn password_guesses_on_this_path_are_limited_per_account() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700010").await;
    for _ in 0..10 {
        // Past the wait that wrong passwords bring (as at the login).
        app.advance(Duration::seconds(65));
        let (s, body) = start(
            &app,
            &token,
            json!({"phone": "+79261700092", "password": "a guess"}),
        )
        .await;
        assert_eq!((s, error_code(&body)), (422, "wrong_password"));
    }
    app.advance(Duration::seconds(65));
    let (s, body) = start(
        &app,
        &token,
        json!({"phone": "+79261700092", "password": PASSWORD}),
    )
    .await;
    assert_eq!((s, error_code(&body)), (429, "rate_limited"), "{body}");
    app.advance(Duration::hours(1) + Duration::seconds(1));
    let token = app.token("+79261700010", PASSWORD).await;
    let (s, _) = start(
        &app,
        &token,
        json!({"phone": "+79261700092", "password": PASSWORD}),
    )
    .await;
    assert_eq!(s, 202);
}

/// The document's `ContactChangeRequest` says exactly one of phone and
/// email, and the password: what it forbids is refused on its fields.
#[tokio::test]
async fn a_start_with_both_contacts_or_without_the_password_is_refused_on_its_fields() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700011").await;
    let (s, body) = start(
        &app,
        &token,
        json!({"phone": "+79261700091", "email": "both@example.org", "password": PASSWORD}),
    )
    .await;
    assert_eq!((s, error_code(&body)), (422, "contact_required"));
    assert!(body["error"]["fields"]["phone"].is_string());
    assert!(body["error"]["fields"]["email"].is_string());
    for without in [
        json!({"phone": "+79261700091"}),
        json!({"phone": "+79261700091", "password": null}),
        json!({"phone": "+79261700091", "password": ""}),
    ] {
        let (s, body) = start(&app, &token, without.clone()).await;
        assert_eq!((s, error_code(&body)), (422, "invalid"), "{without}");
        assert!(body["error"]["fields"]["password"].is_string(), "{without}");
    }
    app.settle(1).await;
    assert!(app.messages_to("+79261700091").await.is_empty());
}
