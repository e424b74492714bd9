//! The standard account through the API: personal data, the checks at the
//! Social Fund and the Interior Ministry (the in-process simulator on the
//! fake clock), the result, the notification, SNILS login, addresses.
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::*;

/// The SMS and letters that tell a check's result (not the codes).
async fn results_to(app: &TestApp, to: &str) -> Vec<String> {
    app.messages_to(to)
        .await
        .into_iter()
        .filter(|m| m.body.contains("/me/verification") || m.body.contains("СНИЛС"))
        .map(|m| m.body)
        .collect()
}

async fn submit(app: &TestApp, token: &str, data: &Value) -> reqwest::Response {
    let r = app
        .put_bearer("/api/v1/me/personal-data", token, data)
        .await;
    assert_eq!(r.status(), 200, "the draft is kept");
    app.post_bearer("/api/v1/me/personal-data/submit", token)
        .await
}

fn with(mut data: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut data;
    for p in &path[..path.len() - 1] {
        at = &mut at[*p];
    }
    at[path[path.len() - 1]] = value;
    data
}

fn check_states(v: &Value) -> Vec<(String, String, Option<String>)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["registry"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn both_checks_pass_and_the_account_is_standard_at_once() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000001").await;
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "simplified");
    assert_eq!(app.verification_of(&token).await["status"], "draft");

    let r = submit(&app, &token, &ivanov()).await;
    assert_eq!(r.status(), 202);
    let v = app.verification_of(&token).await;
    assert_eq!(v["status"], "in_progress");
    assert_eq!(
        check_states(&v),
        vec![
            ("sfr".into(), "pending".into(), None),
            ("mvd".into(), "pending".into(), None)
        ]
    );
    // While the checks run, a second submission is refused.
    let again = app
        .post_bearer("/api/v1/me/personal-data/submit", &token)
        .await;
    assert_eq!(again.status(), 409);

    app.settle(5).await;
    let v = app.verification_of(&token).await;
    assert_eq!(v["status"], "verified");
    assert_eq!(
        check_states(&v),
        vec![
            ("sfr".into(), "passed".into(), None),
            ("mvd".into(), "passed".into(), None)
        ]
    );
    // The same session sees the new level: no second login.
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "standard");
    assert_eq!(
        (me["surname"].as_str(), me["given_name"].as_str()),
        (Some("Иванов"), Some("Иван"))
    );

    let told = results_to(&app, "+79261000001").await;
    assert_eq!(told.len(), 1, "one SMS tells the result: {told:?}");
    assert!(told[0].contains("проверены"), "{}", told[0]);

    // The SNILS now logs in, in any usual spelling.
    assert_eq!(app.log_in("11223344595", PASSWORD).await.status(), 201);
    assert_eq!(app.log_in("112-233-445 95", PASSWORD).await.status(), 201);

    // More passes change nothing and send nothing.
    app.settle(3).await;
    assert_eq!(results_to(&app, "+79261000001").await.len(), 1);
}

/// A check's status and reason.
type Expected = (&'static str, Option<&'static str>);

