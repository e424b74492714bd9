//! The two storage engines behind uslugi's storage ports: SQLite (embedded
//! default, one file) and PostgreSQL (several nodes on one cluster), chosen
//! by the scheme of the database URL.
//!
//! Both engines share one body of SQL: one file per aggregate, mirroring
//! the ports of `uslugi_app::ports`, each with its row structs (derived
//! `sqlx::FromRow`, one struct for both engines), their conversion into the
//! app's record, and a macro holding its statements. [`sql_store!`]
//! instantiates every aggregate's macro once per engine, so each engine gets
//! its own statically typed code from the same statements. What differs
//! (connection set-up, migration locking, how a rate limit or the audit
//! chain is serialised) stays in the engine's own module. Business code
//! never asks which engine it runs on.

use std::sync::Arc;

use async_trait::async_trait;
use uslugi_app::ports::{AccountRecord, SessionRecord, Store, StoreError, UniqueField};

mod rows;
#[macro_use]
mod secrets;
#[macro_use]
mod shared;
#[macro_use]
mod accounts;
#[macro_use]
mod audit;
#[macro_use]
mod centers;
#[macro_use]
mod contacts;
#[macro_use]
mod deletions;
#[macro_use]
mod desk;
#[macro_use]
mod in_person;
#[macro_use]
mod letters;
#[macro_use]
mod operators;
#[macro_use]
mod post_numbers;
#[macro_use]
mod outbox;
#[macro_use]
mod rate_limits;
#[macro_use]
mod recovery;
#[macro_use]
mod registration;
#[macro_use]
mod maintenance;
#[macro_use]
mod second_factor;
#[macro_use]
mod sessions;
#[macro_use]
mod verification;

/// The SQL of every aggregate for one engine: `$store` is the engine's store
/// type, `$db` its `sqlx::Database`. Invoked once in each engine module,
/// which supplies `reader()` (a connection for one read), the `write` pool,
/// `begin_write()`, `lock_rate_key` and `lock_audit_chain`. Each aggregate
/// becomes a child module of the engine module (`sqlite::accounts`, …), and
/// the statements one aggregate runs inside another's transaction
/// (`outbox::insert_outbox`, `audit::append_audit`, …) are reached there.
///
/// Parameters are written `$1, $2, …`, which both engines accept.
macro_rules! sql_store {
    ($store:ident, $db:ty) => {
        shared_sql!($store, $db);
        secrets_sql!($store, $db);
        accounts_sql!($store, $db);
        audit_sql!($store, $db);
        centers_sql!($store, $db);
        contacts_sql!($store, $db);
        deletions_sql!($store, $db);
        desk_sql!($store, $db);
        in_person_sql!($store, $db);
        letters_sql!($store, $db);
        operators_sql!($store, $db);
        outbox_sql!($store, $db);
        post_numbers_sql!($store, $db);
        rate_limits_sql!($store, $db);
        recovery_sql!($store, $db);
        registration_sql!($store, $db);
        maintenance_sql!($store, $db);
        second_factor_sql!($store, $db);
        sessions_sql!($store, $db);
        verification_sql!($store, $db);
    };
}

mod layout;
mod migrate;
pub use migrate::level as migration_level;
pub mod postgres;
pub mod sqlite;

pub use layout::{BLIND_INDEXES, BlindIndexColumn, SEALED_COLUMNS, SealedColumn};

