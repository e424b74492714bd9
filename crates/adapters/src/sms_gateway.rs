//! SMS through an HTTP gateway (an aggregator's API): one POST per message.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uslugi_app::ports::{DeliveryError, Message, Messenger};

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct SmsGatewaySettings {
    /// Where to POST each message.
    pub url: String,
    /// Sent as the `Authorization` header, e.g. `Bearer …`.
    pub auth_header: Option<String>,
    /// The request body; `{to}`, `{text}` and `{id}` are replaced with the
    /// number, the text and the message's id, escaped for the content type.
    /// Default: `{"to":"{to}","text":"{text}"}` for JSON,
    /// `to={to}&text={text}` for a form.
    pub body_template: Option<String>,
    /// `json` (default) or `form` (`application/x-www-form-urlencoded`).
    pub content_type: SmsContentType,
    /// Where, in a JSON answer, the gateway says whether it took the
    /// message (RFC 6901, e.g. `/status`): a 200 whose answer says
    /// otherwise is a failure, and the message is tried again.
    pub success_json_pointer: Option<String>,
    /// What must stand there (compared as text: `ok`, `0`, `true`).
    pub success_value: Option<String>,
    /// A PEM file of the certificate authority the gateway's certificate is
    /// checked against, besides the built-in ones.
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsContentType {
    #[default]
    Json,
    Form,
}

/// A [`Messenger`] for SMS that posts each message to the gateway.
pub struct HttpSmsGateway {
    client: reqwest::Client,
    settings: SmsGatewaySettings,
}

impl HttpSmsGateway {
    pub fn new(settings: SmsGatewaySettings) -> Result<Self, String> {
        let mut client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(15));
        if let Some(path) = &settings.ca_file {
            let pem =
                std::fs::read(path).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            let ca = reqwest::Certificate::from_pem(&pem)
                .map_err(|_| format!("ca_file {}: not a PEM certificate", path.display()))?;
            client = client.add_root_certificate(ca);
        }
        if settings.success_json_pointer.is_some() != settings.success_value.is_some() {
            return Err("success_json_pointer and success_value go together".into());
        }
        if let Some(p) = &settings.success_json_pointer
            && !(p.is_empty() || p.starts_with('/'))
        {
            return Err(format!("success_json_pointer «{p}» is not like /status"));
        }
        let client = client.build().map_err(|e| e.to_string())?;
        Ok(Self { client, settings })
    }

    pub fn body_for(&self, m: &Message) -> String {
        let (default, escape): (&str, fn(&str) -> String) = match self.settings.content_type {
            SmsContentType::Json => (r#"{"to":"{to}","text":"{text}"}"#, |s| {
                let quoted = serde_json::to_string(s).unwrap_or_default();
                quoted[1..quoted.len() - 1].to_owned()
            }),
            SmsContentType::Form => ("to={to}&text={text}", |s| {
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
            }),
        };
        self.settings
            .body_template
            .as_deref()
            .unwrap_or(default)
            .replace("{to}", &escape(&m.to))
            .replace("{text}", &escape(&m.body))
            .replace("{id}", &escape(m.idempotency_key.as_deref().unwrap_or("")))
    }

    /// Whether a 2xx answer says the message was taken. Only the verdict
    /// leaves here: the answer's body never reaches the log (it can echo
    /// the number and the text).
    fn accepted(&self, body: &[u8]) -> bool {
        let (Some(pointer), Some(expected)) = (
            &self.settings.success_json_pointer,
            &self.settings.success_value,
        ) else {
            return true;
        };
        let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
            return false;
        };
        match answer.pointer(pointer) {
            Some(serde_json::Value::String(s)) => s == expected,
            Some(serde_json::Value::Number(n)) => expected.parse().ok().as_ref() == Some(n),
            Some(serde_json::Value::Bool(b)) => expected.parse().ok() == Some(*b),
            _ => false,
        }
    }
}

