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
    /// The request body; `{to}` and `{text}` are replaced with the number
    /// and the text, JSON-escaped. Default: `{"to":"{to}","text":"{text}"}`.
    pub body_template: Option<String>,
}

/// A [`Messenger`] for SMS that posts each message to the gateway.
pub struct HttpSmsGateway {
    client: reqwest::Client,
    settings: SmsGatewaySettings,
}

impl HttpSmsGateway {
    pub fn new(settings: SmsGatewaySettings) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, settings })
    }

    pub fn body_for(&self, m: &Message) -> String {
        let escape = |s: &str| {
            let quoted = serde_json::to_string(s).unwrap_or_default();
            quoted[1..quoted.len() - 1].to_owned()
        };
        self.settings
            .body_template
            .as_deref()
            .unwrap_or(r#"{"to":"{to}","text":"{text}"}"#)
            .replace("{to}", &escape(&m.to))
            .replace("{text}", &escape(&m.body))
            .replace("{id}", &escape(m.idempotency_key.as_deref().unwrap_or("")))
    }
}

#[async_trait]
impl Messenger for HttpSmsGateway {
    async fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        let mut request = self
            .client
            .post(&self.settings.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
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
            auth_header: None,
            body_template: body_template.map(Into::into),
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
