//! The operator console: enrolment with the mandatory second factor, who may
//! reach it, and the four actions of a service center, each in the audit log.
use serde_json::{Value, json};
use time::Duration;
use uslugi_app::ports::AuditFilter;
use uslugi_domain::OperatorRole;

use crate::helpers::*;

const KALUGA: &str = "kaluga-mfc-kaluga-ul-khrustalnaya-34a";
const OBNINSK: &str = "kaluga-mfc-obninsk-prosmarksa-d-130";
/// Offers identity confirmation only (seed 001).
const KOGALYM_ADMIN: &str = "kogalym-administration";

async fn level_of(app: &TestApp, token: &str) -> Value {
    let r = app.get_bearer("/api/v1/me", token).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()
}

async fn actions(app: &TestApp, filter: AuditFilter) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = app
        .store
        .audit_records(&filter, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.entry.action, r.entry.outcome))
        .collect();
    out.reverse();
    out
}

#[tokio::test]
async fn an_operator_enrols_once_and_logs_in_with_password_and_code() {
    let app = spawn_app().await;
    let added = app
        .operators
        .add(KALUGA, OperatorRole::Operator)
        .await
        .unwrap();
    assert!(
        added
            .enrolment_link
            .starts_with(&format!("{}/operator/enrol?token=", app.base))
    );
    assert!(matches!(
        app.operators.add("nowhere", OperatorRole::Operator).await,
        Err(uslugi_app::operators::AddOperatorError::UnknownCenter)
    ));
    let path = added
        .enrolment_link
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned();
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let mut b = Browser::new(&app);
    let (s, html, _) = b.get(&path).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("data:image/svg+xml;base64,"),
        "a QR code of the key"
    );
    let key = between(&html, "<code id=\"totp-key\" class=\"key\">", "</code>");
    let secret = uslugi_app::totp::TotpSecret::from_base32(&key).unwrap();

    // A wrong code, a common password and a bad login: each named.
    let (s, html, _) = b
        .post(
            "/operator/enrol",
            &[
                ("token", &token),
                ("name", "Оператова Ольга"),
                ("login", "о"),
                ("password", "12345678"),
                ("password_confirmation", "12345678"),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("Логин: латинские буквы"), "{html}");
    assert!(html.contains("Код не подходит"));
    assert!(html.contains("id=\"password-error\""));

    let code = totp_now(&app, &secret);
    let (s, _, to) = b
        .post(
            "/operator/enrol",
            &[
                ("token", &token),
                ("name", "Оператова Ольга"),
                ("login", "Olga.O"),
                ("password", "смена начинается в восемь"),
                ("password_confirmation", "смена начинается в восемь"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        (s, to.as_deref()),
        (303, Some("/operator/login?enrolled=1"))
    );
    let (s, _, _) = b.get(&path).await;
    assert_eq!(s, 404, "the link works once");

    // Without the code, with a wrong one, with the enrolment's code again.
    let (s, _, _) = b
        .post(
            "/operator/login",
            &[
                ("login", "olga.o"),
                ("password", "смена начинается в восемь"),
                ("code", ""),
            ],
        )
        .await;
    assert_eq!(s, 422, "the second factor is mandatory");
    for wrong in ["000000", &code] {
        let (s, html, _) = b
            .post(
                "/operator/login",
                &[
                    ("login", "olga.o"),
                    ("password", "смена начинается в восемь"),
                    ("code", wrong),
                ],
            )
            .await;
        assert_eq!(s, 401, "{wrong}");
        assert!(html.contains("Неверный логин, пароль или код"));
    }
    let (s, _, to) = b.get("/operator").await;
    assert_eq!((s, to.as_deref()), (303, Some("/operator/login")));
    let code = totp_now(&app, &secret);
    let (s, _, to) = b
        .post(
            "/operator/login",
            &[
                ("login", "OLGA.O"),
                ("password", "смена начинается в восемь"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/operator")));
    let (s, html, _) = b.get("/operator").await;
    assert_eq!(s, 200);
    assert!(html.contains("Оператова Ольга · оператор"));
    let log = actions(&app, AuditFilter::default()).await;
    assert_eq!(
        log,
        vec![
            ("operator_added".into(), "added".into()),
            ("operator_enrolled".into(), "enrolled".into()),
            ("operator_login".into(), "refused".into()),
            ("operator_login".into(), "refused".into()),
            ("operator_login".into(), "ok".into()),
        ]
    );
}

#[tokio::test]
async fn citizens_and_idle_operators_are_kept_out_of_the_console() {
    let app = spawn_app().await;
    let token = app.citizen("+79261300001").await;
    // A citizen's session, as a cookie or a bearer token, opens nothing here.
    for path in ["/operator", "/operator/audit", "/operator/register"] {
        let r = app
            .client
            .get(app.url(path))
            .header("cookie", format!("__Host-uslugi-session={token}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], "/operator/login");
    }
    let mut op = app
        .operator(KALUGA, OperatorRole::Operator, "ivanova")
        .await;
    // The operator's cookie opens no citizen page either.
    let (s, _, to) = op.get("/me").await;
    assert_eq!((s, to.as_deref()), (303, Some("/login?next=%2Fme")));
    app.advance(Duration::minutes(14));
    assert_eq!(op.get("/operator").await.0, 200, "activity keeps it alive");
    app.advance(Duration::minutes(15) + Duration::seconds(1));
    let (s, _, to) = op.get("/operator").await;
    assert_eq!((s, to.as_deref()), (303, Some("/operator/login?expired=1")));
    let (_, html, _) = op.get("/operator/login?expired=1").await;
    assert!(html.contains("15 минут без действий"));
    op.log_in().await;
    let (s, _, to) = op.post("/operator/logout", &[]).await;
    assert_eq!(
        (s, to.as_deref()),
        (303, Some("/operator/login?logged_out=1"))
    );
    assert_eq!(op.get("/operator").await.0, 303);
}

#[tokio::test]
async fn identity_is_confirmed_at_a_center_after_the_checklist() {
    let app = spawn_app().await;
    let citizen = app.standard_citizen("+79261300002", &ivanov()).await;
    let mut op = app
        .operator(KALUGA, OperatorRole::Operator, "petrova")
        .await;
    // Exact values only; any usual spelling of them.
    let by_snils = op.find("snils", "11223344595").await;
    assert_eq!(by_snils.len(), 1);
    assert_eq!(op.find("phone", "8 926 130-00-02").await, by_snils);
    assert_eq!(op.find("passport", "4510123456").await, by_snils);
    assert!(op.find("snils", "123-456-789 64").await.is_empty());
    let (s, html, _) = op
        .post("/operator/search", &[("by", "passport"), ("value", "45")])
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("Значение не подходит"));
    let id = &by_snils[0];

    let (s, html, _) = op.get(&op.card(id)).await;
    assert_eq!(s, 200);
    assert!(html.contains("Иванов Иван Иванович"));
    assert!(
        html.contains("4510 123456") && html.contains("770-001"),
        "the passport to compare"
    );
    assert!(html.contains("+7 (926) ***-**-02"), "contacts masked");

    let confirm = op.act(id, "confirm");
    let (s, html, _) = op.post(&confirm, &[("document_matches", "1")]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Отметьте оба пункта проверки"));
    assert_eq!(level_of(&app, &citizen).await["level"], "standard");

    let (s, _, to) = op
        .post(
            &confirm,
            &[("document_matches", "1"), ("person_matches", "1")],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(
        to.unwrap(),
        format!(
            "/operator/citizens/{id}?done=confirmed&grant={}",
            op.grant(id)
        )
    );
    // At once, in the citizen's current session.
    let me = level_of(&app, &citizen).await;
    assert_eq!(me["level"], "confirmed");
    assert_eq!(me["confirmed_via"], "center");
    app.settle(1).await;
    let sms = app.messages_to("+79261300002").await;
    assert!(
        sms[0].body.contains("личность подтверждена"),
        "{}",
        sms[0].body
    );
    let (s, html, _) = op
        .post(
            &confirm,
            &[("document_matches", "1"), ("person_matches", "1")],
        )
        .await;
    assert_eq!(s, 409);
    assert!(html.contains("уже подтверждена"));

    let log = actions(
        &app,
        AuditFilter {
            center_id: Some(KALUGA.into()),
            ..AuditFilter::default()
        },
    )
    .await;
    let tail: Vec<_> = log
        .iter()
        .skip_while(|(a, _)| a != "citizen_search")
        .collect();
    assert_eq!(
        tail.iter()
            .map(|(a, o)| format!("{a}:{o}"))
            .collect::<Vec<_>>(),
        [
            "citizen_search:ok",
            "citizen_search:ok",
            "citizen_search:ok",
            "citizen_search:ok",
            "citizen_viewed:ok",
            "identity_confirmed:refused",
            "citizen_viewed:ok",
            "identity_confirmed:confirmed",
            "identity_confirmed:refused",
            "citizen_viewed:ok",
        ]
    );
}

#[tokio::test]
async fn a_citizen_registered_at_a_center_is_confirmed_and_sets_their_own_password() {
    let app = spawn_app().await;
    let mut op = app
        .operator(OBNINSK, OperatorRole::Operator, "sidorov")
        .await;
    let fields: Vec<(String, String)> = flat(&ivanov());
    let (s, _, to) = op
        .register_at_desk("+7 (926) 130-00-03", &refs(&fields))
        .await;
    assert_eq!(s, 303);
    let path = to.unwrap();
    assert!(path.starts_with("/operator/registrations/"));
    let (s, html, _) = op.get(&path).await;
    assert_eq!(s, 200);
    assert!(html.contains("Данные проверяются"));
    assert!(
        password_sms(&app, "+79261300003").await.is_empty(),
        "no password while the checks run"
    );
    // No password opens the account while the checks run.
    assert_eq!(
        app.log_in("+79261300003", "any password at all")
            .await
            .status(),
        401
    );

    app.settle(8).await;
    let (_, html, _) = op.get(&path).await;
    assert!(
        html.contains("Учётная запись создана и подтверждена"),
        "{html}"
    );
    let sms = password_sms(&app, "+79261300003").await;
    assert_eq!(sms.len(), 1);
    let temporary = temporary_password(&sms[0].body);
    assert!(
        !html.contains(&temporary),
        "the operator never sees the password"
    );

    // The first login asks for a new password before anything else.
    let r = app.log_in("+79261300003", &temporary).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["password_change_required"], true);
    let token = body["session_token"].as_str().unwrap().to_owned();
    let me = level_of(&app, &token).await;
    assert_eq!(me["level"], "confirmed");
    assert_eq!(me["password_change_required"], true);
    let r = app.get_bearer("/api/v1/me/personal-data", &token).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "password_change_required"
    );
    let change = |password: &str| json!({"password": password, "password_confirmation": password});
    let r = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&change("qwerty123"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "the usual rules hold");
    let r = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&change(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_bearer("/api/v1/me/personal-data", &token)
            .await
            .status(),
        200
    );
    assert_eq!(app.log_in("+79261300003", &temporary).await.status(), 401);
    assert_eq!(app.log_in("+79261300003", PASSWORD).await.status(), 201);
    assert_eq!(
        app.log_in("112-233-445 95", PASSWORD).await.status(),
        201,
        "and by SNILS"
    );

    // A phone that has an account is refused, naming the field.
    let (s, html, _) = op
        .post("/operator/register", &[("phone", "+7 (926) 130-00-03")])
        .await;
    assert_eq!(s, 409, "before any code is sent");
    assert!(html.contains("На этот телефон уже зарегистрирована учётная запись"));

    let log = actions(
        &app,
        AuditFilter {
            center_id: Some(OBNINSK.into()),
            ..AuditFilter::default()
        },
    )
    .await;
    assert!(log.contains(&("registered_in_person".into(), "checks_started".into())));
    assert!(log.contains(&("registration_checked".into(), "confirmed".into())));
}

#[tokio::test]
async fn a_temporary_password_works_for_24_hours_only() {
    let app = spawn_app().await;
    let mut op = app
        .operator(OBNINSK, OperatorRole::Operator, "kuznetsov")
        .await;
    let fields = flat(&ivanov());
    op.register_at_desk("+79261300004", &refs(&fields)).await;
    app.settle(8).await;
    let temporary = temporary_password(&password_sms(&app, "+79261300004").await[0].body);
    app.advance(Duration::hours(24) + Duration::seconds(1));
    let r = app.log_in("+79261300004", &temporary).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "temporary_password_expired"
    );
    let r = app.log_in("+79261300004", "not the password").await;
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "bad_credentials",
        "a stranger learns nothing"
    );
}

#[tokio::test]
async fn failed_checks_of_a_registration_at_a_center_go_back_to_the_form() {
    let app = spawn_app().await;
    let mut op = app
        .operator(KALUGA, OperatorRole::Operator, "smirnova")
        .await;
    let mut data = ivanov();
    data["birth_date"] = json!("1980-05-18");
    let fields = flat(&data);
    let (_, _, to) = op.register_at_desk("+79261300005", &refs(&fields)).await;
    let path = to.unwrap();
    app.settle(8).await;
    let (s, html, _) = op.get(&path).await;
    assert_eq!(s, 200);
    assert!(html.contains("Проверка не пройдена"), "{html}");
    assert!(
        html.contains("value=\"18.05.1980\""),
        "the entries are kept"
    );
    assert!(
        password_sms(&app, "+79261300005").await.is_empty(),
        "no SMS for a failure"
    );
    let mut fixed = flat(&ivanov());
    fixed.retain(|(k, _)| k != "phone");
    let (s, _, to) = op.post(&path, &refs(&fixed)).await;
    assert_eq!((s, to.as_deref()), (303, Some(path.as_str())));
    app.settle(8).await;
    let (_, html, _) = op.get(&path).await;
    assert!(html.contains("Учётная запись создана и подтверждена"));
    assert_eq!(password_sms(&app, "+79261300005").await.len(), 1);
}

#[tokio::test]
async fn access_is_restored_with_a_temporary_password_the_operator_never_sees() {
    let app = spawn_app().await;
    let old_session = app.standard_citizen("+79261300006", &ivanov()).await;
    // With an authenticator app on, which the person has since lost.
    let enrol: Value = app
        .client
        .post(app.url("/api/v1/me/second-factor"))
        .bearer_auth(&old_session)
        .json(&json!({"method": "totp", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = uslugi_app::totp::TotpSecret::from_base32(enrol["secret"].as_str().unwrap()).unwrap();
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/me/second-factor/{}/confirm",
            enrol["enrolment_id"].as_str().unwrap()
        )))
        .bearer_auth(&old_session)
        .json(&json!({"code": totp_now(&app, &key)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Locked out after wrong passwords.
    for _ in 0..6 {
        app.log_in("+79261300006", "wrong password").await;
    }
    let mut op = app.operator(KALUGA, OperatorRole::Operator, "orlova").await;
    let id = op.find("phone", "+79261300006").await.remove(0);
    let restore = op.act(&id, "restore");
    let (s, _, _) = op.post(&restore, &[("person_matches", "1")]).await;
    assert_eq!(s, 422);
    let (s, html, to) = op
        .post(
            &restore,
            &[("document_matches", "1"), ("person_matches", "1")],
        )
        .await;
    assert_eq!(s, 303, "{html}");
    let (_, html, _) = op.get(&to.unwrap()).await;
    assert!(html.contains("Временный пароль отправлен"));
    app.settle(1).await;
    let sms = app.messages_to("+79261300006").await;
    let temporary = temporary_password(&sms[0].body);
    assert!(!html.contains(&temporary));
    assert_eq!(
        app.get_bearer("/api/v1/me", &old_session).await.status(),
        401,
        "every session ended"
    );
    let r = app.log_in("+79261300006", &temporary).await;
    assert_eq!(
        r.status(),
        201,
        "the lock is lifted, and the lost app is no longer asked for"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["password_change_required"], true);
    assert_eq!(
        level_of(&app, body["session_token"].as_str().unwrap()).await["level"],
        "standard",
        "recovery keeps the level"
    );
    let log = actions(
        &app,
        AuditFilter {
            account_id: id.parse().ok(),
            ..AuditFilter::default()
        },
    )
    .await;
    assert!(log.contains(&("access_restored".into(), "refused".into())));
    assert!(log.contains(&("access_restored".into(), "temporary_password_sent".into())));
}

#[tokio::test]
async fn a_simplified_account_cannot_be_confirmed_or_restored_by_passport() {
    let app = spawn_app().await;
    app.citizen("+79261300007").await;
    let mut op = app
        .operator(KALUGA, OperatorRole::Operator, "zaitseva")
        .await;
    let id = op.find("phone", "+79261300007").await.remove(0);
    let (_, html, _) = op.get(&op.card(&id)).await;
    assert!(html.contains("Личные данные не проверены"));
    assert!(!html.contains("id=\"confirm\""), "no form to confirm");
    let checked = [("document_matches", "1"), ("person_matches", "1")];
    let (s, _, _) = op.post(&op.act(&id, "confirm"), &checked).await;
    assert_eq!(s, 409);
    let (s, _, _) = op.post(&op.act(&id, "restore"), &checked).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn a_center_offers_only_its_own_services() {
    let app = spawn_app().await;
    app.standard_citizen("+79261300008", &ivanov()).await;
    let mut op = app
        .operator(KOGALYM_ADMIN, OperatorRole::Operator, "shumkov")
        .await;
    let (_, html, _) = op.get("/operator").await;
    assert!(!html.contains("href=\"/operator/register\""));
    assert_eq!(op.get("/operator/register").await.0, 403);
    let id = op.find("snils", "112-233-445 95").await.remove(0);
    let checked = [("document_matches", "1"), ("person_matches", "1")];
    let (s, _, _) = op.post(&op.act(&id, "restore"), &checked).await;
    assert_eq!(s, 403, "access recovery is not offered there");
    let (s, _, _) = op.post(&op.act(&id, "confirm"), &checked).await;
    assert_eq!(s, 303, "identity confirmation is");
}

#[tokio::test]
async fn operators_read_their_own_records_and_supervisors_their_centers_only() {
    let app = spawn_app().await;
    app.standard_citizen("+79261300009", &ivanov()).await;
    let mut a = app
        .operator(KALUGA, OperatorRole::Operator, "kaluga.one")
        .await;
    let mut a2 = app
        .operator(KALUGA, OperatorRole::Operator, "kaluga.two")
        .await;
    let mut boss = app
        .operator(KALUGA, OperatorRole::Supervisor, "kaluga.boss")
        .await;
    let mut other = app
        .operator(OBNINSK, OperatorRole::Supervisor, "obninsk.boss")
        .await;
    a.find("snils", "112-233-445 95").await;
    a2.find("phone", "+79261300009").await;
    let mut fields = flat(&ivanov());
    fields[6].1 = "123-456-789 64".into();
    let (_, _, to) = a.register_at_desk("+79261300010", &refs(&fields)).await;
    let registration = to.unwrap();

    let rows = |html: &str| html.matches("<tr><td>").count();
    let (_, mine, _) = a.get("/operator/audit").await;
    let (_, theirs, _) = a2.get("/operator/audit").await;
    let (_, center, _) = boss.get("/operator/audit").await;
    let (_, elsewhere, _) = other.get("/operator/audit").await;
    assert!(mine.contains("registered_in_person") && !mine.contains("kaluga.two"));
    assert!(
        !theirs.contains("registered_in_person"),
        "another operator's action is not shown"
    );
    assert!(center.contains("registered_in_person") && center.contains("citizen_search"));
    assert!(rows(&center) > rows(&mine) && rows(&mine) > 0);
    assert!(!elsewhere.contains("registered_in_person") && !elsewhere.contains("citizen_search"));
    // Another center's registration is not found; at this center, the
    // page is the registering session's (the supervisor finds the citizen
    // by a search of their own).
    assert_eq!(other.get(&registration).await.0, 404);
    assert_eq!(boss.get(&registration).await.0, 404);
    assert_eq!(a.get(&registration).await.0, 200);
}

#[tokio::test]
async fn searches_are_limited_per_operator() {
    let app = spawn_app().await;
    let mut op = app.operator(KALUGA, OperatorRole::Operator, "busy").await;
    for _ in 0..60 {
        op.find("phone", "+79261300011").await;
    }
    let (s, html, _) = op
        .post(
            "/operator/search",
            &[("by", "phone"), ("value", "+79261300011")],
        )
        .await;
    assert_eq!(s, 429);
    assert!(html.contains("Слишком много поисков"));
}

/// The form fields of a personal data JSON, as the pages name them.
fn flat(data: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in [
        "surname",
        "given_name",
        "patronymic",
        "sex",
        "birth_date",
        "birth_place",
        "snils",
        "citizenship",
    ] {
        out.push((k.to_owned(), data[k].as_str().unwrap_or("").to_owned()));
    }
    out.push(("document.type".into(), "rf_passport".into()));
    for k in [
        "series_number",
        "issue_date",
        "issued_by",
        "department_code",
    ] {
        out.push((
            format!("document.{k}"),
            data["document"][k].as_str().unwrap().to_owned(),
        ));
    }
    out
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The SMS to `phone` but the desk's code: what the registration sent.
async fn password_sms(app: &TestApp, phone: &str) -> Vec<uslugi_adapters::MailboxEntry> {
    let mut sms = app.messages_to(phone).await;
    sms.retain(|m| !m.body.contains("назовите его сотруднику"));
    sms
}

/// The temporary password in an SMS: its only word of ten lower-case
/// letters and digits.
fn temporary_password(sms: &str) -> String {
    sms.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| {
            w.len() == 10
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        .expect("the SMS holds a temporary password")
        .to_owned()
}

#[tokio::test]
async fn without_javascript_a_temporary_password_opens_only_the_page_that_replaces_it() {
    let app = spawn_app().await;
    let mut op = app.operator(OBNINSK, OperatorRole::Operator, "pages").await;
    let fields = flat(&ivanov());
    op.register_at_desk("+79261300012", &refs(&fields)).await;
    app.settle(8).await;
    let temporary = temporary_password(&app.messages_to("+79261300012").await[0].body);
    let mut b = Browser::new(&app);
    b.get("/login").await;
    let (s, _, to) = b
        .post(
            "/login",
            &[("login", "+79261300012"), ("password", &temporary)],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/me/password")));
    for page in ["/me", "/me/personal-data", "/me/identity"] {
        let (s, _, to) = b.get(page).await;
        assert_eq!((s, to.as_deref()), (303, Some("/me/password")), "{page}");
    }
    let (_, html, _) = b.get("/me/password").await;
    assert!(html.contains("Вы вошли с временным паролем"));
    assert!(
        !html.contains("current_password"),
        "the temporary one is not asked again"
    );
    let (s, html, _) = b
        .post(
            "/me/password",
            &[("password", PASSWORD), ("password_confirmation", "другой")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("id=\"password_confirmation-error\""));
    let (s, _, to) = b
        .post(
            "/me/password",
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!((s, to.as_deref()), (303, Some("/me?password_changed=1")));
    let (s, html, _) = b.get("/me?password_changed=1").await;
    assert_eq!(s, 200);
    assert!(html.contains("Пароль изменён.") && html.contains("подтверждённая"));
    // Later changes ask for the current password.
    let (_, html, _) = b.get("/me/password").await;
    assert!(html.contains("name=\"current_password\""));
    let (s, html, _) = b
        .post(
            "/me/password",
            &[
                ("current_password", "неверный"),
                ("password", "новый пароль для портала"),
                ("password_confirmation", "новый пароль для портала"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("Неверный текущий пароль"));
}

/// Finding 4, second half: someone who knows Иванов's data made a standard
/// account with them first, so the real Иванов's own submission ends in
/// «СНИЛС занят». At a center, after the passport check, the SNILS moves to
/// the account of the person at the desk; the other account drops to
/// simplified and its owner is told — in one transaction, with its record.
#[tokio::test]
async fn a_center_moves_a_taken_snils_to_the_person_with_the_passport() {
    let app = spawn_app().await;
    let squatter = app.standard_citizen("+79261300031", &ivanov()).await;
    let owner = app.citizen("+79261300032").await;
    let r = app
        .put_bearer("/api/v1/me/personal-data", &owner, &ivanov())
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .post_bearer("/api/v1/me/personal-data/submit", &owner)
        .await;
    assert_eq!(r.status(), 202);
    app.settle(5).await;
    assert_eq!(app.verification_of(&owner).await["snils_taken"], true);

    let mut op = app
        .operator(KALUGA, OperatorRole::Operator, "snilsova")
        .await;
    let found = op.find("phone", "+7 926 130-00-32").await;
    assert_eq!(found.len(), 1);
    let id = found[0].clone();
    let (s, html, _) = op.get(&op.card(&id)).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("СНИЛС занят другой учётной записью"),
        "{html}"
    );
    assert!(html.contains("4510 123456") && html.contains("112-233-445 95"));

    let path = op.act(&id, "snils");
    let (s, _, _) = op.post(&path, &[("document_matches", "1")]).await;
    assert_eq!(s, 422, "both points of the checklist");
    assert_eq!(level_of(&app, &owner).await["level"], "simplified");
    let (s, _, to) = op
        .post(&path, &[("document_matches", "1"), ("person_matches", "1")])
        .await;
    let id_only = id.split('?').next().unwrap();
    assert_eq!(
        (s, to),
        (
            303,
            Some(format!(
                "/operator/citizens/{id_only}?done=snils&grant={}",
                op.grant(id_only)
            ))
        )
    );

    assert_eq!(level_of(&app, &owner).await["level"], "standard");
    assert_eq!(app.verification_of(&owner).await["status"], "verified");
    assert_eq!(level_of(&app, &squatter).await["level"], "simplified");
    assert_eq!(app.verification_of(&squatter).await["status"], "draft");
    let by_snils = app.token("112-233-445 95", PASSWORD).await;
    assert_eq!(
        level_of(&app, &by_snils).await["phone"],
        level_of(&app, &owner).await["phone"],
        "the SNILS logs in to the owner's account now"
    );
    // The squatter can no longer order the identity letter; the owner can,
    // to the ministry's address.
    let r = app
        .post_bearer("/api/v1/me/identity/letter", &squatter)
        .await;
    assert_eq!(r.status(), 409);
    let r = app.post_bearer("/api/v1/me/identity/letter", &owner).await;
    assert_eq!(r.status(), 202);
    app.settle(1).await;
    let told = app.messages_to("+79261300031").await;
    assert!(
        told.iter()
            .any(|m| m.body.contains("СНИЛС из вашей учётной записи передан")),
        "the other account's owner is told"
    );
    assert_eq!(
        actions(
            &app,
            AuditFilter {
                center_id: Some(KALUGA.into()),
                ..AuditFilter::default()
            }
        )
        .await
        .into_iter()
        .filter(|(a, _)| a == "snils_transferred")
        .collect::<Vec<_>>(),
        vec![
            ("snils_transferred".to_owned(), "refused".to_owned()),
            ("snils_transferred".to_owned(), "transferred".to_owned())
        ]
    );
    let (s, html, _) = op
        .post(&path, &[("document_matches", "1"), ("person_matches", "1")])
        .await;
    assert_eq!(s, 409, "nothing left to move");
    assert!(html.contains("передавать нечего"));
}
