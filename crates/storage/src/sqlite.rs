//! SQLite: the embedded default. One file; WAL so readers never wait for
//! the writer; `synchronous=FULL` so an acknowledged registration survives
//! a power cut. All writes go through a single connection: SQLite admits one
//! writer at a time anyway, and queueing in-process avoids the busy errors a
//! deferred transaction meets when it upgrades from reading to writing.
use std::str::FromStr;
use std::time::Duration as StdDuration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::migrate::{CREATE_MIGRATIONS_TABLE, MIGRATIONS_SQLITE, Migration};
use crate::{ConnectError, Maintenance};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self, ConnectError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(ConnectError::Open)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(StdDuration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(ConnectError::Open)?;
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
        let read = SqlitePoolOptions::new()
            .max_connections(u32::try_from(readers).unwrap_or(8))
            .connect_with(options.read_only(true))
            .await
            .map_err(ConnectError::Open)?;
        Ok(Self { read, write })
    }

    /// Nothing to do: the single writer connection already serialises every
    /// rate-limit check with its insert.
    async fn lock_rate_key(
        _tx: &mut Transaction<'_, Sqlite>,
        _bucket: &str,
        _key: &[u8],
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Writes a consistent copy of the database to `path` (`VACUUM INTO`).
    pub async fn backup_to(&self, path: &str) -> Result<(), StoreError> {
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.write)
            .await
            .map_err(crate::backend)?;
        Ok(())
    }
}

sql_store!(SqliteStore, sqlx::Sqlite);

#[async_trait]
impl Maintenance for SqliteStore {
    async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend)?;
        sqlx::query(CREATE_MIGRATIONS_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let mut applied = Vec::new();
        let pending: Vec<&Migration> = MIGRATIONS_SQLITE
            .iter()
            .filter(|m| !done.contains(&m.version))
            .collect();
        for m in pending {
            for statement in m.statements() {
                sqlx::query(&statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
            }
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            applied.push(m.version);
        }
        tx.commit().await.map_err(backend)?;
        Ok(applied)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(backend)?;
        Ok(())
    }

    fn engine(&self) -> &'static str {
        "sqlite"
    }
}
