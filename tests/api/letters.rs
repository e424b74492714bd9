//! The code by registered letter: ordering, the post's tracking number and
//! its way, the limits (fake clock), entering the code, and the day's batch
//! for the mailing center.
use serde_json::{Value, json};
use time::Duration;
use uslugi_domain::TrackingNumber;

use crate::helpers::*;

/// Where Иванов is registered, as the demo set's Interior Ministry says.
const IVANOV_MASKED: &str = "г. Москва, г. Москва, ул. А***, д. ***, кв. ***";

/// Кузнецова Мария Викторовна of the demo set: her passport is valid, but
/// the ministry's record has no address of registration.
fn kuznetsova() -> Value {
    json!({
        "surname": "Кузнецова", "given_name": "Мария", "patronymic": "Викторовна",
        "sex": "female", "birth_date": "1992-07-08", "birth_place": "гор. Москва",
        "snils": "178-901-234 94", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4512 678901",
            "issue_date": "2012-08-01", "issued_by": "ОВД района Хамовники гор. Москвы",
            "department_code": "770-006"}
    })
}

/// Orders a letter without a body: the address is the ministry's.
async fn order(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_bearer("/api/v1/me/identity/letter", token).await
}

async fn letter(app: &TestApp, token: &str) -> Value {
    let r = app.get_bearer("/api/v1/me/identity/letter", token).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn enter(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/me/identity/letter/code"))
        .bearer_auth(token)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
}

/// The code in the newest letter the post delivered: from the development
/// mailbox's copy (channel `post`), as a person reads it off the page.
async fn posted_code(app: &TestApp) -> (String, String) {
    let m = app
        .messages()
        .await
        .into_iter()
        .find(|m| m.channel == "post")
        .expect("the post has a letter");
    let code = m
        .body
        .split(|c: char| c.is_whitespace())
        .find(|w| w.len() == 9 && w.as_bytes()[4] == b'-')
        .expect("the letter holds the code")
        .to_owned();
    (code, m.body)
}

#[tokio::test]
async fn a_letter_is_ordered_tracked_and_its_code_confirms_the_account() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400001", &ivanov()).await;
    let r = order(&app, &token).await;
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "queued");
    assert_eq!(v["tracking_number"], Value::Null);
    assert_eq!(letter(&app, &token).await["status"], "queued");
    let r = enter(&app, &token, "ABCD-EFGH").await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&r.json().await.unwrap()), "letter_not_sent");

    // A missing or null code is an empty one, refused on its field.
    for body in [json!({}), json!({"code": null})] {
        let r = app
            .client
            .post(app.url("/api/v1/me/identity/letter/code"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "malformed_code");
        assert!(body["error"]["fields"]["code"].is_string(), "{body}");
    }

    app.settle(1).await;
    let v = letter(&app, &token).await;
    assert_eq!(v["status"], "accepted");
    let tracking = v["tracking_number"].as_str().unwrap();
    assert!(
        TrackingNumber::parse(tracking).is_ok(),
        "a ШПИ with its check digit: {tracking}"
    );
    let sent = time::OffsetDateTime::parse(
        v["sent_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        v["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires - sent, Duration::days(30));
    let from = time::OffsetDateTime::parse(
        v["tracking_from"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        from - sent,
        Duration::days(1),
        "the post shows the way from the next day"
    );

    let post = app
        .messages()
        .await
        .into_iter()
        .find(|m| m.channel == "post")
        .unwrap();
    assert!(
        post.to.contains("119002") && post.to.contains("ул. Арбат, д. 10, кв. 5"),
        "to the registered address: {}",
        post.to
    );
    assert!(post.to.contains("Иванов Иван Иванович"));
    assert!(post.body.contains(tracking));
    let (code, _) = posted_code(&app).await;

    // On its way (two weeks by default); the person logs in now and then.
    app.advance(Duration::days(3));
    let token = app.token("+79261400001", PASSWORD).await;
    assert_eq!(letter(&app, &token).await["status"], "in_transit");
    app.advance(Duration::days(8));
    let token = app.token("+79261400001", PASSWORD).await;
    assert_eq!(letter(&app, &token).await["status"], "arrived");
    app.advance(Duration::days(4));
    let token = app.token("+79261400001", PASSWORD).await;
    assert_eq!(letter(&app, &token).await["status"], "handed_over");

    let r = enter(&app, &token, &code.to_lowercase()).await;
    assert_eq!(r.status(), 200);
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "confirmed", "at once, in this session");
    assert_eq!(me["confirmed_via"], "letter");
    assert_eq!(letter(&app, &token).await["status"], "used");
    app.settle(1).await;
    let sms = app.messages_to("+79261400001").await;
    assert!(sms[0].body.contains("личность подтверждена"));
    let r = enter(&app, &token, &code).await;
    assert_eq!(error_code(&r.json().await.unwrap()), "already_confirmed");
    let r = order(&app, &token).await;
    assert_eq!(r.status(), 409, "a confirmed account needs no letter");
}

#[tokio::test]
async fn only_a_standard_account_orders_a_letter() {
    let app = spawn_app().await;
    let token = app.citizen("+79261400002").await;
    let r = order(&app, &token).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(&r.json().await.unwrap()), "not_standard");
    let r = app.get_bearer("/api/v1/me/identity/letter", &token).await;
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .post(app.url("/api/v1/me/identity/letter"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Finding 4: a standard account is built from knowledge alone (names,
/// SNILS, passport number). Its holder types the attacker's own address:
/// the letter still goes to the address of registration the Interior
/// Ministry returned, and the typed one is ignored, not refused.
#[tokio::test]
async fn the_letter_goes_to_the_registered_address_never_to_a_typed_one() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400004", &ivanov()).await;
    let attacker = json!({"postal_code": "248000", "region": "Калужская обл.",
        "locality": "г. Калуга", "street": "ул. Ленина", "house": "5", "building": "",
        "flat": "12"});
    let r = app
        .client
        .post(app.url("/api/v1/me/identity/letter"))
        .bearer_auth(&token)
        .json(&json!({"address": attacker}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "an old client's body is not refused");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["address_masked"], IVANOV_MASKED);
    assert_eq!(letter(&app, &token).await["address_masked"], IVANOV_MASKED);
    app.settle(1).await;
    let post: Vec<_> = app
        .messages()
        .await
        .into_iter()
        .filter(|m| m.channel == "post")
        .collect();
    assert_eq!(post.len(), 1);
    assert!(
        post[0].to.contains("119002") && post[0].to.contains("ул. Арбат, д. 10, кв. 5"),
        "{}",
        post[0].to
    );
    for typed in ["248000", "Калуга", "Ленина"] {
        assert!(!post[0].to.contains(typed), "{typed} in {}", post[0].to);
    }
    // A page of the old form, posting the address fields, is no different.
    app.advance(Duration::hours(24));
    let mut b = Browser::new(&app);
    b.get("/login").await;
    b.post(
        "/login",
        &[("login", "+79261400004"), ("password", PASSWORD)],
    )
    .await;
    let (s, _, to) = b
        .post(
            "/me/identity/letter",
            &[
                ("address.postal_code", "248000"),
                ("address.region", "Калужская обл."),
                ("address.locality", "г. Калуга"),
                ("address.street", "ул. Ленина"),
                ("address.house", "5"),
            ],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/me/identity?ordered=1")));
    app.settle(1).await;
    let post = app
        .messages()
        .await
        .into_iter()
        .find(|m| m.channel == "post")
        .unwrap();
    assert!(post.to.contains("ул. Арбат, д. 10, кв. 5") && !post.to.contains("Ленина"));
}

/// With no address of registration in the ministry's record there is
/// nowhere safe to send a code: 409 and the service centers.
#[tokio::test]
async fn without_a_registered_address_the_citizen_is_sent_to_a_service_center() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400003", &kuznetsova()).await;
    let r = order(&app, &token).await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "no_registered_address");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("центре обслуживания")
    );
    let r = app
        .client
        .post(app.url("/api/v1/me/identity/letter"))
        .bearer_auth(&token)
        .header("accept-language", "en")
        .json(
            &json!({"address": {"postal_code": "248000", "region": "Калужская обл.",
            "locality": "г. Калуга", "street": "ул. Ленина", "house": "5"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "a typed address changes nothing");
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "no_registered_address");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("service center")
    );
    assert_eq!(
        app.get_bearer("/api/v1/me/identity/letter", &token)
            .await
            .status(),
        404,
        "nothing ordered"
    );
    app.settle(1).await;
    assert!(app.messages().await.iter().all(|m| m.channel != "post"));

    let mut b = Browser::new(&app);
    b.get("/login").await;
    b.post(
        "/login",
        &[("login", "+79261400003"), ("password", PASSWORD)],
    )
    .await;
    let (s, html, _) = b.get("/me/identity").await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"no-registered-address\""), "{html}");
    assert!(html.contains("/service-centers?service=identity_confirmation"));
    assert!(
        !html.contains("action=\"/me/identity/letter\""),
        "no order form"
    );
    let (s, html, _) = b.post("/me/identity/letter", &[]).await;
    assert_eq!(s, 409);
    assert!(html.contains("В данных МВД России нет адреса вашей регистрации"));
}

