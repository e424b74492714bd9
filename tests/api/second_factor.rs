//! «Вход с подтверждением»: the citizens' second factor by SMS or by an
//! authenticator app, its backup codes, and what the login asks for.
use serde_json::{Value, json};
use time::Duration;
use uslugi_app::totp::TotpSecret;

use crate::helpers::*;

async fn post_json(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Turns SMS codes on for the account of `token` (whose phone is `phone`);
/// its backup codes.
async fn with_sms(app: &TestApp, token: &str, phone: &str) -> Vec<String> {
    let r = post_json(
        app,
        "/api/v1/me/second-factor",
        token,
        &json!({"method": "sms", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let id = body_of(r).await["enrolment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settle(0).await;
    let code = app.last_code(phone).await;
    let r = post_json(
        app,
        &format!("/api/v1/me/second-factor/{id}/confirm"),
        token,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// The password step of a login that must go on to a code.
async fn password_step(app: &TestApp, login: &str) -> Value {
    let r = app.log_in(login, PASSWORD).await;
    assert_eq!(r.status(), 202);
    r.json().await.unwrap()
}

async fn code_step(app: &TestApp, challenge: &Value, code: &str) -> reqwest::Response {
    app.post(
        "/api/v1/sessions/second-factor",
        &json!({"challenge_id": challenge["challenge_id"], "code": code}),
    )
    .await
}

async fn status(app: &TestApp, token: &str) -> Value {
    app.get_bearer("/api/v1/me/second-factor", token)
        .await
        .json()
        .await
        .unwrap()
}

async fn body_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

#[tokio::test]
async fn an_app_turned_on_makes_the_login_ask_for_its_code() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700001").await;
    assert_eq!(status(&app, &token).await["enabled"], false);
    let r = post_json(
        &app,
        "/api/v1/me/second-factor",
        &token,
        &json!({"method": "totp", "password": "not the password"}),
    )
    .await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(&body_of(r).await), "wrong_password");
    let r = post_json(
        &app,
        "/api/v1/me/second-factor",
        &token,
        &json!({"method": "carrier pigeon", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(body_of(r).await["error"]["fields"]["method"].is_string());

    let r = post_json(
        &app,
        "/api/v1/me/second-factor",
        &token,
        &json!({"method": "totp", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let enrol: Value = r.json().await.unwrap();
    let uri = enrol["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/uslugi:"), "{uri}");
    assert!(
        !uri.contains("79261700001"),
        "no whole phone in the app: {uri}"
    );
    let secret = TotpSecret::from_base32(enrol["secret"].as_str().unwrap()).unwrap();
    assert_eq!(
        app.log_in("+79261700001", PASSWORD).await.status(),
        201,
        "not on before the first code"
    );
    let id = enrol["enrolment_id"].as_str().unwrap();
    let confirm = format!("/api/v1/me/second-factor/{id}/confirm");
    let right = totp_now(&app, &secret);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    let r = post_json(&app, &confirm, &token, &json!({"code": wrong})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&body_of(r).await), "code_wrong");
    let r = post_json(&app, &confirm, &token, &json!({"code": right})).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let codes: Vec<&str> = body["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
    );
    let mut distinct = codes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    let s = status(&app, &token).await;
    assert_eq!(
        (&s["enabled"], &s["method"], &s["backup_codes_left"]),
        (&json!(true), &json!("totp"), &json!(10))
    );

    // The password alone no longer opens a session.
    let step = password_step(&app, "+79261700001").await;
    assert_eq!(step["second_factor_required"], true);
    assert_eq!(step["method"], "totp");
    assert!(step.get("session_token").is_none());
    let challenge = step["challenge_id"].as_str().unwrap();
    assert_eq!(
        app.get_bearer("/api/v1/me", challenge).await.status(),
        401,
        "the step is no session"
    );
    // The code that proved the app was spent at enrolment.
    let r = code_step(&app, &step, &right).await;
    assert_eq!(r.status(), 422);
    let err = body_of(r).await;
    assert_eq!(error_code(&err), "code_wrong");
    assert!(
        err["error"]["fields"]["code"]
            .as_str()
            .unwrap()
            .contains("Осталось попыток: 4")
    );
    let code = totp_now(&app, &secret);
    let r = code_step(&app, &step, &code).await;
    assert_eq!(r.status(), 201);
    let session = body_of(r).await["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get_bearer("/api/v1/me", &session).await.status(), 200);
    // The same code again, in a new login: refused (a code works once).
    let again = password_step(&app, "+79261700001").await;
    assert_eq!(code_step(&app, &again, &code).await.status(), 422);
    assert_eq!(
        code_step(&app, &step, &totp_now(&app, &secret))
            .await
            .status(),
        404,
        "a step opens one session"
    );

    app.settle(0).await;
    let notice = app
        .messages_to("+79261700001")
        .await
        .into_iter()
        .find(|m| m.body.contains("включён вход с подтверждением"))
        .expect("the notice of the factor turned on");
    assert!(notice.body.contains("приложения"), "{}", notice.body);
    let events: Value = app
        .get_bearer("/api/v1/me/security-events", &session)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<String> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}/{}", e["action"], e["outcome"]).replace('"', ""))
        .collect();
    for expected in [
        "second_factor_enabled/totp",
        "login/second_factor_asked",
        "login/wrong_second_factor",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn each_backup_code_works_once() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700002").await;
    let (_, codes) = with_app(&app, &token).await;
    let step = password_step(&app, "+79261700002").await;
    // Typed as a person might: upper case, without the hyphen, with spaces.
    let typed = format!(" {} ", codes[3].replace('-', "").to_uppercase());
    assert_eq!(code_step(&app, &step, &typed).await.status(), 201);
    let step = password_step(&app, "+79261700002").await;
    let r = code_step(&app, &step, &codes[3]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&body_of(r).await), "code_wrong");
    assert_eq!(code_step(&app, &step, &codes[4]).await.status(), 201);
    assert_eq!(status(&app, &token).await["backup_codes_left"], 8);
    let step = password_step(&app, "+79261700002").await;
    let r = code_step(&app, &step, "abc").await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&body_of(r).await), "code_malformed");
}

#[tokio::test]
async fn sms_codes_by_the_accounts_phone() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700003").await;
    let r = post_json(
        &app,
        "/api/v1/me/second-factor",
        &token,
        &json!({"method": "sms", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let enrol: Value = r.json().await.unwrap();
    assert_eq!(enrol["sent_to"], "+7 (926) ***-**-03");
    assert!(enrol.get("secret").is_none());
    app.settle(0).await;
    let code = app.last_code("+79261700003").await;
    let id = enrol["enrolment_id"].as_str().unwrap();
    let r = post_json(
        &app,
        &format!("/api/v1/me/second-factor/{id}/confirm"),
        &token,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(status(&app, &token).await["method"], "sms");

    let step = password_step(&app, "+79261700003").await;
    assert_eq!(step["method"], "sms");
    assert_eq!(step["sent_to"], "+7 (926) ***-**-03");
    app.settle(0).await;
    let sms = app.messages_to("+79261700003").await.remove(0);
    assert!(sms.body.starts_with("Код для входа"), "{}", sms.body);
    let code = app.last_code("+79261700003").await;
    // A new code cannot be asked for at once.
    let r = app
        .post(
            "/api/v1/sessions/second-factor/resend",
            &json!({"challenge_id": step["challenge_id"]}),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(code_step(&app, &step, &code).await.status(), 201);

    // A code lives 300 s; then a new one is sent on request.
    let step = password_step(&app, "+79261700003").await;
    app.settle(0).await;
    let old = app.last_code("+79261700003").await;
    app.advance(Duration::seconds(301));
    let r = code_step(&app, &step, &old).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(&body_of(r).await), "code_expired");
    let r = app
        .post(
            "/api/v1/sessions/second-factor/resend",
            &json!({"challenge_id": step["challenge_id"]}),
        )
        .await;
    assert_eq!(r.status(), 202);
    app.settle(0).await;
    let new = app.last_code("+79261700003").await;
    assert_eq!(code_step(&app, &step, &new).await.status(), 201);
}

#[tokio::test]
async fn three_wrong_sms_codes_end_the_step_even_when_guessed_at_once() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700004").await;
    with_sms(&app, &token, "+79261700004").await;
    let step = password_step(&app, "+79261700004").await;
    app.settle(0).await;
    let right = app.last_code("+79261700004").await;
    let guesses: Vec<_> = (0..50u32)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/v1/sessions/second-factor");
            let guess = format!("{:06}", (right.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
            let body = json!({"challenge_id": step["challenge_id"], "code": guess});
            tokio::spawn(async move {
                let r = client.post(url).json(&body).send().await.unwrap();
                let body: Value = r.json().await.unwrap();
                error_code(&body).to_owned()
            })
        })
        .collect();
    let mut judged = 0;
    for g in guesses {
        match g.await.unwrap().as_str() {
            "code_wrong" => judged += 1,
            // Refused before evaluation: the tries were used up, or the
            // account's attempt was taken by a concurrent guess.
            "code_attempts_exhausted" | "throttled" => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(judged <= 2, "{judged} wrong codes judged before the last");
    let exhausted = app
        .store
        .factor_challenge(step["challenge_id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap()
        .is_none_or(|c| c.attempts >= 3);
    let r = code_step(&app, &step, &right).await;
    // Guesses refused before they were judged (the account's attempt was
    // taken by another) leave the step's tries; once used up, even the right
    // code opens nothing.
    assert_eq!(r.status() == 201, !exhausted, "{judged} judged");
    if r.status() == 201 {
        return;
    }
    let session = app
        .get_bearer("/api/v1/me/sessions", &token)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(session["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_codes_count_against_the_account_like_wrong_passwords() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700005").await;
    let (secret, _) = with_app(&app, &token).await;
    // Five wrong codes in a row (across two steps) start the wait.
    let mut step = password_step(&app, "+79261700005").await;
    for i in 0..5 {
        if i == 3 {
            step = password_step(&app, "+79261700005").await;
        }
        assert_eq!(code_step(&app, &step, "000000").await.status(), 422);
    }
    // The next step's code (an app a little ahead): right, and the clock
    // stays within the wait.
    let ahead = uslugi_app::totp::step_of(uslugi_app::Clock::now(&app.clock)) + 1;
    let code = format!("{:06}", uslugi_app::totp::code_at_step(&secret, ahead));
    let r = code_step(&app, &step, &code).await;
    assert_eq!(r.status(), 429, "throttled: even the right code waits");
    assert_eq!(error_code(&body_of(r).await), "throttled");
    app.advance(Duration::seconds(3));
    // The password being right does not forgive the wrong codes.
    let step = password_step(&app, "+79261700005").await;
    assert_eq!(
        code_step(&app, &step, &totp_now(&app, &secret))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn turning_it_off_asks_for_the_password_and_the_factor() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700006").await;
    let (secret, codes) = with_app(&app, &token).await;
    let off = |password: &str, code: &str| {
        let body = json!({"password": password, "code": code});
        let app = &app;
        let token = token.clone();
        async move { post_json(app, "/api/v1/me/second-factor/disable", &token, &body).await }
    };
    let r = off("not the password", &totp_now(&app, &secret)).await;
    assert_eq!(r.status(), 401);
    let r = off(PASSWORD, "").await;
    assert_eq!(r.status(), 422);
    assert!(body_of(r).await["error"]["fields"]["code"].is_string());
    let r = off(PASSWORD, "123456").await;
    assert_eq!(r.status(), 422);
    assert_eq!(status(&app, &token).await["enabled"], true);
    // New backup codes need the factor too, and the old ones die.
    let r = post_json(
        &app,
        "/api/v1/me/second-factor/backup-codes",
        &token,
        &json!({"password": PASSWORD, "code": totp_now(&app, &secret)}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let fresh: Vec<String> = body_of(r).await["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    let r = off(PASSWORD, &codes[0]).await;
    assert_eq!(r.status(), 422, "an old backup code");
    let r = off(PASSWORD, &fresh[0]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(status(&app, &token).await["enabled"], false);
    assert_eq!(app.log_in("+79261700006", PASSWORD).await.status(), 201);
    app.settle(0).await;
    let bodies: Vec<String> = app
        .messages_to("+79261700006")
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("отключён вход с подтверждением"))
    );
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("выпущены новые резервные коды"))
    );
}

#[tokio::test]
async fn an_sms_factor_is_turned_off_with_a_code_asked_for_it() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700007").await;
    with_sms(&app, &token, "+79261700007").await;
    // The notice of the factor turned on is not delivered yet: the newest
    // SMS is still the enrolment's code.
    let code = app.last_code("+79261700007").await;
    let disable = json!({"password": PASSWORD, "code": code});
    let r = post_json(&app, "/api/v1/me/second-factor/disable", &token, &disable).await;
    assert_eq!(r.status(), 422, "the enrolment's code is no code for this");
    assert_eq!(error_code(&body_of(r).await), "code_expired");
    let r = post_json(&app, "/api/v1/me/second-factor/code", &token, &json!({})).await;
    assert_eq!(r.status(), 202);
    app.settle(0).await;
    let code = app.last_code("+79261700007").await;
    let r = post_json(
        &app,
        "/api/v1/me/second-factor/disable",
        &token,
        &json!({"password": PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(status(&app, &token).await["enabled"], false);
}

#[tokio::test]
async fn a_login_step_ends_after_ten_minutes() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700008").await;
    let (secret, _) = with_app(&app, &token).await;
    let step = password_step(&app, "+79261700008").await;
    app.advance(Duration::minutes(11));
    let r = code_step(&app, &step, &totp_now(&app, &secret)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(&body_of(r).await), "challenge_not_found");
    let r = app
        .post(
            "/api/v1/sessions/second-factor",
            &json!({"challenge_id": "not-an-id", "code": "123456"}),
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_pages_turn_it_on_and_ask_for_the_code_at_login_without_javascript() {
    let app = spawn_app().await;
    app.register_phone("+79261700009").await;
    let mut b = Browser::new(&app);
    b.get("/login").await;
    let (status, _, to) = b
        .post(
            "/login",
            &[("login", "+79261700009"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!((status, to.as_deref()), (303, Some("/me")));
    let (_, page, _) = b.get("/me/security").await;
    assert!(page.contains("Вход с подтверждением"));
    assert!(page.contains("Выключен."));
    let (_, form, _) = b.get("/me/security/second-factor").await;
    assert!(form.contains("Код в SMS на номер +7 (926) ***-**-09"));
    let (status, page, _) = b
        .post(
            "/me/security/second-factor",
            &[("method", "totp"), ("password", "wrong")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Неверный пароль"));
    let (status, _, to) = b
        .post(
            "/me/security/second-factor",
            &[("method", "totp"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 303);
    let to = to.unwrap();
    assert!(to.starts_with("/me/security/second-factor/enrol/"), "{to}");
    let (_, enrol, _) = b.get(&to).await;
    assert!(enrol.contains("src=\"data:image/svg+xml"));
    let key = between(&enrol, "<code id=\"totp-key\" class=\"key\">", "</code>");
    let secret = TotpSecret::from_base32(&key.replace(' ', "")).unwrap();
    let (status, page, _) = b.post(&to, &[("code", "12")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("Код состоит из 6 цифр"));
    assert!(page.contains("totp-key"), "the key is shown again");
    let code = totp_now(&app, &secret);
    let (status, page, _) = b.post(&to, &[("code", &code)]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Резервные коды"));
    assert_eq!(page.matches("<li><code>").count(), 10);
    let (_, page, _) = b.get("/me/security?factor=on").await;
    assert!(page.contains("Включён: код берётся из приложения-аутентификатора."));
    assert!(page.contains("Неиспользованных резервных кодов: 10."));

    // A new browser logs in: the password, then the code page.
    let mut other = Browser::new(&app);
    other.get("/login").await;
    let (status, _, to) = other
        .post(
            "/login",
            &[("login", "+79261700009"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!((status, to.as_deref()), (303, Some("/login/code")));
    assert!(other.cookies.contains_key("__Host-uslugi-login"));
    assert!(!other.cookies.contains_key("__Host-uslugi-session"));
    let (status, page, _) = other.get("/login/code").await;
    assert_eq!(status, 200);
    assert!(page.contains("Введите 6 цифр из приложения-аутентификатора"));
    let (status, page, _) = other.post("/login/code", &[("code", "000000")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("Код не подходит. Осталось попыток: 4"));
    let (status, _, _) = {
        // Without the CSRF token: refused.
        let r = app
            .client
            .post(app.url("/login/code"))
            .header("cookie", other.cookie_header())
            .form(&[("code", "123456")])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), (), ())
    };
    assert_eq!(status, 403);
    let code = totp_now(&app, &secret);
    let (status, _, to) = other.post("/login/code", &[("code", &code)]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/me")));
    assert!(other.cookies.contains_key("__Host-uslugi-session"));
    assert!(!other.cookies.contains_key("__Host-uslugi-login"));
    let (status, _, _) = other.get("/me").await;
    assert_eq!(status, 200);
    let (status, page, _) = other.get("/login/code").await;
    assert_eq!(status, 410);
    assert!(page.contains("Войти заново"));

    // Turned off from the page: password and code.
    let (_, page, _) = b.get("/me/security/second-factor/off").await;
    assert!(page.contains("Отключить вход с подтверждением"));
    assert!(!page.contains("Получить код в SMS"), "an app sends nothing");
    let (status, page, _) = b
        .post(
            "/me/security/second-factor/off",
            &[("password", PASSWORD), ("code", "")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Введите код подтверждения"));
    let code = totp_now(&app, &secret);
    let (status, _, to) = b
        .post(
            "/me/security/second-factor/off",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
    assert_eq!(
        (status, to.as_deref()),
        (303, Some("/me/security?factor=off"))
    );
    let (_, page, _) = b.get("/me/security?factor=off").await;
    assert!(page.contains("Вход с подтверждением отключён."));
    assert!(page.contains("Выключен."));
}

#[tokio::test]
async fn the_code_page_goes_on_to_where_the_login_was_going() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700010").await;
    let (secret, _) = with_app(&app, &token).await;
    let mut b = Browser::new(&app);
    b.lang = "en";
    b.get("/login").await;
    let (_, _, to) = b
        .post(
            "/login",
            &[
                ("login", "+79261700010"),
                ("password", PASSWORD),
                ("next", "/me/security"),
            ],
        )
        .await;
    assert_eq!(to.as_deref(), Some("/login/code?next=%2Fme%2Fsecurity"));
    let (_, page, _) = b.get("/login/code?next=%2Fme%2Fsecurity").await;
    assert!(page.contains("Enter the 6 digits from your authenticator app"));
    let code = totp_now(&app, &secret);
    let (_, _, to) = b
        .post("/login/code", &[("code", &code), ("next", "/me/security")])
        .await;
    assert_eq!(to.as_deref(), Some("/me/security"));
}

#[tokio::test]
async fn wrong_passwords_on_these_pages_count_as_at_the_login() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700011").await;
    let enrol = |password: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            post_json(
                app,
                "/api/v1/me/second-factor",
                &token,
                &json!({"method": "totp", "password": password}),
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_eq!(enrol("not the password").await.status(), 401);
    }
    let r = enrol(PASSWORD).await;
    assert_eq!(r.status(), 429, "a session is no way to guess the password");
    assert_eq!(error_code(&body_of(r).await), "throttled");
    assert_eq!(
        app.log_in("+79261700011", PASSWORD).await.status(),
        401,
        "the login waits too"
    );
    app.advance(Duration::seconds(3));
    assert_eq!(enrol(PASSWORD).await.status(), 202);
}

#[tokio::test]
async fn a_new_phone_or_e_mail_needs_the_factor_when_it_is_on() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700012").await;
    let (secret, codes) = with_app(&app, &token).await;
    let start = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { post_json(app, "/api/v1/me/contacts", &token, &body).await }
    };
    let r = start(json!({"phone": "+79261700112", "password": PASSWORD})).await;
    assert_eq!(r.status(), 422);
    let body = body_of(r).await;
    assert_eq!(error_code(&body), "second_factor_required");
    assert!(body["error"]["fields"]["code"].is_string());
    let r = start(json!({"phone": "+79261700112", "password": PASSWORD, "code": "000000"})).await;
    assert_eq!(error_code(&body_of(r).await), "code_wrong");
    app.settle(0).await;
    assert!(
        app.messages_to("+79261700112").await.is_empty(),
        "nothing sent to the new phone without the factor"
    );
    let r = start(
        json!({"phone": "+79261700112", "password": PASSWORD, "code": totp_now(&app, &secret)}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let r =
        start(json!({"email": "new@example.org", "password": PASSWORD, "code": codes[0]})).await;
    assert_eq!(r.status(), 202, "a backup code will do");
    let r =
        start(json!({"email": "new@example.org", "password": PASSWORD, "code": codes[0]})).await;
    assert_eq!(r.status(), 422, "once");
}

#[tokio::test]
async fn the_contact_page_asks_an_sms_factor_for_its_code() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700013").await;
    with_sms(&app, &token, "+79261700013").await;
    let mut b = Browser::new(&app);
    b.get("/login").await;
    b.post(
        "/login",
        &[("login", "+79261700013"), ("password", PASSWORD)],
    )
    .await;
    app.settle(0).await;
    let code = app.last_code("+79261700013").await;
    let (_, _, to) = b.post("/login/code", &[("code", &code)]).await;
    assert_eq!(to.as_deref(), Some("/me"));
    let (_, page, _) = b.get("/me/contacts/phone").await;
    assert!(page.contains("name=\"code\""));
    assert!(page.contains("Получить код в SMS"));
    let (status, page, _) = b
        .post(
            "/me/contacts/phone",
            &[
                ("phone", "+79261700113"),
                ("password", PASSWORD),
                ("code", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Введите код подтверждения"));
    let (_, _, to) = b
        .post(
            "/me/security/second-factor/code",
            &[("back", "contact-phone")],
        )
        .await;
    assert_eq!(to.as_deref(), Some("/me/contacts/phone?sent=1"));
    let (_, page, _) = b.get("/me/contacts/phone?sent=1").await;
    assert!(page.contains("Код отправлен на номер +7 (926) ***-**-13."));
    app.settle(0).await;
    let code = app.last_code("+79261700013").await;
    let (status, _, to) = b
        .post(
            "/me/contacts/phone",
            &[
                ("phone", "+79261700113"),
                ("password", PASSWORD),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert!(to.unwrap().starts_with("/me/contacts/changes/"));
}

#[tokio::test]
async fn a_remembered_login_by_code_ends_after_a_week_unused() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700031").await;
    let (secret, _) = with_app(&app, &token).await;
    let r = app
        .post(
            "/api/v1/sessions",
            &json!({"login": "+79261700031", "password": PASSWORD, "remember_me": true}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let step: Value = r.json().await.unwrap();
    let r = code_step(&app, &step, &totp_now(&app, &secret)).await;
    assert_eq!(r.status(), 201);
    let remembered = body_of(r).await["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(Duration::days(6));
    assert_eq!(
        app.get_bearer("/api/v1/me", &remembered).await.status(),
        200
    );
    app.advance(Duration::days(7) + Duration::minutes(1));
    assert_eq!(
        app.get_bearer("/api/v1/me", &remembered).await.status(),
        401,
        "seven days unused end it, though thirty have not passed"
    );
}

/// The served document, for checking answers against it.
async fn document(app: &TestApp) -> Value {
    app.client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The schema of an operation's answer with `status`.
fn answer_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let answer = &doc["paths"][path][method]["responses"][status.to_string()];
    let schema = &answer["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status}: no schema");
    schema
}

/// Whether `value` is what `schema` describes: types, `null`, enumerations,
/// formats (uuid, date-time), required properties, array sizes; and no
/// property the schema does not name, which would be drift between the
/// handler and its document even where JSON Schema would allow it.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(name) = schema["$ref"].as_str() {
        let name = name.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(parts) = schema["allOf"].as_array() {
        // Each part is checked for its own properties; the union must
        // cover every property of the value.
        let mut named = Vec::new();
        for part in parts {
            let part = match part["$ref"].as_str() {
                Some(r) => {
                    &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]
                }
                None => part,
            };
            let mut own = serde_json::Map::new();
            for k in part["properties"].as_object().unwrap().keys() {
                named.push(k.clone());
                if let Some(v) = value.get(k) {
                    own.insert(k.clone(), v.clone());
                }
            }
            check(doc, part, &Value::Object(own), at);
        }
        for k in value.as_object().unwrap().keys() {
            assert!(named.contains(k), "{at}.{k}: not in the document");
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => vec![],
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    assert!(
        types.is_empty() || types.contains(&kind),
        "{at}: {value} is no {types:?}"
    );
    if let Some(forms) = schema["enum"].as_array() {
        assert!(forms.contains(value), "{at}: {value} not in {forms:?}");
    }
    if let (Some(format), Value::String(s)) = (schema["format"].as_str(), value) {
        match format {
            "uuid" => assert!(s.parse::<uuid::Uuid>().is_ok(), "{at}: {s} is no uuid"),
            "date-time" => assert!(
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .is_ok(),
                "{at}: {s} is no date-time"
            ),
            _ => {}
        }
    }
    match value {
        Value::Object(fields) => {
            let properties = schema["properties"].as_object().unwrap();
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().unwrap();
                assert!(fields.contains_key(required), "{at}.{required}: missing");
            }
            for (k, v) in fields {
                let property = properties
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k}: not in the document"));
                check(doc, property, v, &format!("{at}.{k}"));
            }
        }
        Value::Array(items) => {
            if let Some(min) = schema["minItems"].as_u64() {
                assert!(items.len() as u64 >= min, "{at}: fewer than {min}");
            }
            if let Some(max) = schema["maxItems"].as_u64() {
                assert!(items.len() as u64 <= max, "{at}: more than {max}");
            }
            for (i, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

/// Checks an answer against the document: its status is documented and
/// its body is what the document says. The body, for going on.
async fn conforms(doc: &Value, method: &str, path: &str, r: reqwest::Response) -> Value {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    check(
        doc,
        answer_schema(doc, method, path, status),
        &body,
        &format!("{method} {path} {status}"),
    );
    body
}

#[tokio::test]
async fn every_answer_is_what_the_document_says() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let me = "/api/v1/me/second-factor";
    let token = app.citizen("+79261700041").await;

    // Off: method and enabled_at are null, and the document says they may be.
    let off = conforms(&doc, "get", me, app.get_bearer(me, &token).await).await;
    assert_eq!(
        (&off["method"], &off["enabled_at"]),
        (&Value::Null, &Value::Null)
    );

    // An app: the key and its URI; no SMS, so no code times and no phone.
    let r = post_json(
        &app,
        me,
        &token,
        &json!({"method": "totp", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let enrol = conforms(&doc, "post", me, r).await;
    assert_eq!(enrol["sent_to"], Value::Null);
    let secret = TotpSecret::from_base32(enrol["secret"].as_str().unwrap()).unwrap();
    let confirm = "/api/v1/me/second-factor/{id}/confirm";
    let r = post_json(
        &app,
        &confirm.replace("{id}", enrol["enrolment_id"].as_str().unwrap()),
        &token,
        &json!({"code": totp_now(&app, &secret)}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let on = conforms(&doc, "post", confirm, r).await;
    assert_eq!(
        (&on["enabled"], &on["method"]),
        (&json!(true), &json!("totp"))
    );
    conforms(&doc, "get", me, app.get_bearer(me, &token).await).await;

    // The login's step (the document's SecondFactorStep) and its end.
    let step = password_step(&app, "+79261700041").await;
    check(
        &doc,
        &json!({"$ref": "#/components/schemas/SecondFactorStep"}),
        &step,
        "the step of POST /api/v1/sessions",
    );
    let r = code_step(&app, &step, &totp_now(&app, &secret)).await;
    assert_eq!(r.status(), 201);
    conforms(&doc, "post", "/api/v1/sessions/second-factor", r).await;

    let path = "/api/v1/me/second-factor/backup-codes";
    let body = json!({"password": PASSWORD, "code": totp_now(&app, &secret)});
    let r = post_json(&app, path, &token, &body).await;
    assert_eq!(r.status(), 200);
    conforms(&doc, "post", path, r).await;
    let path = "/api/v1/me/second-factor/disable";
    let body = json!({"password": PASSWORD, "code": totp_now(&app, &secret)});
    let r = post_json(&app, path, &token, &body).await;
    assert_eq!(r.status(), 200);
    conforms(&doc, "post", path, r).await;

    // SMS: no key, a phone; the code for turning it off; the login's resend.
    let r = post_json(
        &app,
        me,
        &token,
        &json!({"method": "sms", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let enrol = conforms(&doc, "post", me, r).await;
    assert!(enrol.get("secret").is_none() && enrol.get("otpauth_uri").is_none());
    app.settle(0).await;
    let r = post_json(
        &app,
        &confirm.replace("{id}", enrol["enrolment_id"].as_str().unwrap()),
        &token,
        &json!({"code": app.last_code("+79261700041").await}),
    )
    .await;
    assert_eq!(r.status(), 200);
    conforms(&doc, "post", confirm, r).await;
    let path = "/api/v1/me/second-factor/code";
    let r = post_json(&app, path, &token, &json!({})).await;
    assert_eq!(r.status(), 202);
    conforms(&doc, "post", path, r).await;
    let step = password_step(&app, "+79261700041").await;
    app.advance(Duration::seconds(61));
    let path = "/api/v1/sessions/second-factor/resend";
    let r = app
        .post(path, &json!({"challenge_id": step["challenge_id"]}))
        .await;
    assert_eq!(r.status(), 202);
    let resent = conforms(&doc, "post", path, r).await;
    assert_eq!(resent["second_factor_required"], true);
}

/// What the document forbids in a request is refused, and by name: a
/// missing or `null` field is named in `fields` (not taken for an empty
/// string, nor answered as a step that does not exist), and a method is one
/// of the document's forms exactly.
#[tokio::test]
async fn requests_the_document_forbids_are_refused_by_name() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700042").await;
    let fields = |body: &Value| -> Vec<String> {
        let mut names: Vec<String> = body["error"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    };
    for body in [json!({}), json!({"challenge_id": null, "code": null})] {
        let r = app.post("/api/v1/sessions/second-factor", &body).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(
            fields(&body_of(r).await),
            ["challenge_id", "code"],
            "{body}"
        );
        let r = app
            .post("/api/v1/sessions/second-factor/resend", &body)
            .await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(fields(&body_of(r).await), ["challenge_id"], "{body}");
    }
    let me = "/api/v1/me/second-factor";
    for (body, named) in [
        (json!({}), vec!["method", "password"]),
        (
            json!({"method": null, "password": null}),
            vec!["method", "password"],
        ),
        (json!({"method": "totp", "password": ""}), vec!["password"]),
        // The forms exactly: no spaces, no other case.
        (
            json!({"method": " sms ", "password": PASSWORD}),
            vec!["method"],
        ),
        (
            json!({"method": "TOTP", "password": PASSWORD}),
            vec!["method"],
        ),
    ] {
        let r = post_json(&app, me, &token, &body).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(fields(&body_of(r).await), named, "{body}");
    }
    let r = post_json(
        &app,
        me,
        &token,
        &json!({"method": "totp", "password": PASSWORD}),
    )
    .await;
    let id = body_of(r).await["enrolment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The step's id in another spelling than the document's hyphenated
    // UUID names no step.
    for other in [id.replace('-', ""), format!("urn:uuid:{id}")] {
        let r = post_json(
            &app,
            &format!("/api/v1/me/second-factor/{other}/confirm"),
            &token,
            &json!({"code": "123456"}),
        )
        .await;
        assert_eq!(r.status(), 404, "{other}");
        assert_eq!(error_code(&body_of(r).await), "challenge_not_found");
    }
    let confirm = format!("/api/v1/me/second-factor/{id}/confirm");
    for body in [json!({}), json!({"code": null}), json!({"code": " "})] {
        let r = post_json(&app, &confirm, &token, &body).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(fields(&body_of(r).await), ["code"], "{body}");
    }
    for path in [
        "/api/v1/me/second-factor/disable",
        "/api/v1/me/second-factor/backup-codes",
    ] {
        for body in [
            json!({}),
            json!({"password": null, "code": null}),
            json!({"password": "", "code": ""}),
        ] {
            let r = post_json(&app, path, &token, &body).await;
            assert_eq!(r.status(), 422, "{path} {body}");
            assert_eq!(
                fields(&body_of(r).await),
                ["code", "password"],
                "{path} {body}"
            );
        }
    }
}

/// An administrator disables the account between the password and the
/// code: the right code opens nothing (the database refuses the session),
/// the answer is the step's end, not a failure of the server, and the
/// backup code is not spent; the next login is told the account is
/// disabled.
#[tokio::test]
async fn an_account_disabled_between_the_password_and_the_code_opens_nothing() {
    let app = spawn_app().await;
    let token = app.citizen("+79261700099").await;
    let (_, codes) = with_app(&app, &token).await;
    let step = password_step(&app, "+79261700099").await;
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    let id: uslugi_domain::AccountId = me["account_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.accounts
            .disable_account(id, "incident 5")
            .await
            .unwrap(),
        uslugi_app::accounts::Disabling::Disabled { sessions_ended: 1 }
    );
    let r = code_step(&app, &step, &codes[0]).await;
    assert_eq!(r.status(), 404, "the step is over");
    assert_eq!(error_code(&body_of(r).await), "challenge_not_found");
    let r = app.log_in("+79261700099", PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(&body_of(r).await), "account_disabled");
    assert!(app.accounts.enable_account(id).await.unwrap());
    let step = password_step(&app, "+79261700099").await;
    assert_eq!(
        code_step(&app, &step, &codes[0]).await.status(),
        201,
        "the backup code was not spent by the refused step"
    );
}
