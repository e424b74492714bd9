//! Access recovery: a code or link to a contact of the account, the
//! continuation that lets whoever confirmed it set a new password, and the
//! completion that ends whatever else was started on the account.

use uslugi_app::ports::{RecoveryRecord, StoreError};

use crate::rows::{continuation, count, from_ts, opt_id, opt_ts, parse_uuid, token};
use crate::secrets::Secret;

pub(crate) const COLUMNS: &str = "id, account_id, login_kind, channel, lang, secret_hash, \
    secret_expires_at, attempts, confirmed_at, completed_at, continuation_hash, \
    continuation_expires_at, created_at, expires_at, sent_at, sends, quota_key";

/// A recovery's code or link: tried and resent until it is completed (a
/// confirmed one may be confirmed again, by a double press).
pub(crate) const SECRET: Secret = Secret {
    table: "recoveries",
    prefix: "secret",
    counts_sends: true,
    live: "completed_at IS NULL",
};

#[derive(sqlx::FromRow)]
pub(crate) struct RecoveryRow {
    id: String,
    account_id: Option<String>,
    login_kind: String,
    channel: String,
    lang: String,
    secret_hash: Vec<u8>,
    secret_expires_at: i64,
    attempts: i64,
    confirmed_at: Option<i64>,
    completed_at: Option<i64>,
    continuation_hash: Option<Vec<u8>>,
    continuation_expires_at: Option<i64>,
    created_at: i64,
    expires_at: i64,
    sent_at: i64,
    sends: i64,
    quota_key: Option<Vec<u8>>,
}

impl TryFrom<RecoveryRow> for RecoveryRecord {
    type Error = StoreError;

    fn try_from(r: RecoveryRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_uuid(&r.id)?,
            account_id: opt_id(r.account_id)?,
            login_kind: token(&r.login_kind, "login kind")?,
            channel: token(&r.channel, "channel")?,
            lang: r.lang,
            secret_hash: r.secret_hash,
            secret_expires_at: from_ts(r.secret_expires_at)?,
            attempts: count(r.attempts),
            confirmed_at: opt_ts(r.confirmed_at)?,
            completed_at: opt_ts(r.completed_at)?,
            continuation: continuation(r.continuation_hash, r.continuation_expires_at)?,
            created_at: from_ts(r.created_at)?,
            expires_at: from_ts(r.expires_at)?,
            sent_at: from_ts(r.sent_at)?,
            sends: count(r.sends),
            quota_key: r.quota_key,
        })
    }
}

