//! The HTTP gateway against the simulator's real router on a loopback port:
//! every answer of both registries, idempotency, delays on a fake clock,
//! simulated failures and malformed calls.
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use time::Date;
use time::macros::date;
use uslugi_adapters::{DEFAULT_CLIENT_TIMEOUT, HttpRegistryGateway};
use uslugi_app::FakeClock;
use uslugi_app::registries::{
    GatewayError, PassportInvalidity, PersonFacts, RegistryAnswer, RegistryGateway,
    RegistryRequest, RegistryRequestId, Sex,
};
use uslugi_sim::{
    RunningSim, SimError, SimRegistry, SimSettings, SimState, spawn_in_process, spawn_with_state,
};

struct Sim {
    gateway: HttpRegistryGateway,
    clock: FakeClock,
    running: RunningSim,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.running.task.abort();
    }
}

fn quiet(delay_ms: (u64, u64)) -> SimSettings {
    SimSettings {
        delay_ms,
        failure_rate: 0.0,
        ..SimSettings::default()
    }
}

async fn sim(settings: SimSettings, client_timeout: Duration) -> Sim {
    let clock = FakeClock::default();
    let state = SimState::new(SimRegistry::demo(), &settings, Arc::new(clock.clone())).unwrap();
    let running = spawn_with_state(state).await.unwrap();
    let gateway = HttpRegistryGateway::new(&running.base_url, client_timeout).unwrap();
    Sim {
        gateway,
        clock,
        running,
    }
}

async fn instant_sim() -> Sim {
    sim(quiet((0, 0)), DEFAULT_CLIENT_TIMEOUT).await
}

fn person(surname: &str, given: &str, patronymic: Option<&str>, born: Date) -> PersonFacts {
    PersonFacts {
        surname: surname.into(),
        given_name: given.into(),
        patronymic: patronymic.map(Into::into),
        birth_date: born,
    }
}

fn sfr(snils: &str, person: PersonFacts, sex: Sex) -> RegistryRequest {
    RegistryRequest::Sfr {
        snils: snils.into(),
        person,
        sex,
    }
}

fn mvd(
    series_number: &str,
    issued: Date,
    department: &str,
    person: PersonFacts,
) -> RegistryRequest {
    RegistryRequest::Mvd {
        series_number: series_number.into(),
        issue_date: issued,
        department_code: department.into(),
        person,
    }
}

fn ivanov() -> PersonFacts {
    person("Иванов", "Иван", Some("Иванович"), date!(1980 - 05 - 17))
}

fn ivanov_sfr() -> RegistryRequest {
    sfr("11223344595", ivanov(), Sex::Male)
}

/// Each outcome of the README's demo table, as a citizen would type it.
/// The registration address of the `index`-th citizen of the demo set.
fn demo_address(index: usize) -> Option<uslugi_domain::Address> {
    let address = uslugi_sim::SimRegistry::demo().citizens()[index]
        .registration_address
        .clone();
    assert!(address.is_some(), "the demo citizen has an address");
    address
}