#[tokio::test]
async fn every_outcome_of_both_registries_is_told() {
    let app = spawn_app().await;
    let petrova = json!({
        "surname": "Петрова", "given_name": "Анна", "patronymic": "Сергеевна",
        "sex": "female", "birth_date": "1985-11-03", "birth_place": "гор. Москва",
        "snils": "123-456-789 64", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4505 234567",
            "issue_date": "2005-11-21", "issued_by": "ОВД", "department_code": "770-002"}
    });
    let sidorov = json!({
        "surname": "Сидоров", "given_name": "Пётр", "patronymic": "Алексеевич",
        "sex": "male", "birth_date": "1990-02-14", "birth_place": "гор. Санкт-Петербург",
        "snils": "145-678-901 05", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4011 345678",
            "issue_date": "2011-03-10", "issued_by": "ТП УФМС", "department_code": "780-003"}
    });
    let kim = json!({
        "surname": "Ким", "given_name": "Елена", "patronymic": "",
        "sex": "female", "birth_date": "1975-08-30", "birth_place": "гор. Химки",
        "snils": "156-789-012 11", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4600 456789",
            "issue_date": "2000-09-15", "issued_by": "ОВД", "department_code": "500-004"}
    });
    let smirnov = json!({
        "surname": "Смирнов", "given_name": "Алексей", "patronymic": "Дмитриевич",
        "sex": "male", "birth_date": "1970-01-25", "birth_place": "гор. Москва",
        "snils": "167-890-123 07", "citizenship": "RUS",
        "document": {"type": "rf_passport", "series_number": "4503 567890",
            "issue_date": "2003-02-10", "issued_by": "ОВД", "department_code": "770-005"}
    });
    let cases: Vec<(Value, Expected, Expected)> = vec![
        (ivanov(), ("passed", None), ("passed", None)),
        (petrova.clone(), ("passed", None), ("passed", None)),
        (
            with(petrova.clone(), &["birth_date"], json!("1985-11-04")),
            ("failed", Some("data_mismatch")),
            ("failed", Some("passport_not_found")),
        ),
        (
            with(petrova, &["sex"], json!("male")),
            ("failed", Some("data_mismatch")),
            ("passed", None),
        ),
        (
            with(ivanov(), &["snils"], json!("198-765-432 47")),
            ("failed", Some("snils_not_found")),
            ("passed", None),
        ),
        (sidorov, ("passed", None), ("failed", Some("passport_lost"))),
        (kim, ("passed", None), ("failed", Some("passport_expired"))),
        (
            smirnov,
            ("passed", None),
            ("failed", Some("passport_replaced")),
        ),
        (
            with(
                ivanov(),
                &["document", "series_number"],
                json!("4510 654321"),
            ),
            ("passed", None),
            ("failed", Some("passport_not_found")),
        ),
    ];
    let mut tokens = Vec::new();
    for (i, (data, _, _)) in cases.iter().enumerate() {
        let phone = format!("+7926200000{i}");
        let token = app.citizen(&phone).await;
        // Two accounts may both be checked with one SNILS; only the first to
        // pass keeps it (the second Ivanov-like case uses other SNILS).
        assert_eq!(submit(&app, &token, data).await.status(), 202, "case {i}");
        tokens.push((phone, token));
    }
    app.settle(6).await;
    for (i, ((_, sfr, mvd), (phone, token))) in cases.iter().zip(&tokens).enumerate() {
        let v = app.verification_of(token).await;
        let expected = vec![
            ("sfr".to_owned(), sfr.0.to_owned(), sfr.1.map(str::to_owned)),
            ("mvd".to_owned(), mvd.0.to_owned(), mvd.1.map(str::to_owned)),
        ];
        assert_eq!(check_states(&v), expected, "case {i}");
        let passed = sfr.0 == "passed" && mvd.0 == "passed";
        assert_eq!(
            v["status"],
            if passed { "verified" } else { "failed" },
            "case {i}"
        );
        let me: Value = app
            .get_bearer("/api/v1/me", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            me["level"],
            if passed { "standard" } else { "simplified" },
            "case {i}"
        );
        let told = results_to(&app, phone).await;
        assert_eq!(told.len(), 1, "case {i}: {told:?}");
        if !passed {
            assert!(told[0].contains("ошибкой"), "case {i}: {}", told[0]);
        }
    }
    // The reasons come in the request's language, for the page and the app.
    let v = app.verification_of(&tokens[5].1).await;
    assert_eq!(
        v["checks"][1]["reason_text"],
        "Паспорт недействителен: утрачен"
    );
}

#[tokio::test]
async fn checks_retry_through_registry_failures() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000002").await;
    app.sim.set_failure_rate(1.0).unwrap();
    assert_eq!(submit(&app, &token, &ivanov()).await.status(), 202);
    app.verification.run_once().await.unwrap();
    let v = app.verification_of(&token).await;
    assert_eq!(v["status"], "in_progress");
    assert_eq!(
        check_states(&v),
        vec![
            ("sfr".into(), "retrying".into(), None),
            ("mvd".into(), "retrying".into(), None)
        ]
    );
    // Still failing: the checks wait longer each time and keep trying.
    app.settle(30).await;
    assert_eq!(app.verification_of(&token).await["status"], "in_progress");
    app.sim.set_failure_rate(0.0).unwrap();
    app.settle(120).await;
    let v = app.verification_of(&token).await;
    assert_eq!(v["status"], "verified", "{v}");
    assert_eq!(results_to(&app, "+79261000002").await.len(), 1);
}

