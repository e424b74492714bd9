//! Delivery of the transactional outbox: each message handed to its transport
//! at least once, with its id as the idempotency key.

use time::{Duration, OffsetDateTime};
use uslugi_domain::{AccountId, Channel};

use crate::crypto::{Crypto, SealedField};
use crate::identity::InternalError;
use crate::ports::{Message, OutboxRecord};

use super::*;

impl Verification {
    /// Hands due messages of the outbox to the transport.
    pub async fn deliver_outbox(&self) -> Result<usize, InternalError> {
        let now = self.clock.now();
        let leased = self
            .store
            .lease_outbox(now, now + self.policy.lease, self.policy.batch)
            .await?;
        let mut delivered = 0;
        for m in leased {
            let message = Message {
                channel: m.channel,
                to: self
                    .crypto
                    .open(SealedField::MessageRecipient, m.id, &m.recipient)?,
                subject: self
                    .crypto
                    .open(SealedField::MessageSubject, m.id, &m.subject)?,
                body: self.crypto.open(SealedField::MessageBody, m.id, &m.body)?,
                idempotency_key: Some(m.id.to_string()),
            };
            match self.messenger.deliver(&message).await {
                Ok(()) => {
                    self.store
                        .mark_outbox_delivered(m.id, self.clock.now())
                        .await?;
                    delivered += 1;
                }
                Err(e) => {
                    let attempts = m.attempts + 1;
                    tracing::warn!(message = %m.id, attempts, error = %e, "outbox delivery failed; will retry");
                    self.store
                        .reschedule_outbox(
                            m.id,
                            attempts,
                            self.clock.now() + self.policy.retry_delay(attempts),
                        )
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    /// Empties the bodies of messages delivered more than
    /// [`DELIVERED_BODY_KEPT`] ago: a copy of a code or a temporary
    /// password kept after it reached the person only serves whoever reads
    /// the database (and the key) later.
    pub async fn wipe_delivered_messages(&self) -> Result<u64, InternalError> {
        Ok(self
            .store
            .wipe_delivered_outbox_bodies(self.clock.now() - DELIVERED_BODY_KEPT)
            .await?)
    }
}

/// How long a delivered message keeps its body: long enough to look into a
/// complaint about that day's message.
pub const DELIVERED_BODY_KEPT: Duration = Duration::hours(24);

/// A message for the outbox, sealed, due now.
#[expect(clippy::too_many_arguments, reason = "a message is that many things")]
pub(crate) fn outbox_message(
    crypto: &Crypto,
    dedupe_key: String,
    account: AccountId,
    channel: Channel,
    to: &str,
    subject: &str,
    body: &str,
    now: OffsetDateTime,
) -> OutboxRecord {
    OutboxRecord {
        account_id: Some(account),
        ..accountless_sms(crypto, dedupe_key, channel, to, subject, body, now)
    }
}

/// A message to someone who has no account yet (a phone typed at a desk).
pub(crate) fn accountless_sms(
    crypto: &Crypto,
    dedupe_key: String,
    channel: Channel,
    to: &str,
    subject: &str,
    body: &str,
    now: OffsetDateTime,
) -> OutboxRecord {
    let id = uuid::Uuid::new_v4();
    OutboxRecord {
        id,
        dedupe_key,
        account_id: None,
        channel,
        recipient: crypto.seal(SealedField::MessageRecipient, id, to),
        subject: crypto.seal(SealedField::MessageSubject, id, subject),
        body: crypto.seal(SealedField::MessageBody, id, body),
        created_at: now,
        next_attempt_at: now,
        attempts: 0,
        leased_until: None,
        delivered_at: None,
    }
}