fn demo_cases() -> Vec<(&'static str, RegistryRequest, RegistryAnswer)> {
    let petrova = person("Петрова", "Анна", Some("Сергеевна"), date!(1985 - 11 - 03));
    let sidorov = person("Сидоров", "Пётр", Some("Алексеевич"), date!(1990 - 02 - 14));
    let kim = person("Ким", "Елена", None, date!(1975 - 08 - 30));
    let smirnov = person(
        "Смирнов",
        "Алексей",
        Some("Дмитриевич"),
        date!(1970 - 01 - 25),
    );
    let invalid = |reason| RegistryAnswer::MvdInvalid { reason };
    vec![
        ("Иванов SFR", ivanov_sfr(), RegistryAnswer::SfrMatch),
        (
            "Иванов MVD",
            mvd("4510 123456", date!(2000 - 06 - 01), "770-001", ivanov()),
            // The registration address travels with the answer.
            RegistryAnswer::MvdValid {
                registration_address: demo_address(0),
            },
        ),
        (
            "Петрова as recorded",
            sfr("12345678964", petrova.clone(), Sex::Female),
            RegistryAnswer::SfrMatch,
        ),
        (
            "Петрова, another birth date",
            sfr(
                "12345678964",
                PersonFacts {
                    birth_date: date!(1985 - 11 - 04),
                    ..petrova.clone()
                },
                Sex::Female,
            ),
            RegistryAnswer::SfrMismatch,
        ),
        (
            "Петрова, another birth date, MVD",
            mvd(
                "4505 234567",
                date!(2005 - 11 - 21),
                "770-002",
                PersonFacts {
                    birth_date: date!(1985 - 11 - 04),
                    ..petrova.clone()
                },
            ),
            RegistryAnswer::MvdNotFound,
        ),
        (
            "Петрова, another sex",
            sfr("12345678964", petrova.clone(), Sex::Male),
            RegistryAnswer::SfrMismatch,
        ),
        (
            "Петрова, another sex, MVD",
            mvd("4505 234567", date!(2005 - 11 - 21), "770-002", petrova),
            RegistryAnswer::MvdValid {
                registration_address: demo_address(1),
            },
        ),
        (
            "unknown SNILS",
            sfr("19876543247", ivanov(), Sex::Male),
            RegistryAnswer::SfrNotFound,
        ),
        (
            "Сидоров SFR",
            sfr("14567890105", sidorov.clone(), Sex::Male),
            RegistryAnswer::SfrMatch,
        ),
        (
            "Сидоров MVD",
            mvd("4011 345678", date!(2011 - 03 - 10), "780-003", sidorov),
            invalid(PassportInvalidity::Lost),
        ),
        (
            "Ким SFR",
            sfr("15678901211", kim.clone(), Sex::Female),
            RegistryAnswer::SfrMatch,
        ),
        (
            "Ким MVD",
            mvd("4600 456789", date!(2000 - 09 - 15), "500-004", kim),
            invalid(PassportInvalidity::Expired),
        ),
        (
            "Смирнов SFR",
            sfr("16789012307", smirnov.clone(), Sex::Male),
            RegistryAnswer::SfrMatch,
        ),
        (
            "Смирнов MVD",
            mvd("4503 567890", date!(2003 - 02 - 10), "770-005", smirnov),
            invalid(PassportInvalidity::Replaced),
        ),
        (
            "unknown passport",
            mvd("4510 654321", date!(2000 - 06 - 01), "770-001", ivanov()),
            RegistryAnswer::MvdNotFound,
        ),
    ]
}

async fn answer_of(sim: &Sim, key: &str, request: &RegistryRequest) -> Option<RegistryAnswer> {
    let id = sim.gateway.submit(key, request).await.unwrap();
    sim.gateway.poll(&id).await.unwrap()
}

#[tokio::test]
async fn every_outcome_of_both_registries() {
    let sim = instant_sim().await;
    for (index, (case, request, expected)) in demo_cases().into_iter().enumerate() {
        let answer = answer_of(&sim, &format!("case-{index}"), &request).await;
        assert_eq!(answer, Some(expected), "{case}");
    }
}

#[tokio::test]
async fn letter_case_and_yo_do_not_matter() {
    let sim = instant_sim().await;
    let spellings = [
        person("Сидоров", "Петр", Some("Алексеевич"), date!(1990 - 02 - 14)),
        person("СИДОРОВ", "ПЁТР", Some("АЛЕКСЕЕВИЧ"), date!(1990 - 02 - 14)),
        person("сидоров", "пётр", Some("алексеевич"), date!(1990 - 02 - 14)),
        person(
            " Сидоров ",
            "ПеТр",
            Some("АлЕкСеЕвИч"),
            date!(1990 - 02 - 14),
        ),
    ];
    for (index, facts) in spellings.into_iter().enumerate() {
        let answer = answer_of(
            &sim,
            &format!("sfr-{index}"),
            &sfr("14567890105", facts.clone(), Sex::Male),
        )
        .await;
        assert_eq!(answer, Some(RegistryAnswer::SfrMatch), "{facts:?}");
        let answer = answer_of(
            &sim,
            &format!("mvd-{index}"),
            &mvd(
                "4011 345678",
                date!(2011 - 03 - 10),
                "780-003",
                facts.clone(),
            ),
        )
        .await;
        assert_eq!(
            answer,
            Some(RegistryAnswer::MvdInvalid {
                reason: PassportInvalidity::Lost
            }),
            "{facts:?}"
        );
    }
    // Ким has no patronymic: an empty one is the same.
    let kim = person("КИМ", "елена", Some(""), date!(1975 - 08 - 30));
    let answer = answer_of(&sim, "kim", &sfr("15678901211", kim, Sex::Female)).await;
    assert_eq!(answer, Some(RegistryAnswer::SfrMatch));
}

