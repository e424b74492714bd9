//! The citizen's own deletion of the account: the request (the factor's
//! proof spent, every session ended) and the erasure once the grace is
//! over, which a login in between cancels by deleting the row.

macro_rules! deletions_sql {
    ($store:ident, $db:ty) => {
        mod deletions {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{
                AuditWrite, DeletionRequest, DeletionStore, PendingDeletion, StoreResult,
            };
            use uslugi_domain::AccountId;

            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::second_factor::spend_proof;
            use super::shared::changed_one;
            use super::$store;
            use $crate::backend;
            use $crate::rows::{from_ts, parse_id, ts};

            #[async_trait]
            impl DeletionStore for $store {
                async fn schedule_deletion(&self, r: &DeletionRequest) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    if let Some((challenge, proof)) = &r.proof
                        && !spend_proof(&mut tx, r.account_id, *challenge, proof, r.requested_at)
                            .await?
                    {
                        return Ok(false);
                    }
                    let recorded = sqlx::query(
                        "INSERT INTO account_deletions (account_id, requested_at, erase_after) \
                         VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING",
                    )
                    .bind(r.account_id.to_string())
                    .bind(ts(r.requested_at))
                    .bind(ts(r.erase_after));
                    if !changed_one(recorded, &mut *tx).await? {
                        return Ok(false);
                    }
                    sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                        .bind(r.account_id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    for m in &r.notices {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, &r.audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn pending_deletion(
                    &self,
                    account: AccountId,
                ) -> StoreResult<Option<PendingDeletion>> {
                    let row: Option<(i64, i64)> = sqlx::query_as(
                        "SELECT requested_at, erase_after FROM account_deletions \
                         WHERE account_id = $1",
                    )
                    .bind(account.to_string())
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    row.map(|(requested_at, erase_after)| {
                        Ok(PendingDeletion {
                            requested_at: from_ts(requested_at)?,
                            erase_after: from_ts(erase_after)?,
                        })
                    })
                    .transpose()
                }

                async fn due_deletions(
                    &self,
                    now: OffsetDateTime,
                    limit: u32,
                ) -> StoreResult<Vec<AccountId>> {
                    let ids: Vec<String> = sqlx::query_scalar(
                        "SELECT account_id FROM account_deletions WHERE erase_after <= $1 \
                         ORDER BY erase_after LIMIT $2",
                    )
                    .bind(ts(now))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    ids.iter().map(|id| parse_id(id)).collect()
                }

                async fn erase_if_due(
                    &self,
                    account: AccountId,
                    now: OffsetDateTime,
                    audit: &AuditWrite,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    // The row first: a login that cancelled the deletion
                    // meanwhile deleted it, and then nothing is erased.
                    let due = sqlx::query(
                        "DELETE FROM account_deletions WHERE account_id = $1 AND erase_after <= $2",
                    )
                    .bind(account.to_string())
                    .bind(ts(now));
                    if !changed_one(due, &mut *tx).await? {
                        return Ok(false);
                    }
                    // Every table of the account's rows references it ON
                    // DELETE CASCADE, as for `delete_account`.
                    let erased =
                        sqlx::query("DELETE FROM accounts WHERE id = $1").bind(account.to_string());
                    if !changed_one(erased, &mut *tx).await? {
                        return Ok(false);
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }
            }
        }
    };
}
