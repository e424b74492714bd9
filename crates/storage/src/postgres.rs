//! PostgreSQL: the scale-out engine. Several stateless nodes share one
//! cluster, so whatever must hold across nodes (migrations, rate limits) is
//! serialised in the database with advisory locks.
use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};
use uslugi_app::ports::{AccountRecord, SessionRecord, StoreError};

use crate::{ConnectError, Maintenance, backend, migrate};

/// The advisory-lock id under which migrations run ("uslugi" in ASCII).
const MIGRATION_LOCK: i64 = 0x7573_6c75_6769;
/// The advisory-lock id that serialises appends to the audit log ("audit").
const AUDIT_LOCK: i64 = 0x61_7564_6974;
/// Whether a table named `$1` exists where unqualified names go (sqlx's and
/// ours), for the migrations.
const TABLE_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_name::text = $1";

#[derive(Debug, Clone)]
pub struct PgStore {
    read: PgPool,
    write: PgPool,
}

impl PgStore {
    pub async fn open(url: &str) -> Result<Self, ConnectError> {
        let connections = std::thread::available_parallelism().map_or(8, |n| n.get() * 4);
        let pool = PgPoolOptions::new()
            .max_connections(u32::try_from(connections).unwrap_or(16))
            .connect(url)
            .await
            .map_err(ConnectError::Open)?;
        Ok(Self {
            read: pool.clone(),
            write: pool,
        })
    }

    /// A connection for one read, from the pool.
    async fn reader(&self) -> Result<sqlx::pool::PoolConnection<Postgres>, sqlx::Error> {
        self.read.acquire().await
    }

    /// Serialises rate-limit checks of one key across every node until the
    /// transaction ends. The key is already a keyed hash, so its first eight
    /// bytes are as good a lock id as any; the bucket is mixed in.
    async fn lock_rate_key(
        tx: &mut Transaction<'_, Postgres>,
        bucket: &str,
        key: &[u8],
    ) -> Result<(), sqlx::Error> {
        let mut id = [0u8; 8];
        for (i, b) in key.iter().take(8).enumerate() {
            id[i] = *b;
        }
        let mut lock = i64::from_le_bytes(id);
        for b in bucket.bytes() {
            lock = lock.rotate_left(5) ^ i64::from(b);
        }
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

impl PgStore {
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.write.begin().await
    }

    /// Appends to the audit log wait for each other across every node, so
    /// each links to the one committed before it and the chain never forks.
    async fn lock_audit_chain(tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

sql_store!(PgStore, sqlx::Postgres);

#[async_trait]
impl Maintenance for PgStore {
    async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend)?;
        // Nodes starting together wait for each other here.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let applied = migrate::run::<Postgres>(&mut tx, &migrate::postgres(), TABLE_EXISTS)
            .await
            .map_err(migrate::failed)?;
        tx.commit().await.map_err(backend)?;
        Ok(applied)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.reader().await.map_err(backend)?)
            .await
            .map_err(backend)?;
        Ok(())
    }

    fn engine(&self) -> &'static str {
        "postgres"
    }

    async fn import_accounts(&self, accounts: &[AccountRecord]) -> Result<(), StoreError> {
        self.import_accounts_in_bulk(accounts).await
    }

    async fn import_sessions(&self, sessions: &[SessionRecord]) -> Result<(), StoreError> {
        self.import_sessions_in_bulk(sessions).await
    }

    async fn sealed_values(
        &self,
        column: &crate::SealedColumn,
        after: &str,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.sealed_values_page(column, after, limit).await
    }

    async fn replace_sealed(
        &self,
        column: &crate::SealedColumn,
        key: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.replace_sealed_value(column, key, old, new).await
    }

    async fn blind_index_rows(
        &self,
        column: &crate::BlindIndexColumn,
        after: &str,
        limit: u32,
    ) -> Result<Vec<crate::BlindIndexRow>, StoreError> {
        self.blind_index_page(column, after, limit).await
    }

    async fn replace_blind_index(
        &self,
        column: &crate::BlindIndexColumn,
        key: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.replace_blind_index_value(column, key, old, new).await
    }

    async fn sealing_format(&self) -> Result<i64, StoreError> {
        self.sealing_format_now().await
    }

    async fn set_sealing_format(&self, format: i64) -> Result<(), StoreError> {
        self.raise_sealing_format(format).await
    }
}