#[tokio::test]
async fn one_key_is_one_request() {
    let sim = instant_sim().await;
    let first = sim
        .gateway
        .submit("verification-1/sfr", &ivanov_sfr())
        .await
        .unwrap();
    let again = sim
        .gateway
        .submit("verification-1/sfr", &ivanov_sfr())
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(sim.running.state.requests_held(), 1);

    let other = sim
        .gateway
        .submit("verification-2/sfr", &ivanov_sfr())
        .await
        .unwrap();
    assert_ne!(other, first);
    assert_eq!(sim.running.state.requests_held(), 2);

    let different = sfr("19876543247", ivanov(), Sex::Male);
    let refused = sim.gateway.submit("verification-1/sfr", &different).await;
    assert!(
        matches!(&refused, Err(GatewayError::Rejected(message)) if message.starts_with("422")),
        "{refused:?}"
    );
    assert_eq!(sim.running.state.requests_held(), 2);
    assert_eq!(
        sim.gateway.poll(&first).await.unwrap(),
        Some(RegistryAnswer::SfrMatch)
    );
}

#[tokio::test]
async fn pending_until_the_delay_has_passed() {
    let sim = sim(quiet((1_500, 2_500)), DEFAULT_CLIENT_TIMEOUT).await;
    let id = sim.gateway.submit("slow", &ivanov_sfr()).await.unwrap();
    assert_eq!(sim.gateway.poll(&id).await.unwrap(), None);
    sim.clock.advance(time::Duration::seconds(1));
    assert_eq!(sim.gateway.poll(&id).await.unwrap(), None);
    sim.clock.advance(time::Duration::seconds(2));
    assert_eq!(
        sim.gateway.poll(&id).await.unwrap(),
        Some(RegistryAnswer::SfrMatch)
    );
    // A repeated submission does not start the delay again.
    assert_eq!(sim.gateway.submit("slow", &ivanov_sfr()).await.unwrap(), id);
    assert_eq!(
        sim.gateway.poll(&id).await.unwrap(),
        Some(RegistryAnswer::SfrMatch)
    );
}

#[tokio::test]
async fn unknown_and_forgotten_requests() {
    let sim = instant_sim().await;
    let never = RegistryRequestId("00000000-0000-4000-8000-000000000000".into());
    assert!(matches!(
        sim.gateway.poll(&never).await,
        Err(GatewayError::UnknownRequest)
    ));
    let odd = RegistryRequestId("../v1/requests".into());
    assert!(matches!(
        sim.gateway.poll(&odd).await,
        Err(GatewayError::UnknownRequest)
    ));

    let id = sim.gateway.submit("old", &ivanov_sfr()).await.unwrap();
    sim.clock.advance(time::Duration::hours(23));
    assert!(sim.gateway.poll(&id).await.unwrap().is_some());
    sim.clock.advance(time::Duration::hours(1));
    assert!(matches!(
        sim.gateway.poll(&id).await,
        Err(GatewayError::UnknownRequest)
    ));
    assert_eq!(sim.running.state.requests_held(), 0);
    let renewed = sim.gateway.submit("old", &ivanov_sfr()).await.unwrap();
    assert_ne!(renewed, id);
}

/// Real time: each simulated timeout costs the client's 200 ms.
#[tokio::test]
async fn every_call_fails_at_failure_rate_one() {
    let settings = SimSettings {
        failure_rate: 1.0,
        timeout_hold: Duration::from_millis(700),
        ..quiet((0, 0))
    };
    let sim = sim(settings, Duration::from_millis(200)).await;
    let (mut unavailable, mut timeouts) = (0, 0);
    for call in 0..20 {
        let outcome = if call % 2 == 0 {
            sim.gateway
                .submit(&format!("key-{call}"), &ivanov_sfr())
                .await
                .map(|_| ())
        } else {
            sim.gateway
                .poll(&RegistryRequestId(format!("id-{call}")))
                .await
                .map(|_| ())
        };
        match outcome {
            Err(GatewayError::Unavailable(message)) => {
                assert!(message.contains("503"), "{message}");
                unavailable += 1;
            }
            Err(GatewayError::Timeout) => timeouts += 1,
            other => panic!("call {call} did not fail: {other:?}"),
        }
    }
    // Half and half: all 20 alike has odds of one in half a million.
    assert!(
        unavailable > 0 && timeouts > 0,
        "{unavailable} 503s, {timeouts} timeouts"
    );
}

