//! The SQL of the confirmed account, shared by both engines like
//! [`sql_store!`]: letters with an identity code, service-center operators
//! and their sessions, what operators do to accounts, and the append-only
//! audit log. Each use case's change and its audit record are written in
//! one transaction. The engine module supplies `lock_audit_chain`, which
//! serialises appends across nodes so the chain never forks.

use uslugi_app::ports::StoreError;
use uslugi_domain::{LetterStatus, Token};

pub(crate) fn parse_letter_status(s: &str) -> Result<LetterStatus, StoreError> {
    LetterStatus::parse(s).ok_or_else(|| crate::sql::corrupt("letter status"))
}

/// The hash the first record links to.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

macro_rules! sql_operators_store {
    ($store:ident, $db:ty) => {
        mod operators_sql {
            use async_trait::async_trait;
            use sqlx::Row as _;
            use time::{Duration, OffsetDateTime};
            use uslugi_app::ports::{AccountRecord, Assisted, AuditEntry, AuditFilter, AuditRecord, AuditStore, AuditWrite, CheckRecord, Enrolment, InPersonStore, LetterLimit, LetterOrder, LetterRecord, LetterStore, OperatorRecord, OperatorSessionRecord, OperatorStore, OutboxRecord, RecoveryCompletion, RecoveryRecord, RecoveryStore, StoreError, StoreResult, SubmissionId, TemporaryPassword};
            use uslugi_domain::{AccountId, ConfirmedVia, LoginKind, OperatorId, OperatorRole, Token};

            use super::$store;
            use super::verification_sql::{insert_checks, insert_outbox, mark_submitted};
            use super::{ACCOUNT_COLUMNS, account_from_row, insert_account};
            use $crate::backend;
            use $crate::sql::{corrupt, count, from_ts, opt_ts, parse_channel, parse_id, ts};
            use $crate::sql_operators::{GENESIS, parse_letter_status};
            use $crate::sql_verification::parse_uuid;

            type Row = <$db as sqlx::Database>::Row;

            // ------------------------------------------------------------ audit

            const AUDIT_COLUMNS: &str = "seq, id, at, actor, operator_id, center_id, account_id, \
                action, outcome, details, prev_hash, hash";

            fn audit_from_row(row: &Row) -> StoreResult<AuditRecord> {
                let get = |e: sqlx::Error| backend(e);
                let opt_id = |col: &str| -> StoreResult<Option<String>> {
                    row.try_get::<Option<String>, _>(col).map_err(backend)
                };
                Ok(AuditRecord {
                    seq: row.try_get("seq").map_err(get)?,
                    entry: AuditEntry {
                        id: parse_uuid(&row.try_get::<String, _>("id").map_err(get)?)?,
                        at: from_ts(row.try_get("at").map_err(get)?)?,
                        actor: row.try_get("actor").map_err(get)?,
                        operator_id: opt_id("operator_id")?.as_deref().map(parse_id).transpose()?,
                        center_id: opt_id("center_id")?,
                        account_id: opt_id("account_id")?.as_deref().map(parse_id).transpose()?,
                        action: row.try_get("action").map_err(get)?,
                        outcome: row.try_get("outcome").map_err(get)?,
                        details: row.try_get("details").map_err(get)?,
                    },
                    prev_hash: row.try_get("prev_hash").map_err(get)?,
                    hash: row.try_get("hash").map_err(get)?,
                })
            }

            /// Appends a record inside the caller's transaction, linked to the
            /// newest one. The chain lock is held until that transaction ends.
            pub(crate) async fn append_audit(
                tx: &mut sqlx::Transaction<'_, $db>,
                w: &AuditWrite,
            ) -> StoreResult<i64> {
                $store::lock_audit_chain(tx).await.map_err(backend)?;
                let last: Option<(i64, Vec<u8>)> =
                    sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(backend)?;
                let (seq, prev) = match last {
                    Some((s, h)) => (s + 1, h),
                    None => (1, GENESIS.to_vec()),
                };
                let hash = w.chain.link(&prev, seq, &w.entry);
                let e = &w.entry;
                sqlx::query(
                    "INSERT INTO audit_log (seq, id, at, actor, operator_id, center_id, account_id, \
                     action, outcome, details, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(seq)
                .bind(e.id.to_string())
                .bind(ts(e.at))
                .bind(&e.actor)
                .bind(e.operator_id.map(|o| o.to_string()))
                .bind(&e.center_id)
                .bind(e.account_id.map(|a| a.to_string()))
                .bind(&e.action)
                .bind(&e.outcome)
                .bind(&e.details)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
                Ok(seq)
            }

            /// Raises a standard account to confirmed inside the caller's
            /// transaction: how and when the identity was proven. False when
            /// the account was not standard (never lowered, never proven twice).
            pub(crate) async fn mark_confirmed(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: &str,
                via: ConfirmedVia,
                at: OffsetDateTime,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE accounts SET level = 'confirmed', confirmed_at = $2, \
                     confirmed_via = $3, updated_at = $2 WHERE id = $1 AND level = 'standard'",
                )
                .bind(account)
                .bind(ts(at))
                .bind(via.as_str())
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
                Ok(done.rows_affected() == 1)
            }

            #[async_trait]
            impl AuditStore for $store {
                async fn append_audit(&self, audit: &AuditWrite) -> StoreResult<i64> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let seq = append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(seq)
                }

                async fn audit_records(
                    &self,
                    filter: &AuditFilter,
                    before: Option<i64>,
                    limit: u32,
                ) -> StoreResult<Vec<AuditRecord>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1 = 1"
                    ));
                    if let Some(c) = &filter.center_id {
                        q.push(" AND center_id = ").push_bind(c.clone());
                    }
                    if let Some(o) = filter.operator_id {
                        q.push(" AND operator_id = ").push_bind(o.to_string());
                    }
                    if let Some(a) = filter.account_id {
                        q.push(" AND account_id = ").push_bind(a.to_string());
                    }
                    if let Some(b) = before {
                        q.push(" AND seq < ").push_bind(b);
                    }
                    q.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(limit));
                    q.build()
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(audit_from_row)
                        .collect()
                }

                async fn audit_chain(
                    &self,
                    from_seq: i64,
                    limit: u32,
                ) -> StoreResult<Vec<AuditRecord>> {
                    let sql = format!(
                        "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
                    );
                    sqlx::query(&sql)
                        .bind(from_seq)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(audit_from_row)
                        .collect()
                }
            }

            // ------------------------------------------------------------ operators

            const OPERATOR_COLUMNS: &str = "id, center_id, role, name, login, password_hash, \
                totp_secret, totp_last_step, enrol_token_hash, enrol_expires_at, enrolled_at, \
                disabled_at, failed_logins, throttled_until, created_at";

            fn operator_from_row(row: &Row) -> StoreResult<OperatorRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(OperatorRecord {
                    id: parse_id(&row.try_get::<String, _>("id").map_err(get)?)?,
                    center_id: row.try_get("center_id").map_err(get)?,
                    role: OperatorRole::parse(&row.try_get::<String, _>("role").map_err(get)?)
                        .ok_or_else(|| corrupt("operator role"))?,
                    name: row.try_get("name").map_err(get)?,
                    login: row.try_get("login").map_err(get)?,
                    password_hash: row.try_get("password_hash").map_err(get)?,
                    totp_secret: row.try_get("totp_secret").map_err(get)?,
                    totp_last_step: row.try_get("totp_last_step").map_err(get)?,
                    enrol_token_hash: row.try_get("enrol_token_hash").map_err(get)?,
                    enrol_expires_at: opt_ts(row.try_get("enrol_expires_at").map_err(get)?)?,
                    enrolled_at: opt_ts(row.try_get("enrolled_at").map_err(get)?)?,
                    disabled_at: opt_ts(row.try_get("disabled_at").map_err(get)?)?,
                    failed_logins: count(row.try_get("failed_logins").map_err(get)?),
                    throttled_until: opt_ts(row.try_get("throttled_until").map_err(get)?)?,
                    created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                })
            }

            fn operator_session_from_row(row: &Row) -> StoreResult<OperatorSessionRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(OperatorSessionRecord {
                    token_hash: row.try_get("token_hash").map_err(get)?,
                    operator_id: parse_id(&row.try_get::<String, _>("operator_id").map_err(get)?)?,
                    created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                    last_seen_at: from_ts(row.try_get("last_seen_at").map_err(get)?)?,
                    expires_at: from_ts(row.try_get("expires_at").map_err(get)?)?,
                })
            }

            impl $store {
                async fn one_operator(
                    &self,
                    condition: &str,
                    value: Vec<u8>,
                    as_text: bool,
                ) -> StoreResult<Option<OperatorRecord>> {
                    let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE {condition} = $1");
                    let q = sqlx::query(&sql);
                    let q = if as_text {
                        q.bind(String::from_utf8(value).map_err(|_| corrupt("text"))?)
                    } else {
                        q.bind(value)
                    };
                    q.fetch_optional(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .as_ref()
                        .map(operator_from_row)
                        .transpose()
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
                        "SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY center_id, created_at, id"
                    );
                    sqlx::query(&sql)
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(operator_from_row)
                        .collect()
                }

                async fn complete_enrolment(
                    &self,
                    id: OperatorId,
                    e: &Enrolment,
                    audit: &AuditWrite,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let done = sqlx::query(
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
                    .bind(ts(e.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn take_totp_step(&self, id: OperatorId, step: i64) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE operators SET totp_last_step = $2 \
                         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                    )
                    .bind(id.to_string())
                    .bind(step)
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn take_operator_attempt(
                    &self,
                    id: OperatorId,
                    seen: u32,
                    now: OffsetDateTime,
                    throttled_until: Option<OffsetDateTime>,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE operators SET failed_logins = failed_logins + 1, \
                         throttled_until = COALESCE($4, throttled_until) \
                         WHERE id = $1 AND failed_logins = $2 \
                         AND (throttled_until IS NULL OR throttled_until <= $3)",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(seen))
                    .bind(ts(now))
                    .bind(throttled_until.map(ts))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
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
                    let done = sqlx::query(
                        "UPDATE operators SET disabled_at = $2, enrol_token_hash = NULL \
                         WHERE id = $1 AND disabled_at IS NULL",
                    )
                    .bind(id.to_string())
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if done.rows_affected() != 1 {
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
                    sqlx::query(
                        "SELECT token_hash, operator_id, created_at, last_seen_at, expires_at \
                         FROM operator_sessions WHERE token_hash = $1",
                    )
                    .bind(token_hash)
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?
                    .as_ref()
                    .map(operator_session_from_row)
                    .transpose()
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

            // ------------------------------------------------------------ in person

            #[async_trait]
            impl InPersonStore for $store {
                async fn accounts_by_passport(&self, index: &[u8]) -> StoreResult<Vec<AccountRecord>> {
                    let sql = format!(
                        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE passport_index = $1 ORDER BY created_at"
                    );
                    sqlx::query(&sql)
                        .bind(index)
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(account_from_row)
                        .collect()
                }

                async fn confirm_identity(
                    &self,
                    account: AccountId,
                    via: ConfirmedVia,
                    at: OffsetDateTime,
                    message: Option<&OutboxRecord>,
                    audit: &AuditWrite,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    if !mark_confirmed(&mut tx, &account.to_string(), via, at).await? {
                        return Ok(false);
                    }
                    if let Some(m) = message {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn transfer_snils(
                    &self,
                    t: &uslugi_app::ports::SnilsTransfer,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let from = t.from.to_string();
                    let dropped = sqlx::query(
                        "UPDATE accounts SET snils_index = NULL, passport_index = NULL, \
                         level = 'simplified', confirmed_at = NULL, confirmed_via = NULL, \
                         updated_at = $3 WHERE id = $1 AND snils_index = $2",
                    )
                    .bind(&from)
                    .bind(&t.snils_index)
                    .bind(ts(t.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if dropped.rows_affected() != 1 {
                        return Ok(false);
                    }
                    // The data that passed with the SNILS are no longer in
                    // force; a submission under check goes on.
                    sqlx::query(
                        "UPDATE personal_data SET verified = NULL, verified_at = NULL, \
                         registration_address = NULL, \
                         status = CASE WHEN status = 'verified' THEN 'draft' ELSE status END, \
                         updated_at = $2 WHERE account_id = $1",
                    )
                    .bind(&from)
                    .bind(ts(t.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let taken = sqlx::query(
                        "UPDATE personal_data SET status = 'verified', verified = submitted, \
                         verified_at = $3, registration_address = $4, updated_at = $3 \
                         WHERE account_id = $1 AND submission_id = $2 AND status = 'failed'",
                    )
                    .bind(t.to.to_string())
                    .bind(t.submission_id.to_string())
                    .bind(ts(t.at))
                    .bind(&t.verified.registration_address)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if taken.rows_affected() != 1 {
                        return Ok(false);
                    }
                    let v = &t.verified;
                    sqlx::query(
                        "UPDATE accounts SET surname = $2, given_name = $3, snils_index = $4, \
                         passport_index = $5, \
                         level = CASE WHEN level = 'simplified' THEN 'standard' ELSE level END, \
                         updated_at = $6 WHERE id = $1",
                    )
                    .bind(t.to.to_string())
                    .bind(&v.surname)
                    .bind(&v.given_name)
                    .bind(&v.snils_index)
                    .bind(&v.passport_index)
                    .bind(ts(t.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    for m in &t.notices {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, &t.audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn set_temporary_password(
                    &self,
                    account: AccountId,
                    password: &TemporaryPassword,
                    at: OffsetDateTime,
                    message: &OutboxRecord,
                    audit: &AuditWrite,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let done = sqlx::query(
                        "UPDATE accounts SET password_hash = $2, must_change_password = $3, \
                         password_expires_at = $4, failed_logins = 0, throttled_until = NULL, \
                         locked = $5, updated_at = $6 WHERE id = $1",
                    )
                    .bind(account.to_string())
                    .bind(&password.hash)
                    .bind(true)
                    .bind(ts(password.expires_at))
                    .bind(false)
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::NotFound);
                    }
                    // The person proved who they are at the desk: a lost phone
                    // or app must not keep them out, so the second factor goes
                    // (they can turn it on again).
                    for table in [
                        "sessions",
                        "second_factors",
                        "backup_codes",
                        "factor_challenges",
                    ] {
                        sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                            .bind(account.to_string())
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                    }
                    insert_outbox(&mut tx, message).await?;
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn register_in_person(
                    &self,
                    account: &AccountRecord,
                    submission_id: SubmissionId,
                    submitted: &[u8],
                    checks: &[CheckRecord],
                    assisted: &Assisted,
                    audit: &AuditWrite,
                ) -> StoreResult<()> {
                    let at = account.created_at;
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    insert_account(&mut tx, account).await?;
                    sqlx::query(
                        "INSERT INTO personal_data (account_id, status, updated_at) \
                         VALUES ($1, 'draft', $2)",
                    )
                    .bind(account.id.to_string())
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    mark_submitted(&mut tx, account.id, submission_id, submitted, Some(assisted), at)
                        .await?;
                    insert_checks(&mut tx, checks).await?;
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn change_password(
                    &self,
                    account: AccountId,
                    password_hash: &str,
                    keep: &[u8],
                    end_others: bool,
                    at: OffsetDateTime,
                    notices: &[OutboxRecord],
                    audit: &AuditWrite,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let done = sqlx::query(
                        "UPDATE accounts SET password_hash = $2, must_change_password = $3, \
                         password_expires_at = NULL, updated_at = $4 WHERE id = $1",
                    )
                    .bind(account.to_string())
                    .bind(password_hash)
                    .bind(false)
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query(
                        "UPDATE sessions SET must_change_password = $2 WHERE token_hash = $1",
                    )
                    .bind(keep)
                    .bind(false)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if end_others {
                        sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
                            .bind(account.to_string())
                            .bind(keep)
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                    }
                    for m in notices {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)
                }
            }

            // ------------------------------------------------------------ recovery

            const RECOVERY_COLUMNS: &str = "id, account_id, login_kind, channel, lang, secret_hash, \
                secret_expires_at, attempts, confirmed_at, completed_at, continuation_hash, \
                continuation_expires_at, created_at, expires_at";

            fn recovery_from_row(row: &Row) -> StoreResult<RecoveryRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(RecoveryRecord {
                    id: parse_uuid(&row.try_get::<String, _>("id").map_err(get)?)?,
                    account_id: row
                        .try_get::<Option<String>, _>("account_id")
                        .map_err(get)?
                        .as_deref()
                        .map(parse_id)
                        .transpose()?,
                    login_kind: LoginKind::parse(&row.try_get::<String, _>("login_kind").map_err(get)?)
                        .ok_or_else(|| corrupt("login kind"))?,
                    channel: parse_channel(&row.try_get::<String, _>("channel").map_err(get)?)?,
                    lang: row.try_get("lang").map_err(get)?,
                    secret_hash: row.try_get("secret_hash").map_err(get)?,
                    secret_expires_at: from_ts(row.try_get("secret_expires_at").map_err(get)?)?,
                    attempts: count(row.try_get("attempts").map_err(get)?),
                    confirmed_at: opt_ts(row.try_get("confirmed_at").map_err(get)?)?,
                    completed_at: opt_ts(row.try_get("completed_at").map_err(get)?)?,
                    continuation: $crate::sql::continuation(
                        row.try_get("continuation_hash").map_err(get)?,
                        row.try_get("continuation_expires_at").map_err(get)?,
                    )?,
                    created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                    expires_at: from_ts(row.try_get("expires_at").map_err(get)?)?,
                })
            }

            #[async_trait]
            impl RecoveryStore for $store {
                async fn start_recovery(
                    &self,
                    r: &RecoveryRecord,
                    message: Option<&OutboxRecord>,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO recoveries (id, account_id, login_kind, channel, lang, \
                         secret_hash, secret_expires_at, attempts, confirmed_at, completed_at, \
                         created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if let Some(m) = message {
                        insert_outbox(&mut tx, m).await?;
                    }
                    tx.commit().await.map_err(backend)
                }

                async fn recovery(&self, id: uuid::Uuid) -> StoreResult<Option<RecoveryRecord>> {
                    let sql = format!("SELECT {RECOVERY_COLUMNS} FROM recoveries WHERE id = $1");
                    sqlx::query(&sql)
                        .bind(id.to_string())
                        .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .as_ref()
                        .map(recovery_from_row)
                        .transpose()
                }

                async fn recovery_by_secret(
                    &self,
                    secret_hash: &[u8],
                ) -> StoreResult<Option<RecoveryRecord>> {
                    let sql = format!("SELECT {RECOVERY_COLUMNS} FROM recoveries WHERE secret_hash = $1");
                    sqlx::query(&sql)
                        .bind(secret_hash)
                        .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .as_ref()
                        .map(recovery_from_row)
                        .transpose()
                }

                async fn take_recovery_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>> {
                    let taken: Option<i64> = sqlx::query_scalar(
                        "UPDATE recoveries SET attempts = attempts + 1 \
                         WHERE id = $1 AND attempts < $2 RETURNING attempts",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(max))
                    .fetch_optional(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(taken.map(count))
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
                    let done = sqlx::query(
                        "UPDATE recoveries SET completed_at = $3, continuation_hash = NULL \
                         WHERE id = $1 AND account_id = $2 AND confirmed_at IS NOT NULL \
                         AND completed_at IS NULL AND continuation_hash = $4 \
                         AND continuation_expires_at > $3",
                    )
                    .bind(c.recovery_id.to_string())
                    .bind(c.account_id.to_string())
                    .bind(ts(c.at))
                    .bind(&c.continuation_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if done.rows_affected() != 1 {
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
                    let done = sqlx::query("DELETE FROM recoveries WHERE expires_at <= $1")
                        .bind(ts(now))
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }

            // ------------------------------------------------------------ letters

            const LETTER_COLUMNS: &str = "id, account_id, lang, code_hash, code, recipient, address, \
                status, tracking_number, voided, attempts, dispatch_attempts, next_attempt_at, \
                leased_until, sent_at, expires_at, used_at, created_at";

            fn letter_from_row(row: &Row) -> StoreResult<LetterRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(LetterRecord {
                    id: parse_uuid(&row.try_get::<String, _>("id").map_err(get)?)?,
                    account_id: parse_id(&row.try_get::<String, _>("account_id").map_err(get)?)?,
                    lang: row.try_get("lang").map_err(get)?,
                    code_hash: row.try_get("code_hash").map_err(get)?,
                    code: row.try_get("code").map_err(get)?,
                    recipient: row.try_get("recipient").map_err(get)?,
                    address: row.try_get("address").map_err(get)?,
                    status: parse_letter_status(&row.try_get::<String, _>("status").map_err(get)?)?,
                    tracking_number: row.try_get("tracking_number").map_err(get)?,
                    voided: row.try_get("voided").map_err(get)?,
                    attempts: count(row.try_get("attempts").map_err(get)?),
                    dispatch_attempts: count(row.try_get("dispatch_attempts").map_err(get)?),
                    next_attempt_at: from_ts(row.try_get("next_attempt_at").map_err(get)?)?,
                    leased_until: opt_ts(row.try_get("leased_until").map_err(get)?)?,
                    sent_at: opt_ts(row.try_get("sent_at").map_err(get)?)?,
                    expires_at: opt_ts(row.try_get("expires_at").map_err(get)?)?,
                    used_at: opt_ts(row.try_get("used_at").map_err(get)?)?,
                    created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                })
            }

            /// When the limits allow the next letter, given the times the
            /// letters of a window were ordered (oldest first); `None`: now.
            fn next_allowed(times: &[i64], limit: &LetterLimit) -> StoreResult<Option<OffsetDateTime>> {
                let count = usize::try_from(limit.count).unwrap_or(usize::MAX);
                if count == 0 || times.len() < count {
                    return Ok(None);
                }
                // The letter whose leaving the window frees a place.
                Ok(Some(from_ts(times[times.len() - count])? + limit.window))
            }

            #[async_trait]
            impl LetterStore for $store {
                async fn order_letter(
                    &self,
                    l: &LetterRecord,
                    limits: &[LetterLimit],
                    audit: &AuditWrite,
                ) -> StoreResult<LetterOrder> {
                    let now = l.created_at;
                    let account = l.account_id.to_string();
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    // Two orders of one account at once must not both pass
                    // the limits.
                    $store::lock_rate_key(&mut tx, "identity-letter", account.as_bytes())
                        .await
                        .map_err(backend)?;
                    let mut allowed_at: Option<OffsetDateTime> = None;
                    for limit in limits {
                        let times: Vec<i64> = sqlx::query_scalar(
                            "SELECT created_at FROM identity_letters \
                             WHERE account_id = $1 AND created_at > $2 ORDER BY created_at",
                        )
                        .bind(&account)
                        .bind(ts(now - limit.window))
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(backend)?;
                        if let Some(at) = next_allowed(&times, limit)? {
                            allowed_at = Some(allowed_at.map_or(at, |a| a.max(at)));
                        }
                    }
                    if let Some(at) = allowed_at {
                        return Ok(LetterOrder::TooSoon(at));
                    }
                    sqlx::query(
                        "UPDATE identity_letters SET voided = $2, code = NULL \
                         WHERE account_id = $1 AND used_at IS NULL AND voided = $3",
                    )
                    .bind(&account)
                    .bind(true)
                    .bind(false)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO identity_letters (id, account_id, lang, code_hash, code, \
                         recipient, address, status, tracking_number, voided, attempts, \
                         dispatch_attempts, next_attempt_at, leased_until, sent_at, expires_at, \
                         used_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                         $16, $17, $18)",
                    )
                    .bind(l.id.to_string())
                    .bind(&account)
                    .bind(&l.lang)
                    .bind(&l.code_hash)
                    .bind(&l.code)
                    .bind(&l.recipient)
                    .bind(&l.address)
                    .bind(l.status.as_str())
                    .bind(&l.tracking_number)
                    .bind(l.voided)
                    .bind(i64::from(l.attempts))
                    .bind(i64::from(l.dispatch_attempts))
                    .bind(ts(l.next_attempt_at))
                    .bind(l.leased_until.map(ts))
                    .bind(l.sent_at.map(ts))
                    .bind(l.expires_at.map(ts))
                    .bind(l.used_at.map(ts))
                    .bind(ts(l.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(LetterOrder::Accepted)
                }

                async fn current_letter(&self, account: AccountId) -> StoreResult<Option<LetterRecord>> {
                    let sql = format!(
                        "SELECT {LETTER_COLUMNS} FROM identity_letters \
                         WHERE account_id = $1 AND voided = $2 ORDER BY created_at DESC, id LIMIT 1"
                    );
                    sqlx::query(&sql)
                        .bind(account.to_string())
                        .bind(false)
                        .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .as_ref()
                        .map(letter_from_row)
                        .transpose()
                }

                async fn lease_due_letters(
                    &self,
                    now: OffsetDateTime,
                    lease_until: OffsetDateTime,
                    limit: u32,
                ) -> StoreResult<Vec<LetterRecord>> {
                    let sql = format!(
                        "UPDATE identity_letters SET leased_until = $1 \
                         WHERE id IN (SELECT id FROM identity_letters \
                             WHERE status = 'queued' AND voided = $4 AND next_attempt_at <= $2 \
                             AND (leased_until IS NULL OR leased_until <= $2) \
                             ORDER BY next_attempt_at LIMIT $3) \
                         AND status = 'queued' AND (leased_until IS NULL OR leased_until <= $2) \
                         RETURNING {LETTER_COLUMNS}"
                    );
                    sqlx::query(&sql)
                        .bind(ts(lease_until))
                        .bind(ts(now))
                        .bind(i64::from(limit))
                        .bind(false)
                        .fetch_all(&self.write)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(letter_from_row)
                        .collect()
                }

                async fn mark_letter_sent(
                    &self,
                    id: uuid::Uuid,
                    tracking_number: &str,
                    sent_at: OffsetDateTime,
                    expires_at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE identity_letters SET status = 'sent', tracking_number = $2, \
                         sent_at = $3, expires_at = $4, leased_until = NULL \
                         WHERE id = $1 AND status = 'queued'",
                    )
                    .bind(id.to_string())
                    .bind(tracking_number)
                    .bind(ts(sent_at))
                    .bind(ts(expires_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn reschedule_letter(
                    &self,
                    id: uuid::Uuid,
                    dispatch_attempts: u32,
                    next_attempt_at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE identity_letters SET dispatch_attempts = $2, next_attempt_at = $3, \
                         leased_until = NULL WHERE id = $1 AND status = 'queued'",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(dispatch_attempts))
                    .bind(ts(next_attempt_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn take_letter_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>> {
                    let taken: Option<i64> = sqlx::query_scalar(
                        "UPDATE identity_letters SET attempts = attempts + 1 \
                         WHERE id = $1 AND attempts < $2 RETURNING attempts",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(max))
                    .fetch_optional(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(taken.map(count))
                }

                async fn confirm_by_letter(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                    message: Option<&OutboxRecord>,
                    audit: &AuditWrite,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let account: Option<String> = sqlx::query_scalar(
                        "UPDATE identity_letters SET used_at = $2, code = NULL \
                         WHERE id = $1 AND used_at IS NULL AND voided = $3 AND status = 'sent' \
                         RETURNING account_id",
                    )
                    .bind(id.to_string())
                    .bind(ts(at))
                    .bind(false)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let Some(account) = account else {
                        return Ok(false);
                    };
                    // Confirmed at a center meanwhile: the code is spent, the
                    // account keeps how it was confirmed, no second notice.
                    if mark_confirmed(&mut tx, &account, ConfirmedVia::Letter, at).await?
                        && let Some(m) = message
                    {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn letters_sent_between(
                    &self,
                    from: OffsetDateTime,
                    to: OffsetDateTime,
                ) -> StoreResult<Vec<LetterRecord>> {
                    let sql = format!(
                        "SELECT {LETTER_COLUMNS} FROM identity_letters \
                         WHERE status = 'sent' AND sent_at >= $1 AND sent_at < $2 \
                         ORDER BY sent_at, id"
                    );
                    sqlx::query(&sql)
                        .bind(ts(from))
                        .bind(ts(to))
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(letter_from_row)
                        .collect()
                }

                async fn wipe_dead_letter_codes(&self, now: OffsetDateTime) -> StoreResult<u64> {
                    let done = sqlx::query(
                        "UPDATE identity_letters SET code = NULL WHERE code IS NOT NULL \
                         AND (voided = $1 OR used_at IS NOT NULL OR expires_at <= $2)",
                    )
                    .bind(true)
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
