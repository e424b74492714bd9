//! SQLite: the embedded default. One file; WAL so readers never wait for
//! the writer; `synchronous=FULL` so an acknowledged registration survives
//! a power cut. All writes go through a single connection: SQLite admits one
//! writer at a time anyway, and queueing in-process avoids the busy errors a
//! deferred transaction meets when it upgrades from reading to writing.
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};
use uslugi_app::ports::StoreError;

use crate::{ConnectError, backend, migrate};

/// Whether a table named `$1` exists, for the migrations.
const TABLE_EXISTS: &str = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1";

#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: Arc<Readers>,
    write: SqlitePool,
}

/// The read-only connections. Not an sqlx pool: its pool pings every
/// connection it takes back (a round trip to the connection's thread, and a
/// spawned task), which on the hottest path (`GET /api/v1/me`: two reads) cost
/// as much as the queries themselves (see docs/benchmarks.md). A read that is
/// cancelled half-way leaves nothing behind: sqlx resets the statement when
/// its result is dropped, and autocommit reads hold no transaction.
#[derive(Debug)]
struct Readers {
    connections: Vec<Mutex<SqliteConnection>>,
    free: Semaphore,
    next: AtomicUsize,
}

/// One read connection, for as long as the guard lives.
struct Reader<'a> {
    connection: MutexGuard<'a, SqliteConnection>,
    _permit: SemaphorePermit<'a>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.connection
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.connection
    }
}

impl Readers {
    async fn open(options: &SqliteConnectOptions, count: usize) -> Result<Self, sqlx::Error> {
        let mut connections = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            connections.push(Mutex::new(options.connect().await?));
        }
        Ok(Self {
            free: Semaphore::new(connections.len()),
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// Waits (first come, first served) for a free connection. Holding one of
    /// as many permits as there are connections, some connection is free.
    async fn get(&self) -> Result<Reader<'_>, sqlx::Error> {
        let permit = self
            .free
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.connections.len();
        for i in 0..n {
            if let Ok(connection) = self.connections[(start + i) % n].try_lock() {
                return Ok(Reader {
                    connection,
                    _permit: permit,
                });
            }
        }
        // Unreachable by the count above; waiting is still correct.
        Ok(Reader {
            connection: self.connections[start % n].lock().await,
            _permit: permit,
        })
    }
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
        // No ping before each use (sqlx's default): a connection to a local
        // file does not go stale, and the ping is one more round trip to the
        // connection's thread for every query — measured in
        // docs/benchmarks.md. Without it, acquiring has no await point that
        // a cancelled request could interrupt and so drop the connection.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(ConnectError::Open)?;
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
        let read = Readers::open(&options.read_only(true), readers)
            .await
            .map_err(ConnectError::Open)?;
        Ok(Self {
            read: Arc::new(read),
            write,
        })
    }

    async fn reader(&self) -> Result<Reader<'_>, sqlx::Error> {
        self.read.get().await
    }

    /// A write transaction that takes SQLite's write lock at once. A deferred
    /// one that reads first and writes later cannot wait for a lock held by
    /// another process (an `uslugi admin` command beside `serve`): SQLite
    /// answers "database is locked" at once instead of using the busy
    /// timeout. Taken up front, the lock waits its turn.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.write.begin_with("BEGIN IMMEDIATE").await
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

    /// Nothing to do: the single writer connection already serialises the
    /// appends to the audit log.
    async fn lock_audit_chain(_tx: &mut Transaction<'_, Sqlite>) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// [`crate::Maintenance::pool_connections`]: the readers, whose free
    /// permits are the idle ones, and the one writer.
    fn connections_in_use(&self) -> crate::PoolConnections {
        let readers = self.read.connections.len();
        let free = self.read.free.available_permits().min(readers);
        let writers = self.write.size() as usize;
        let idle_writers = self.write.num_idle().min(writers);
        crate::PoolConnections {
            busy: (readers - free + writers - idle_writers) as u64,
            idle: (free + idle_writers) as u64,
        }
    }

    /// The body of [`crate::Maintenance::backup_to`] on this engine: a
    /// consistent copy by `VACUUM INTO`, read in one transaction beside the
    /// running writers (WAL), compacted, and a plain database file.
    async fn backup_into(&self, path: &std::path::Path) -> Result<crate::Backup, StoreError> {
        let path = path
            .to_str()
            .ok_or_else(|| StoreError::Backend("the backup's path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&mut *self.reader().await.map_err(crate::backend)?)
            .await
            .map_err(crate::backend)?;
        Ok(crate::Backup::Written)
    }
}

sql_store!(SqliteStore, sqlx::Sqlite);

impl SqliteStore {
    /// For logs and benchmarks: [`crate::Maintenance::engine`].
    const ENGINE: &'static str = "sqlite";

    /// The body of [`crate::Maintenance::migrate`] on this engine.
    async fn run_migrations(&self) -> Result<Vec<i64>, StoreError> {
        // The write lock, taken at once, is the migration lock: another
        // process migrating the same file waits (busy timeout) for this run.
        let mut tx = self.begin_write().await.map_err(backend)?;
        let applied = migrate::run::<Sqlite>(&mut tx, &migrate::sqlite(), TABLE_EXISTS)
            .await
            .map_err(migrate::failed)?;
        tx.commit().await.map_err(backend)?;
        Ok(applied)
    }
}
