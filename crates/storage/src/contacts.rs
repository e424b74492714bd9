//! A change of phone or e-mail. The account's contact, its blind index, the
//! completed change, the notice and the audit record are written in one
//! transaction; the unique index on the account's contact decides a race
//! for one value.

use uslugi_app::ports::{ContactChangeRecord, StoreError, StoreResult};
use uslugi_domain::LoginKind;

use crate::rows::{corrupt, count, from_ts, opt_ts, parse_id, parse_uuid};
use crate::secrets::Secret;

pub(crate) const COLUMNS: &str = "id, account_id, kind, lang, new_contact, contact_index, taken, \
    secret_hash, secret_expires_at, attempts, sent_at, sends, completed_at, created_at, \
    expires_at";

/// A change's code or link: spent or dead once the change is completed.
pub(crate) const SECRET: Secret = Secret {
    table: "contact_changes",
    prefix: "secret",
    counts_sends: true,
    live: "completed_at IS NULL",
};

/// A contact's kind: a phone or an e-mail, never a SNILS.
fn parse_kind(s: &str) -> StoreResult<LoginKind> {
    match uslugi_domain::Token::parse(s) {
        Some(k @ (LoginKind::Phone | LoginKind::Email)) => Ok(k),
        _ => Err(corrupt("contact kind")),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactChangeRow {
    id: String,
    account_id: String,
    kind: String,
    lang: String,
    new_contact: Vec<u8>,
    contact_index: Vec<u8>,
    taken: bool,
    secret_hash: Vec<u8>,
    secret_expires_at: i64,
    attempts: i64,
    sent_at: i64,
    sends: i64,
    completed_at: Option<i64>,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<ContactChangeRow> for ContactChangeRecord {
    type Error = StoreError;

    fn try_from(r: ContactChangeRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_uuid(&r.id)?,
            account_id: parse_id(&r.account_id)?,
            kind: parse_kind(&r.kind)?,
            lang: r.lang,
            new_contact: r.new_contact,
            contact_index: r.contact_index,
            taken: r.taken,
            secret_hash: r.secret_hash,
            secret_expires_at: from_ts(r.secret_expires_at)?,
            attempts: count(r.attempts),
            sent_at: from_ts(r.sent_at)?,
            sends: count(r.sends),
            completed_at: opt_ts(r.completed_at)?,
            created_at: from_ts(r.created_at)?,
            expires_at: from_ts(r.expires_at)?,
        })
    }
}

macro_rules! contacts_sql {
    ($store:ident, $db:ty) => {
        mod contacts {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{ContactChangeCompletion, ContactChangeRecord, ContactChangeStore, OutboxRecord, StoreError, StoreResult};
            use uslugi_domain::{LoginKind, Token};

            use super::$store;
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::contacts::{COLUMNS, ContactChangeRow, SECRET};
            use $crate::rows::ts;

            #[async_trait]
            impl ContactChangeStore for $store {
                async fn start_contact_change(
                    &self,
                    c: &ContactChangeRecord,
                    message: &OutboxRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    // One live change per account and kind: the last code or
                    // link dies with the new request.
                    sqlx::query(
                        "DELETE FROM contact_changes WHERE account_id = $1 AND kind = $2 \
                         AND completed_at IS NULL",
                    )
                    .bind(c.account_id.to_string())
                    .bind(c.kind.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO contact_changes (id, account_id, kind, lang, new_contact, \
                         contact_index, taken, secret_hash, secret_expires_at, attempts, sent_at, \
                         sends, completed_at, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(c.id.to_string())
                    .bind(c.account_id.to_string())
                    .bind(c.kind.as_str())
                    .bind(&c.lang)
                    .bind(&c.new_contact)
                    .bind(&c.contact_index)
                    .bind(c.taken)
                    .bind(&c.secret_hash)
                    .bind(ts(c.secret_expires_at))
                    .bind(i64::from(c.attempts))
                    .bind(ts(c.sent_at))
                    .bind(i64::from(c.sends))
                    .bind(c.completed_at.map(ts))
                    .bind(ts(c.created_at))
                    .bind(ts(c.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    insert_outbox(&mut tx, message).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn contact_change(
                    &self,
                    id: uuid::Uuid,
                ) -> StoreResult<Option<ContactChangeRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM contact_changes WHERE id = $1");
                    self.read_one(sqlx::query_as::<_, ContactChangeRow>(&sql).bind(id.to_string()))
                        .await
                }

                async fn contact_change_by_secret(
                    &self,
                    secret_hash: &[u8],
                ) -> StoreResult<Option<ContactChangeRecord>> {
                    let sql =
                        format!("SELECT {COLUMNS} FROM contact_changes WHERE secret_hash = $1");
                    self.read_one(sqlx::query_as::<_, ContactChangeRow>(&sql).bind(secret_hash))
                        .await
                }

                async fn take_contact_change_attempt(
                    &self,
                    id: uuid::Uuid,
                    max: u32,
                ) -> StoreResult<Option<u32>> {
                    self.take_attempt(&SECRET, id.to_string(), max).await
                }

                async fn replace_contact_change_secret(
                    &self,
                    id: uuid::Uuid,
                    previous_sent_at: OffsetDateTime,
                    secret_hash: &[u8],
                    secret_expires_at: OffsetDateTime,
                    message: &OutboxRecord,
                ) -> StoreResult<bool> {
                    let new = (secret_hash, secret_expires_at);
                    self.replace_secret_sent_by(&SECRET, id.to_string(), previous_sent_at, new, message)
                        .await
                }

                async fn complete_contact_change(
                    &self,
                    c: &ContactChangeCompletion,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let completed = sqlx::query(
                        "UPDATE contact_changes SET completed_at = $3 \
                         WHERE id = $1 AND account_id = $2 AND completed_at IS NULL",
                    )
                    .bind(c.change_id.to_string())
                    .bind(c.account_id.to_string())
                    .bind(ts(c.at));
                    if !changed_one(completed, &mut *tx).await? {
                        return Ok(false);
                    }
                    let sql = match c.kind {
                        LoginKind::Phone => {
                            "UPDATE accounts SET phone = $2, phone_index = $3, updated_at = $4 \
                             WHERE id = $1"
                        }
                        LoginKind::Email => {
                            "UPDATE accounts SET email = $2, email_index = $3, updated_at = $4 \
                             WHERE id = $1"
                        }
                        LoginKind::Snils => return Err(StoreError::NotFound),
                    };
                    // A unique violation here ends the transaction unwritten:
                    // dropping `tx` rolls the completed mark back too.
                    let updated = sqlx::query(sql)
                        .bind(c.account_id.to_string())
                        .bind(&c.sealed)
                        .bind(&c.index)
                        .bind(ts(c.at));
                    if !changed_one(updated, &mut *tx).await? {
                        return Err(StoreError::NotFound);
                    }
                    for m in &c.notices {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, &c.audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn delete_expired_contact_changes(
                    &self,
                    now: OffsetDateTime,
                ) -> StoreResult<u64> {
                    self.delete_expired("contact_changes", now).await
                }
            }
        }
    };
}