/// A simulated timeout happens after the call was handled, so a retry with
/// the same key finds the request that the caller never heard about.
#[tokio::test]
async fn a_timed_out_submission_arrived_all_the_same() {
    let settings = SimSettings {
        failure_rate: 1.0,
        timeout_hold: Duration::from_millis(700),
        ..quiet((0, 0))
    };
    let sim = sim(settings, Duration::from_millis(200)).await;
    let state = &sim.running.state;
    let mut arrived = false;
    for _ in 0..40 {
        match sim.gateway.submit("lost-answer", &ivanov_sfr()).await {
            Err(GatewayError::Timeout) if state.requests_held() == 1 => {
                arrived = true;
                break;
            }
            // On a loaded machine even a 503 may come too late for the
            // client; either way the request has not arrived.
            Err(GatewayError::Timeout | GatewayError::Unavailable(_)) => {
                assert_eq!(state.requests_held(), 0);
            }
            other => panic!("no failure: {other:?}"),
        }
    }
    assert!(arrived, "no simulated timeout in 40 calls");
    state.set_failure_rate(0.0).unwrap();
    let id = sim
        .gateway
        .submit("lost-answer", &ivanov_sfr())
        .await
        .unwrap();
    assert_eq!(state.requests_held(), 1);
    assert_eq!(
        sim.gateway.poll(&id).await.unwrap(),
        Some(RegistryAnswer::SfrMatch)
    );
}

