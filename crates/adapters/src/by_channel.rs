//! One [`Messenger`] made of one transport per channel.
use std::sync::Arc;

use async_trait::async_trait;
use uslugi_app::ports::{DeliveryError, Message, Messenger};
use uslugi_domain::Channel;

/// Sends each channel through its own transport: SMS through the SMS
/// gateway, e-mail through SMTP.
pub struct ByChannel {
    pub sms: Arc<dyn Messenger>,
    pub email: Arc<dyn Messenger>,
}

#[async_trait]
impl Messenger for ByChannel {
    async fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        match m.channel {
            Channel::Sms => self.sms.deliver(m).await,
            Channel::Email => self.email.deliver(m).await,
        }
    }
}
