//! PostgreSQL: the scale-out engine. Several stateless nodes share one
//! cluster, so whatever must hold across nodes (migrations, rate limits) is
//! serialised in the database with advisory locks.
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};
use uslugi_app::ports::StoreError;

use crate::{ConnectError, backend, migrate};

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

impl PgStore {
    /// For logs and benchmarks: [`crate::Maintenance::engine`].
    const ENGINE: &'static str = "postgres";

    /// [`crate::Maintenance::pool_connections`]: reads and writes share one
    /// pool.
    fn connections_in_use(&self) -> crate::PoolConnections {
        let open = self.write.size() as usize;
        let idle = self.write.num_idle().min(open);
        crate::PoolConnections {
            busy: (open - idle) as u64,
            idle: idle as u64,
        }
    }

    /// The body of [`crate::Maintenance::backup_to`] on this engine: a
    /// PostgreSQL server is copied with its own tools, which also know its
    /// roles, replicas and point-in-time recovery.
    async fn backup_into(&self, _path: &std::path::Path) -> Result<crate::Backup, StoreError> {
        Ok(crate::Backup::ByTool("pg_dump"))
    }

    /// The body of [`crate::Maintenance::migrate`] on this engine.
    async fn run_migrations(&self) -> Result<Vec<i64>, StoreError> {
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
}
