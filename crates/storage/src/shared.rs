//! What the statements of every aggregate share, for one engine: running a
//! query on a reader or the writer and turning its rows into the app's
//! records, and telling whether a conditional update held.

/// The shared helpers for one engine (see [`sql_store!`]).
macro_rules! shared_sql {
    ($store:ident, $db:ty) => {
        mod shared {
            use sqlx::Database;
            use time::OffsetDateTime;
            use uslugi_app::ports::{StoreError, StoreResult};

            use super::$store;
            use $crate::backend;
            use $crate::rows::{all, one, ts};

            type Arguments<'q> = <$db as Database>::Arguments<'q>;
            type Query<'q> = sqlx::query::Query<'q, $db, Arguments<'q>>;
            type QueryAs<'q, R> = sqlx::query::QueryAs<'q, $db, R, Arguments<'q>>;

            /// A row struct of this engine (`#[derive(sqlx::FromRow)]`).
            pub(crate) trait Row:
                for<'r> sqlx::FromRow<'r, <$db as Database>::Row> + Send + Unpin
            {
            }
            impl<R: for<'r> sqlx::FromRow<'r, <$db as Database>::Row> + Send + Unpin> Row for R {}

            /// Whether `query` changed exactly one row: for the conditional
            /// updates whose condition is the check.
            pub(crate) async fn changed_one<'q, 'c, E>(query: Query<'q>, on: E) -> StoreResult<bool>
            where
                E: 'q + sqlx::Executor<'c, Database = $db>,
            {
                let done = query.execute(on).await.map_err(backend)?;
                Ok(done.rows_affected() == 1)
            }

            /// The records of the rows `query` returns on `on`, in order.
            async fn records<'q: 'e, 'e, 'c: 'e, R: Row + 'e, T, E>(
                query: QueryAs<'q, R>,
                on: E,
            ) -> StoreResult<Vec<T>>
            where
                T: TryFrom<R, Error = StoreError>,
                E: 'e + sqlx::Executor<'c, Database = $db>,
            {
                query.fetch_all(on).await.map_err(backend).and_then(all)
            }

            impl $store {
                /// The record of the row `query` selects, if any, read on a
                /// reader connection.
                pub(crate) async fn read_one<R: Row, T>(
                    &self,
                    query: QueryAs<'_, R>,
                ) -> StoreResult<Option<T>>
                where
                    T: TryFrom<R, Error = StoreError>,
                {
                    query
                        .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                        .await
                        .map_err(backend)
                        .and_then(one)
                }

                /// The records of the rows `query` selects, in their order,
                /// read on a reader connection.
                pub(crate) async fn read_all<R: Row, T>(
                    &self,
                    query: QueryAs<'_, R>,
                ) -> StoreResult<Vec<T>>
                where
                    T: TryFrom<R, Error = StoreError>,
                {
                    records(query, &mut *self.reader().await.map_err(backend)?).await
                }

                /// The records of the rows `query` (an `UPDATE … RETURNING`
                /// that leases them) returns, run on the write pool.
                pub(crate) async fn write_all<R: Row, T>(
                    &self,
                    query: QueryAs<'_, R>,
                ) -> StoreResult<Vec<T>>
                where
                    T: TryFrom<R, Error = StoreError>,
                {
                    records(query, &self.write).await
                }

                /// Deletes the rows of `table` that expired by `now`.
                pub(crate) async fn delete_expired(
                    &self,
                    table: &str,
                    now: OffsetDateTime,
                ) -> StoreResult<u64> {
                    let done = sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
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
