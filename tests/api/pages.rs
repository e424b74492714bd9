//! The pages, walked as a browser without JavaScript would: cookies kept by
//! hand, forms posted with their CSRF token.
use crate::helpers::*;

#[tokio::test]
async fn a_person_registers_logs_in_and_sees_their_data_without_javascript() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let (s, html, _) = b.get("/register").await;
    assert_eq!(s, 200);
    assert!(html.contains("У меня нет мобильного телефона"));
    assert!(html.contains("Уже зарегистрированы?"));

    let (s, _, to) = b
        .post(
            "/register",
            &[
                ("surname", "Смирнова"),
                ("given_name", "Ольга"),
                ("phone", "+7 (926) 100-20-30"),
                ("accept_terms", "true"),
            ],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/register/confirm")));
    let (_, html, _) = b.get("/register/confirm").await;
    assert!(html.contains("Подтверждение номера телефона"));
    assert!(html.contains("Смирнова Ольга, +7 (926) 100-20-30"));
    assert!(
        html.contains("Код действителен до 02.03.2026 12:05 (МСК)"),
        "without JS the page says until when"
    );
    assert!(html.contains("Изменить данные"));

    // «Изменить данные» keeps the entries.
    let (_, html, _) = b.get("/register?edit=1").await;
    assert!(html.contains("value=\"Смирнова\"") && html.contains("value=\"+7 (926) 100-20-30\""));

    let code = app.last_code("+79261002030").await;
    let (s, html, _) = b.post("/register/confirm", &[("code", "12")]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Код состоит из 6 цифр"));
    let (s, _, to) = b.post("/register/confirm", &[("code", &code)]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/register/password")));

    let (s, html, _) = b.get("/register/password").await;
    assert_eq!(s, 200);
    assert!(html.contains("Задайте пароль"));
    let (s, html, _) = b
        .post(
            "/register/password",
            &[
                ("password", "12345678"),
                ("password_confirmation", "12345678"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("Безопасность пароля: <strong>низкая</strong>"));
    let (s, _, to) = b
        .post(
            "/register/password",
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/register/done")));
    let (_, html, _) = b.get("/register/done").await;
    assert!(html.contains("Перейти к получению государственных услуг"));
    assert!(html.contains("Войти и заполнить личные данные"));

    let (_, _, to) = b.get("/me").await;
    assert_eq!(to.as_deref(), Some("/login?next=%2Fme"));
    let (s, html, _) = b
        .post(
            "/login",
            &[
                ("login", "89261002030"),
                ("password", "wrong one!"),
                ("next", "/me"),
            ],
        )
        .await;
    assert_eq!(s, 401);
    assert!(html.contains("Неверный логин или пароль"));
    let (s, _, to) = b
        .post(
            "/login",
            &[
                ("login", "89261002030"),
                ("password", PASSWORD),
                ("next", "/me"),
            ],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/me")));
    let (s, html, _) = b.get("/me").await;
    assert_eq!(s, 200);
    assert!(html.contains("Смирнова Ольга"));
    assert!(html.contains("упрощённая"));
    assert!(html.contains("Стандартная учётная запись открывает"));

    let first_session = b.cookies["__Host-uslugi-session"].clone();
    let (_, _, to) = b.post("/logout", &[]).await;
    assert_eq!(to.as_deref(), Some("/login?logged_out=1"));
    assert_eq!(
        app.get_bearer("/api/v1/me", &first_session).await.status(),
        401
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    b.get("/register").await;
    let r = app
        .client
        .post(app.url("/register"))
        .header("cookie", b.cookie_header())
        .form(&[
            ("csrf_token", "forged"),
            ("surname", "Иванов"),
            ("given_name", "Иван"),
            ("phone", "+79261002031"),
            ("accept_terms", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("login", "+79261002031"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no cookie, no token");
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn an_email_link_opened_in_another_browser_leads_to_the_password() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    b.lang = "en";
    let (_, html, _) = b.get("/register?via=email").await;
    assert!(html.contains("E-mail") && html.contains("Use a mobile phone"));
    let (s, _, _) = b
        .post(
            "/register",
            &[
                ("surname", "Volkov"),
                ("given_name", "Ivan"),
                ("email", "volkov@example.org"),
                ("accept_terms", "true"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, html, _) = b.get("/register/confirm").await;
    assert!(
        html.contains("Use the link no later than 05.03.2026 12:00 (Moscow time)"),
        "{html}"
    );
    assert!(
        html.contains("You can have the letter sent again at") && !html.contains("new code"),
        "a letter is not a code: {html}"
    );

    let link = app.last_link("volkov@example.org").await;
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let mut phone = Browser::new(&app);
    // Opening the link shows what it confirms and a button, nothing more.
    let (s, html, _) = phone.get(&path).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Volkov Ivan, volkov@example.org") && html.contains("Подтвердить"),
        "{html}"
    );
    let (s, _, to) = phone
        .post("/register/confirm-email", &[("token", &token)])
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/register/password")));
    // The browser that only started the registration cannot finish it.
    let (s, html, _) = b.get("/register/password").await;
    assert_eq!(s, 403, "{html}");
    let (s, _, _) = b
        .post(
            "/register/password",
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!(s, 403);
    let (s, _, to) = phone
        .post(
            "/register/password",
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/register/done")));
    let (s, html, _) = phone.get(&path).await;
    assert_eq!(s, 410, "the link worked once");
    assert!(html.contains("Ссылка недействительна"), "{html}");
}

#[tokio::test]
async fn the_language_switcher_stays_on_the_page_and_only_on_this_site() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let (s, _, to) = b.get("/lang/en?next=%2Fregister%3Fvia%3Demail").await;
    assert_eq!((s, to.as_deref()), (303, Some("/register?via=email")));
    let (_, html, _) = b.get("/register").await;
    assert!(html.contains("<html lang=\"en\">"));
    let (_, _, to) = b.get("/lang/ru?next=https%3A%2F%2Fevil.example").await;
    assert_eq!(to.as_deref(), Some("/"));
    let (s, html, _) = b.get("/no-such-page").await;
    assert_eq!(s, 404);
    assert!(html.contains("Страница не найдена") || html.contains("Page not found"));
}

#[tokio::test]
async fn a_login_goes_on_only_to_a_path_of_this_site() {
    let app = spawn_app().await;
    let phone = "+79261003041";
    app.register_phone(phone).await;
    let mut b = Browser::new(&app);
    for evil in [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/%0a/evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        "//evil.example",
        "/\\evil.example",
        "/%5cevil.example",
        "https://evil.example",
    ] {
        // The form carries nothing of it…
        let (s, html, _) = b.get(&format!("/login?next={}", url_encode(evil))).await;
        assert_eq!(s, 200, "{evil:?}");
        assert!(html.contains(r#"name="next" value="/">"#), "{evil:?}");
        // …and a login posted with it lands on «Мои данные».
        let (s, _, to) = b
            .post(
                "/login",
                &[("login", phone), ("password", PASSWORD), ("next", evil)],
            )
            .await;
        assert_eq!((s, to.as_deref()), (303, Some("/me")), "{evil:?}");
        let (s, _, to) = b.get(&format!("/lang/ru?next={}", url_encode(evil))).await;
        assert_eq!((s, to.as_deref()), (303, Some("/")), "{evil:?}");
    }
    let (_, _, to) = b
        .post(
            "/login",
            &[
                ("login", phone),
                ("password", PASSWORD),
                ("next", "/me/security"),
            ],
        )
        .await;
    assert_eq!(
        to.as_deref(),
        Some("/me/security"),
        "a fine next still works"
    );
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn every_answer_of_an_https_site_carries_hsts_and_of_a_loopback_one_not() {
    let app = spawn_with(|s| {
        s.base_url = Some("https://uslugi.example".into());
        s.dev = true;
    })
    .await;
    for path in [
        "/register",
        "/health",
        "/static/app.css",
        "/api/v1/service-centers",
        "/no-such-page",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            r.headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000; includeSubDomains"),
            "{path}"
        );
    }
    let r = app.post("/api/v1/sessions", &serde_json::json!({})).await;
    assert!(r.headers().contains_key("strict-transport-security"));

    let plain = spawn_app().await;
    let r = plain
        .client
        .get(plain.url("/register"))
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers().contains_key("strict-transport-security"),
        "not on plain HTTP"
    );
}

#[tokio::test]
async fn pages_carry_protective_headers() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/register")).send().await.unwrap();
    let h = r.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csrf = h
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("__Host-uslugi-csrf="))
        .unwrap();
    assert!(csrf.contains("Secure") && csrf.contains("HttpOnly") && csrf.contains("SameSite=Lax"));
    // The JSON API and static files take no forms: no token is minted there.
    for path in ["/api/v1/service-centers", "/static/app.css", "/health"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert!(
            r.headers().get_all("set-cookie").iter().next().is_none(),
            "{path} sets no cookie"
        );
    }
    assert_eq!(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_code_entered_wrongly_three_times_stops_counting_down() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    b.get("/register").await;
    b.post(
        "/register",
        &[
            ("surname", "Смирнова"),
            ("given_name", "Ольга"),
            ("phone", "+79261002030"),
            ("accept_terms", "true"),
        ],
    )
    .await;
    let code = app.last_code("+79261002030").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        let (s, _, _) = b.post("/register/confirm", &[("code", wrong)]).await;
        assert_eq!(s, 422);
    }
    let (_, html, _) = b.get("/register/confirm").await;
    assert!(
        html.contains("Код введён неверно слишком много раз"),
        "the page says the code is dead: {html}"
    );
    assert!(
        !html.contains("data-countdown-until") && !html.contains("Код действителен до"),
        "no countdown for a dead code"
    );
    let (s, html, _) = b.post("/register/confirm", &[("code", &code)]).await;
    assert_eq!(s, 422, "even the right code no longer works");
    assert!(html.contains("Запросите новый код"));
}

/// A registered person logged in through the pages.
async fn logged_in<'a>(app: &'a TestApp, phone: &str) -> Browser<'a> {
    app.register_phone(phone).await;
    let mut b = Browser::new(app);
    b.get("/login").await;
    let (s, _, to) = b
        .post(
            "/login",
            &[("login", phone), ("password", PASSWORD), ("next", "/me")],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/me")));
    b
}

fn ivanov_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("surname", "Иванов"),
        ("given_name", "Иван"),
        ("patronymic", "Иванович"),
        ("sex", "male"),
        ("birth_date", "17.05.1980"),
        ("birth_place", "гор. Москва"),
        ("snils", "112 233 445 95"),
        ("citizenship", "RUS"),
        ("document.type", "rf_passport"),
        ("document.series_number", "4510123456"),
        ("document.issue_date", "01.06.2000"),
        ("document.issued_by", "ОВД района Арбат гор. Москвы"),
        ("document.department_code", "770001"),
    ]
}

#[tokio::test]
async fn personal_data_are_filled_in_checked_and_shown_without_javascript() {
    let app = spawn_app().await;
    let mut b = logged_in(&app, "+79261003001").await;
    let (_, html, _) = b.get("/me").await;
    assert!(html.contains("Заполнить личные данные"));

    let (s, html, _) = b.get("/me/personal-data").await;
    assert_eq!(s, 200);
    assert!(html.contains("Заполните личные данные"));
    assert!(html.contains("Отчество (если есть)"));
    assert!(
        html.contains("value=\"Иванов\""),
        "pre-filled with the registration's names"
    );
    assert!(html.contains("Ввод личных данных") && html.contains("Подтверждение личности"));

    // «Продолжить позже» keeps whatever was typed.
    let mut draft = ivanov_form();
    draft[6] = ("snils", "112-233-445 96");
    draft.push(("action", "draft"));
    let (s, _, to) = b.post("/me/personal-data", &draft).await;
    assert_eq!((s, to.as_deref()), (303, Some("/me/personal-data?saved=1")));
    let (_, html, _) = b.get("/me/personal-data?saved=1").await;
    assert!(html.contains("Данные сохранены"));
    assert!(html.contains("value=\"112-233-445 96\""));
    assert!(html.contains("value=\"17.05.1980\""));

    // «Продолжить» with a mistake: named in the summary, entries kept.
    draft.pop();
    draft.push(("action", "submit"));
    let (s, html, _) = b.post("/me/personal-data", &draft).await;
    assert_eq!(s, 422);
    assert!(
        html.contains("href=\"#snils\">СНИЛС: СНИЛС введён с ошибкой"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains("value=\"ОВД района Арбат гор. Москвы\""));

    let mut good = ivanov_form();
    good.push(("action", "submit"));
    let (s, _, to) = b.post("/me/personal-data", &good).await;
    assert_eq!((s, to.as_deref()), (303, Some("/me/verification")));
    let (s, html, _) = b.get("/me/verification").await;
    assert_eq!(s, 200);
    assert!(html.contains("Выполняется проверка ваших личных данных"));
    assert!(html.contains("Проверка СНИЛС и персональных данных в Социальном фонде России"));
    assert!(html.contains("Проверка документа, удостоверяющего личность, в МВД России"));
    assert!(
        html.contains("+7 (926) 100-30-01"),
        "says where the result goes"
    );
    assert!(
        html.contains("<noscript><meta http-equiv=\"refresh\""),
        "without JS the page refreshes"
    );
    let (_, html, _) = b.get("/me/personal-data").await;
    assert!(html.contains("Ваши данные сейчас проверяются") && html.contains(" disabled"));

    app.settle(5).await;
    let (_, html, _) = b.get("/me/verification").await;
    assert!(html.contains("Проверка ваших личных данных завершена"));
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "a final page stays still"
    );
    let (_, html, _) = b.get("/me").await;
    assert!(
        html.contains("Стандартная") || html.contains("стандартная"),
        "{html}"
    );
    assert!(html.contains("112-233-445 95"));
    assert!(html.contains("4510 123456, выдан 01.06.2000"));
}

#[tokio::test]
async fn a_failed_check_says_what_to_correct() {
    let app = spawn_app().await;
    let mut b = logged_in(&app, "+79261003002").await;
    b.get("/me/personal-data").await;
    let mut form = ivanov_form();
    form[6] = ("snils", "198-765-432 47");
    form.push(("action", "submit"));
    b.post("/me/personal-data", &form).await;
    app.settle(5).await;
    let (_, html, _) = b.get("/me/verification").await;
    assert!(html.contains("Личные данные не прошли проверку"));
    assert!(html.contains("СНИЛС не найден"));
    assert!(html.contains("href=\"/me/personal-data\""));
    let (_, html, _) = b.get("/me/personal-data").await;
    assert!(
        html.contains("value=\"198-765-432 47\""),
        "entries kept for correction"
    );
    assert!(!html.contains(" disabled"));
}

#[tokio::test]
async fn addresses_are_given_on_their_page() {
    let app = spawn_app().await;
    let mut b = logged_in(&app, "+79261003003").await;
    let (s, html, _) = b.get("/me/addresses").await;
    assert_eq!(s, 200);
    assert!(html.contains("Адрес регистрации") && html.contains("Совпадает с адресом регистрации"));
    let fields = [
        ("registration.postal_code", "248000"),
        ("registration.region", "Калужская обл."),
        ("registration.locality", "г. Калуга"),
        ("registration.street", "ул. Достоевского"),
        ("registration.house", "39"),
        ("registration.building", ""),
        ("registration.flat", ""),
        ("same", "1"),
    ];
    let (s, html, _) = b.post("/me/addresses", &fields[..4]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Дом: Заполните поле"), "{html}");
    let (s, _, to) = b.post("/me/addresses", &fields).await;
    assert_eq!((s, to.as_deref()), (303, Some("/me?addresses_saved=1")));
    let (_, html, _) = b.get("/me?addresses_saved=1").await;
    assert!(html.contains("Адреса сохранены"));
    assert!(html.contains("248000, Калужская обл., г. Калуга, ул. Достоевского, 39"));
}

#[tokio::test]
async fn the_check_page_streams_its_state() {
    let app = spawn_app().await;
    let mut b = logged_in(&app, "+79261003004").await;
    b.get("/me/personal-data").await;
    let mut form = ivanov_form();
    form.push(("action", "submit"));
    b.post("/me/personal-data", &form).await;
    app.settle(5).await;
    // Once final, the stream sends the state and ends.
    let r = app
        .client
        .get(app.url("/me/verification/events"))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let body = r.text().await.unwrap();
    assert!(body.starts_with("event: state\ndata: {"), "{body}");
    assert!(body.contains("\"status\":\"verified\""), "{body}");
    let anonymous = app
        .client
        .get(app.url("/me/verification/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
