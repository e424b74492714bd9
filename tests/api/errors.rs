use serde_json::{Value, json};

use crate::helpers::*;

async fn body(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn bad_input_gets_a_clear_json_answer_never_a_500() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/registrations");

    let (s, b) = body(
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"surname\":")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, error_code(&b)), (400, "malformed"));

    let (s, b) = body(
        app.client
            .post(&url)
            .body("surname=x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, error_code(&b)), (415, "unsupported_media_type"));

    let huge = "я".repeat(100_000);
    let (s, b) = body(
        app.post("/api/v1/registrations", &json!({"surname": huge}))
            .await,
    )
    .await;
    assert_eq!((s, error_code(&b)), (413, "too_large"));

    let (s, b) = body(
        app.post(
            "/api/v1/registrations",
            &json!({"surname": 42, "given_name": "Иван"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422);
    assert!(b["error"]["fields"]["surname"].is_string());

    let (s, b) = body(
        app.post(
            "/api/v1/registrations",
            &json!({"surname": "Ив@нов", "given_name": "", "phone": "+1 202 555 0100", "accept_terms": false}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422);
    let fields = b["error"]["fields"].as_object().unwrap();
    for f in ["surname", "given_name", "phone", "accept_terms"] {
        assert!(fields.contains_key(f), "{f} in {b}");
    }
    assert_eq!(fields["given_name"], "Заполните это поле");

    let (s, b) = body(
        app.post(
            "/api/v1/registrations/not-an-id/confirm",
            &json!({"code": "123456"}),
        )
        .await,
    )
    .await;
    assert_eq!((s, error_code(&b)), (404, "registration_not_found"));
    let (s, b) = body(
        app.post(
            &format!("/api/v1/registrations/{}/resend", uuid::Uuid::new_v4()),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((s, error_code(&b)), (404, "registration_not_found"));
    let (s, b) = body(
        app.client
            .get(app.url("/api/v1/nothing-here"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, error_code(&b)), (404, "not_found"));
    let (s, b) = body(app.client.get(app.url("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!((s, error_code(&b)), (401, "unauthorized"));
}

#[tokio::test]
async fn messages_follow_the_request_language() {
    let app = spawn_app().await;
    let r = app
        .post_with(
            "/api/v1/registrations",
            &json!({"surname": "Ivanov", "given_name": "", "phone": "123", "accept_terms": true}),
            &[("accept-language", "en-US,en;q=0.9")],
        )
        .await;
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["fields"]["given_name"], "Fill in this field");
    assert_eq!(b["error"]["message"], "Check the fields");
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = spawn_app().await;
    let spec: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/v1/registrations",
        "/api/v1/registrations/{id}/confirm",
        "/api/v1/registrations/{id}/resend",
        "/api/v1/registrations/{id}/password",
        "/api/v1/sessions",
        "/api/v1/sessions/current",
        "/api/v1/me",
        "/api/v1/me/personal-data",
        "/api/v1/me/personal-data/submit",
        "/api/v1/me/verification",
        "/api/v1/me/addresses",
        "/api/v1/service-centers",
        "/api/v1/me/identity/letter",
        "/api/v1/me/identity/letter/code",
        "/api/v1/me/password",
        "/api/v1/recovery",
        "/api/v1/recovery/{id}/confirm",
        "/api/v1/recovery/{id}/password",
        "/api/v1/me/sessions",
        "/api/v1/me/sessions/{id}",
        "/api/v1/me/security-events",
        "/api/v1/sessions/second-factor",
        "/api/v1/sessions/second-factor/resend",
        "/api/v1/me/second-factor",
        "/api/v1/me/second-factor/{id}/confirm",
        "/api/v1/me/second-factor/code",
        "/api/v1/me/second-factor/disable",
        "/api/v1/me/second-factor/backup-codes",
        "/api/v1/me/contacts",
        "/api/v1/me/contacts/{id}/confirm",
        "/api/v1/me/contacts/{id}/resend",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
}
