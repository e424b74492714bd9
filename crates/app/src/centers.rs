//! The service centers: search for the public page and the API, import and
//! export for operators of the portal.
use std::sync::{Arc, RwLock};

use time::{Duration, OffsetDateTime};
use uslugi_domain::{CenterError, CenterService, ServiceCenter, center::fold};

use crate::accounts::InternalError;
use crate::clock::Clock;
use crate::ports::CenterRecord;

/// What a person searches by; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CenterQuery {
    /// Exactly one of the regions, as listed.
    pub region: Option<String>,
    /// Words to find in the name, locality, region or address.
    pub text: Option<String>,
    pub service: Option<CenterService>,
    pub open_now: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Invalid(#[from] CenterError),
    #[error("center {0} appears twice")]
    Duplicate(String),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// How long a node serves the list from memory before reading it again
/// (imports made on another node show within this time).
const CACHE_FOR: Duration = Duration::seconds(60);

struct Cached {
    read_at: OffsetDateTime,
    centers: Arc<Vec<ServiceCenter>>,
}

pub struct Centers {
    store: Arc<dyn crate::ports::CenterStore>,
    clock: Arc<dyn Clock>,
    cache: RwLock<Option<Cached>>,
}

impl Centers {
    pub fn new(store: Arc<dyn crate::ports::CenterStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            cache: RwLock::new(None),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Every center, by id.
    pub async fn all(&self) -> Result<Arc<Vec<ServiceCenter>>, InternalError> {
        let now = self.clock.now();
        if let Some(c) = self.cache.read().expect("cache lock").as_ref()
            && now - c.read_at < CACHE_FOR
            && c.read_at <= now
        {
            return Ok(Arc::clone(&c.centers));
        }
        let records = self.store.all_centers().await?;
        let centers: Vec<ServiceCenter> = records
            .iter()
            .map(|r| {
                serde_json::from_str(&r.json).map_err(|_| InternalError::Corrupt("service center"))
            })
            .collect::<Result<_, _>>()?;
        let centers = Arc::new(centers);
        *self.cache.write().expect("cache lock") = Some(Cached {
            read_at: now,
            centers: Arc::clone(&centers),
        });
        Ok(centers)
    }

    /// The regions that have centers, in alphabetical order.
    pub async fn regions(&self) -> Result<Vec<String>, InternalError> {
        let mut regions: Vec<String> = self.all().await?.iter().map(|c| c.region.clone()).collect();
        regions.sort();
        regions.dedup();
        Ok(regions)
    }

    /// The centers that match, by region, then locality, then name.
    pub async fn search(&self, q: &CenterQuery) -> Result<Vec<ServiceCenter>, InternalError> {
        let now = self.clock.now();
        let region = q.region.as_deref().map(fold);
        let mut found: Vec<ServiceCenter> = self
            .all()
            .await?
            .iter()
            .filter(|c| region.as_ref().is_none_or(|r| fold(&c.region) == *r))
            .filter(|c| q.text.as_deref().is_none_or(|t| c.matches_text(t)))
            .filter(|c| q.service.is_none_or(|s| c.offers(s)))
            .filter(|c| !q.open_now || c.is_open_at(now))
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (&a.region, &a.locality, &a.name, &a.id).cmp(&(&b.region, &b.locality, &b.name, &b.id))
        });
        Ok(found)
    }

    pub async fn center(&self, id: &str) -> Result<Option<ServiceCenter>, InternalError> {
        Ok(self.all().await?.iter().find(|c| c.id == id).cloned())
    }

    /// Adds or replaces the centers, all or none: every one is checked first.
    pub async fn import(&self, centers: &[ServiceCenter]) -> Result<usize, ImportError> {
        let mut ids = std::collections::HashSet::new();
        for c in centers {
            c.validate()?;
            if !ids.insert(c.id.as_str()) {
                return Err(ImportError::Duplicate(c.id.clone()));
            }
        }
        let records: Vec<CenterRecord> = centers
            .iter()
            .map(|c| CenterRecord {
                id: c.id.clone(),
                region: c.region.clone(),
                json: serde_json::to_string(c).expect("a center serialises"),
            })
            .collect();
        self.store
            .upsert_centers(&records, self.clock.now())
            .await
            .map_err(InternalError::from)?;
        *self.cache.write().expect("cache lock") = None;
        Ok(records.len())
    }

    /// Loads `centers` when there are none yet: the shipped list for the
    /// embedded default. Returns how many were loaded.
    pub async fn seed_if_empty(&self, centers: &[ServiceCenter]) -> Result<usize, ImportError> {
        if self.all().await?.is_empty() {
            self.import(centers).await
        } else {
            Ok(0)
        }
    }
}
