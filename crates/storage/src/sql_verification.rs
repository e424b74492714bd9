//! The SQL of personal data, registry checks and the outbox, shared by both
//! engines like [`sql_store!`]. Leasing uses one `UPDATE … WHERE id IN
//! (SELECT …)` that re-checks the lease in its outer condition, so two
//! workers (or nodes) can never take the same row: on PostgreSQL a row
//! changed by a concurrent lease fails the re-check, and SQLite has a single
//! writer.

use uslugi_app::ports::StoreError;
use uslugi_app::registries::Registry;
use uslugi_domain::{CheckStatus, Token, VerificationStatus};

pub(crate) fn parse_status(s: &str) -> Result<VerificationStatus, StoreError> {
    VerificationStatus::parse(s).ok_or_else(|| crate::sql::corrupt("verification status"))
}

pub(crate) fn parse_check_status(s: &str) -> Result<CheckStatus, StoreError> {
    CheckStatus::parse(s).ok_or_else(|| crate::sql::corrupt("check status"))
}

pub(crate) fn registry_str(r: Registry) -> &'static str {
    match r {
        Registry::Sfr => "sfr",
        Registry::Mvd => "mvd",
    }
}

pub(crate) fn parse_registry(s: &str) -> Result<Registry, StoreError> {
    match s {
        "sfr" => Ok(Registry::Sfr),
        "mvd" => Ok(Registry::Mvd),
        _ => Err(crate::sql::corrupt("registry")),
    }
}

/// Table and column names go into SQL text: only the known list may.
pub(crate) fn known_column(
    c: &crate::SealedColumn,
) -> Result<&'static crate::SealedColumn, StoreError> {
    crate::SEALED_COLUMNS
        .iter()
        .find(|k| *k == c)
        .ok_or_else(|| StoreError::Backend("not a sealed column".into()))
}

/// Only the known blind indexes may be named in SQL text.
pub(crate) fn known_index(
    c: &crate::BlindIndexColumn,
) -> Result<&'static crate::BlindIndexColumn, StoreError> {
    crate::BLIND_INDEXES
        .iter()
        .find(|k| *k == c)
        .ok_or_else(|| StoreError::Backend("not a blind index".into()))
}

pub(crate) fn parse_uuid(s: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(s).map_err(|_| crate::sql::corrupt("id"))
}