#[tokio::test]
async fn a_registry_silent_for_five_days_ends_the_check_and_allows_a_new_submission() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000003").await;
    app.sim.set_failure_rate(1.0).unwrap();
    assert_eq!(submit(&app, &token, &ivanov()).await.status(), 202);
    app.verification.run_once().await.unwrap();
    // Almost five days: still trying.
    for _ in 0..19 {
        app.advance(Duration::hours(6));
        while !app.verification.run_once().await.unwrap().is_idle() {}
    }
    let token = app.token("+79261000003", PASSWORD).await;
    assert_eq!(app.verification_of(&token).await["status"], "in_progress");
    app.advance(Duration::hours(7));
    app.settle(2).await;
    // Days have passed: the person logs in again.
    let token = app.token("+79261000003", PASSWORD).await;
    let v = app.verification_of(&token).await;
    assert_eq!(v["status"], "failed");
    assert_eq!(
        check_states(&v),
        vec![
            ("sfr".into(), "failed".into(), Some("unavailable".into())),
            ("mvd".into(), "failed".into(), Some("unavailable".into()))
        ]
    );
    assert_eq!(results_to(&app, "+79261000003").await.len(), 1);

    // The person may submit again; the entries were kept.
    app.sim.set_failure_rate(0.0).unwrap();
    let pd: Value = app
        .get_bearer("/api/v1/me/personal-data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pd["form"]["snils"], "112-233-445 95");
    let r = app
        .post_bearer("/api/v1/me/personal-data/submit", &token)
        .await;
    assert_eq!(r.status(), 202);
    app.settle(5).await;
    assert_eq!(app.verification_of(&token).await["status"], "verified");
    assert_eq!(results_to(&app, "+79261000003").await.len(), 2);
}

/// Finding 6: `PUT …/submit` used to answer `409 snils_taken` at once, to
/// anyone — an oracle of which SNILS have accounts. A taken SNILS now gets
/// the answer a free one gets; the conflict shows only as the outcome of
/// the checks, once both registries agreed the data are the submitter's.
#[tokio::test]
async fn a_taken_snils_is_told_only_after_both_checks_pass() {
    let app = spawn_app().await;
    let first = app.citizen("+79261000004").await;
    assert_eq!(submit(&app, &first, &ivanov()).await.status(), 202);
    app.settle(5).await;
    assert_eq!(app.verification_of(&first).await["status"], "verified");

    // Someone who knows only Иванов's SNILS: the same answer as for a free
    // one, and a mismatch, not «taken», as the outcome.
    let prober = app.citizen("+79261000005").await;
    let guessed = with(ivanov(), &["birth_date"], json!("1981-01-01"));
    let taken = submit(&app, &prober, &guessed).await;
    let free_account = app.citizen("+79261000007").await;
    let free = submit(
        &app,
        &free_account,
        &with(ivanov(), &["snils"], json!("198-765-432 47")),
    )
    .await;
    assert_eq!(
        (taken.status().as_u16(), free.status().as_u16()),
        (202, 202)
    );
    let (taken, free): (Value, Value) = (taken.json().await.unwrap(), free.json().await.unwrap());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&taken), keys(&free));
    assert_eq!(taken["status"], free["status"]);
    app.settle(5).await;
    let v = app.verification_of(&prober).await;
    assert_eq!(v["status"], "failed");
    assert_eq!(v["snils_taken"], false, "{v}");
    assert_eq!(
        check_states(&v)[0].2.as_deref(),
        Some("data_mismatch"),
        "the Social Fund's answer, not the account's existence"
    );

    // The person with the very data (a second account of theirs, or a
    // stolen identity): both checks pass, then the conflict is the outcome.
    let second = app.citizen("+79261000008").await;
    assert_eq!(submit(&app, &second, &ivanov()).await.status(), 202);
    assert_eq!(app.verification_of(&second).await["status"], "in_progress");
    app.settle(5).await;
    let v = app.verification_of(&second).await;
    assert_eq!(v["status"], "failed");
    assert_eq!(v["snils_taken"], true, "{v}");
    assert!(check_states(&v).iter().all(|c| c.1 == "passed"), "{v}");
    let told = results_to(&app, "+79261000008").await;
    assert_eq!(told.len(), 1);
    assert!(told[0].contains("СНИЛС"), "{}", told[0]);
    let me: Value = app
        .get_bearer("/api/v1/me", &second)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "simplified");
}