macro_rules! recovery_sql {
    ($store:ident, $db:ty) => {
        mod recovery {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{OutboxRecord, RecoveryCompletion, RecoveryRecord, RecoveryStore, StoreResult};
            use uslugi_domain::{AccountId, Token};

            use super::$store;
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::recovery::{COLUMNS, RecoveryRow, SECRET};
            use $crate::rows::ts;

            #[async_trait]
            impl RecoveryStore for $store {
                async fn start_recovery(
                    &self,
                    r: &RecoveryRecord,
                    message: &OutboxRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO recoveries (id, account_id, login_kind, channel, lang, \
                         secret_hash, secret_expires_at, attempts, confirmed_at, completed_at, \
                         created_at, expires_at, sent_at, sends, quota_key) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(r.id.to_string())
                    .bind(r.account_id.map(|a| a.to_string()))
                    .bind(r.login_kind.as_str())
                    .bind(r.channel.as_str())
                    .bind(&r.lang)
                    .bind(&r.secret_hash)
                    .bind(ts(r.secret_expires_at))
                    .bind(i64::from(r.attempts))
                    .bind(r.confirmed_at.map(ts))
                    .bind(r.completed_at.map(ts))
                    .bind(ts(r.created_at))
                    .bind(ts(r.expires_at))
                    .bind(ts(r.sent_at))
                    .bind(i64::from(r.sends))
                    .bind(r.quota_key.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    insert_outbox(&mut tx, message).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn recovery(&self, id: uuid::Uuid) -> StoreResult<Option<RecoveryRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM recoveries WHERE id = $1");
                    self.read_one(sqlx::query_as::<_, RecoveryRow>(&sql).bind(id.to_string()))
                        .await
                }

                async fn recovery_by_secret(
                    &self,
                    secret_hash: &[u8],
                ) -> StoreResult<Option<RecoveryRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM recoveries WHERE secret_hash = $1");
                    self.read_one(sqlx::query_as::<_, RecoveryRow>(&sql).bind(secret_hash))
                        .await
                }

                async fn take_recovery_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>> {
                    self.take_attempt(&SECRET, id.to_string(), max).await
                }

                async fn replace_recovery_secret(
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

                async fn give_back_recovery_attempt(&self, id: uuid::Uuid) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE recoveries SET attempts = attempts - 1 WHERE id = $1 AND attempts > 0",
                    )
                    .bind(id.to_string())
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn mark_recovery_confirmed(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                    continuation: &uslugi_app::ports::ContinuationRecord,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE recoveries SET confirmed_at = COALESCE(confirmed_at, $2), \
                         continuation_hash = $3, continuation_expires_at = $4 \
                         WHERE id = $1 AND completed_at IS NULL",
                    )
                    .bind(id.to_string())
                    .bind(ts(at))
                    .bind(&continuation.hash)
                    .bind(ts(continuation.expires_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn complete_recovery(&self, c: &RecoveryCompletion) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    // The continuation is spent here: it is cleared with the
                    // completion, so two presses cannot both set a password.
                    let query = sqlx::query(
                        "UPDATE recoveries SET completed_at = $3, continuation_hash = NULL \
                         WHERE id = $1 AND account_id = $2 AND confirmed_at IS NOT NULL \
                         AND completed_at IS NULL AND continuation_hash = $4 \
                         AND continuation_expires_at > $3",
                    )
                    .bind(c.recovery_id.to_string())
                    .bind(c.account_id.to_string())
                    .bind(ts(c.at))
                    .bind(&c.continuation_hash);
                    if !changed_one(query, &mut *tx).await? {
                        return Ok(false);
                    }
                    sqlx::query(
                        "UPDATE accounts SET password_hash = $2, must_change_password = $3, \
                         password_expires_at = NULL, failed_logins = 0, throttled_until = NULL, \
                         locked = $3, updated_at = $4 WHERE id = $1",
                    )
                    .bind(c.account_id.to_string())
                    .bind(&c.password_hash)
                    .bind(false)
                    .bind(ts(c.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    // Whatever someone else may have started on the account
                    // ends with the owner's recovery: sessions, other
                    // recoveries, contact changes not yet confirmed.
                    for statement in [
                        "DELETE FROM sessions WHERE account_id = $1",
                        "DELETE FROM recoveries WHERE account_id = $1 AND id <> $2",
                        "DELETE FROM contact_changes WHERE account_id = $1 AND completed_at IS NULL \
                         AND id <> $2",
                    ] {
                        sqlx::query(statement)
                            .bind(c.account_id.to_string())
                            .bind(c.recovery_id.to_string())
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                    }
                    for m in &c.notices {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, &c.audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn pending_requests(
                    &self,
                    account: AccountId,
                    except: uuid::Uuid,
                    now: OffsetDateTime,
                ) -> StoreResult<usize> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT (SELECT COUNT(*) FROM recoveries WHERE account_id = $1 AND id <> $2 \
                         AND completed_at IS NULL AND expires_at > $3) + \
                         (SELECT COUNT(*) FROM contact_changes WHERE account_id = $1 \
                         AND completed_at IS NULL AND expires_at > $3)",
                    )
                    .bind(account.to_string())
                    .bind(except.to_string())
                    .bind(ts(now))
                    .fetch_one(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    Ok(usize::try_from(n).unwrap_or(0))
                }

                async fn delete_expired_recoveries(&self, now: OffsetDateTime) -> StoreResult<u64> {
                    self.delete_expired("recoveries", now).await
                }
            }
        }
    };
}