macro_rules! sql_verification_store {
    ($store:ident, $db:ty) => {
        mod verification_sql {
            use async_trait::async_trait;
            use sqlx::Row as _;
            use time::OffsetDateTime;
            use uslugi_app::ports::{CheckRecord, Completion, OutboxRecord, PersonalDataRecord, StoreError, StoreResult, SubmissionId, VerificationStore};
            use uslugi_domain::{AccountId, CheckStatus, Token, VerificationStatus};

            use super::$store;
            use $crate::backend;
            use $crate::sql::{count, from_ts, parse_channel, parse_id, ts};
            use $crate::sql_verification::{
                parse_check_status, parse_registry, parse_status, parse_uuid, registry_str,
            };

            type Row = <$db as sqlx::Database>::Row;

            const PERSONAL_COLUMNS: &str = "account_id, status, draft, submitted, submission_id, \
                submitted_at, verified, verified_at, addresses, registration_address, assisted_operator, \
                assisted_center, updated_at";
            const CHECK_COLUMNS: &str = "id, submission_id, account_id, registry, status, reason, \
                request, gateway_request_id, attempts, next_run_at, deadline_at, leased_until, \
                created_at, finished_at, registration_address";
            const OUTBOX_COLUMNS: &str = "id, dedupe_key, account_id, channel, recipient, subject, \
                body, created_at, next_attempt_at, attempts, leased_until, delivered_at";

            fn opt_ts(row: &Row, col: &str) -> StoreResult<Option<OffsetDateTime>> {
                row.try_get::<Option<i64>, _>(col)
                    .map_err(backend)?
                    .map(from_ts)
                    .transpose()
            }

            fn personal_from_row(row: &Row) -> StoreResult<PersonalDataRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(PersonalDataRecord {
                    account_id: parse_id(&row.try_get::<String, _>("account_id").map_err(get)?)?,
                    status: parse_status(&row.try_get::<String, _>("status").map_err(get)?)?,
                    draft: row.try_get("draft").map_err(get)?,
                    submitted: row.try_get("submitted").map_err(get)?,
                    submission_id: row
                        .try_get::<Option<String>, _>("submission_id")
                        .map_err(get)?
                        .as_deref()
                        .map(parse_uuid)
                        .transpose()?,
                    submitted_at: opt_ts(row, "submitted_at")?,
                    verified: row.try_get("verified").map_err(get)?,
                    verified_at: opt_ts(row, "verified_at")?,
                    addresses: row.try_get("addresses").map_err(get)?,
                    registration_address: row.try_get("registration_address").map_err(get)?,
                    assisted: match (
                        row.try_get::<Option<String>, _>("assisted_operator").map_err(get)?,
                        row.try_get::<Option<String>, _>("assisted_center").map_err(get)?,
                    ) {
                        (Some(op), Some(center)) => Some(uslugi_app::ports::Assisted {
                            operator_id: parse_id(&op)?,
                            center_id: center,
                        }),
                        _ => None,
                    },
                    updated_at: from_ts(row.try_get("updated_at").map_err(get)?)?,
                })
            }

            fn check_from_row(row: &Row) -> StoreResult<CheckRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(CheckRecord {
                    id: parse_uuid(&row.try_get::<String, _>("id").map_err(get)?)?,
                    submission_id: parse_uuid(
                        &row.try_get::<String, _>("submission_id").map_err(get)?,
                    )?,
                    account_id: parse_id(&row.try_get::<String, _>("account_id").map_err(get)?)?,
                    registry: parse_registry(&row.try_get::<String, _>("registry").map_err(get)?)?,
                    status: parse_check_status(&row.try_get::<String, _>("status").map_err(get)?)?,
                    reason: row.try_get("reason").map_err(get)?,
                    request: row.try_get("request").map_err(get)?,
                    gateway_request_id: row.try_get("gateway_request_id").map_err(get)?,
                    attempts: count(row.try_get("attempts").map_err(get)?),
                    next_run_at: from_ts(row.try_get("next_run_at").map_err(get)?)?,
                    deadline_at: from_ts(row.try_get("deadline_at").map_err(get)?)?,
                    leased_until: opt_ts(row, "leased_until")?,
                    created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                    finished_at: opt_ts(row, "finished_at")?,
                    registration_address: row.try_get("registration_address").map_err(get)?,
                })
            }

            fn outbox_from_row(row: &Row) -> StoreResult<OutboxRecord> {
                let get = |e: sqlx::Error| backend(e);
                Ok(OutboxRecord {
                    id: parse_uuid(&row.try_get::<String, _>("id").map_err(get)?)?,
                    dedupe_key: row.try_get("dedupe_key").map_err(get)?,
                    account_id: row
                        .try_get::<Option<String>, _>("account_id")
                        .map_err(get)?
                        .as_deref()
                        .map(parse_id)
                        .transpose()?,
                    channel: parse_channel(&row.try_get::<String, _>("channel").map_err(get)?)?,
                    recipient: row.try_get("recipient").map_err(get)?,
                    subject: row.try_get("subject").map_err(get)?,
                    body: row.try_get("body").map_err(get)?,
                    created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                    next_attempt_at: from_ts(row.try_get("next_attempt_at").map_err(get)?)?,
                    attempts: count(row.try_get("attempts").map_err(get)?),
                    leased_until: opt_ts(row, "leased_until")?,
                    delivered_at: opt_ts(row, "delivered_at")?,
                })
            }

            impl $store {
                /// Up to `limit` values of a sealed column, by key after `after`.
                pub(crate) async fn sealed_values_page(
                    &self,
                    c: &crate::SealedColumn,
                    after: &str,
                    limit: u32,
                ) -> StoreResult<Vec<(String, Vec<u8>)>> {
                    let c = $crate::sql_verification::known_column(c)?;
                    let sql = format!(
                        "SELECT {key}, {column} FROM {table} WHERE {key} > $1 AND {column} IS NOT NULL \
                         AND length({column}) > 0 ORDER BY {key} LIMIT $2",
                        key = c.key,
                        column = c.column,
                        table = c.table
                    );
                    sqlx::query(&sql)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(|r| {
                            Ok((
                                r.try_get::<String, _>(0).map_err(backend)?,
                                r.try_get::<Vec<u8>, _>(1).map_err(backend)?,
                            ))
                        })
                        .collect()
                }

                /// Replaces a sealed value if it is still `old`, so a change made
                /// meanwhile is never overwritten.
                pub(crate) async fn replace_sealed_value(
                    &self,
                    c: &crate::SealedColumn,
                    key: &str,
                    old: &[u8],
                    new: &[u8],
                ) -> StoreResult<bool> {
                    let c = $crate::sql_verification::known_column(c)?;
                    self.replace_if_unchanged((c.table, c.key, c.column), key, old, new)
                        .await
                }

                /// Sets `column` of the row whose `key_column` is `key` to
                /// `new` if it is still `old`. The names come from the known
                /// lists only (`known_column`, `known_index`).
                async fn replace_if_unchanged(
                    &self,
                    (table, key_column, column): (&str, &str, &str),
                    key: &str,
                    old: &[u8],
                    new: &[u8],
                ) -> StoreResult<bool> {
                    let sql = format!(
                        "UPDATE {table} SET {column} = $3 WHERE {key_column} = $1 AND {column} = $2"
                    );
                    let done = sqlx::query(&sql)
                        .bind(key)
                        .bind(old)
                        .bind(new)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                pub(crate) async fn blind_index_page(
                    &self,
                    c: &crate::BlindIndexColumn,
                    after: &str,
                    limit: u32,
                ) -> StoreResult<Vec<$crate::BlindIndexRow>> {
                    let c = $crate::sql_verification::known_index(c)?;
                    let sql = format!(
                        "SELECT t.{key}, t.{column}, s.{source} FROM {table} t \
                         LEFT JOIN {source_table} s ON s.{source_key} = t.{key} \
                         WHERE t.{key} > $1 AND t.{column} IS NOT NULL ORDER BY t.{key} LIMIT $2",
                        key = c.key,
                        column = c.column,
                        table = c.table,
                        source = c.source_column,
                        source_table = c.source_table,
                        source_key = c.source_key,
                    );
                    sqlx::query(&sql)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(|r| {
                            Ok((
                                r.try_get::<String, _>(0).map_err(backend)?,
                                r.try_get::<Vec<u8>, _>(1).map_err(backend)?,
                                r.try_get::<Option<Vec<u8>>, _>(2).map_err(backend)?,
                            ))
                        })
                        .collect()
                }

                pub(crate) async fn replace_blind_index_value(
                    &self,
                    c: &crate::BlindIndexColumn,
                    key: &str,
                    old: &[u8],
                    new: &[u8],
                ) -> StoreResult<bool> {
                    let c = $crate::sql_verification::known_index(c)?;
                    self.replace_if_unchanged((c.table, c.key, c.column), key, old, new)
                        .await
                }

                pub(crate) async fn sealing_format_now(&self) -> StoreResult<i64> {
                    sqlx::query_scalar::<_, i64>("SELECT MAX(format) FROM sealing_format")
                        .fetch_one(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)
                }

                pub(crate) async fn raise_sealing_format(&self, format: i64) -> StoreResult<()> {
                    sqlx::query("UPDATE sealing_format SET format = $1 WHERE format < $1")
                        .bind(format)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }
            }

            /// Marks the account's personal data as submitted and under check,
            /// inside the caller's transaction; `Conflict(Other)` when a
            /// submission is in progress already.
            pub(crate) async fn mark_submitted(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                submission_id: SubmissionId,
                submitted: &[u8],
                assisted: Option<&uslugi_app::ports::Assisted>,
                at: OffsetDateTime,
            ) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE personal_data SET status = 'in_progress', draft = NULL, \
                     submitted = $2, submission_id = $3, submitted_at = $4, updated_at = $4, \
                     assisted_operator = $5, assisted_center = $6 \
                     WHERE account_id = $1 AND status <> 'in_progress'",
                )
                .bind(account.to_string())
                .bind(submitted)
                .bind(submission_id.to_string())
                .bind(ts(at))
                .bind(assisted.map(|a| a.operator_id.to_string()))
                .bind(assisted.map(|a| a.center_id.clone()))
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict(uslugi_app::ports::UniqueField::Other));
                }
                Ok(())
            }

            pub(crate) async fn insert_checks(
                tx: &mut sqlx::Transaction<'_, $db>,
                checks: &[CheckRecord],
            ) -> StoreResult<()> {
                for c in checks {
                    sqlx::query(
                        "INSERT INTO checks (id, submission_id, account_id, registry, status, \
                         reason, request, gateway_request_id, attempts, next_run_at, \
                         deadline_at, leased_until, created_at, finished_at, registration_address) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(c.id.to_string())
                    .bind(c.submission_id.to_string())
                    .bind(c.account_id.to_string())
                    .bind(registry_str(c.registry))
                    .bind(c.status.as_str())
                    .bind(&c.reason)
                    .bind(&c.request)
                    .bind(&c.gateway_request_id)
                    .bind(i64::from(c.attempts))
                    .bind(ts(c.next_run_at))
                    .bind(ts(c.deadline_at))
                    .bind(c.leased_until.map(ts))
                    .bind(ts(c.created_at))
                    .bind(c.finished_at.map(ts))
                    .bind(&c.registration_address)
                    .execute(&mut **tx)
                    .await
                    .map_err(backend)?;
                }
                Ok(())
            }

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

            #[async_trait]
            impl uslugi_app::ports::CenterStore for $store {
                async fn upsert_centers(
                    &self,
                    centers: &[uslugi_app::ports::CenterRecord],
                    at: OffsetDateTime,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    for c in centers {
                        sqlx::query(
                            "INSERT INTO service_centers (id, region, data, updated_at) \
                             VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (id) DO UPDATE SET region = $2, data = $3, updated_at = $4",
                        )
                        .bind(&c.id)
                        .bind(&c.region)
                        .bind(&c.json)
                        .bind(ts(at))
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    }
                    tx.commit().await.map_err(backend)
                }

                async fn all_centers(&self) -> StoreResult<Vec<uslugi_app::ports::CenterRecord>> {
                    sqlx::query("SELECT id, region, data FROM service_centers ORDER BY id")
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(|r| {
                            Ok(uslugi_app::ports::CenterRecord {
                                id: r.try_get("id").map_err(backend)?,
                                region: r.try_get("region").map_err(backend)?,
                                json: r.try_get("data").map_err(backend)?,
                            })
                        })
                        .collect()
                }
            }

            #[async_trait]
            impl VerificationStore for $store {
                async fn personal_data(
                    &self,
                    account: AccountId,
                ) -> StoreResult<Option<PersonalDataRecord>> {
                    let sql =
                        format!("SELECT {PERSONAL_COLUMNS} FROM personal_data WHERE account_id = $1");
                    sqlx::query(&sql)
                        .bind(account.to_string())
                        .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .as_ref()
                        .map(personal_from_row)
                        .transpose()
                }

                async fn save_draft(
                    &self,
                    account: AccountId,
                    draft: &[u8],
                    at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO personal_data (account_id, status, draft, updated_at) \
                         VALUES ($1, 'draft', $2, $3) \
                         ON CONFLICT (account_id) DO UPDATE SET draft = $2, updated_at = $3",
                    )
                    .bind(account.to_string())
                    .bind(draft)
                    .bind(ts(at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn save_addresses(
                    &self,
                    account: AccountId,
                    addresses: &[u8],
                    at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO personal_data (account_id, status, addresses, updated_at) \
                         VALUES ($1, 'draft', $2, $3) \
                         ON CONFLICT (account_id) DO UPDATE SET addresses = $2, updated_at = $3",
                    )
                    .bind(account.to_string())
                    .bind(addresses)
                    .bind(ts(at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn submit_personal_data(
                    &self,
                    account: AccountId,
                    submission_id: SubmissionId,
                    submitted: &[u8],
                    checks: &[CheckRecord],
                    assisted: Option<&uslugi_app::ports::Assisted>,
                    at: OffsetDateTime,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO personal_data (account_id, status, updated_at) \
                         VALUES ($1, 'draft', $2) ON CONFLICT (account_id) DO NOTHING",
                    )
                    .bind(account.to_string())
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    mark_submitted(&mut tx, account, submission_id, submitted, assisted, at).await?;
                    insert_checks(&mut tx, checks).await?;
                    tx.commit().await.map_err(backend)
                }

                async fn checks_of_submission(
                    &self,
                    id: SubmissionId,
                ) -> StoreResult<Vec<CheckRecord>> {
                    let sql = format!(
                        "SELECT {CHECK_COLUMNS} FROM checks WHERE submission_id = $1 ORDER BY registry DESC"
                    );
                    sqlx::query(&sql)
                        .bind(id.to_string())
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(check_from_row)
                        .collect()
                }

                async fn has_due_work(&self, now: OffsetDateTime) -> StoreResult<bool> {
                    sqlx::query_scalar::<_, bool>(
                        "SELECT (EXISTS (SELECT 1 FROM checks \
                             WHERE status IN ('pending', 'retrying') AND next_run_at <= $1 \
                             AND (leased_until IS NULL OR leased_until <= $1)) \
                         OR EXISTS (SELECT 1 FROM outbox WHERE delivered_at IS NULL \
                             AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until <= $1)) \
                         OR EXISTS (SELECT 1 FROM identity_letters WHERE status = 'queued' \
                             AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until <= $1)) \
                         OR EXISTS (SELECT 1 FROM personal_data p WHERE p.status = 'in_progress' \
                             AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.submission_id = p.submission_id \
                             AND c.status IN ('pending', 'retrying'))))",
                    )
                    .bind(ts(now))
                    .fetch_one(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)
                }

                async fn lease_due_checks(
                    &self,
                    now: OffsetDateTime,
                    lease_until: OffsetDateTime,
                    limit: u32,
                ) -> StoreResult<Vec<CheckRecord>> {
                    let sql = format!(
                        "UPDATE checks SET leased_until = $1 \
                         WHERE id IN (SELECT id FROM checks \
                             WHERE status IN ('pending', 'retrying') AND next_run_at <= $2 \
                             AND (leased_until IS NULL OR leased_until <= $2) \
                             ORDER BY next_run_at LIMIT $3) \
                         AND status IN ('pending', 'retrying') \
                         AND (leased_until IS NULL OR leased_until <= $2) \
                         RETURNING {CHECK_COLUMNS}"
                    );
                    sqlx::query(&sql)
                        .bind(ts(lease_until))
                        .bind(ts(now))
                        .bind(i64::from(limit))
                        .fetch_all(&self.write)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(check_from_row)
                        .collect()
                }

                async fn record_gateway_request(
                    &self,
                    check: uuid::Uuid,
                    gateway_request_id: Option<&str>,
                ) -> StoreResult<()> {
                    sqlx::query("UPDATE checks SET gateway_request_id = $2 WHERE id = $1")
                        .bind(check.to_string())
                        .bind(gateway_request_id)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn reschedule_check(
                    &self,
                    check: uuid::Uuid,
                    status: CheckStatus,
                    attempts: u32,
                    next_run_at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE checks SET status = $2, attempts = $3, next_run_at = $4, \
                         leased_until = NULL WHERE id = $1 AND status IN ('pending', 'retrying')",
                    )
                    .bind(check.to_string())
                    .bind(status.as_str())
                    .bind(i64::from(attempts))
                    .bind(ts(next_run_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn finish_check(
                    &self,
                    check: uuid::Uuid,
                    status: CheckStatus,
                    reason: Option<&str>,
                    registration_address: Option<&[u8]>,
                    at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE checks SET status = $2, reason = $3, finished_at = $4, \
                         registration_address = $5, leased_until = NULL \
                         WHERE id = $1 AND status IN ('pending', 'retrying')",
                    )
                    .bind(check.to_string())
                    .bind(status.as_str())
                    .bind(reason)
                    .bind(ts(at))
                    .bind(registration_address)
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn submissions_to_complete(
                    &self,
                    limit: u32,
                ) -> StoreResult<Vec<(AccountId, SubmissionId)>> {
                    let rows = sqlx::query(
                        "SELECT p.account_id, p.submission_id FROM personal_data p \
                         WHERE p.status = 'in_progress' AND NOT EXISTS (SELECT 1 FROM checks c \
                             WHERE c.submission_id = p.submission_id \
                             AND c.status IN ('pending', 'retrying')) \
                         LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    rows.iter()
                        .map(|r| {
                            Ok((
                                parse_id(&r.try_get::<String, _>("account_id").map_err(backend)?)?,
                                parse_uuid(
                                    &r.try_get::<String, _>("submission_id").map_err(backend)?,
                                )?,
                            ))
                        })
                        .collect()
                }

                async fn complete_submission(&self, c: &Completion) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let verified = c.status == VerificationStatus::Verified;
                    let done = sqlx::query(
                        "UPDATE personal_data SET status = $3, \
                         verified = CASE WHEN $4 THEN submitted ELSE verified END, \
                         verified_at = CASE WHEN $4 THEN $5 ELSE verified_at END, updated_at = $5 \
                         WHERE account_id = $1 AND submission_id = $2 AND status = 'in_progress'",
                    )
                    .bind(c.account_id.to_string())
                    .bind(c.submission_id.to_string())
                    .bind(c.status.as_str())
                    .bind(verified)
                    .bind(ts(c.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    if let Some(v) = &c.verified {
                        // The ministry's address follows the data in force,
                        // and so does its absence.
                        sqlx::query(
                            "UPDATE personal_data SET registration_address = $2 WHERE account_id = $1",
                        )
                        .bind(c.account_id.to_string())
                        .bind(&v.registration_address)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                        sqlx::query(
                            "UPDATE accounts SET surname = $2, given_name = $3, snils_index = $4, \
                             passport_index = $5, \
                             level = CASE WHEN level = 'simplified' THEN 'standard' ELSE level END, \
                             updated_at = $6 WHERE id = $1",
                        )
                        .bind(c.account_id.to_string())
                        .bind(&v.surname)
                        .bind(&v.given_name)
                        .bind(&v.snils_index)
                        .bind(&v.passport_index)
                        .bind(ts(c.at))
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                        if let Some(p) = &c.in_person {
                            // Registered at a center: the identity was proven
                            // there, and the first password is a temporary one.
                            super::operators_sql::mark_confirmed(
                                &mut tx,
                                &c.account_id.to_string(),
                                uslugi_domain::ConfirmedVia::Center,
                                c.at,
                            )
                            .await?;
                            sqlx::query(
                                "UPDATE accounts SET password_hash = $2, \
                                 must_change_password = $3, password_expires_at = $4 WHERE id = $1",
                            )
                            .bind(c.account_id.to_string())
                            .bind(&p.hash)
                            .bind(true)
                            .bind(ts(p.expires_at))
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                        }
                    }
                    if let Some(m) = &c.message {
                        insert_outbox(&mut tx, m).await?;
                    }
                    if let Some(a) = &c.audit {
                        super::operators_sql::append_audit(&mut tx, a).await?;
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn lease_outbox(
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
                         RETURNING {OUTBOX_COLUMNS}"
                    );
                    sqlx::query(&sql)
                        .bind(ts(lease_until))
                        .bind(ts(now))
                        .bind(i64::from(limit))
                        .fetch_all(&self.write)
                        .await
                        .map_err(backend)?
                        .iter()
                        .map(outbox_from_row)
                        .collect()
                }

                async fn mark_outbox_delivered(
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

                async fn wipe_delivered_outbox_bodies(
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

                async fn reschedule_outbox(
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