/// Each submission costs two registry requests and tells the outcome:
/// five an hour per account, thirty per client address (an IPv6 client by
/// its /64).
#[tokio::test]
async fn personal_data_submissions_are_limited_per_account_and_per_address() {
    let app = spawn_with(|s| s.trust_forwarded_for = true).await;
    let from = |app: &TestApp, token: &str, ip: &'static str| {
        app.client
            .post(app.url("/api/v1/me/personal-data/submit"))
            .bearer_auth(token)
            .header("x-forwarded-for", ip)
            .send()
    };
    let token = app.citizen("+79261000009").await;
    let wrong = with(ivanov(), &["birth_date"], json!("1981-01-01"));
    let r = app
        .put_bearer("/api/v1/me/personal-data", &token, &wrong)
        .await;
    assert_eq!(r.status(), 200);
    for n in 0..5 {
        let r = from(&app, &token, "10.0.0.1").await.unwrap();
        assert_eq!(r.status(), 202, "submission {n}");
        app.settle(5).await;
    }
    let r = from(&app, &token, "10.0.0.2").await.unwrap();
    assert_eq!(r.status(), 429, "a sixth in the hour, from anywhere");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_code(&r.json().await.unwrap()), "rate_limited");
    app.advance(Duration::hours(1));
    let token = app.token("+79261000009", PASSWORD).await;
    assert_eq!(from(&app, &token, "10.0.0.1").await.unwrap().status(), 202);

    // Thirty accounts' first submissions from one /64, then one more.
    // (Registering them takes two hours of the registration's own limit.)
    let phones: Vec<String> = (0..31).map(|n| format!("+7926110{n:04}")).collect();
    for (n, phone) in phones.iter().enumerate() {
        if n == 15 {
            app.advance(Duration::minutes(61));
        }
        app.register_phone(phone).await;
    }
    let mut accounts = Vec::new();
    for phone in &phones {
        let token = app.token(phone, PASSWORD).await;
        let r = app
            .put_bearer("/api/v1/me/personal-data", &token, &wrong)
            .await;
        assert_eq!(r.status(), 200);
        accounts.push(token);
    }
    for (n, token) in accounts.iter().take(30).enumerate() {
        let ip = if n % 2 == 0 {
            "2001:db8:1:2::1"
        } else {
            "2001:db8:1:2:ffff::9"
        };
        assert_eq!(from(&app, token, ip).await.unwrap().status(), 202, "{n}");
    }
    let last = &accounts[30];
    let r = from(&app, last, "2001:db8:1:2:abcd::1").await.unwrap();
    assert_eq!(r.status(), 429, "the same /64");
    let r = from(&app, last, "2001:db8:1:3::1").await.unwrap();
    assert_eq!(r.status(), 202, "another /64");
}

