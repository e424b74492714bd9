//! A citizen's sessions and the devices they signed in from. A login writes
//! its session, its device, the notice of a new device and the audit record
//! in one transaction.

use time::Duration;
use uslugi_app::ports::{SessionRecord, StoreError};

use crate::rows::{from_ts, parse_id};

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    token_hash: Vec<u8>,
    account_id: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    idle_timeout_s: i64,
    remember: bool,
    must_change_password: bool,
    device_hash: Option<Vec<u8>>,
    user_agent: Option<String>,
    network: Option<String>,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            token_hash: r.token_hash,
            account_id: parse_id(&r.account_id)?,
            created_at: from_ts(r.created_at)?,
            last_seen_at: from_ts(r.last_seen_at)?,
            expires_at: from_ts(r.expires_at)?,
            idle_timeout: Duration::seconds(r.idle_timeout_s),
            remember: r.remember,
            must_change_password: r.must_change_password,
            device_hash: r.device_hash,
            user_agent: r.user_agent,
            network: r.network,
        })
    }
}

macro_rules! sessions_sql {
    ($store:ident, $db:ty) => {
        mod sessions {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{SessionRecord, SessionStore, StoreResult};
            use uslugi_domain::AccountId;

            use super::$store;
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::rows::ts;
            use $crate::sessions::SessionRow;

            /// Inserts a session inside the caller's transaction, unless an
            /// administrator disabled the account (checked by the insert
            /// itself, so a login that began before the account was
            /// disabled opens nothing): then `NotFound`.
            async fn insert_session_row(
                tx: &mut sqlx::Transaction<'_, $db>,
                s: &SessionRecord,
            ) -> StoreResult<()> {
                let inserted = sqlx::query(
                    "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, \
                     expires_at, idle_timeout_s, remember, must_change_password, device_hash, \
                     user_agent, network) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
                     WHERE NOT EXISTS (SELECT 1 FROM account_blocks WHERE account_id = $2)",
                )
                .bind(&s.token_hash)
                .bind(s.account_id.to_string())
                .bind(ts(s.created_at))
                .bind(ts(s.last_seen_at))
                .bind(ts(s.expires_at))
                .bind(s.idle_timeout.whole_seconds())
                .bind(s.remember)
                .bind(s.must_change_password)
                .bind(&s.device_hash)
                .bind(&s.user_agent)
                .bind(&s.network)
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
                if inserted.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(uslugi_app::ports::StoreError::NotFound)
                }
            }

            /// A login inside the caller's transaction: the failures in a row
            /// cleared (the attempt that opens it was taken as one), the
            /// session, its device noted, a pending deletion cancelled, the
            /// notices and the audit records.
            pub(crate) async fn write_login(
                tx: &mut sqlx::Transaction<'_, $db>,
                s: &SessionRecord,
                writes: &uslugi_app::ports::LoginWrites,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE accounts SET failed_logins = 0, throttled_until = NULL, locked = $2 \
                     WHERE id = $1",
                )
                .bind(s.account_id.to_string())
                .bind(false)
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
                insert_session_row(tx, s).await?;
                if let Some(device) = &s.device_hash {
                    sqlx::query(
                        "INSERT INTO account_devices (account_id, device_hash, first_seen_at, last_seen_at) \
                         VALUES ($1, $2, $3, $3) ON CONFLICT (account_id, device_hash) \
                         DO UPDATE SET last_seen_at = $3",
                    )
                    .bind(s.account_id.to_string())
                    .bind(device)
                    .bind(ts(s.created_at))
                    .execute(&mut **tx)
                    .await
                    .map_err(backend)?;
                }
                for m in &writes.notices {
                    insert_outbox(tx, m).await?;
                }
                append_audit(tx, &writes.audit).await?;
                let cancelled = sqlx::query("DELETE FROM account_deletions WHERE account_id = $1")
                    .bind(s.account_id.to_string())
                    .execute(&mut **tx)
                    .await
                    .map_err(backend)?
                    .rows_affected()
                    == 1;
                if cancelled && let Some(c) = &writes.if_deletion_cancelled {
                    for m in &c.notices {
                        insert_outbox(tx, m).await?;
                    }
                    append_audit(tx, &c.audit).await?;
                }
                Ok(())
            }


            #[async_trait]
            impl SessionStore for $store {
                async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    insert_session_row(&mut tx, s).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
                    // A literal, not format!: this read runs on every request.
                    self.read_one(
                        sqlx::query_as::<_, SessionRow>(
                            "SELECT token_hash, account_id, created_at, last_seen_at, expires_at, \
                             idle_timeout_s, remember, must_change_password, device_hash, user_agent, \
                             network FROM sessions WHERE token_hash = $1",
                        )
                        .bind(token_hash),
                    )
                    .await
                }

                async fn touch_session(&self, token_hash: &[u8], at: OffsetDateTime) -> StoreResult<()> {
                    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                        .bind(ts(at))
                        .bind(token_hash)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn delete_account_sessions(&self, account: AccountId) -> StoreResult<u64> {
                    let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                        .bind(account.to_string())
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn account_sessions(&self, account: AccountId) -> StoreResult<Vec<SessionRecord>> {
                    self.read_all(
                        sqlx::query_as::<_, SessionRow>(
                            "SELECT token_hash, account_id, created_at, last_seen_at, expires_at, \
                             idle_timeout_s, remember, must_change_password, device_hash, user_agent, \
                             network FROM sessions WHERE account_id = $1 ORDER BY last_seen_at DESC",
                        )
                        .bind(account.to_string()),
                    )
                    .await
                }

                async fn delete_account_session(&self, account: AccountId, token_hash: &[u8]) -> StoreResult<bool> {
                    let query = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash = $2")
                        .bind(account.to_string())
                        .bind(token_hash);
                    changed_one(query, &self.write).await
                }

                async fn delete_other_sessions(&self, account: AccountId, keep: &[u8]) -> StoreResult<u64> {
                    let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
                        .bind(account.to_string())
                        .bind(keep)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn device_seen(
                    &self,
                    account: AccountId,
                    device_hash: &[u8],
                ) -> StoreResult<uslugi_app::ports::DeviceSeen> {
                    let (any, this): (i64, i64) = sqlx::query_as(
                        "SELECT COUNT(*), COUNT(CASE WHEN device_hash = $2 THEN 1 END) \
                         FROM account_devices WHERE account_id = $1",
                    )
                    .bind(account.to_string())
                    .bind(device_hash)
                    .fetch_one(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    Ok(uslugi_app::ports::DeviceSeen { this: this > 0, any: any > 0 })
                }

                async fn open_session(
                    &self,
                    s: &SessionRecord,
                    writes: &uslugi_app::ports::LoginWrites,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    write_login(&mut tx, s, writes).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn delete_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
                    let done = sqlx::query(
                        "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at + idle_timeout_s <= $2",
                    )
                    .bind(ts(now))
                    .bind(ts(now))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }

            impl $store {
                /// The body of `Maintenance::import_sessions`, like the above.
                pub(crate) async fn import_sessions_in_bulk(&self, sessions: &[SessionRecord]) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    for chunk in sessions.chunks($crate::IMPORT_ROWS_PER_STATEMENT) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, \
                             expires_at, idle_timeout_s, remember, must_change_password) ",
                        );
                        insert.push_values(chunk, |mut row, s| {
                            row.push_bind(&s.token_hash)
                                .push_bind(s.account_id.to_string())
                                .push_bind(ts(s.created_at))
                                .push_bind(ts(s.last_seen_at))
                                .push_bind(ts(s.expires_at))
                                .push_bind(s.idle_timeout.whole_seconds())
                                .push_bind(s.remember)
                                .push_bind(s.must_change_password);
                        });
                        insert.build().execute(&mut *tx).await.map_err(backend)?;
                    }
                    tx.commit().await.map_err(backend)
                }
            }
        }
    };
}