#[tokio::test]
async fn a_new_letter_at_most_once_a_day_and_four_times_in_thirty_days_voiding_the_last() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400005", &ivanov()).await;
    assert_eq!(order(&app, &token).await.status(), 202);
    app.settle(1).await;
    let (first_code, _) = posted_code(&app).await;
    let r = order(&app, &token).await;
    assert_eq!(r.status(), 429);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((86_390..=86_400).contains(&wait), "{wait}");
    app.advance(Duration::hours(24));
    let token = app.token("+79261400005", PASSWORD).await;
    assert_eq!(order(&app, &token).await.status(), 202);
    app.settle(1).await;
    let (second_code, _) = posted_code(&app).await;
    assert_ne!(first_code, second_code);
    let r = enter(&app, &token, &first_code).await;
    assert_eq!(r.status(), 422, "the earlier code no longer works");
    assert_eq!(error_code(&r.json().await.unwrap()), "wrong_code");
    for _ in 0..2 {
        app.advance(Duration::hours(24));
        let token = app.token("+79261400005", PASSWORD).await;
        assert_eq!(order(&app, &token).await.status(), 202);
    }
    app.advance(Duration::hours(24));
    let token = app.token("+79261400005", PASSWORD).await;
    let r = order(&app, &token).await;
    assert_eq!(r.status(), 429, "a fifth letter in thirty days");
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // The first letter leaves the window 30 days after it was ordered,
    // four days and a second or two (the workers' passes) ago.
    let expected = (Duration::days(26)).whole_seconds();
    assert!((expected - 5..=expected).contains(&wait), "{wait}");
}

