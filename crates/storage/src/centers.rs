//! Service centers, as the directory lists them: upserted by id.

use uslugi_app::ports::CenterRecord;

#[derive(sqlx::FromRow)]
pub(crate) struct CenterRow {
    id: String,
    region: String,
    data: String,
}

impl From<CenterRow> for CenterRecord {
    fn from(r: CenterRow) -> Self {
        Self {
            id: r.id,
            region: r.region,
            json: r.data,
        }
    }
}

macro_rules! centers_sql {
    ($store:ident, $db:ty) => {
        mod centers {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{CenterRecord, CenterStore, StoreResult};

            use super::$store;
            use $crate::backend;
            use $crate::centers::CenterRow;
            use $crate::rows::ts;

            #[async_trait]
            impl CenterStore for $store {
                async fn upsert_centers(
                    &self,
                    centers: &[CenterRecord],
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

                async fn all_centers(&self) -> StoreResult<Vec<CenterRecord>> {
                    let rows: Vec<CenterRow> =
                        sqlx::query_as("SELECT id, region, data FROM service_centers ORDER BY id")
                            .fetch_all(&mut *self.reader().await.map_err(backend)?)
                            .await
                            .map_err(backend)?;
                    Ok(rows.into_iter().map(CenterRecord::from).collect())
                }
            }
        }
    };
}
