//! Service-center operators and their sessions: added by an administrator,
//! enrolled once with a login of their own and a TOTP secret, disabled with
//! every session ended. Each change and its audit record are written in one
//! transaction.

use uslugi_app::ports::{OperatorRecord, OperatorSessionRecord, StoreError};

use crate::rows::{count, from_ts, opt_ts, parse_id, token};

pub(crate) const COLUMNS: &str = "id, center_id, role, name, login, password_hash, \
    totp_secret, totp_last_step, enrol_token_hash, enrol_expires_at, enrolled_at, \
    disabled_at, failed_logins, throttled_until, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OperatorRow {
    id: String,
    center_id: String,
    role: String,
    name: Option<Vec<u8>>,
    login: Option<String>,
    password_hash: Option<String>,
    totp_secret: Vec<u8>,
    totp_last_step: Option<i64>,
    enrol_token_hash: Option<Vec<u8>>,
    enrol_expires_at: Option<i64>,
    enrolled_at: Option<i64>,
    disabled_at: Option<i64>,
    failed_logins: i64,
    throttled_until: Option<i64>,
    created_at: i64,
}

impl TryFrom<OperatorRow> for OperatorRecord {
    type Error = StoreError;

    fn try_from(r: OperatorRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&r.id)?,
            center_id: r.center_id,
            role: token(&r.role, "operator role")?,
            name: r.name,
            login: r.login,
            password_hash: r.password_hash,
            totp_secret: r.totp_secret,
            totp_last_step: r.totp_last_step,
            enrol_token_hash: r.enrol_token_hash,
            enrol_expires_at: opt_ts(r.enrol_expires_at)?,
            enrolled_at: opt_ts(r.enrolled_at)?,
            disabled_at: opt_ts(r.disabled_at)?,
            failed_logins: count(r.failed_logins),
            throttled_until: opt_ts(r.throttled_until)?,
            created_at: from_ts(r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OperatorSessionRow {
    token_hash: Vec<u8>,
    operator_id: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

impl TryFrom<OperatorSessionRow> for OperatorSessionRecord {
    type Error = StoreError;

    fn try_from(r: OperatorSessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            token_hash: r.token_hash,
            operator_id: parse_id(&r.operator_id)?,
            created_at: from_ts(r.created_at)?,
            last_seen_at: from_ts(r.last_seen_at)?,
            expires_at: from_ts(r.expires_at)?,
        })
    }
}

macro_rules! operators_sql {
    ($store:ident, $db:ty) => {
        mod operators {
            use async_trait::async_trait;
            use time::{Duration, OffsetDateTime};
            use uslugi_app::ports::{AuditWrite, Enrolment, OperatorRecord, OperatorSessionRecord, OperatorStore, StoreError, StoreResult};
            use uslugi_domain::{OperatorId, Token};

            use super::$store;
            use super::audit::append_audit;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::operators::{COLUMNS, OperatorRow, OperatorSessionRow};
            use $crate::rows::{corrupt, ts};

            impl $store {
                async fn one_operator(
                    &self,
                    condition: &str,
                    value: Vec<u8>,
                    as_text: bool,
                ) -> StoreResult<Option<OperatorRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM operators WHERE {condition} = $1");
                    let q = sqlx::query_as::<_, OperatorRow>(&sql);
                    let q = if as_text {
                        q.bind(String::from_utf8(value).map_err(|_| corrupt("text"))?)
                    } else {
                        q.bind(value)
                    };
                    self.read_one(q).await
                }
            }

            #[async_trait]
            impl OperatorStore for $store {
                async fn insert_operator(
                    &self,
                    op: &OperatorRecord,
                    audit: &AuditWrite,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let center: Option<String> =
                        sqlx::query_scalar("SELECT id FROM service_centers WHERE id = $1")
                            .bind(&op.center_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(backend)?;
                    if center.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query(
                        "INSERT INTO operators (id, center_id, role, name, login, password_hash, \
                         totp_secret, totp_last_step, enrol_token_hash, enrol_expires_at, \
                         enrolled_at, disabled_at, failed_logins, throttled_until, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(op.id.to_string())
                    .bind(&op.center_id)
                    .bind(op.role.as_str())
                    .bind(&op.name)
                    .bind(&op.login)
                    .bind(&op.password_hash)
                    .bind(&op.totp_secret)
                    .bind(op.totp_last_step)
                    .bind(&op.enrol_token_hash)
                    .bind(op.enrol_expires_at.map(ts))
                    .bind(op.enrolled_at.map(ts))
                    .bind(op.disabled_at.map(ts))
                    .bind(i64::from(op.failed_logins))
                    .bind(op.throttled_until.map(ts))
                    .bind(ts(op.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn operator(&self, id: OperatorId) -> StoreResult<Option<OperatorRecord>> {
                    self.one_operator("id", id.to_string().into_bytes(), true).await
                }

                async fn operator_by_enrol_token(
                    &self,
                    hash: &[u8],
                ) -> StoreResult<Option<OperatorRecord>> {
                    self.one_operator("enrol_token_hash", hash.to_vec(), false).await
                }

                async fn operator_by_login(&self, login: &str) -> StoreResult<Option<OperatorRecord>> {
                    self.one_operator("login", login.as_bytes().to_vec(), true).await
                }

                async fn operators(&self) -> StoreResult<Vec<OperatorRecord>> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM operators ORDER BY center_id, created_at, id"
                    );
                    self.read_all(
                        sqlx::query_as::<_, OperatorRow>(&sql),
                    )
                    .await
                }

                async fn complete_enrolment(
                    &self,
                    id: OperatorId,
                    e: &Enrolment,
                    audit: &AuditWrite,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let query = sqlx::query(
                        "UPDATE operators SET name = $2, login = $3, password_hash = $4, \
                         totp_last_step = $5, enrolled_at = $6, enrol_token_hash = NULL, \
                         enrol_expires_at = NULL \
                         WHERE id = $1 AND enrolled_at IS NULL AND disabled_at IS NULL",
                    )
                    .bind(id.to_string())
                    .bind(&e.name)
                    .bind(&e.login)
                    .bind(&e.password_hash)
                    .bind(e.totp_step)
                    .bind(ts(e.at));
                    if !changed_one(query, &mut *tx).await? {
                        return Ok(false);
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn take_totp_step(&self, id: OperatorId, step: i64) -> StoreResult<bool> {
                    let query = sqlx::query(
                        "UPDATE operators SET totp_last_step = $2 \
                         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                    )
                    .bind(id.to_string())
                    .bind(step);
                    changed_one(query, &self.write).await
                }

                async fn take_operator_attempt(
                    &self,
                    id: OperatorId,
                    seen: u32,
                    now: OffsetDateTime,
                    throttled_until: Option<OffsetDateTime>,
                ) -> StoreResult<bool> {
                    let query = sqlx::query(
                        "UPDATE operators SET failed_logins = failed_logins + 1, \
                         throttled_until = COALESCE($4, throttled_until) \
                         WHERE id = $1 AND failed_logins = $2 \
                         AND (throttled_until IS NULL OR throttled_until <= $3)",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(seen))
                    .bind(ts(now))
                    .bind(throttled_until.map(ts));
                    changed_one(query, &self.write).await
                }

                async fn clear_operator_failures(&self, id: OperatorId) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE operators SET failed_logins = 0, throttled_until = NULL WHERE id = $1",
                    )
                    .bind(id.to_string())
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn disable_operator(
                    &self,
                    id: OperatorId,
                    at: OffsetDateTime,
                    audit: &AuditWrite,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let query = sqlx::query(
                        "UPDATE operators SET disabled_at = $2, enrol_token_hash = NULL \
                         WHERE id = $1 AND disabled_at IS NULL",
                    )
                    .bind(id.to_string())
                    .bind(ts(at));
                    if !changed_one(query, &mut *tx).await? {
                        return Ok(false);
                    }
                    sqlx::query("DELETE FROM operator_sessions WHERE operator_id = $1")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn insert_operator_session(&self, s: &OperatorSessionRecord) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO operator_sessions (token_hash, operator_id, created_at, \
                         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&s.token_hash)
                    .bind(s.operator_id.to_string())
                    .bind(ts(s.created_at))
                    .bind(ts(s.last_seen_at))
                    .bind(ts(s.expires_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn operator_session(
                    &self,
                    token_hash: &[u8],
                ) -> StoreResult<Option<OperatorSessionRecord>> {
                    self.read_one(
                        sqlx::query_as::<_, OperatorSessionRow>(
                            "SELECT token_hash, operator_id, created_at, last_seen_at, expires_at \
                             FROM operator_sessions WHERE token_hash = $1",
                        )
                        .bind(token_hash),
                    )
                    .await
                }

                async fn touch_operator_session(
                    &self,
                    token_hash: &[u8],
                    at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query("UPDATE operator_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                        .bind(ts(at))
                        .bind(token_hash)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn delete_operator_session(&self, token_hash: &[u8]) -> StoreResult<()> {
                    sqlx::query("DELETE FROM operator_sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn delete_expired_operator_sessions(
                    &self,
                    now: OffsetDateTime,
                    idle: Duration,
                ) -> StoreResult<u64> {
                    let done = sqlx::query(
                        "DELETE FROM operator_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                    )
                    .bind(ts(now))
                    .bind(ts(now - idle))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}
