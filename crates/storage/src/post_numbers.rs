//! The tracking numbers of letters the portal prints itself, taken from the
//! range the post allocated, and the statuses the post's files report.

macro_rules! post_numbers_sql {
    ($store:ident, $db:ty) => {
        mod post_numbers {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{PostNumberStore, StatusRecorded, StoreResult};
            use uslugi_domain::{PostStatus, Token, TrackingNumber, TrackingRange};

            use super::shared::changed_one;
            use super::$store;
            use $crate::backend;
            use $crate::rows::{corrupt, count, token, ts};

            #[async_trait]
            impl PostNumberStore for $store {
                async fn take_post_number(
                    &self,
                    key: &str,
                    range: &TrackingRange,
                    at: OffsetDateTime,
                ) -> StoreResult<Option<TrackingNumber>> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    // Two letters at once, on two nodes, must not both
                    // find the same highest serial.
                    $store::lock_rate_key(&mut tx, "post-range", range.prefix().as_bytes())
                        .await
                        .map_err(backend)?;
                    let taken: Option<(String, i64)> = sqlx::query_as(
                        "SELECT prefix, serial FROM post_numbers WHERE letter_key = $1",
                    )
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if let Some((prefix, serial)) = taken {
                        // Handed over before (a crash after the number was
                        // taken): the same number, even from an older range.
                        return u32::try_from(serial)
                            .ok()
                            .and_then(|s| TrackingNumber::of(&prefix, s))
                            .map(Some)
                            .ok_or_else(|| corrupt("tracking number"));
                    }
                    let highest: Option<i64> = sqlx::query_scalar(
                        "SELECT MAX(serial) FROM post_numbers \
                         WHERE prefix = $1 AND serial >= $2 AND serial <= $3",
                    )
                    .bind(range.prefix())
                    .bind(i64::from(range.start()))
                    .bind(i64::from(range.end()))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let next = highest.map_or(range.start(), |h| count(h).saturating_add(1));
                    let Some(number) = range.number(next) else {
                        return Ok(None);
                    };
                    sqlx::query(
                        "INSERT INTO post_numbers (letter_key, prefix, serial, status, status_at, \
                         created_at) VALUES ($1, $2, $3, $4, $5, $5)",
                    )
                    .bind(key)
                    .bind(range.prefix())
                    .bind(i64::from(next))
                    .bind(PostStatus::Accepted.as_str())
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    Ok(Some(number))
                }

                async fn post_numbers_left(&self, range: &TrackingRange) -> StoreResult<u32> {
                    let taken: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM post_numbers \
                         WHERE prefix = $1 AND serial >= $2 AND serial <= $3",
                    )
                    .bind(range.prefix())
                    .bind(i64::from(range.start()))
                    .bind(i64::from(range.end()))
                    .fetch_one(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    Ok(range.count().saturating_sub(count(taken)))
                }

                async fn post_status(
                    &self,
                    number: &TrackingNumber,
                ) -> StoreResult<Option<PostStatus>> {
                    let status: Option<String> = sqlx::query_scalar(
                        "SELECT status FROM post_numbers WHERE prefix = $1 AND serial = $2",
                    )
                    .bind(number.prefix())
                    .bind(i64::from(number.serial()))
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    status.map(|s| token(&s, "post status")).transpose()
                }

                async fn record_post_status(
                    &self,
                    number: &TrackingNumber,
                    status: PostStatus,
                    at: OffsetDateTime,
                ) -> StoreResult<StatusRecorded> {
                    let query = sqlx::query(
                        "UPDATE post_numbers SET status = $3, status_at = $4 \
                         WHERE prefix = $1 AND serial = $2 AND status_at < $4",
                    )
                    .bind(number.prefix())
                    .bind(i64::from(number.serial()))
                    .bind(status.as_str())
                    .bind(ts(at));
                    if changed_one(query, &self.write).await? {
                        return Ok(StatusRecorded::Applied);
                    }
                    let known: Option<i64> = sqlx::query_scalar(
                        "SELECT serial FROM post_numbers WHERE prefix = $1 AND serial = $2",
                    )
                    .bind(number.prefix())
                    .bind(i64::from(number.serial()))
                    .fetch_optional(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(if known.is_some() {
                        StatusRecorded::Stale
                    } else {
                        StatusRecorded::Unknown
                    })
                }
            }
        }
    };
}