#[tokio::test]
async fn five_wrong_codes_in_ten_minutes_and_ten_per_letter() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400006", &ivanov()).await;
    order(&app, &token).await;
    app.settle(1).await;
    let (code, _) = posted_code(&app).await;
    for n in 0..5 {
        let r = enter(&app, &token, "ZZZZ-ZZZZ").await;
        assert_eq!(r.status(), 422, "wrong code {n}");
    }
    let r = enter(&app, &token, &code).await;
    assert_eq!(r.status(), 429, "even the right code waits");
    assert!(r.headers().contains_key("retry-after"));
    app.advance(Duration::minutes(10));
    for _ in 0..4 {
        assert_eq!(enter(&app, &token, "ZZZZ-ZZZZ").await.status(), 422);
    }
    let r = enter(&app, &token, "ZZZZ-ZZZZ").await;
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "attempts_exhausted",
        "ten for this letter"
    );
    app.advance(Duration::minutes(10));
    let r = enter(&app, &token, &code).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&r.json().await.unwrap()), "attempts_exhausted");
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "standard");
}

#[tokio::test]
async fn fifty_guesses_at_once_count_against_the_limit() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400007", &ivanov()).await;
    order(&app, &token).await;
    app.settle(1).await;
    let guesses: Vec<_> = (0..50)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/v1/me/identity/letter/code");
            let token = token.clone();
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"code": "ZZZZ-ZZZZ"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for g in guesses {
        answers.push(g.await.unwrap());
    }
    let wrong = answers.iter().filter(|s| **s == 422).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert_eq!(wrong, 5, "only five were compared");
    assert_eq!(refused, 45);
}

#[tokio::test]
async fn a_code_works_thirty_days_from_dispatch() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400008", &ivanov()).await;
    order(&app, &token).await;
    app.settle(1).await;
    let (code, _) = posted_code(&app).await;
    app.advance(Duration::days(30));
    let token = app.token("+79261400008", PASSWORD).await;
    let r = enter(&app, &token, &code).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&r.json().await.unwrap()), "code_expired");
    assert_eq!(letter(&app, &token).await["status"], "expired");
    let r = enter(&app, &token, "O0I1-LLLL").await;
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "malformed_code",
        "look-alikes are not in the alphabet"
    );
}

