//! Delivery of the transactional outbox: each message handed to its transport
//! at least once, with its id as the idempotency key.

use time::{Duration, OffsetDateTime};
use uslugi_domain::{AccountId, Channel};

use crate::accounts::InternalError;
use crate::crypto::{Crypto, SealedField};
use crate::jobs::{JobKind, Ran, Schedule};
use crate::ports::{Message, OutboxRecord};

use super::*;

impl Verification {
    /// Hands due messages of the outbox to the transport; returns how
    /// many were delivered.
    pub async fn deliver_outbox(&self) -> Result<usize, InternalError> {
        Ok(self.jobs.run_due(&Deliveries(self)).await?.done)
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

/// The outbox's messages as jobs: each handed to its transport with its id
/// as the idempotency key, tried until it is delivered.
struct Deliveries<'a>(&'a Verification);

#[async_trait::async_trait]
impl JobKind for Deliveries<'_> {
    type Job = OutboxRecord;

    fn name(&self) -> &'static str {
        crate::jobs::kinds::OUTBOX
    }

    fn schedule(&self) -> Schedule {
        self.0.policy.schedule()
    }

    fn id(&self, m: &OutboxRecord) -> uuid::Uuid {
        m.id
    }

    fn attempts(&self, m: &OutboxRecord) -> u32 {
        m.attempts
    }

    async fn lease(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        batch: u32,
    ) -> Result<Vec<OutboxRecord>, InternalError> {
        Ok(self.0.store.lease_outbox(now, until, batch).await?)
    }

    async fn run(&self, m: &OutboxRecord) -> Result<Ran, InternalError> {
        let v = self.0;
        let message = Message {
            channel: m.channel,
            to: v
                .crypto
                .open(SealedField::MessageRecipient, m.id, &m.recipient)?,
            subject: v
                .crypto
                .open(SealedField::MessageSubject, m.id, &m.subject)?,
            body: v.crypto.open(SealedField::MessageBody, m.id, &m.body)?,
            idempotency_key: Some(m.id.to_string()),
        };
        match v.messenger.deliver(&message).await {
            Ok(()) => {
                v.store.mark_outbox_delivered(m.id, v.clock.now()).await?;
                Ok(Ran::Done)
            }
            Err(e) => Ok(Ran::Failed(e.to_string())),
        }
    }

    async fn retry(
        &self,
        m: &OutboxRecord,
        attempts: u32,
        at: OffsetDateTime,
    ) -> Result<(), InternalError> {
        Ok(self.0.store.reschedule_outbox(m.id, attempts, at).await?)
    }
}

/// How long a delivered message keeps its body: long enough to look into a
/// complaint about that day's message.
pub const DELIVERED_BODY_KEPT: Duration = Duration::hours(24);

/// A message for the outbox, sealed, due now. `account` is `None` for
/// someone who has no account (yet): a phone typed at a desk, a contact
/// being registered.
#[expect(clippy::too_many_arguments, reason = "a message is that many things")]
pub(crate) fn outbox_message(
    crypto: &Crypto,
    dedupe_key: String,
    account: Option<AccountId>,
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
        account_id: account,
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
