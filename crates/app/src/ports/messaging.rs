//! The transport of an SMS or an e-mail (an adapter behind it: SMTP, an SMS
//! gateway, the development mailbox).
use async_trait::async_trait;
use uslugi_domain::Channel;

/// An SMS or e-mail to deliver.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub channel: Channel,
    /// E.164 phone or e-mail address.
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Set for messages from the outbox, which may be handed over more than
    /// once after a crash: transports pass it on (as the letter's Message-ID,
    /// the SMS gateway's `{id}`) so the person receives the message once.
    pub idempotency_key: Option<String>,
}

impl std::fmt::Debug for Message {
    // Bodies carry codes and links, recipients are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("message delivery failed: {reason}")]
pub struct DeliveryError {
    pub reason: String,
}

#[async_trait]
pub trait Messenger: Send + Sync {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError>;
}
