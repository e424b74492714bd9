//! Personal data and their checks in the registries: the draft, the
//! submission and its checks written in one transaction, the checks leased
//! to one worker at a time (see `outbox.rs` for how a lease is taken), and
//! the completion that applies the registries' answer once.

use uslugi_app::ports::{Assisted, CheckRecord, PersonalDataRecord, StoreError, StoreResult};
use uslugi_app::registries::Registry;

use crate::rows::{corrupt, count, from_ts, opt_id, opt_ts, parse_id, parse_uuid, token};

pub(crate) const PERSONAL_COLUMNS: &str = "account_id, status, draft, submitted, \
    submission_id, submitted_at, verified, verified_at, addresses, registration_address, \
    assisted_operator, assisted_center, updated_at";

pub(crate) const CHECK_COLUMNS: &str = "id, submission_id, account_id, registry, status, \
    reason, request, gateway_request_id, attempts, next_run_at, deadline_at, leased_until, \
    created_at, finished_at, registration_address";

pub(crate) fn registry_str(r: Registry) -> &'static str {
    match r {
        Registry::Sfr => "sfr",
        Registry::Mvd => "mvd",
    }
}

fn parse_registry(s: &str) -> StoreResult<Registry> {
    match s {
        "sfr" => Ok(Registry::Sfr),
        "mvd" => Ok(Registry::Mvd),
        _ => Err(corrupt("registry")),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonalDataRow {
    account_id: String,
    status: String,
    draft: Option<Vec<u8>>,
    submitted: Option<Vec<u8>>,
    submission_id: Option<String>,
    submitted_at: Option<i64>,
    verified: Option<Vec<u8>>,
    verified_at: Option<i64>,
    addresses: Option<Vec<u8>>,
    registration_address: Option<Vec<u8>>,
    assisted_operator: Option<String>,
    assisted_center: Option<String>,
    updated_at: i64,
}

impl TryFrom<PersonalDataRow> for PersonalDataRecord {
    type Error = StoreError;

    fn try_from(r: PersonalDataRow) -> Result<Self, StoreError> {
        Ok(Self {
            account_id: parse_id(&r.account_id)?,
            status: token(&r.status, "verification status")?,
            draft: r.draft,
            submitted: r.submitted,
            submission_id: r.submission_id.as_deref().map(parse_uuid).transpose()?,
            submitted_at: opt_ts(r.submitted_at)?,
            verified: r.verified,
            verified_at: opt_ts(r.verified_at)?,
            addresses: r.addresses,
            registration_address: r.registration_address,
            assisted: match (opt_id(r.assisted_operator)?, r.assisted_center) {
                (Some(operator_id), Some(center_id)) => Some(Assisted {
                    operator_id,
                    center_id,
                }),
                _ => None,
            },
            updated_at: from_ts(r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CheckRow {
    id: String,
    submission_id: String,
    account_id: String,
    registry: String,
    status: String,
    reason: Option<String>,
    request: Vec<u8>,
    gateway_request_id: Option<String>,
    attempts: i64,
    next_run_at: i64,
    deadline_at: i64,
    leased_until: Option<i64>,
    created_at: i64,
    finished_at: Option<i64>,
    registration_address: Option<Vec<u8>>,
}

impl TryFrom<CheckRow> for CheckRecord {
    type Error = StoreError;

    fn try_from(r: CheckRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_uuid(&r.id)?,
            submission_id: parse_uuid(&r.submission_id)?,
            account_id: parse_id(&r.account_id)?,
            registry: parse_registry(&r.registry)?,
            status: token(&r.status, "check status")?,
            reason: r.reason,
            request: r.request,
            gateway_request_id: r.gateway_request_id,
            attempts: count(r.attempts),
            next_run_at: from_ts(r.next_run_at)?,
            deadline_at: from_ts(r.deadline_at)?,
            leased_until: opt_ts(r.leased_until)?,
            created_at: from_ts(r.created_at)?,
            finished_at: opt_ts(r.finished_at)?,
            registration_address: r.registration_address,
        })
    }
}

/// A submission whose checks have all closed.
#[derive(sqlx::FromRow)]
pub(crate) struct DoneSubmissionRow {
    account_id: String,
    submission_id: String,
}

impl TryFrom<DoneSubmissionRow> for (uslugi_domain::AccountId, uslugi_app::ports::SubmissionId) {
    type Error = StoreError;

    fn try_from(r: DoneSubmissionRow) -> Result<Self, StoreError> {
        Ok((parse_id(&r.account_id)?, parse_uuid(&r.submission_id)?))
    }
}

macro_rules! verification_sql {
    ($store:ident, $db:ty) => {
        mod verification {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{CheckRecord, Completion, OutboxRecord, PersonalDataRecord, StoreError, StoreResult, SubmissionId, VerificationStore};
            use uslugi_domain::{AccountId, CheckStatus, Token, VerificationStatus};

            use super::$store;
            use super::accounts::mark_confirmed;
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::rows::ts;
            use $crate::verification::{CHECK_COLUMNS, CheckRow, DoneSubmissionRow, PERSONAL_COLUMNS, PersonalDataRow, registry_str};

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
                let query = sqlx::query(
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
                .bind(assisted.map(|a| a.center_id.clone()));
                if !changed_one(query, &mut **tx).await? {
                    return Err(StoreError::Conflict(uslugi_app::ports::UniqueField::Other));
                }
                Ok(())
            }

            /// Writes the identity the registries confirmed into the
            /// account, inside the caller's transaction: its name and blind
            /// indexes, and the standard level unless it is higher already.
            pub(crate) async fn apply_identity(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                v: &uslugi_app::ports::VerifiedIdentity,
                at: OffsetDateTime,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE accounts SET surname = $2, given_name = $3, snils_index = $4, \
                     passport_index = $5, \
                     level = CASE WHEN level = 'simplified' THEN 'standard' ELSE level END, \
                     updated_at = $6 WHERE id = $1",
                )
                .bind(account.to_string())
                .bind(&v.surname)
                .bind(&v.given_name)
                .bind(&v.snils_index)
                .bind(&v.passport_index)
                .bind(ts(at))
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
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

            #[async_trait]
            impl VerificationStore for $store {
                async fn personal_data(
                    &self,
                    account: AccountId,
                ) -> StoreResult<Option<PersonalDataRecord>> {
                    let sql =
                        format!("SELECT {PERSONAL_COLUMNS} FROM personal_data WHERE account_id = $1");
                    self.read_one(
                        sqlx::query_as::<_, PersonalDataRow>(&sql)
                            .bind(account.to_string()),
                    )
                    .await
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
                    self.read_all(sqlx::query_as::<_, CheckRow>(&sql).bind(id.to_string()))
                        .await
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
                    self.write_all(
                        sqlx::query_as::<_, CheckRow>(&sql)
                            .bind(ts(lease_until))
                            .bind(ts(now))
                            .bind(i64::from(limit)),
                    )
                    .await
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
                    let query = sqlx::query(
                        "UPDATE checks SET status = $2, reason = $3, finished_at = $4, \
                         registration_address = $5, leased_until = NULL \
                         WHERE id = $1 AND status IN ('pending', 'retrying')",
                    )
                    .bind(check.to_string())
                    .bind(status.as_str())
                    .bind(reason)
                    .bind(ts(at))
                    .bind(registration_address);
                    changed_one(query, &self.write).await
                }

                async fn submissions_to_complete(
                    &self,
                    limit: u32,
                ) -> StoreResult<Vec<(AccountId, SubmissionId)>> {
                    self.read_all(
                        sqlx::query_as::<_, DoneSubmissionRow>(
                            "SELECT p.account_id, p.submission_id FROM personal_data p \
                             WHERE p.status = 'in_progress' AND NOT EXISTS (SELECT 1 FROM checks c \
                                 WHERE c.submission_id = p.submission_id \
                                 AND c.status IN ('pending', 'retrying')) \
                             LIMIT $1",
                        )
                        .bind(i64::from(limit)),
                    )
                    .await
                }

                async fn complete_submission(&self, c: &Completion) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let verified = c.status == VerificationStatus::Verified;
                    let query = sqlx::query(
                        "UPDATE personal_data SET status = $3, \
                         verified = CASE WHEN $4 THEN submitted ELSE verified END, \
                         verified_at = CASE WHEN $4 THEN $5 ELSE verified_at END, updated_at = $5 \
                         WHERE account_id = $1 AND submission_id = $2 AND status = 'in_progress'",
                    )
                    .bind(c.account_id.to_string())
                    .bind(c.submission_id.to_string())
                    .bind(c.status.as_str())
                    .bind(verified)
                    .bind(ts(c.at));
                    if !changed_one(query, &mut *tx).await? {
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
                        apply_identity(&mut tx, c.account_id, v, c.at).await?;
                        if let Some(p) = &c.in_person {
                            // Registered at a center: the identity was proven
                            // there, and the first password is a temporary one.
                            mark_confirmed(
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
                        append_audit(&mut tx, a).await?;
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
                    self.lease_messages(now, lease_until, limit).await
                }

                async fn mark_outbox_delivered(&self, id: uuid::Uuid, at: OffsetDateTime) -> StoreResult<()> {
                    self.mark_message_delivered(id, at).await
                }

                async fn wipe_delivered_outbox_bodies(&self, before: OffsetDateTime) -> StoreResult<u64> {
                    self.wipe_delivered_bodies(before).await
                }

                async fn reschedule_outbox(
                    &self,
                    id: uuid::Uuid,
                    attempts: u32,
                    next_attempt_at: OffsetDateTime,
                ) -> StoreResult<()> {
                    self.reschedule_message(id, attempts, next_attempt_at).await
                }

                async fn abandon_outbox_message(&self, id: uuid::Uuid) -> StoreResult<()> {
                    self.abandon_message(id).await
                }
            }
        }
    };
}
