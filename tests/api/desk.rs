//! The service-center desk: a citizen's card opens only from a search the
//! same console session made, for a while; a registration at the desk
//! sends the temporary password only to a phone the citizen confirmed there.
use time::Duration;
use uslugi_app::ports::AuditFilter;
use uslugi_domain::OperatorRole;

use crate::helpers::*;

const KALUGA: &str = "kaluga-mfc-kaluga-ul-khrustalnaya-34a";
const OBNINSK: &str = "kaluga-mfc-obninsk-prosmarksa-d-130";

/// `(action, outcome, reason)` of the records of `center`, oldest first.
async fn records(app: &TestApp, center: &str) -> Vec<(String, String, String)> {
    let filter = AuditFilter {
        center_id: Some(center.into()),
        ..AuditFilter::default()
    };
    let mut out: Vec<_> = app
        .store
        .audit_records(&filter, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let details: serde_json::Value =
                serde_json::from_str(&r.entry.details).unwrap_or_default();
            (
                r.entry.action,
                r.entry.outcome,
                details["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.reverse();
    out
}

const CHECKED: [(&str, &str); 2] = [("document_matches", "1"), ("person_matches", "1")];

#[tokio::test]
async fn a_card_opens_only_from_a_search_of_the_same_session_and_not_for_long() {
    let app = spawn_app().await;
    let citizen = app.standard_citizen("+79261300041", &ivanov()).await;
    let mut a = app
        .operator(KALUGA, OperatorRole::Operator, "poiskova")
        .await;
    let mut same_center = app
        .operator(KALUGA, OperatorRole::Operator, "sosedova")
        .await;
    let mut elsewhere = app
        .operator(OBNINSK, OperatorRole::Operator, "chuzhova")
        .await;

    let id = a.find("phone", "+79261300041").await.remove(0);
    let card = a.card(&id);
    let (s, html, _) = a.get(&card).await;
    assert_eq!(s, 200, "the searched card opens");
    assert!(html.contains("Иванов Иван Иванович"));

    // The same address, or a guessed one, from anyone else: as if there
    // were no such citizen.
    let guessed = format!("/operator/citizens/{id}");
    for op in [&mut same_center, &mut elsewhere] {
        assert_eq!(op.get(&card).await.0, 404, "another session's grant");
        assert_eq!(op.get(&guessed).await.0, 404, "no grant at all");
        let (s, _, _) = op.post(&a.act(&id, "confirm"), &CHECKED).await;
        assert_eq!(s, 404, "nor act with another session's grant");
        let (s, _, _) = op.post(&a.act(&id, "restore"), &CHECKED).await;
        assert_eq!(s, 404);
        let (s, _, _) = op.post(&a.act(&id, "snils"), &CHECKED).await;
        assert_eq!(s, 404);
    }
    assert_eq!(a.get(&guessed).await.0, 404, "the searcher needs it too");
    let forged = format!("{card}x");
    assert_eq!(a.get(&forged).await.0, 404, "a grant is not editable");
    let other_account = uslugi_domain::AccountId::random();
    let borrowed = format!("/operator/citizens/{other_account}?grant={}", a.grant(&id));
    assert_eq!(a.get(&borrowed).await.0, 404, "a grant opens one card");
    let r = app.get_bearer("/api/v1/me", &citizen).await;
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["level"], "standard", "nothing was confirmed");

    // Fifteen minutes after the search the card closes, even to a console
    // kept alive meanwhile.
    app.advance(Duration::minutes(14));
    assert_eq!(a.get("/operator").await.0, 200);
    assert_eq!(a.get(&card).await.0, 200, "still within the quarter hour");
    app.advance(Duration::minutes(1));
    assert_eq!(a.get(&card).await.0, 404, "the grant has expired");
    let (s, _, _) = a.post(&a.act(&id, "confirm"), &CHECKED).await;
    assert_eq!(s, 404);

    // A new search opens it again, and the action works with its grant.
    let id = a.find("snils", "112-233-445 95").await.remove(0);
    let (s, _, to) = a.post(&a.act(&id, "confirm"), &CHECKED).await;
    assert_eq!(s, 303);
    assert_eq!(
        to.unwrap(),
        format!(
            "/operator/citizens/{id}?done=confirmed&grant={}",
            a.grant(&id)
        )
    );
    // A grant belongs to the session: after logging in again, the old one
    // is worth nothing.
    let card = a.card(&id);
    a.log_in().await;
    assert_eq!(a.get(&card).await.0, 404, "a new session, a new search");

    let log = records(&app, KALUGA).await;
    let refused = |action: &str, reason: &str| {
        log.iter()
            .filter(|(a, o, r)| a == action && o == "refused" && r == reason)
            .count()
    };
    assert!(refused("citizen_viewed", "invalid_grant") >= 3, "{log:?}");
    assert!(refused("citizen_viewed", "no_grant") >= 2, "{log:?}");
    assert!(refused("citizen_viewed", "grant_expired") >= 1, "{log:?}");
    assert_eq!(refused("identity_confirmed", "invalid_grant"), 1);
    assert_eq!(refused("identity_confirmed", "grant_expired"), 1);
    assert_eq!(refused("access_restored", "invalid_grant"), 1);
    assert_eq!(refused("snils_transferred", "invalid_grant"), 1);
    let elsewhere_log = records(&app, OBNINSK).await;
    assert_eq!(
        elsewhere_log
            .iter()
            .filter(|(_, o, _)| o == "refused")
            .count(),
        5,
        "what the other center tried is in its own records: {elsewhere_log:?}"
    );
}

/// The SMS to `phone` that are not the desk's code.
async fn password_sms(app: &TestApp, phone: &str) -> Vec<uslugi_adapters::MailboxEntry> {
    let mut sms = app.messages_to(phone).await;
    sms.retain(|m| !m.body.contains("назовите его сотруднику"));
    sms
}

fn ivanov_fields() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let data = ivanov();
    for (k, v) in data.as_object().unwrap() {
        match v {
            serde_json::Value::Object(inner) => {
                for (ik, iv) in inner {
                    out.push((
                        format!("{k}.{ik}"),
                        iv.as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
            v => out.push((k.clone(), v.as_str().unwrap_or_default().to_owned())),
        }
    }
    out
}

#[tokio::test]
async fn a_registration_at_the_desk_sends_the_password_only_to_a_phone_confirmed_there() {
    let app = spawn_app().await;
    let mut op = app
        .operator(OBNINSK, OperatorRole::Operator, "stoikina")
        .await;
    let mut neighbour = app
        .operator(OBNINSK, OperatorRole::Operator, "ryadova")
        .await;
    let phone = "+79261300051";

    let (s, html, _) = op.get("/operator/register").await;
    assert_eq!(s, 200);
    assert!(html.contains("Отправить код") && !html.contains("id=\"surname\""));
    let (s, html, _) = op.post("/operator/register", &[("phone", "12")]).await;
    assert_eq!(s, 422, "the phone's field error is named");
    assert!(html.contains("id=\"phone-error\"") && html.contains("error-summary"));

    let (s, _, to) = op.post("/operator/register", &[("phone", phone)]).await;
    assert_eq!(s, 303);
    let step = to.unwrap();
    app.settle(0).await;
    let sms = app.messages_to(phone).await;
    assert_eq!(sms.len(), 1, "the code, and nothing else");
    let code = app.last_code(phone).await;
    assert!(password_sms(&app, phone).await.is_empty());

    // The form of the data does not open, nor is it taken, before the code.
    let (s, html, _) = op.get(&step).await;
    assert_eq!(s, 200);
    assert!(html.contains("Код из SMS") && !html.contains("id=\"surname\""));
    let fields = ivanov_fields();
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        op.post(&step, &form).await.0,
        404,
        "no data before the code"
    );
    // Nor by another operator, at any step.
    assert_eq!(neighbour.get(&step).await.0, 404);
    let (s, _, _) = neighbour
        .post(&format!("{step}/code"), &[("code", &code)])
        .await;
    assert_eq!(s, 404, "another operator cannot type the code");

    let (s, html, _) = op.post(&format!("{step}/code"), &[("code", "12")]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Введите шесть цифр кода из SMS"));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, html, _) = op.post(&format!("{step}/code"), &[("code", wrong)]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Осталось попыток: 2"), "{html}");
    op.post(&format!("{step}/code"), &[("code", wrong)]).await;
    let (s, html, _) = op.post(&format!("{step}/code"), &[("code", wrong)]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Попытки закончились"));
    let (s, html, _) = op.post(&format!("{step}/code"), &[("code", &code)]).await;
    assert_eq!(
        s, 422,
        "the right code after three wrong ones is not compared"
    );
    assert!(html.contains("Попытки закончились"));

    // «Отправить код ещё раз» after a minute.
    let (s, html, _) = op.post(&format!("{step}/resend"), &[]).await;
    assert_eq!(s, 429);
    assert!(html.contains("Отправить код ещё раз можно через"));
    app.advance(Duration::seconds(61));
    let (s, _, to) = op.post(&format!("{step}/resend"), &[]).await;
    assert_eq!((s, to), (303, Some(format!("{step}?resent=1"))));
    app.settle(0).await;
    let second = app.last_code(phone).await;
    // A code lives 300 seconds.
    app.advance(Duration::seconds(301));
    let (s, html, _) = op.post(&format!("{step}/code"), &[("code", &second)]).await;
    assert_eq!(s, 422);
    assert!(html.contains("Срок действия кода истёк"));
    let (s, _, _) = op.post(&format!("{step}/resend"), &[]).await;
    assert_eq!(s, 303);
    app.settle(0).await;
    let third = app.last_code(phone).await;
    let (s, _, to) = op.post(&format!("{step}/code"), &[("code", &third)]).await;
    assert_eq!((s, to.as_deref()), (303, Some(step.as_str())));
    let (s, html, _) = op.get(&step).await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"surname\"") && html.contains("+79261300051"));
    assert!(password_sms(&app, phone).await.is_empty(), "not yet");

    let (s, _, to) = op.post(&step, &form).await;
    assert_eq!(s, 303);
    let registration = to.unwrap();
    assert!(registration.starts_with("/operator/registrations/"));
    assert_eq!(
        op.get(&step).await.0,
        404,
        "a confirmed phone registers once"
    );
    let bare = registration.split('?').next().unwrap();
    assert_eq!(
        op.get(bare).await.0,
        404,
        "the follow-up page needs its grant"
    );
    app.settle(8).await;
    let (_, html, _) = op.get(&registration).await;
    assert!(
        html.contains("Учётная запись создана и подтверждена"),
        "{html}"
    );
    let sms = password_sms(&app, phone).await;
    assert_eq!(
        sms.len(),
        1,
        "the temporary password, to the confirmed phone"
    );
    assert!(sms[0].body.contains("Временный пароль"));

    let log = records(&app, OBNINSK).await;
    let outcomes: Vec<&str> = log
        .iter()
        .filter(|(a, _, _)| a == "desk_phone")
        .map(|(_, o, _)| o.as_str())
        .collect();
    assert_eq!(
        outcomes,
        [
            "code_sent",
            "wrong_code",
            "wrong_code",
            "wrong_code",
            "code_resent",
            "code_resent",
            "confirmed"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_wrong_codes_at_once_at_the_desk_are_not_all_evaluated() {
    let app = spawn_app().await;
    let mut op = app
        .operator(OBNINSK, OperatorRole::Operator, "naplyv")
        .await;
    let phone = "+79261300052";
    let (_, _, to) = op.post("/operator/register", &[("phone", phone)]).await;
    let step = to.unwrap();
    app.settle(0).await;
    let code = app.last_code(phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (cookie, csrf) = (op.browser.cookie_header(), op.browser.csrf());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let request = app
                .client
                .post(app.url(&format!("{step}/code")))
                .header("cookie", cookie.clone())
                .form(&[("csrf_token", csrf.as_str()), ("code", wrong)]);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 422, "a wrong code never confirms");
    }
    let evaluated = records(&app, OBNINSK)
        .await
        .iter()
        .filter(|(a, o, _)| a == "desk_phone" && o == "wrong_code")
        .count();
    assert!(
        (1..=3).contains(&evaluated),
        "{evaluated} of 20 were compared"
    );
    let (s, html, _) = op.post(&format!("{step}/code"), &[("code", &code)]).await;
    assert_eq!(s, 422, "no try is left for the right one");
    assert!(html.contains("Попытки закончились"));
}

#[tokio::test]
async fn the_desks_code_counts_against_the_one_limit_per_phone() {
    let app = spawn_app().await;
    let mut op = app
        .operator(OBNINSK, OperatorRole::Operator, "limitova")
        .await;
    let phone = "+79261300053";
    let (_, _, to) = op.post("/operator/register", &[("phone", phone)]).await;
    let step = to.unwrap();
    for _ in 0..4 {
        app.advance(Duration::seconds(61));
        assert_eq!(op.post(&format!("{step}/resend"), &[]).await.0, 303);
    }
    app.advance(Duration::seconds(61));
    let (s, html, _) = op.post(&format!("{step}/resend"), &[]).await;
    assert_eq!(s, 429, "five messages an hour to one phone");
    assert!(html.contains("Слишком много SMS на этот телефон"));
    // The citizen's own registration shares the limit.
    let r = app
        .post(
            "/api/v1/registrations",
            &serde_json::json!({"surname": "Иванов", "given_name": "Иван", "phone": phone, "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 429);
    // And the other way round: a phone that had its five elsewhere gets no
    // code at the desk.
    let other = "+79261300054";
    for _ in 0..5 {
        app.start_phone(other).await;
        app.advance(Duration::seconds(61));
    }
    let (s, html, _) = op.post("/operator/register", &[("phone", other)]).await;
    assert_eq!(s, 429);
    assert!(html.contains("Слишком много SMS на этот телефон"));
}