/// What the command line and the health check need besides the ports.
#[async_trait]
pub trait Maintenance: Send + Sync {
    /// Applies the migrations not yet applied; safe to run from several nodes.
    async fn migrate(&self) -> Result<Vec<i64>, StoreError>;
    /// Answers whether the database is reachable.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Which engine this is, for logs and benchmarks.
    fn engine(&self) -> &'static str;
    /// Inserts many accounts at once, in one transaction (all or none), with
    /// multi-row statements. For filling a database for benchmarks or a
    /// migration from another system; the product never calls it.
    async fn import_accounts(&self, accounts: &[AccountRecord]) -> Result<(), StoreError>;
    /// Inserts many sessions at once, in one transaction (all or none).
    async fn import_sessions(&self, sessions: &[SessionRecord]) -> Result<(), StoreError>;
    /// Up to `limit` non-null values of a sealed column with keys after
    /// `after`, in key order: for re-sealing under a new key.
    async fn sealed_values(
        &self,
        column: &SealedColumn,
        after: &str,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Replaces one sealed value if it is still `old`; false otherwise.
    async fn replace_sealed(
        &self,
        column: &SealedColumn,
        key: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError>;
    /// Up to `limit` rows with a value in the blind index `column`, keys
    /// after `after`, in key order: the key, the index and the sealed value
    /// it indexes (none when that is missing). For a rotation of the index key.
    async fn blind_index_rows(
        &self,
        column: &BlindIndexColumn,
        after: &str,
        limit: u32,
    ) -> Result<Vec<BlindIndexRow>, StoreError>;
    /// Replaces one blind index if it is still `old`; false otherwise.
    async fn replace_blind_index(
        &self,
        column: &BlindIndexColumn,
        key: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError>;
    /// The format every sealed value of the database is known to have.
    async fn sealing_format(&self) -> Result<i64, StoreError>;
    /// Notes that every sealed value has `format` now; never lowers it.
    async fn set_sealing_format(&self, format: i64) -> Result<(), StoreError>;
    /// Writes a consistent copy of the database, taken while it is in use,
    /// into `path`, which must be an empty file (the caller makes it, with
    /// the modes it wants). An engine whose server is copied by its own
    /// tools writes nothing and names the tool.
    async fn backup_to(&self, path: &std::path::Path) -> Result<Backup, StoreError>;
    /// How much background work waits, by kind: due now or later, not yet
    /// done. For the metrics listener.
    async fn pending_jobs(&self) -> Result<PendingJobs, StoreError>;
    /// The connections this node holds to the database, busy and idle.
    fn pool_connections(&self) -> PoolConnections;
}

/// What [`Maintenance::pending_jobs`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingJobs {
    /// Registry checks pending or to be retried.
    pub registry_checks: u64,
    /// Messages in the outbox not yet delivered.
    pub messages: u64,
    /// Identity letters queued for the post (not voided).
    pub letters: u64,
}

/// What [`Maintenance::pool_connections`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolConnections {
    /// Open and in use by a request or a worker.
    pub busy: u64,
    /// Open and free.
    pub idle: u64,
}

/// What [`Maintenance::backup_to`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backup {
    Written,
    /// Nothing: this engine's server is backed up with the named tool.
    ByTool(&'static str),
}

/// A row of a blind index: its key, the index, the sealed value it indexes.
pub type BlindIndexRow = (String, Vec<u8>, Option<Vec<u8>>);

/// Rows per multi-row `INSERT` of a bulk import: 15 parameters a row stays
/// under both engines' limits on parameters (SQLite 32,766; PostgreSQL 65,535).
pub(crate) const IMPORT_ROWS_PER_STATEMENT: usize = 1000;

pub trait Backend: Store + Maintenance {}
impl<T: Store + Maintenance> Backend for T {}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL scheme (use sqlite:// or postgres://)")]
    UnsupportedScheme,
    #[error("cannot open the database")]
    Open(#[source] sqlx::Error),
}

/// Connects to the database the URL names: `sqlite://PATH` or `postgres://…`.
pub async fn connect(url: &str) -> Result<Arc<dyn Backend>, ConnectError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(ConnectError::UnsupportedScheme)
    }
}

/// Hides the password of a database URL, for printing.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
        let field = if text.contains("phone_index") {
            UniqueField::Phone
        } else if text.contains("email_index") {
            UniqueField::Email
        } else if text.contains("snils_index") {
            UniqueField::Snils
        } else {
            UniqueField::Other
        };
        return StoreError::Conflict(field);
    }
    StoreError::Backend(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_urls_hide_passwords() {
        assert_eq!(
            redact_url("postgres://uslugi:s3cret@db.local:5432/uslugi"),
            "postgres://uslugi:***@db.local:5432/uslugi"
        );
        assert_eq!(
            redact_url("postgres://uslugi@db/u"),
            "postgres://uslugi@db/u"
        );
        assert_eq!(
            redact_url("sqlite://./data/uslugi.db"),
            "sqlite://./data/uslugi.db"
        );
    }
}

/// Fresh databases for tests: a new SQLite file, or a new PostgreSQL database
/// on the server named by `USLUGI_TEST_DATABASE_URL` when that is set.
pub mod testing {
    use sqlx::Connection as _;

    pub const POSTGRES_ENV: &str = "USLUGI_TEST_DATABASE_URL";

    /// Whether the tests run under CI (`CI` set and not empty or `false`).
    pub fn under_ci() -> bool {
        std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
    }

    /// A database that exists for one test. The SQLite file lives in a
    /// temporary folder removed on drop; a PostgreSQL database is dropped by
    /// [`TestDatabase::drop_database`].
    pub struct TestDatabase {
        pub url: String,
        admin_url: Option<String>,
        name: String,
        _dir: Option<tempfile::TempDir>,
    }

    impl TestDatabase {
        pub fn sqlite() -> Self {
            let dir = tempfile::tempdir().expect("temporary folder");
            let url = format!("sqlite://{}", dir.path().join("uslugi.db").display());
            Self {
                url,
                admin_url: None,
                name: String::new(),
                _dir: Some(dir),
            }
        }

        /// A database for a test that is about PostgreSQL. `None` when no
        /// server is configured for tests, on a developer's machine: the
        /// test is skipped. Under CI (`CI` set) that is a failure, never a
        /// silent pass: CI always has the server.
        pub async fn postgres() -> Option<Self> {
            if std::env::var_os(POSTGRES_ENV).is_none() && under_ci() {
                panic!(
                    "{POSTGRES_ENV} is not set under CI: this PostgreSQL test cannot reach \
                     its database"
                );
            }
            Self::postgres_if_configured().await
        }

        /// For tests that run on either engine and take PostgreSQL when a
        /// server is configured, SQLite otherwise (the API tests).
        pub async fn postgres_if_configured() -> Option<Self> {
            let admin_url = std::env::var(POSTGRES_ENV).ok()?;
            let name = format!("uslugi_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to the test PostgreSQL server");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create a test database");
            let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
            Some(Self {
                url: format!("{base}/{name}"),
                admin_url: Some(admin_url),
                name,
                _dir: None,
            })
        }

        pub async fn drop_database(self) {
            if let Some(admin_url) = &self.admin_url
                && let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await
            {
                // Best effort: a leftover test database harms nothing.
                let _ = sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut admin)
                .await;
            }
        }
    }
}