#[tokio::test]
async fn new_data_are_checked_while_the_verified_data_stay_in_force() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000006").await;
    assert_eq!(submit(&app, &token, &ivanov()).await.status(), 202);
    app.settle(5).await;

    // A «new passport» that the Interior Ministry does not know.
    let changed = with(
        ivanov(),
        &["document", "series_number"],
        json!("4510 654321"),
    );
    assert_eq!(submit(&app, &token, &changed).await.status(), 202);
    let pd: Value = app
        .get_bearer("/api/v1/me/personal-data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pd["status"], "in_progress");
    assert_eq!(pd["verified"]["document"]["series_number"], "4510 123456");
    assert_eq!(pd["submitted"]["document"]["series_number"], "4510 654321");
    app.settle(5).await;
    let pd: Value = app
        .get_bearer("/api/v1/me/personal-data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pd["status"], "failed");
    assert_eq!(
        pd["verified"]["document"]["series_number"], "4510 123456",
        "still in force"
    );
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["level"], "standard", "the level stays");
    assert_eq!(app.log_in("112-233-445 95", PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn drafts_keep_anything_and_submission_names_every_problem() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000007").await;
    let pd: Value = app
        .get_bearer("/api/v1/me/personal-data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        pd["form"]["surname"], "Иванов",
        "the form starts with the registration's names"
    );
    assert_eq!(pd["form"]["citizenship"], "RUS");

    let draft = json!({"surname": "Иванов", "snils": "112-233-445 96", "birth_date": "31.02.1980"});
    let r = app
        .put_bearer("/api/v1/me/personal-data", &token, &draft)
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["problems"]["snils"],
        "СНИЛС введён с ошибкой: не сходится контрольное число. Сверьте его с документом"
    );
    assert_eq!(
        body["problems"]["birth_date"],
        "Введите дату в виде ДД.ММ.ГГГГ"
    );

    let r = app
        .post_bearer("/api/v1/me/personal-data/submit", &token)
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    for field in [
        "given_name",
        "sex",
        "birth_date",
        "birth_place",
        "snils",
        "document.series_number",
        "document.department_code",
    ] {
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    let pd: Value = app
        .get_bearer("/api/v1/me/personal-data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        pd["form"]["snils"], "112-233-445 96",
        "entries kept as typed"
    );
    assert_eq!(pd["status"], "draft");

    let young = with(ivanov(), &["birth_date"], json!("2020-01-01"));
    let r = submit(&app, &token, &young).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["fields"]["birth_date"],
        "Зарегистрироваться можно с 14 лет"
    );
}

/// The form is a draft: what was not typed is null, never "" (which no
/// schema of a sex, a citizenship or a document type allows), and a draft
/// may leave out or null anything.
#[tokio::test]
async fn a_draft_sends_what_was_not_typed_as_null() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000010").await;
    let pd: Value = app
        .get_bearer("/api/v1/me/personal-data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pd["form"]["surname"], "Иванов");
    assert_eq!(pd["form"]["sex"], Value::Null, "{pd}");
    assert_eq!(pd["form"]["document"]["type"], "rf_passport");
    assert_eq!(pd["form"]["document"]["series_number"], Value::Null, "{pd}");
    assert_eq!(
        (&pd["verified"], &pd["submitted"]),
        (&Value::Null, &Value::Null)
    );

    let draft = json!({"surname": "Иванов", "sex": null, "document": null, "birth_place": ""});
    let r = app
        .put_bearer("/api/v1/me/personal-data", &token, &draft)
        .await;
    assert_eq!(r.status(), 200);
    let pd: Value = app
        .get_bearer("/api/v1/me/personal-data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pd["form"]["birth_place"], Value::Null);
    assert_eq!(pd["form"]["given_name"], Value::Null, "replaced whole");

    // An entry of another JSON type is refused, by its name.
    let r = app
        .put_bearer(
            "/api/v1/me/personal-data",
            &token,
            &json!({"snils": 11223344595_u64}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["snils"].is_string(), "{body}");
}

/// The addresses' schema is the server's: both required, the bounds held
/// for the values as sent (the domain alone would trim a postal code and
/// count a text once its spaces are tidied), null only where it may be.
#[tokio::test]
async fn addresses_are_refused_where_their_schema_refuses_them() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000011").await;
    let got: Value = app
        .get_bearer("/api/v1/me/addresses", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, json!({"registration": null, "actual": null}));
    let address = json!({"postal_code": "248000", "region": "Калужская обл.", "locality": "г. Калуга",
        "street": "ул. Достоевского", "house": "39"});
    let put = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            let r = app.put_bearer("/api/v1/me/addresses", &token, &body).await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body["error"]["fields"].clone())
        }
    };
    let (status, fields) = put(json!({"registration": address})).await;
    assert_eq!(status, 422);
    assert!(fields["actual"].is_string(), "{fields}");
    let (status, fields) = put(json!({"registration": address, "actual": null})).await;
    assert_eq!(status, 422);
    assert!(fields["actual"].is_string(), "{fields}");

    let mut loose = address.clone();
    loose["postal_code"] = json!(" 248000");
    loose["street"] = json!(format!("ул. {}", "Д  ".repeat(66)));
    let (status, fields) = put(json!({"registration": address, "actual": loose})).await;
    assert_eq!(status, 422);
    assert_eq!(fields["actual.postal_code"], "Индекс — 6 цифр");
    assert!(fields["actual.street"].is_string(), "{fields}");
    let mut nulled = address.clone();
    nulled["flat"] = Value::Null;
    let (status, fields) = put(json!({"registration": address, "actual": nulled})).await;
    assert_eq!(status, 422);
    assert!(fields["actual.flat"].is_string(), "{fields}");
    let got: Value = app
        .get_bearer("/api/v1/me/addresses", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["actual"], Value::Null, "nothing kept");

    let (status, _) = put(json!({"registration": address, "actual": address})).await;
    assert_eq!(status, 200, "building and flat may be left out");
}

