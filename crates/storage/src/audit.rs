//! The append-only audit log of security events, hash-chained: each record
//! links to the one before, and each use case writes its change and its
//! record in one transaction. The engine module supplies
//! `lock_audit_chain`, which serialises appends across nodes so the chain
//! never forks.

use uslugi_app::ports::{AuditEntry, AuditRecord, StoreError};

use crate::rows::{from_ts, opt_id, parse_uuid};

/// The hash the first record links to.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

pub(crate) const COLUMNS: &str = "seq, id, at, actor, operator_id, center_id, account_id, \
    action, outcome, details, prev_hash, hash";

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    id: String,
    at: i64,
    actor: String,
    operator_id: Option<String>,
    center_id: Option<String>,
    account_id: Option<String>,
    action: String,
    outcome: String,
    details: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;

    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(Self {
            seq: r.seq,
            entry: AuditEntry {
                id: parse_uuid(&r.id)?,
                at: from_ts(r.at)?,
                actor: r.actor,
                operator_id: opt_id(r.operator_id)?,
                center_id: r.center_id,
                account_id: opt_id(r.account_id)?,
                action: r.action,
                outcome: r.outcome,
                details: r.details,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
    }
}

macro_rules! audit_sql {
    ($store:ident, $db:ty) => {
        mod audit {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{AuditFilter, AuditRecord, AuditStore, AuditWrite, StoreResult};

            use super::$store;
            use $crate::audit::{AuditRow, COLUMNS, GENESIS};
            use $crate::backend;
            use $crate::rows::ts;

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
                        "SELECT {COLUMNS} FROM audit_log WHERE 1 = 1"
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
                    self.read_all(q.build_query_as::<AuditRow>()).await
                }

                async fn audit_chain(
                    &self,
                    from_seq: i64,
                    limit: u32,
                ) -> StoreResult<Vec<AuditRecord>> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
                    );
                    self.read_all(
                        sqlx::query_as::<_, AuditRow>(&sql)
                            .bind(from_seq)
                            .bind(i64::from(limit)),
                    )
                    .await
                }

                async fn audit_between(
                    &self,
                    since: OffsetDateTime,
                    until: OffsetDateTime,
                    after: i64,
                    limit: u32,
                ) -> StoreResult<Vec<AuditRecord>> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM audit_log WHERE at >= $1 AND at < $2 AND seq > $3 \
                         ORDER BY seq LIMIT $4"
                    );
                    self.read_all(
                        sqlx::query_as::<_, AuditRow>(&sql)
                            .bind(ts(since))
                            .bind(ts(until))
                            .bind(after)
                            .bind(i64::from(limit)),
                    )
                    .await
                }
            }
        }
    };
}
