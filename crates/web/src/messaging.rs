//! Message transports: the local outbox of the embedded default, SMTP for
//! e-mail, and an HTTP SMS gateway.
use std::path::PathBuf;
use std::sync::Arc;
use uslugi_domain::{Channel, Token};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use uslugi_app::Clock;
use uslugi_app::ports::{DeliveryError, Message, Messenger};

/// One message as the outbox keeps it and `/dev/outbox.json` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: String,
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
}

/// The embedded default's stand-in for SMS and e-mail: every message is
/// appended to `outbox.jsonl` in the data directory and printed to the
/// console, where a developer or a demo reads it "as from a phone".
pub struct LocalOutbox {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    echo: bool,
    lock: Mutex<()>,
}

impl LocalOutbox {
    pub fn new(path: PathBuf, clock: Arc<dyn Clock>, echo: bool) -> Self {
        Self {
            path,
            clock,
            echo,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// All messages, newest first.
    pub async fn list(&self) -> std::io::Result<Vec<OutboxEntry>> {
        read_outbox(&self.path).await
    }
}

pub async fn read_outbox(path: &std::path::Path) -> std::io::Result<Vec<OutboxEntry>> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries: Vec<OutboxEntry> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    entries.reverse();
    Ok(entries)
}

impl LocalOutbox {
    /// Appends one entry; the caller holds the lock.
    async fn write_line(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let fail = |e: std::io::Error| DeliveryError {
            reason: format!("outbox: {e}"),
        };
        let mut line = serde_json::to_string(entry).map_err(|e| DeliveryError {
            reason: e.to_string(),
        })?;
        line.push('\n');
        let mut options = tokio::fs::OpenOptions::new();
        options.create(true).append(true);
        // Codes and temporary passwords: readable by the operator alone.
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&self.path).await.map_err(fail)?;
        file.write_all(line.as_bytes()).await.map_err(fail)?;
        file.flush().await.map_err(fail)
    }

    async fn append(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let _guard = self.lock.lock().await;
        self.write_line(entry).await
    }

    async fn holds(&self, id: &str) -> bool {
        let Ok(text) = tokio::fs::read_to_string(&self.path).await else {
            return false;
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<OutboxEntry>(l).ok())
            .any(|e| e.id == id)
    }
}

#[async_trait]
impl Messenger for LocalOutbox {
    async fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        let entry = OutboxEntry {
            id: m
                .idempotency_key
                .clone()
                .unwrap_or_else(|| uslugi_app::crypto::random_token()[..16].to_owned()),
            channel: m.channel.as_str().to_owned(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            created_at: self.clock.now().format(&Rfc3339).unwrap_or_default(),
        };
        let _guard = self.lock.lock().await;
        // A message handed over again after a crash carries the same key:
        // the phone already has it.
        if m.idempotency_key.is_some() && self.holds(&entry.id).await {
            return Ok(());
        }
        self.write_line(&entry).await?;
        if self.echo {
            // The console is the developer's phone here; this is the dev
            // outbox by design, never the application log.
            println!(
                "[outbox] {} to {}: {} {}",
                entry.channel, entry.to, entry.subject, entry.body
            );
        }
        Ok(())
    }
}

/// Sends each channel through its own transport.
pub struct Router {
    pub sms: Arc<dyn Messenger>,
    pub email: Arc<dyn Messenger>,
}

#[async_trait]
impl Messenger for Router {
    async fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        match m.channel {
            Channel::Sms => self.sms.deliver(m).await,
            Channel::Email => self.email.deliver(m).await,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// TLS from the first byte (port 465).
    Wrapper,
    /// STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// No encryption: only for a relay on the same host.
    None,
}

/// Every field may be left out in the file, so that start-up can name all
/// that production misses at once rather than the first.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        use lettre::AsyncSmtpTransport;
        use lettre::transport::smtp::authentication::Credentials;
        let builder = match s.tls {
            SmtpTls::Wrapper => AsyncSmtpTransport::<lettre::Tokio1Executor>::relay(&s.host)
                .map_err(|e| e.to_string())?,
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<lettre::Tokio1Executor>::starttls_relay(&s.host)
                    .map_err(|e| e.to_string())?
            }
            SmtpTls::None => {
                AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&s.host)
            }
        };
        let mut builder = builder.timeout(Some(std::time::Duration::from_secs(20)));
        if let Some(port) = s.port {
            builder = builder.port(port);
        }
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: s.from.parse().map_err(|e| format!("smtp.from: {e}"))?,
        })
    }
}

#[async_trait]
impl Messenger for SmtpMailer {
    async fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        use lettre::AsyncTransport;
        let to = m.to.parse().map_err(|e| DeliveryError {
            reason: format!("address: {e}"),
        })?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            // Mail systems drop a second copy with the same Message-ID.
            .message_id(m.idempotency_key.as_ref().map(|k| format!("<{k}@uslugi>")))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| DeliveryError {
                reason: e.to_string(),
            })?;
        self.transport
            .send(email)
            .await
            .map_err(|e| DeliveryError {
                reason: smtp_failure(&e),
            })?;
        Ok(())
    }
}

/// Describes an SMTP failure without the server's text, which often quotes
/// the recipient's address: addresses must not reach the log.
fn smtp_failure(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_permanent() {
        "permanent rejection"
    } else if e.is_transient() {
        "transient rejection"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "TLS failure"
    } else {
        "connection or protocol failure"
    };
    match e.status() {
        Some(code) => format!("smtp: {kind} (reply {code})"),
        None => format!("smtp: {kind}"),
    }
}

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

/// The simulated post leaves each letter here too (channel `post`, `to` the
/// address, the tracking number and the code in the body), so a developer
/// reads it like an SMS.
#[async_trait]
impl uslugi_app::post::LetterCopy for LocalOutbox {
    async fn copy(
        &self,
        tracking: &uslugi_domain::TrackingNumber,
        letter: &uslugi_app::post::PostLetter,
    ) {
        let entry = OutboxEntry {
            id: uslugi_app::crypto::random_token()[..16].to_owned(),
            channel: "post".into(),
            to: format!("{}, {}", letter.address_lines.join(", "), letter.recipient),
            subject: format!("Заказное письмо {tracking}"),
            body: format!("ШПИ {tracking}\n{}", letter.body),
            created_at: self.clock.now().format(&Rfc3339).unwrap_or_default(),
        };
        if let Err(e) = self.append(&entry).await {
            tracing::warn!(reason = %e.reason, "the local outbox could not keep a copy of a letter");
        }
    }
}
