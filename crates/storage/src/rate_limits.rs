//! Sliding-window rate limits kept in the database, so they hold across
//! nodes. The engine module supplies `lock_rate_key`, which serialises the
//! checks of one key.

macro_rules! rate_limits_sql {
    ($store:ident, $db:ty) => {
        mod rate_limits {
            use async_trait::async_trait;
            use time::{Duration, OffsetDateTime};
            use uslugi_app::ports::{RateDecision, RateLimitStore, StoreResult};

            use super::$store;
            use $crate::backend;
            use $crate::rows::{from_ts, ts};

            #[async_trait]
            impl RateLimitStore for $store {
                async fn hit_rate_limit(
                    &self,
                    bucket: &str,
                    key: &[u8],
                    now: OffsetDateTime,
                    window: Duration,
                    limit: u32,
                ) -> StoreResult<RateDecision> {
                    let since = ts(now - window);
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    Self::lock_rate_key(&mut tx, bucket, key).await.map_err(backend)?;
                    // Counting and recording in one statement, under the key's
                    // lock, so concurrent requests cannot both take the last slot.
                    let done = sqlx::query(
                        "INSERT INTO rate_events (bucket, key, at) SELECT $1, $2, $3 \
                         WHERE (SELECT COUNT(*) FROM rate_events WHERE bucket = $4 AND key = $5 AND at > $6) < $7",
                    )
                    .bind(bucket)
                    .bind(key)
                    .bind(ts(now))
                    .bind(bucket)
                    .bind(key)
                    .bind(since)
                    .bind(i64::from(limit))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let decision = if done.rows_affected() == 1 {
                        RateDecision::Allowed
                    } else {
                        let oldest: Option<i64> = sqlx::query_scalar(
                            "SELECT MIN(at) FROM rate_events WHERE bucket = $1 AND key = $2 AND at > $3",
                        )
                        .bind(bucket)
                        .bind(key)
                        .bind(since)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(backend)?;
                        let oldest = oldest.map(from_ts).transpose()?.unwrap_or(now);
                        RateDecision::Refused {
                            retry_at: (oldest + window).max(now + Duration::SECOND),
                        }
                    };
                    tx.commit().await.map_err(backend)?;
                    Ok(decision)
                }

                async fn purge_rate_events(&self, before: OffsetDateTime) -> StoreResult<u64> {
                    let done = sqlx::query("DELETE FROM rate_events WHERE at < $1")
                        .bind(ts(before))
                        .execute(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}
