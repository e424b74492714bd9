//! A registration in progress: the contact, its code or link, and the
//! continuation that lets whoever confirmed it finish. Completing it removes
//! the registration and creates the account in one transaction.

use uslugi_app::ports::{RegistrationRecord, StoreError};

use crate::rows::{continuation, count, from_ts, opt_ts, parse_id, token};
use crate::secrets::Secret;

pub(crate) const COLUMNS: &str = "id, channel, lang, surname, given_name, contact, \
    contact_index, existing_account, secret_hash, secret_expires_at, attempts, sent_at, \
    sends, confirmed_at, continuation_hash, continuation_expires_at, created_at, expires_at";

/// A registration's code or link.
pub(crate) const SECRET: Secret = Secret {
    table: "registrations",
    prefix: "secret",
    counts_sends: true,
    live: "",
};

#[derive(sqlx::FromRow)]
pub(crate) struct RegistrationRow {
    id: String,
    channel: String,
    lang: String,
    surname: Vec<u8>,
    given_name: Vec<u8>,
    contact: Vec<u8>,
    contact_index: Vec<u8>,
    existing_account: bool,
    secret_hash: Vec<u8>,
    secret_expires_at: i64,
    attempts: i64,
    sent_at: i64,
    sends: i64,
    confirmed_at: Option<i64>,
    continuation_hash: Option<Vec<u8>>,
    continuation_expires_at: Option<i64>,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<RegistrationRow> for RegistrationRecord {
    type Error = StoreError;

    fn try_from(r: RegistrationRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&r.id)?,
            channel: token(&r.channel, "channel")?,
            lang: r.lang,
            surname: r.surname,
            given_name: r.given_name,
            contact: r.contact,
            contact_index: r.contact_index,
            existing_account: r.existing_account,
            secret_hash: r.secret_hash,
            secret_expires_at: from_ts(r.secret_expires_at)?,
            attempts: count(r.attempts),
            sent_at: from_ts(r.sent_at)?,
            sends: count(r.sends),
            confirmed_at: opt_ts(r.confirmed_at)?,
            continuation: continuation(r.continuation_hash, r.continuation_expires_at)?,
            created_at: from_ts(r.created_at)?,
            expires_at: from_ts(r.expires_at)?,
        })
    }
}

macro_rules! registration_sql {
    ($store:ident, $db:ty) => {
        mod registration {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{AccountRecord, AuditWrite, OutboxRecord, RegistrationRecord, RegistrationStore, StoreError, StoreResult};
            use uslugi_domain::{RegistrationId, Token};

            use super::$store;
            use super::accounts::insert_account;
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::registration::{COLUMNS, RegistrationRow, SECRET};
            use $crate::rows::ts;
            use $crate::secrets::NewSecret;

            #[async_trait]
            impl RegistrationStore for $store {
                async fn insert_registration(&self, r: &RegistrationRecord, message: &OutboxRecord) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO registrations (id, channel, lang, surname, given_name, contact, \
                         contact_index, existing_account, secret_hash, secret_expires_at, attempts, \
                         sent_at, sends, confirmed_at, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    )
                    .bind(r.id.to_string())
                    .bind(r.channel.as_str())
                    .bind(&r.lang)
                    .bind(&r.surname)
                    .bind(&r.given_name)
                    .bind(&r.contact)
                    .bind(&r.contact_index)
                    .bind(r.existing_account)
                    .bind(&r.secret_hash)
                    .bind(ts(r.secret_expires_at))
                    .bind(i64::from(r.attempts))
                    .bind(ts(r.sent_at))
                    .bind(i64::from(r.sends))
                    .bind(r.confirmed_at.map(ts))
                    .bind(ts(r.created_at))
                    .bind(ts(r.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    insert_outbox(&mut tx, message).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn registration(&self, id: RegistrationId) -> StoreResult<Option<RegistrationRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM registrations WHERE id = $1");
                    self.read_one(sqlx::query_as::<_, RegistrationRow>(&sql).bind(id.to_string()))
                        .await
                }

                async fn registration_by_secret(&self, secret_hash: &[u8]) -> StoreResult<Option<RegistrationRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM registrations WHERE secret_hash = $1");
                    self.read_one(sqlx::query_as::<_, RegistrationRow>(&sql).bind(secret_hash))
                        .await
                }

                async fn take_code_attempt(&self, id: RegistrationId, max: u32) -> StoreResult<Option<u32>> {
                    self.take_attempt(&SECRET, id.to_string(), max).await
                }

                async fn mark_registration_confirmed(
                    &self,
                    id: RegistrationId,
                    at: OffsetDateTime,
                    continuation: &uslugi_app::ports::ContinuationRecord,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE registrations SET confirmed_at = COALESCE(confirmed_at, $1), \
                         continuation_hash = $3, continuation_expires_at = $4 WHERE id = $2",
                    )
                    .bind(ts(at))
                    .bind(id.to_string())
                    .bind(&continuation.hash)
                    .bind(ts(continuation.expires_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn replace_registration_secret(
                    &self,
                    id: RegistrationId,
                    previous_sent_at: OffsetDateTime,
                    secret_hash: &[u8],
                    secret_expires_at: OffsetDateTime,
                    sent_at: OffsetDateTime,
                    message: &OutboxRecord,
                ) -> StoreResult<bool> {
                    let new = NewSecret {
                        hash: secret_hash,
                        expires_at: secret_expires_at,
                        sent_at,
                    };
                    self.replace_secret(&SECRET, id.to_string(), previous_sent_at, new, message)
                        .await
                }

                async fn complete_registration(
                    &self,
                    id: RegistrationId,
                    continuation_hash: &[u8],
                    now: OffsetDateTime,
                    a: &AccountRecord,
                    audit: &AuditWrite,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let removed = sqlx::query(
                        "DELETE FROM registrations WHERE id = $1 AND confirmed_at IS NOT NULL \
                         AND continuation_hash = $2 AND continuation_expires_at > $3",
                    )
                    .bind(id.to_string())
                    .bind(continuation_hash)
                    .bind(ts(now));
                    if !changed_one(removed, &mut *tx).await? {
                        return Err(StoreError::NotFound);
                    }
                    insert_account(&mut tx, a).await?;
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn abandon_registration(&self, id: RegistrationId, message: uuid::Uuid) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    sqlx::query("DELETE FROM registrations WHERE id = $1")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    sqlx::query("DELETE FROM outbox WHERE id = $1 AND delivered_at IS NULL")
                        .bind(message.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    tx.commit().await.map_err(backend)
                }

                async fn delete_expired_registrations(&self, now: OffsetDateTime) -> StoreResult<u64> {
                    self.delete_expired("registrations", now).await
                }
            }
        }
    };
}
