//! [`crate::Maintenance`] on both engines: the migrations and the ping (the
//! engine supplies `run_migrations` and `ENGINE`), bulk imports (whose
//! statements live with their aggregates), and key rotation: the pages of
//! sealed values and blind indexes, each replaced only if it is unchanged
//! since it was read, and the format every sealed value has.

use uslugi_app::ports::StoreError;

use crate::{BLIND_INDEXES, BlindIndexColumn, SEALED_COLUMNS, SealedColumn};

/// Table and column names go into SQL text: only the known list may.
pub(crate) fn known_column(c: &SealedColumn) -> Result<&'static SealedColumn, StoreError> {
    SEALED_COLUMNS
        .iter()
        .find(|k| *k == c)
        .ok_or_else(|| StoreError::Backend("not a sealed column".into()))
}

/// Only the known blind indexes may be named in SQL text.
pub(crate) fn known_index(c: &BlindIndexColumn) -> Result<&'static BlindIndexColumn, StoreError> {
    BLIND_INDEXES
        .iter()
        .find(|k| *k == c)
        .ok_or_else(|| StoreError::Backend("not a blind index".into()))
}

macro_rules! maintenance_sql {
    ($store:ident, $db:ty) => {
        mod maintenance {
            use async_trait::async_trait;
            use uslugi_app::ports::{AccountRecord, SessionRecord, StoreResult};

            use super::$store;
            use super::shared::changed_one;
            use $crate::maintenance::{known_column, known_index};
            use $crate::{Maintenance, backend};

            #[async_trait]
            impl Maintenance for $store {
                async fn migrate(&self) -> StoreResult<Vec<i64>> {
                    self.run_migrations().await
                }

                async fn ping(&self) -> StoreResult<()> {
                    sqlx::query("SELECT 1")
                        .execute(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                fn engine(&self) -> &'static str {
                    Self::ENGINE
                }

                async fn backup_to(
                    &self,
                    path: &std::path::Path,
                ) -> StoreResult<$crate::Backup> {
                    self.backup_into(path).await
                }

                async fn pending_jobs(&self) -> StoreResult<$crate::PendingJobs> {
                    // One statement, so the three counts are of one moment.
                    let (checks, messages, letters): (i64, i64, i64) = sqlx::query_as(
                        "SELECT \
                         (SELECT COUNT(*) FROM checks WHERE status IN ('pending', 'retrying')), \
                         (SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL), \
                         (SELECT COUNT(*) FROM identity_letters WHERE status = 'queued' AND voided = $1)",
                    )
                    .bind(false)
                    .fetch_one(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    let count = |n: i64| u64::try_from(n).unwrap_or(0);
                    Ok($crate::PendingJobs {
                        registry_checks: count(checks),
                        messages: count(messages),
                        letters: count(letters),
                    })
                }

                fn pool_connections(&self) -> $crate::PoolConnections {
                    self.connections_in_use()
                }

                async fn import_accounts(&self, accounts: &[AccountRecord]) -> StoreResult<()> {
                    self.import_accounts_in_bulk(accounts).await
                }

                async fn import_sessions(&self, sessions: &[SessionRecord]) -> StoreResult<()> {
                    self.import_sessions_in_bulk(sessions).await
                }

                /// Up to `limit` values of a sealed column, by key after `after`.
                async fn sealed_values(
                    &self,
                    c: &$crate::SealedColumn,
                    after: &str,
                    limit: u32,
                ) -> StoreResult<Vec<(String, Vec<u8>)>> {
                    let c = known_column(c)?;
                    let sql = format!(
                        "SELECT {key}, {column} FROM {table} WHERE {key} > $1 AND {column} IS NOT NULL \
                         AND length({column}) > 0 ORDER BY {key} LIMIT $2",
                        key = c.key,
                        column = c.column,
                        table = c.table
                    );
                    sqlx::query_as(&sql)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)
                }

                /// Replaces a sealed value if it is still `old`, so a change made
                /// meanwhile is never overwritten.
                async fn replace_sealed(
                    &self,
                    c: &$crate::SealedColumn,
                    key: &str,
                    old: &[u8],
                    new: &[u8],
                ) -> StoreResult<bool> {
                    let c = known_column(c)?;
                    self.replace_if_unchanged((c.table, c.key, c.column), key, old, new)
                        .await
                }

                async fn blind_index_rows(
                    &self,
                    c: &$crate::BlindIndexColumn,
                    after: &str,
                    limit: u32,
                ) -> StoreResult<Vec<$crate::BlindIndexRow>> {
                    let c = known_index(c)?;
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
                    sqlx::query_as(&sql)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)
                }

                async fn replace_blind_index(
                    &self,
                    c: &$crate::BlindIndexColumn,
                    key: &str,
                    old: &[u8],
                    new: &[u8],
                ) -> StoreResult<bool> {
                    let c = known_index(c)?;
                    self.replace_if_unchanged((c.table, c.key, c.column), key, old, new)
                        .await
                }

                async fn sealing_format(&self) -> StoreResult<i64> {
                    sqlx::query_scalar::<_, i64>("SELECT MAX(format) FROM sealing_format")
                        .fetch_one(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)
                }

                async fn set_sealing_format(&self, format: i64) -> StoreResult<()> {
                    sqlx::query("UPDATE sealing_format SET format = $1 WHERE format < $1")
                        .bind(format)
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }
            }

            impl $store {
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
                    let query = sqlx::query(&sql)
                        .bind(key)
                        .bind(old)
                        .bind(new);
                    changed_one(query, &self.write).await
                }
            }
        }
    };
}
