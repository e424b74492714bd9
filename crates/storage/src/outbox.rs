//! The transactional outbox: a message is written in the same transaction
//! as the change it tells about, and leased to one worker at a time.
//! Leasing uses one `UPDATE … WHERE id IN (SELECT …)` that re-checks the
//! lease in its outer condition, so two workers (or nodes) never take the
//! same row: on PostgreSQL a row changed by a concurrent lease fails the
//! re-check, and SQLite has a single writer.
//!
//! The port groups the worker's calls with the verification's
//! (`VerificationStore`); their SQL lives here, with its table.

use uslugi_app::ports::{OutboxRecord, StoreError};

use crate::rows::{count, from_ts, opt_id, opt_ts, parse_uuid, token};

pub(crate) const COLUMNS: &str = "id, dedupe_key, account_id, channel, recipient, subject, \
    body, created_at, next_attempt_at, attempts, leased_until, delivered_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: String,
    dedupe_key: String,
    account_id: Option<String>,
    channel: String,
    recipient: Vec<u8>,
    subject: Vec<u8>,
    body: Vec<u8>,
    created_at: i64,
    next_attempt_at: i64,
    attempts: i64,
    leased_until: Option<i64>,
    delivered_at: Option<i64>,
}

impl TryFrom<OutboxRow> for OutboxRecord {
    type Error = StoreError;

    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_uuid(&r.id)?,
            dedupe_key: r.dedupe_key,
            account_id: opt_id(r.account_id)?,
            channel: token(&r.channel, "channel")?,
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            created_at: from_ts(r.created_at)?,
            next_attempt_at: from_ts(r.next_attempt_at)?,
            attempts: count(r.attempts),
            leased_until: opt_ts(r.leased_until)?,
            delivered_at: opt_ts(r.delivered_at)?,
        })
    }
}

macro_rules! outbox_sql {
    ($store:ident, $db:ty) => {
        mod outbox {
            use time::OffsetDateTime;
            use uslugi_app::ports::{OutboxRecord, StoreResult};
            use uslugi_domain::Token;

            use super::$store;
            use $crate::backend;
            use $crate::outbox::{COLUMNS, OutboxRow};
            use $crate::rows::ts;

            pub(crate) async fn insert_outbox(
                tx: &mut sqlx::Transaction<'_, $db>,
                m: &OutboxRecord,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO outbox (id, dedupe_key, account_id, channel, recipient, \
                     subject, body, created_at, next_attempt_at, attempts, leased_until, \
                     delivered_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(m.id.to_string())
                .bind(&m.dedupe_key)
                .bind(m.account_id.map(|a| a.to_string()))
                .bind(m.channel.as_str())
                .bind(&m.recipient)
                .bind(&m.subject)
                .bind(&m.body)
                .bind(ts(m.created_at))
                .bind(ts(m.next_attempt_at))
                .bind(i64::from(m.attempts))
                .bind(m.leased_until.map(ts))
                .bind(m.delivered_at.map(ts))
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
                Ok(())
            }

            impl $store {
                pub(crate) async fn lease_messages(
                    &self,
                    now: OffsetDateTime,
                    lease_until: OffsetDateTime,
                    limit: u32,
                ) -> StoreResult<Vec<OutboxRecord>> {
                    let sql = format!(
                        "UPDATE outbox SET leased_until = $1 \
                         WHERE id IN (SELECT id FROM outbox \
                             WHERE delivered_at IS NULL AND next_attempt_at <= $2 \
                             AND (leased_until IS NULL OR leased_until <= $2) \
                             ORDER BY next_attempt_at LIMIT $3) \
                         AND delivered_at IS NULL \
                         AND (leased_until IS NULL OR leased_until <= $2) \
                         RETURNING {COLUMNS}"
                    );
                    self.write_all(
                        sqlx::query_as::<_, OutboxRow>(&sql)
                            .bind(ts(lease_until))
                            .bind(ts(now))
                            .bind(i64::from(limit)),
                    )
                    .await
                }

                pub(crate) async fn mark_message_delivered(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE outbox SET delivered_at = $2, leased_until = NULL WHERE id = $1",
                    )
                    .bind(id.to_string())
                    .bind(ts(at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                pub(crate) async fn wipe_delivered_bodies(
                    &self,
                    delivered_before: OffsetDateTime,
                ) -> StoreResult<u64> {
                    // An empty value, not NULL: the column stays NOT NULL,
                    // and key rotation passes over empty values.
                    let done = sqlx::query(
                        "UPDATE outbox SET body = $2 \
                         WHERE delivered_at IS NOT NULL AND length(body) > 0 AND delivered_at < $1",
                    )
                    .bind(ts(delivered_before))
                    .bind(Vec::<u8>::new())
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                pub(crate) async fn abandon_message(&self, id: uuid::Uuid) -> StoreResult<()> {
                    sqlx::query("DELETE FROM outbox WHERE id = $1 AND delivered_at IS NULL")
                        .bind(id.to_string())
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                pub(crate) async fn reschedule_message(
                    &self,
                    id: uuid::Uuid,
                    attempts: u32,
                    next_attempt_at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE outbox SET attempts = $2, next_attempt_at = $3, leased_until = NULL \
                         WHERE id = $1 AND delivered_at IS NULL",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(attempts))
                    .bind(ts(next_attempt_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }
            }
        }
    };
}