#[tokio::test]
async fn the_post_refusing_a_letter_delays_it_without_losing_it() {
    let app = spawn_with(|s| s.post_failure_rate = 1.0).await;
    let token = app.standard_citizen("+79261400009", &ivanov()).await;
    order(&app, &token).await;
    app.settle(30).await;
    assert_eq!(letter(&app, &token).await["status"], "queued");
    assert!(app.messages().await.iter().all(|m| m.channel != "post"));
}

#[tokio::test]
async fn the_days_batch_is_printed_with_codes_and_registered_without_them() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261400010", &ivanov()).await;
    order(&app, &token).await;
    app.settle(1).await;
    let (code, _) = posted_code(&app).await;
    let tracking = letter(&app, &token).await["tracking_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = app
        .letters
        .now()
        .to_offset(time::UtcOffset::from_hms(3, 0, 0).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let sender = uslugi::config::LetterSender::default();
    let (pdf, csv, n) =
        uslugi::letters_file::export(&app.letters, now.date(), dir.path(), &sender, &app.base)
            .await
            .unwrap();
    assert_eq!(n, 1);
    let pdf = std::fs::read(pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf_pages(&pdf), 1, "one page per letter");
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("n,tracking_number,recipient")
    );
    assert!(csv.contains(&tracking) && csv.contains("Иванов Иван Иванович"));
    assert!(
        !csv.contains(&code) && !csv.contains(&code.replace('-', "")),
        "no codes in the registry"
    );
    let (_, _, none) = uslugi::letters_file::export(
        &app.letters,
        now.date().previous_day().unwrap(),
        dir.path(),
        &sender,
        &app.base,
    )
    .await
    .unwrap();
    assert_eq!(none, 0);
    // A used code is not printed again.
    enter(&app, &token, &code).await;
    assert!(app.letters.batch(now.date()).await.unwrap().is_empty());
}

fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