#[tokio::test]
async fn malformed_calls_are_refused() {
    let sim = instant_sim().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/requests", sim.running.base_url);
    let good = json!({
        "registry": "sfr",
        "snils": "11223344595",
        "person": {"surname": "Иванов", "given_name": "Иван", "patronymic": "Иванович", "birth_date": "1980-05-17"},
        "sex": "male"
    });

    let accepted = http
        .post(&url)
        .header("Idempotency-Key", "raw-1")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let body: Value = accepted.json().await.unwrap();
    let id = body["request_id"].as_str().unwrap().to_owned();
    let polled: Value = http
        .get(format!("{url}/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        polled,
        json!({"status": "done", "answer": {"result": "sfr_match"}})
    );

    let mut tuple_date = good.clone();
    tuple_date["person"]["birth_date"] = json!([1980, 138]);
    let mut separated = good.clone();
    separated["snils"] = json!("112-233-445 95");
    let mut no_registry = good.clone();
    no_registry["registry"] = json!("fns");
    for (key, body) in [
        (None, good.to_string()),
        (Some("with space"), good.to_string()),
        (Some("raw-2"), "{".to_owned()),
        (Some("raw-3"), tuple_date.to_string()),
        (Some("raw-4"), separated.to_string()),
        (Some("raw-5"), no_registry.to_string()),
    ] {
        let mut call = http.post(&url).body(body.clone());
        if let Some(key) = key {
            call = call.header("Idempotency-Key", key);
        }
        let response = call.send().await.unwrap();
        assert_eq!(response.status(), 400, "{key:?} {body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "malformed_request", "{error}");
    }

    let reused = http
        .post(&url)
        .header("Idempotency-Key", "raw-1")
        .json(&separated_free(&good))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 422);

    let unknown = http.get(format!("{url}/nope")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let error: Value = unknown.json().await.unwrap();
    assert_eq!(error["error"]["code"], "unknown_request");

    let health = http
        .get(format!("{}/health", sim.running.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // Through the gateway, a malformed request is refused for good.
    let refused = sim
        .gateway
        .submit("gw-1", &sfr("112-233-445 95", ivanov(), Sex::Male))
        .await;
    // The error (which the log shows) says what was answered, not what the
    // gateway wrote: that may quote the request's personal data.
    assert!(
        matches!(&refused, Err(GatewayError::Rejected(message))
            if message.starts_with("400") && message.contains("bytes") && !message.contains("snils")),
        "{refused:?}"
    );
    let refused = sim
        .gateway
        .submit(
            "gw-2",
            &mvd("4510123456", date!(2000 - 06 - 01), "770-001", ivanov()),
        )
        .await;
    assert!(
        matches!(refused, Err(GatewayError::Rejected(_))),
        "{refused:?}"
    );
    let refused = sim.gateway.submit("", &ivanov_sfr()).await;
    assert!(
        matches!(refused, Err(GatewayError::Rejected(_))),
        "{refused:?}"
    );
}

/// `good` for another person, to reuse its key with a different request.
fn separated_free(good: &Value) -> Value {
    let mut other = good.clone();
    other["snils"] = json!("19876543247");
    other
}

#[tokio::test]
async fn an_unreachable_gateway_is_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let gateway =
        HttpRegistryGateway::new(&format!("http://{addr}"), DEFAULT_CLIENT_TIMEOUT).unwrap();
    let outcome = gateway.submit("nobody-home", &ivanov_sfr()).await;
    assert!(
        matches!(outcome, Err(GatewayError::Unavailable(_))),
        "{outcome:?}"
    );
    assert!(outcome.unwrap_err().is_transient());
}

#[tokio::test]
async fn in_process_with_a_citizens_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("citizens.json");
    std::fs::write(
        &file,
        r#"[{"snils":"198-765-432 47","surname":"Фёдорова","given_name":"Алёна","patronymic":null,"sex":"female","birth_date":"2001-01-31","passport":{"series_number":"4521 111222","issue_date":"2021-02-15","department_code":"770-010","status":"valid"}}]"#,
    )
    .unwrap();
    let settings = SimSettings::from_parts(Some(file.clone()), Some("0"), Some(0.0)).unwrap();
    let running = spawn_in_process(&settings, Arc::new(FakeClock::default()))
        .await
        .unwrap();
    let gateway = HttpRegistryGateway::new(&running.base_url, DEFAULT_CLIENT_TIMEOUT).unwrap();
    let fedorova = person("Федорова", "Алена", None, date!(2001 - 01 - 31));
    let id = gateway
        .submit("file-1", &sfr("19876543247", fedorova.clone(), Sex::Female))
        .await
        .unwrap();
    assert_eq!(
        gateway.poll(&id).await.unwrap(),
        Some(RegistryAnswer::SfrMatch)
    );
    let id = gateway
        .submit(
            "file-2",
            &mvd("4521 111222", date!(2021 - 02 - 15), "770-010", fedorova),
        )
        .await
        .unwrap();
    assert_eq!(
        gateway.poll(&id).await.unwrap(),
        Some(RegistryAnswer::MvdValid {
            registration_address: None
        })
    );
    // The demo set is not there.
    let id = gateway.submit("file-3", &ivanov_sfr()).await.unwrap();
    assert_eq!(
        gateway.poll(&id).await.unwrap(),
        Some(RegistryAnswer::SfrNotFound)
    );
    running.task.abort();

    std::fs::write(&file, r#"[{"snils":"198-765-432 47"}]"#).unwrap();
    let error = spawn_in_process(&settings, Arc::new(FakeClock::default()))
        .await
        .unwrap_err();
    assert!(matches!(error, SimError::Citizens(_)), "{error:?}");
    assert!(
        error.to_string().ends_with("citizens[0].surname: missing"),
        "{error}"
    );
}

/// A gateway that explains its refusals by quoting the request: its words
/// never reach our errors, and so never the log.
#[tokio::test]
async fn a_gateways_error_body_is_never_quoted() {
    use axum::http::StatusCode;
    let quoting = json!({"error": {"code": "bad_person",
        "message": "СНИЛС 112-233-445 95 гражданина Иванов Иван не найден"}})
    .to_string();
    for status in [StatusCode::BAD_REQUEST, StatusCode::SERVICE_UNAVAILABLE] {
        let body = quoting.clone();
        let router = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move { (status, body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let gateway = HttpRegistryGateway::new(&url, DEFAULT_CLIENT_TIMEOUT).unwrap();
        let submitted = gateway.submit("k-1", &ivanov_sfr()).await;
        let polled = gateway.poll(&RegistryRequestId("r-1".into())).await;
        server.abort();
        for outcome in [submitted.map(|_| ()), polled.map(|_| ())] {
            let error = outcome.unwrap_err();
            let said = error.to_string();
            assert!(
                said.contains(status.as_str())
                    && said.contains(&format!("{} bytes", quoting.len())),
                "{said}"
            );
            for quoted in ["112-233-445", "Иванов", "bad_person", "СНИЛС"] {
                assert!(!said.contains(quoted), "{quoted} in {said}");
            }
            assert_eq!(
                matches!(error, GatewayError::Rejected(_)),
                status == StatusCode::BAD_REQUEST
            );
        }
    }
}
