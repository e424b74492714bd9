//! What an operator does for a person at a service center: finds their
//! accounts by passport, confirms an identity, moves a SNILS to the account
//! that proved it, sets a temporary password, registers a new account. Each
//! change, its notices and its audit record are written in one transaction.

macro_rules! in_person_sql {
    ($store:ident, $db:ty) => {
        mod in_person {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{AccountRecord, Assisted, AuditWrite, CheckRecord, InPersonStore, OutboxRecord, StoreError, StoreResult, SubmissionId, TemporaryPassword};
            use uslugi_domain::{AccountId, ConfirmedVia};

            use super::$store;
            use super::accounts::{insert_account, mark_confirmed};
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use super::verification::{apply_identity, insert_checks, mark_submitted};
            use $crate::accounts::{AccountRow, COLUMNS};
            use $crate::backend;
            use $crate::rows::ts;

            #[async_trait]
            impl InPersonStore for $store {
                async fn accounts_by_passport(&self, index: &[u8]) -> StoreResult<Vec<AccountRecord>> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM accounts WHERE passport_index = $1 ORDER BY created_at"
                    );
                    self.read_all(sqlx::query_as::<_, AccountRow>(&sql).bind(index))
                        .await
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
                    .bind(ts(t.at));
                    if !changed_one(dropped, &mut *tx).await? {
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
                    .bind(&t.verified.registration_address);
                    if !changed_one(taken, &mut *tx).await? {
                        return Ok(false);
                    }
                    apply_identity(&mut tx, t.to, &t.verified, t.at).await?;
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
                    let query = sqlx::query(
                        "UPDATE accounts SET password_hash = $2, must_change_password = $3, \
                         password_expires_at = $4, failed_logins = 0, throttled_until = NULL, \
                         locked = $5, updated_at = $6 WHERE id = $1",
                    )
                    .bind(account.to_string())
                    .bind(&password.hash)
                    .bind(true)
                    .bind(ts(password.expires_at))
                    .bind(false)
                    .bind(ts(at));
                    if !changed_one(query, &mut *tx).await? {
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
                    let query = sqlx::query(
                        "UPDATE accounts SET password_hash = $2, must_change_password = $3, \
                         password_expires_at = NULL, updated_at = $4 WHERE id = $1",
                    )
                    .bind(account.to_string())
                    .bind(password_hash)
                    .bind(false)
                    .bind(ts(at));
                    if !changed_one(query, &mut *tx).await? {
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
        }
    };
}