#[async_trait]
impl Messenger for HttpSmsGateway {
    async fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        let content_type = match self.settings.content_type {
            SmsContentType::Json => "application/json",
            SmsContentType::Form => "application/x-www-form-urlencoded",
        };
        let mut request = self
            .client
            .post(&self.settings.url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(self.body_for(m));
        if let Some(key) = &m.idempotency_key {
            // Aggregators accept a client message id and send it once.
            request = request.header("Idempotency-Key", key);
        }
        if let Some(auth) = &self.settings.auth_header {
            request = request.header(reqwest::header::AUTHORIZATION, auth);
        }
        let response = request.send().await.map_err(|e| DeliveryError {
            reason: format!("sms gateway: {}", e.without_url()),
        })?;
        if !response.status().is_success() {
            return Err(DeliveryError {
                reason: format!("sms gateway answered {}", response.status()),
            });
        }
        let body = response.bytes().await.map_err(|e| DeliveryError {
            reason: format!("sms gateway: {}", e.without_url()),
        })?;
        if !self.accepted(&body) {
            return Err(DeliveryError {
                reason: "sms gateway answered 200 but did not take the message (its answer is not logged)"
                    .into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uslugi_domain::Channel;

    fn message(body: &str, key: Option<&str>) -> Message {
        Message {
            channel: Channel::Sms,
            to: "+79250000001".into(),
            subject: String::new(),
            body: body.into(),
            idempotency_key: key.map(Into::into),
        }
    }

    fn gateway(body_template: Option<&str>) -> HttpSmsGateway {
        HttpSmsGateway::new(SmsGatewaySettings {
            url: "http://127.0.0.1:9/sms".into(),
            body_template: body_template.map(Into::into),
            ..SmsGatewaySettings::default()
        })
        .unwrap()
    }

    #[test]
    fn the_default_body_is_json_with_the_text_escaped() {
        let body = gateway(None).body_for(&message("Код: \"1\"\nне сообщайте", None));
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"to": "+79250000001", "text": "Код: \"1\"\nне сообщайте"})
        );
    }

    #[test]
    fn a_form_body_is_url_encoded() {
        let gateway = HttpSmsGateway::new(SmsGatewaySettings {
            content_type: SmsContentType::Form,
            ..SmsGatewaySettings::default()
        })
        .unwrap();
        let body = gateway.body_for(&message("Код: 1&2", None));
        assert_eq!(body, "to=%2B79250000001&text=%D0%9A%D0%BE%D0%B4%3A+1%262");
    }

    #[test]
    fn a_200_that_says_no_is_not_taken() {
        let gateway = HttpSmsGateway::new(SmsGatewaySettings {
            success_json_pointer: Some("/result/code".into()),
            success_value: Some("0".into()),
            ..SmsGatewaySettings::default()
        })
        .unwrap();
        assert!(gateway.accepted(br#"{"result":{"code":0}}"#));
        assert!(gateway.accepted(br#"{"result":{"code":"0"}}"#));
        assert!(!gateway.accepted(br#"{"result":{"code":7,"text":"no money"}}"#));
        assert!(!gateway.accepted(br#"{"result":{}}"#));
        assert!(!gateway.accepted(b"<html>ok</html>"));
        assert!(gateway_without_check().accepted(b"anything"));
        for (pointer, value) in [
            (Some("/status"), None),
            (None, Some("ok")),
            (Some("status"), Some("ok")),
        ] {
            let refused = HttpSmsGateway::new(SmsGatewaySettings {
                success_json_pointer: pointer.map(Into::into),
                success_value: value.map(Into::into),
                ..SmsGatewaySettings::default()
            });
            assert!(refused.is_err(), "{pointer:?} {value:?}");
        }
    }

    fn gateway_without_check() -> HttpSmsGateway {
        gateway(None)
    }

    #[test]
    fn a_template_gets_the_number_the_text_and_the_id() {
        let gateway = gateway(Some(
            r#"{"phones":["{to}"],"message":"{text}","client_id":"{id}"}"#,
        ));
        let body = gateway.body_for(&message("Код: 123456", Some("outbox-7")));
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"phones": ["+79250000001"], "message": "Код: 123456", "client_id": "outbox-7"})
        );
    }
}