#[tokio::test]
async fn without_javascript_the_letter_is_ordered_and_its_code_typed_on_my_data() {
    let app = spawn_app().await;
    app.standard_citizen("+79261400011", &ivanov()).await;
    let mut b = Browser::new(&app);
    b.get("/login").await;
    let (s, _, _) = b
        .post(
            "/login",
            &[("login", "+79261400011"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(s, 303);
    let (_, html, _) = b.get("/me").await;
    assert!(
        html.contains("href=\"/me/identity\""),
        "«Подтвердить личность»"
    );
    let (s, html, _) = b.get("/me/identity").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Обратиться лично") && html.contains("Получить код подтверждения письмом")
    );
    assert!(
        html.contains(&format!(
            "<strong id=\"letter-address\">{IVANOV_MASKED}</strong>"
        )),
        "the registered address, masked"
    );
    assert!(
        !html.contains("name=\"address.postal_code\""),
        "no address to type"
    );
    let (s, _, to) = b.post("/me/identity/letter", &[]).await;
    assert_eq!((s, to.as_deref()), (303, Some("/me/identity?ordered=1")));
    let (_, html, _) = b.get("/me/identity?ordered=1").await;
    assert!(html.contains("готовится к отправке"));
    app.settle(1).await;
    let (_, html, _) = b.get("/me/identity").await;
    assert!(
        html.contains("Отслеживание на сайте Почты России — с"),
        "no tracking link on the first day"
    );
    assert!(!html.contains("pochta.ru/tracking"));
    app.advance(Duration::days(1));
    b.get("/login").await;
    b.post(
        "/login",
        &[("login", "+79261400011"), ("password", PASSWORD)],
    )
    .await;
    let (_, html, _) = b.get("/me/identity").await;
    assert!(
        html.contains("https://www.pochta.ru/tracking#"),
        "from the next day, the link"
    );
    let (_, html, _) = b.get("/me").await;
    assert!(html.contains("Почтовый идентификатор (ШПИ)"));
    assert!(
        html.contains("name=\"from\" value=\"me\""),
        "«Введите код» on «Мои данные»"
    );
    let code = app
        .messages()
        .await
        .into_iter()
        .find(|m| m.channel == "post")
        .unwrap()
        .body
        .split_whitespace()
        .find(|w| w.len() == 9 && w.as_bytes()[4] == b'-')
        .unwrap()
        .to_owned();
    let (s, html, _) = b
        .post(
            "/me/identity/code",
            &[("code", "ZZZZ-ZZZZ"), ("from", "me")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("Неверный код. Осталось попыток: 9"));
    let (s, _, to) = b
        .post("/me/identity/code", &[("code", &code), ("from", "me")])
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/me")));
    let (_, html, _) = b.get("/me").await;
    assert!(
        html.contains("id=\"confirmed-mark\""),
        "the «подтверждена» mark"
    );
    assert!(html.contains("по коду из заказного письма"));
}

/// `[post] mode = "print"`: a letter takes the next number of the range the
/// post allocated (no copy goes anywhere: the day's batch is printed), and
/// the post's status file, imported by the command an operator runs beside
/// the node, moves it along; a wrong file changes nothing, an older line
/// never moves a letter back, a number of no letter of ours is skipped.
#[tokio::test]
async fn a_printed_letter_takes_a_number_of_the_range_and_the_posts_file_moves_it() {
    use time::format_description::well_known::Rfc3339;
    let app = spawn_with(|s| {
        s.post.mode = "print".into();
        s.post.tracking_prefix = Some("10100012".into());
        s.post.tracking_range_start = Some("00041".into());
        s.post.tracking_range_end = Some("00050".into());
    })
    .await;
    let token = app.standard_citizen("+79261400091", &ivanov()).await;
    assert_eq!(order(&app, &token).await.status(), 202);
    app.settle(1).await;
    let v = letter(&app, &token).await;
    assert_eq!(v["status"], "accepted");
    let tracking = v["tracking_number"].as_str().unwrap().to_owned();
    assert_eq!(&tracking[..13], "1010001200041", "the range's first number");
    assert!(TrackingNumber::parse(&tracking).is_ok(), "{tracking}");
    assert!(
        app.messages().await.iter().all(|m| m.channel != "post"),
        "nothing simulated"
    );
    let unknown = uslugi_domain::TrackingRange::parse("10100012", "00049", "00049")
        .unwrap()
        .number(49)
        .unwrap();

    let config = app.data_dir.join("uslugi.toml");
    std::fs::write(&config, toml::to_string(&app.settings).unwrap()).unwrap();
    let file = app.data_dir.join("tracking.csv");
    let import = |csv: String| {
        std::fs::write(&file, csv).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_uslugi"))
            .arg("--config")
            .arg(&config)
            .args(["admin", "letters", "import-tracking"])
            .arg(&file)
            .env_remove("USLUGI_DATABASE_URL")
            .env_remove("USLUGI_DATA_DIR")
            .output()
            .unwrap()
    };
    let at = |hours: i64| {
        (uslugi_app::clock::Clock::now(&app.clock) + Duration::hours(hours))
            .format(&Rfc3339)
            .unwrap()
    };

    let out = import(format!(
        "tracking_number,status,time\n{tracking},lost,{}\n",
        at(1)
    ));
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("nothing imported") && said.contains("line 2: status \"lost\""),
        "{said}"
    );
    assert_eq!(letter(&app, &token).await["status"], "accepted");

    let out = import(format!(
        "tracking_number,status,time\n{tracking},in_transit,{}\n{unknown},arrived,{}\n",
        at(1),
        at(1)
    ));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("1 applied") && said.contains("(lines 3)"),
        "{said}"
    );
    assert_eq!(letter(&app, &token).await["status"], "in_transit");

    let out = import(format!(
        "time,tracking_number,status\n{},{tracking},accepted\n{},{tracking},handed_over\n",
        at(-1),
        at(48)
    ));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 applied, 1 older"), "{said}");
    assert_eq!(letter(&app, &token).await["status"], "handed_over");

    // Not in print mode: nothing to import into.
    let mut simulated = app.settings.clone();
    simulated.post = uslugi::config::PostSettings::default();
    std::fs::write(&config, toml::to_string(&simulated).unwrap()).unwrap();
    let out = import(format!(
        "tracking_number,status,time\n{tracking},arrived,{}\n",
        at(49)
    ));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(letter(&app, &token).await["status"], "handed_over");
}
