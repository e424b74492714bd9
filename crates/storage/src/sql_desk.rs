//! The SQL of a phone confirmed at a service center's desk, shared by both
//! engines like [`sql_store!`]. The record and the SMS with its code are
//! written in one transaction; a try at the code is taken in the statement
//! that counts it.

macro_rules! sql_desk_store {
    ($store:ident, $db:ty) => {
        mod desk_sql {
            use async_trait::async_trait;
            use sqlx::Row as _;
            use time::OffsetDateTime;
            use uslugi_app::ports::{DeskPhoneRecord, DeskPhoneStore, OutboxRecord, StoreResult};

            use super::$store;
            use super::verification_sql::insert_outbox;
            use $crate::backend;
            use $crate::sql::{count, from_ts, opt_ts, parse_id, ts};
            use $crate::sql_verification::parse_uuid;

            type Row = <$db as sqlx::Database>::Row;

            const COLUMNS: &str = "id, operator_id, phone, phone_index, code_hash, \
                code_expires_at, attempts, sent_at, confirmed_at, used_at, expires_at";

            fn desk_phone_from_row(row: &Row) -> StoreResult<DeskPhoneRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(DeskPhoneRecord {
                    id: parse_uuid(&row.try_get::<String, _>("id").map_err(get)?)?,
                    operator_id: parse_id(&row.try_get::<String, _>("operator_id").map_err(get)?)?,
                    phone: row.try_get("phone").map_err(get)?,
                    phone_index: row.try_get("phone_index").map_err(get)?,
                    code_hash: row.try_get("code_hash").map_err(get)?,
                    code_expires_at: from_ts(row.try_get("code_expires_at").map_err(get)?)?,
                    attempts: count(row.try_get("attempts").map_err(get)?),
                    sent_at: from_ts(row.try_get("sent_at").map_err(get)?)?,
                    confirmed_at: opt_ts(row.try_get("confirmed_at").map_err(get)?)?,
                    used_at: opt_ts(row.try_get("used_at").map_err(get)?)?,
                    expires_at: from_ts(row.try_get("expires_at").map_err(get)?)?,
                })
            }

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
                    sqlx::query(&sql)
                        .bind(id.to_string())
                        .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .as_ref()
                        .map(desk_phone_from_row)
                        .transpose()
                }

                async fn take_desk_code_attempt(
                    &self,
                    id: uuid::Uuid,
                    max: u32,
                    now: OffsetDateTime,
                ) -> StoreResult<Option<(u32, Vec<u8>)>> {
                    let row = sqlx::query(
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
                    row.map(|r| -> StoreResult<(u32, Vec<u8>)> {
                        Ok((
                            count(r.try_get("attempts").map_err(backend)?),
                            r.try_get("code_hash").map_err(backend)?,
                        ))
                    })
                    .transpose()
                }

                async fn confirm_desk_phone(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE desk_phones SET confirmed_at = $1 \
                         WHERE id = $2 AND confirmed_at IS NULL",
                    )
                    .bind(ts(at))
                    .bind(id.to_string())
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn replace_desk_code(
                    &self,
                    id: uuid::Uuid,
                    previous_sent_at: OffsetDateTime,
                    code_hash: &[u8],
                    code_expires_at: OffsetDateTime,
                    code: &OutboxRecord,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let done = sqlx::query(
                        "UPDATE desk_phones SET code_hash = $1, code_expires_at = $2, \
                         sent_at = $3, attempts = 0 \
                         WHERE id = $4 AND sent_at = $5 AND confirmed_at IS NULL",
                    )
                    .bind(code_hash)
                    .bind(ts(code_expires_at))
                    .bind(ts(code.created_at))
                    .bind(id.to_string())
                    .bind(ts(previous_sent_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    insert_outbox(&mut tx, code).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn use_desk_phone(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE desk_phones SET used_at = $1 \
                         WHERE id = $2 AND confirmed_at IS NOT NULL AND used_at IS NULL",
                    )
                    .bind(ts(at))
                    .bind(id.to_string())
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_expired_desk_phones(&self, now: OffsetDateTime) -> StoreResult<u64> {
                    let done = sqlx::query("DELETE FROM desk_phones WHERE expires_at <= $1")
                        .bind(ts(now))
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}
