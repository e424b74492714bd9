//! Service centers as the portal lists them.
use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreResult;

/// A service center as stored: its JSON, and the region to search by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenterRecord {
    pub id: String,
    pub region: String,
    pub json: String,
}

#[async_trait]
pub trait CenterStore: Send + Sync {
    /// Adds or replaces these centers, all in one transaction.
    async fn upsert_centers(&self, centers: &[CenterRecord], at: OffsetDateTime)
    -> StoreResult<()>;
    /// Every center, by id.
    async fn all_centers(&self) -> StoreResult<Vec<CenterRecord>>;
}
