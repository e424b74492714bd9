//! Real transports: an HTTP SMS gateway and SMTP, each against a small
//! server of the test's own that speaks the protocol.
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use uslugi_adapters::{SmsGatewaySettings, SmtpSettings, SmtpTls};
use uslugi_app::Clock as _;

use crate::helpers::*;

type Seen = Arc<Mutex<Vec<String>>>;

/// An SMS gateway that records what it is sent.
async fn sms_gateway() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn receive(State(seen): State<Seen>, headers: HeaderMap, body: String) -> &'static str {
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        seen.lock().await.push(format!("{auth}\n{body}"));
        "accepted"
    }
    let app = axum::Router::new()
        .route("/send", axum::routing::post(receive))
        .with_state(seen.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// Just enough SMTP to accept letters: greeting, EHLO, MAIL, RCPT, DATA, QUIT.
async fn smtp_sink() -> (u16, Seen) {
    let seen: Seen = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            store.lock().await.push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, seen)
}

/// The decoded body of a letter's part of this content type.
fn mime_part(mail: &str, content_type: &str) -> String {
    let start = mail
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in {mail}"));
    let part = &mail[start..];
    let (headers, rest) = part.split_once("\n\n").unwrap();
    let body: String = rest
        .lines()
        .take_while(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    if headers.contains("Content-Transfer-Encoding: base64") {
        let encoded: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded).unwrap(),
        )
        .unwrap()
    } else {
        body
    }
}

#[tokio::test]
async fn with_real_transports_messages_leave_by_http_and_smtp_and_there_is_no_dev_outbox() {
    let (sms_url, sms_seen) = sms_gateway().await;
    let (smtp_port, mail_seen) = smtp_sink().await;
    let app = spawn_with(|s| {
        s.sms_gateway = Some(SmsGatewaySettings {
            url: sms_url,
            auth_header: Some("Bearer gateway-key".into()),
            ..SmsGatewaySettings::default()
        });
        s.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port: Some(smtp_port),
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "uslugi <noreply@uslugi.test>".into(),
        });
    })
    .await;
    assert_eq!(
        app.client
            .get(app.url("/dev/outbox.json"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.client
            .get(app.url("/dev/outbox"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    app.start_phone("+79261112233").await;
    let sms = sms_seen.lock().await.clone();
    assert_eq!(sms.len(), 1);
    let (auth, body) = sms[0].split_once('\n').unwrap();
    assert_eq!(auth, "Bearer gateway-key");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["to"], "+79261112233");
    assert_eq!(six_digit_numbers(body["text"].as_str().unwrap()).len(), 1);

    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Лебедев", "given_name": "Глеб", "email": "gleb@example.ru", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let mail = mail_seen.lock().await.clone();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: gleb@example.ru"), "{}", mail[0]);
    assert!(mail[0].contains("multipart/alternative"), "{}", mail[0]);
    assert!(!mail[0].contains("List-Unsubscribe"), "transactional mail");
    let text = mime_part(&mail[0], "text/plain");
    let link = format!("{}/register/confirm-email?token=", app.base);
    assert!(text.contains(&link), "{text}");
    assert!(text.starts_with("Здравствуйте, Глеб!"));
    let html = mime_part(&mail[0], "text/html");
    assert!(html.contains(&format!("<a href=\"{link}")), "{html}");
    assert!(html.contains("<p>Здравствуйте, Глеб!</p>"), "{html}");
}

#[tokio::test]
async fn an_unreachable_gateway_is_a_clear_503_and_nothing_is_left_half_done() {
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", dead.local_addr().unwrap());
    drop(dead);
    let app = spawn_with(|s| {
        s.sms_gateway = Some(SmsGatewaySettings {
            url,
            ..SmsGatewaySettings::default()
        });
        s.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port: Some(9),
            tls: SmtpTls::None,
            from: "noreply@uslugi.test".into(),
            ..SmtpSettings::default()
        });
    })
    .await;
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79261112234", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        app.store
            .delete_expired_registrations(app.clock.now() + time::Duration::days(30))
            .await
            .unwrap(),
        0
    );
}

/// A gateway that answers 200 but says in its body that it did not take
/// the message (out of credit, say): that is a failure, not a delivery. The
/// registration answers 503 and leaves nothing behind, and what the
/// gateway said is not written to the log.
#[tokio::test]
async fn a_gateway_that_answers_200_but_refuses_in_its_body_has_not_delivered() {
    async fn refuse(body: String) -> axum::Json<Value> {
        assert!(body.starts_with("to=%2B7926"), "a form: {body}");
        axum::Json(json!({"result": {"code": 7, "text": "balance exhausted for +79261112235"}}))
    }
    let app = axum::Router::new().route("/send", axum::routing::post(refuse));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let app = spawn_with(|s| {
        s.sms_gateway = Some(SmsGatewaySettings {
            url,
            content_type: uslugi_adapters::SmsContentType::Form,
            success_json_pointer: Some("/result/code".into()),
            success_value: Some("0".into()),
            ..SmsGatewaySettings::default()
        });
        s.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port: Some(9),
            tls: SmtpTls::None,
            from: "noreply@uslugi.test".into(),
            ..SmtpSettings::default()
        });
    })
    .await;
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Иванов", "given_name": "Иван", "phone": "+79261112235", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        app.store
            .delete_expired_registrations(app.clock.now() + time::Duration::days(30))
            .await
            .unwrap(),
        0,
        "nothing left half done"
    );
}

/// The SMS that told of the checks' result went out through the outbox; a
/// day after delivery the database no longer holds its text.
#[tokio::test]
async fn a_delivered_message_loses_its_text_after_a_day() {
    let app = spawn_app().await;
    app.standard_citizen("+79261700090", &ivanov()).await;
    let told = app.messages_to("+79261700090").await;
    assert!(
        told.iter().any(|m| m.body.contains("стандартн")),
        "the result was told: {told:?}"
    );
    let column = uslugi_storage::SEALED_COLUMNS
        .iter()
        .find(|c| c.table == "outbox" && c.column == "body")
        .unwrap();
    let held = app
        .store
        .sealed_values(column, "", 100)
        .await
        .unwrap()
        .len();
    assert!(held > 0, "delivered, still held for a day");
    app.advance(time::Duration::hours(23));
    assert_eq!(app.verification.wipe_delivered_messages().await.unwrap(), 0);
    app.advance(time::Duration::hours(1) + time::Duration::minutes(1));
    assert_eq!(
        app.verification.wipe_delivered_messages().await.unwrap(),
        u64::try_from(held).unwrap()
    );
    assert!(
        app.store
            .sealed_values(column, "", 100)
            .await
            .unwrap()
            .is_empty()
    );
}
