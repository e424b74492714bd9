//! A phone confirmed at a service center's desk. The record and the SMS
//! with its code are written in one transaction; a try at the code is taken
//! in the statement that counts it.

use uslugi_app::ports::{DeskPhoneRecord, StoreError};

use crate::rows::{count, from_ts, opt_ts, parse_id, parse_uuid};
use crate::secrets::Secret;

pub(crate) const COLUMNS: &str = "id, operator_id, phone, phone_index, code_hash, \
    code_expires_at, attempts, sent_at, confirmed_at, used_at, expires_at";

/// A desk phone's code: dead once the phone is confirmed. Its attempt is
/// taken by its own statement, which also checks the expiry and returns
/// the hash.
pub(crate) const SECRET: Secret = Secret {
    table: "desk_phones",
    prefix: "code",
    counts_sends: false,
    live: "confirmed_at IS NULL",
};

#[derive(sqlx::FromRow)]
pub(crate) struct DeskPhoneRow {
    id: String,
    operator_id: String,
    phone: Vec<u8>,
    phone_index: Vec<u8>,
    code_hash: Vec<u8>,
    code_expires_at: i64,
    attempts: i64,
    sent_at: i64,
    confirmed_at: Option<i64>,
    used_at: Option<i64>,
    expires_at: i64,
}

impl TryFrom<DeskPhoneRow> for DeskPhoneRecord {
    type Error = StoreError;

    fn try_from(r: DeskPhoneRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_uuid(&r.id)?,
            operator_id: parse_id(&r.operator_id)?,
            phone: r.phone,
            phone_index: r.phone_index,
            code_hash: r.code_hash,
            code_expires_at: from_ts(r.code_expires_at)?,
            attempts: count(r.attempts),
            sent_at: from_ts(r.sent_at)?,
            confirmed_at: opt_ts(r.confirmed_at)?,
            used_at: opt_ts(r.used_at)?,
            expires_at: from_ts(r.expires_at)?,
        })
    }
}

macro_rules! desk_sql {
    ($store:ident, $db:ty) => {
        mod desk {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{DeskPhoneRecord, DeskPhoneStore, OutboxRecord, StoreResult};

            use super::$store;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::desk::{COLUMNS, DeskPhoneRow, SECRET};
            use $crate::rows::{count, ts};

            #[async_trait]
            impl DeskPhoneStore for $store {
                async fn start_desk_phone(
                    &self,
                    r: &DeskPhoneRecord,
                    code: &OutboxRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO desk_phones (id, operator_id, phone, phone_index, code_hash, \
                         code_expires_at, attempts, sent_at, confirmed_at, used_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(r.id.to_string())
                    .bind(r.operator_id.to_string())
                    .bind(&r.phone)
                    .bind(&r.phone_index)
                    .bind(&r.code_hash)
                    .bind(ts(r.code_expires_at))
                    .bind(i64::from(r.attempts))
                    .bind(ts(r.sent_at))
                    .bind(r.confirmed_at.map(ts))
                    .bind(r.used_at.map(ts))
                    .bind(ts(r.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    insert_outbox(&mut tx, code).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn desk_phone(&self, id: uuid::Uuid) -> StoreResult<Option<DeskPhoneRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM desk_phones WHERE id = $1");
                    self.read_one(sqlx::query_as::<_, DeskPhoneRow>(&sql).bind(id.to_string()))
                        .await
                }

                async fn take_desk_code_attempt(
                    &self,
                    id: uuid::Uuid,
                    max: u32,
                    now: OffsetDateTime,
                ) -> StoreResult<Option<(u32, Vec<u8>)>> {
                    let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
                        "UPDATE desk_phones SET attempts = attempts + 1 \
                         WHERE id = $1 AND attempts < $2 AND confirmed_at IS NULL \
                         AND code_expires_at > $3 RETURNING attempts, code_hash",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(max))
                    .bind(ts(now))
                    .fetch_optional(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(row.map(|(attempts, code_hash)| (count(attempts), code_hash)))
                }

                async fn confirm_desk_phone(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let query = sqlx::query(
                        "UPDATE desk_phones SET confirmed_at = $1 \
                         WHERE id = $2 AND confirmed_at IS NULL",
                    )
                    .bind(ts(at))
                    .bind(id.to_string());
                    changed_one(query, &self.write).await
                }

                async fn replace_desk_code(
                    &self,
                    id: uuid::Uuid,
                    previous_sent_at: OffsetDateTime,
                    code_hash: &[u8],
                    code_expires_at: OffsetDateTime,
                    code: &OutboxRecord,
                ) -> StoreResult<bool> {
                    let new = (code_hash, code_expires_at);
                    self.replace_secret_sent_by(&SECRET, id.to_string(), previous_sent_at, new, code)
                        .await
                }

                async fn use_desk_phone(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let query = sqlx::query(
                        "UPDATE desk_phones SET used_at = $1 \
                         WHERE id = $2 AND confirmed_at IS NOT NULL AND used_at IS NULL",
                    )
                    .bind(ts(at))
                    .bind(id.to_string());
                    changed_one(query, &self.write).await
                }

                async fn delete_expired_desk_phones(&self, now: OffsetDateTime) -> StoreResult<u64> {
                    self.delete_expired("desk_phones", now).await
                }
            }
        }
    };
}
