//! E-mail over SMTP.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uslugi_app::ports::{DeliveryError, Message, Messenger};

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

/// A [`Messenger`] for e-mail that hands each message to an SMTP relay.
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
            // Transactional mail: no List-Unsubscribe (nothing to leave);
            // DKIM is the relay's (docs/operations.md).
            .multipart(lettre::message::MultiPart::alternative_plain_html(
                m.body.clone(),
                html_of(&m.body),
            ))
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

/// The letter's text as HTML for mail programs that show HTML: paragraphs
/// at blank lines, line breaks kept, links clickable, everything else
/// escaped. The same words as the text part, nothing more.
pub fn html_of(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let line = |l: &str| {
        l.split(' ')
            .map(|word| {
                if word.starts_with("https://") || word.starts_with("http://") {
                    let href = escape(word);
                    format!("<a href=\"{href}\">{href}</a>")
                } else {
                    escape(word)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(line).collect();
            format!("<p>{}</p>", lines.join("<br>\n"))
        })
        .collect();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"></head>\n\
         <body style=\"font-family:Arial,sans-serif;font-size:16px;line-height:1.5\">\n{}\n</body></html>\n",
        paragraphs.join("\n")
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_says_what_the_text_says_with_its_links_clickable() {
        let html = html_of(
            "Здравствуйте, Глеб!\n\nПерейдите по ссылке:\nhttps://uslugi.example/x?token=a&b=1\n\n<b>не</b> сообщайте",
        );
        assert!(html.contains("<p>Здравствуйте, Глеб!</p>"), "{html}");
        assert!(html.contains(
            "Перейдите по ссылке:<br>\n<a href=\"https://uslugi.example/x?token=a&amp;b=1\">https://uslugi.example/x?token=a&amp;b=1</a>"
        ), "{html}");
        assert!(html.contains("&lt;b&gt;не&lt;/b&gt; сообщайте"), "{html}");
        assert!(!html.contains("<b>"));
    }
}