#[tokio::test]
async fn addresses_are_kept_and_checked() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000008").await;
    let address = json!({"postal_code": "248000", "region": "Калужская обл.", "locality": "г. Калуга",
        "street": "ул. Достоевского", "house": "39", "building": "", "flat": "5"});
    let r = app
        .put_bearer(
            "/api/v1/me/addresses",
            &token,
            &json!({"registration": address, "actual": address}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let got: Value = app
        .get_bearer("/api/v1/me/addresses", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["registration"]["flat"], "5");
    assert_eq!(got["actual"]["building"], "");

    let bad = json!({"postal_code": "2480", "region": "", "locality": "г. Калуга",
        "street": "ул. Достоевского", "house": "39"});
    let r = app
        .put_bearer(
            "/api/v1/me/addresses",
            &token,
            &json!({"registration": address, "actual": bad}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["fields"]["actual.postal_code"],
        "Индекс — 6 цифр"
    );
    assert_eq!(body["error"]["fields"]["actual.region"], "Заполните поле");
    let got: Value = app
        .get_bearer("/api/v1/me/addresses", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["actual"]["postal_code"], "248000",
        "nothing half-written"
    );
}

#[tokio::test]
async fn personal_data_need_a_session() {
    let app = spawn_app().await;
    for (method, path) in [
        ("GET", "/api/v1/me/personal-data"),
        ("PUT", "/api/v1/me/personal-data"),
        ("POST", "/api/v1/me/personal-data/submit"),
        ("GET", "/api/v1/me/verification"),
        ("PUT", "/api/v1/me/addresses"),
    ] {
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth("not-a-session")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
}

/// A gateway that accepts every request and never answers.
struct Silent;

#[async_trait::async_trait]
impl uslugi_app::registries::RegistryGateway for Silent {
    async fn submit(
        &self,
        key: &str,
        _: &uslugi_app::registries::RegistryRequest,
    ) -> Result<uslugi_app::registries::RegistryRequestId, uslugi_app::registries::GatewayError>
    {
        Ok(uslugi_app::registries::RegistryRequestId(key.to_owned()))
    }

    async fn poll(
        &self,
        _: &uslugi_app::registries::RegistryRequestId,
    ) -> Result<Option<uslugi_app::registries::RegistryAnswer>, uslugi_app::registries::GatewayError>
    {
        Ok(None)
    }
}

#[tokio::test]
async fn a_registry_that_accepts_but_never_answers_ends_as_unavailable_after_five_days() {
    let app = spawn_app().await;
    let token = app.citizen("+79261000009").await;
    assert_eq!(submit(&app, &token, &ivanov()).await.status(), 202);
    // The same store, keys and clock as the application, another gateway.
    let secrets = uslugi::secrets::load(&app.data_dir.join("secrets.toml"), false).unwrap();
    let mailbox = uslugi_adapters::DevMailbox::new(
        app.dev_mailbox.clone(),
        std::sync::Arc::new(app.clock.clone()),
        false,
    );
    let crypto = uslugi_app::crypto::Crypto::new(secrets);
    let hasher = uslugi_app::password_hasher::PasswordHasher::start(
        uslugi_app::password_hasher::HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        1,
    )
    .unwrap();
    let deps = uslugi_app::Deps::new(
        app.store.clone(),
        std::sync::Arc::new(mailbox),
        std::sync::Arc::new(hasher),
        crypto,
        std::sync::Arc::new(app.clock.clone()),
    );
    let silent = uslugi_app::verification::Verification::new(
        &deps,
        std::sync::Arc::new(Silent),
        &uslugi_app::Policy::new(app.base.clone()),
        uslugi_app::verification::VerificationPolicy::default(),
        None,
    );
    silent.run_once().await.unwrap();
    for _ in 0..20 {
        app.advance(Duration::hours(6));
        while !silent.run_once().await.unwrap().is_idle() {}
    }
    let token = app.token("+79261000009", PASSWORD).await;
    let v = app.verification_of(&token).await;
    assert_eq!(v["status"], "failed");
    assert_eq!(
        check_states(&v),
        vec![
            ("sfr".into(), "failed".into(), Some("unavailable".into())),
            ("mvd".into(), "failed".into(), Some("unavailable".into()))
        ]
    );
}

#[tokio::test]
async fn a_node_runs_the_workers_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = uslugi::config::Settings {
        data_dir: dir.path().to_path_buf(),
        ..uslugi::config::Settings::default()
    };
    settings.password_hash.memory_kib = 64;
    let clock = std::sync::Arc::new(uslugi_app::FakeClock::default());
    let app = uslugi::server::build(&settings, clock.clone(), false)
        .await
        .unwrap();
    assert!(
        app.run_workers,
        "the embedded default does the background work"
    );
    settings.workers = false;
    let app = uslugi::server::build(&settings, clock, false)
        .await
        .unwrap();
    assert!(!app.run_workers);
}
