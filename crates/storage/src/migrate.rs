//! Forward-only migrations, one folder per engine, embedded in the binary by
//! `sqlx::migrate!` and recorded, with their checksums, in sqlx's
//! `_sqlx_migrations`. The contract suite checks that both folders describe
//! the same tables and columns.
//!
//! Releases before sqlx's runner kept their own record, `schema_migrations`
//! (version, name, applied_at) without checksums; [`run`] carries it over
//! once.

use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use uslugi_app::ports::StoreError;

/// The migrations of SQLite (`migrations/sqlite`).
/// The newest migration this build carries: the schema it makes and
/// expects. Both engines carry the same numbers (a test says so).
pub fn level() -> i64 {
    sqlite().iter().map(|m| m.version).max().unwrap_or(0)
}

pub(crate) fn sqlite() -> Migrator {
    without_sqlx_lock(sqlx::migrate!("./migrations/sqlite"))
}

/// The migrations of PostgreSQL (`migrations/postgres`).
pub(crate) fn postgres() -> Migrator {
    without_sqlx_lock(sqlx::migrate!("./migrations/postgres"))
}

/// The engine already holds its own lock for the whole run, the carrying
/// over of `schema_migrations` included: SQLite's write lock, PostgreSQL's
/// advisory lock of the transaction. Both end with the transaction, even
/// when a migration fails; sqlx's PostgreSQL lock is a session lock that a
/// failed run would leave held by a connection back in the pool.
fn without_sqlx_lock(mut migrator: Migrator) -> Migrator {
    migrator.set_locking(false);
    migrator
}

/// Applies the migrations the database lacks and returns their versions.
///
/// `conn` is in the engine's transaction, which holds its migration lock:
/// everything below, the migrations included (sqlx runs each in a savepoint
/// then), is committed together or not at all, as with the runner before.
/// That rules out `-- no-transaction` migrations; a test keeps them out.
/// `table_exists` counts the tables named `$1` in the engine's catalogue.
pub(crate) async fn run<DB>(
    conn: &mut DB::Connection,
    migrator: &Migrator,
    table_exists: &str,
) -> Result<Vec<i64>, MigrateError>
where
    DB: Database,
    DB::Connection: Migrate,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB>,
    Vec<u8>: Type<DB> + for<'q> Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    adopt_schema_migrations::<DB>(conn, migrator, table_exists).await?;
    conn.ensure_migrations_table().await?;
    let before = applied(conn).await?;
    // `run_direct` is what `Migrator::run` calls once it has a connection;
    // `run` itself, generic over how it gets one, cannot be called from
    // code generic over the engine ("`Acquire` is not general enough",
    // which sqlx's own comment on `run_direct` names). It is public but
    // hidden from sqlx's documentation: a sqlx without it fails to build.
    migrator.run_direct(conn).await?;
    Ok(applied(conn)
        .await?
        .into_iter()
        .filter(|v| !before.contains(v))
        .collect())
}

async fn applied<C: Migrate>(conn: &mut C) -> Result<Vec<i64>, MigrateError> {
    Ok(conn
        .list_applied_migrations()
        .await?
        .into_iter()
        .map(|m| m.version)
        .collect())
}

/// A database made before sqlx's runner lists its migrations in
/// `schema_migrations` only: sqlx's table is made and given each of them,
/// with the checksum of the embedded file (the files never change once
/// released), so that sqlx takes them as applied and applies only newer
/// ones. Once `_sqlx_migrations` exists this does nothing.
///
/// `schema_migrations` stays, and stays as it is: during a rolling upgrade
/// (several nodes on one PostgreSQL cluster), or after going back to the
/// previous release, a node of that release reads it, finds every migration
/// it knows applied and starts; without it, it would run 0001 again and
/// refuse to start. Nothing of this release reads it after this.
async fn adopt_schema_migrations<DB>(
    conn: &mut DB::Connection,
    migrator: &Migrator,
    table_exists: &str,
) -> Result<(), MigrateError>
where
    DB: Database,
    DB::Connection: Migrate,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB>,
    Vec<u8>: Type<DB> + for<'q> Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    let exists = async |conn: &mut DB::Connection, table: &str| {
        sqlx::query_scalar::<DB, i64>(table_exists)
            .bind(table.to_owned())
            .fetch_one(conn)
            .await
            .map(|n| n > 0)
    };
    if exists(conn, "_sqlx_migrations").await? || !exists(conn, "schema_migrations").await? {
        return Ok(());
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    conn.ensure_migrations_table().await?;
    for version in versions {
        // A version this binary does not have: the database is newer than
        // it. sqlx would refuse it too; say so before writing anything.
        let migration = migrator
            .iter()
            .find(|m| m.version == version)
            .ok_or(MigrateError::VersionMissing(version))?;
        // `execution_time` -1: the earlier runner applied this migration and
        // did not time it; -1 is what sqlx writes for a time it does not know.
        sqlx::query(
            "INSERT INTO _sqlx_migrations \
             (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, -1)",
        )
        .bind(version)
        .bind(migration.description.to_string())
        .bind(migration.checksum.to_vec())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(crate) fn failed(e: MigrateError) -> StoreError {
    StoreError::Backend(Box::new(e))
}

#[cfg(test)]
mod tests {
    use sqlx::Connection as _;

    use super::*;

    #[test]
    fn both_engines_have_the_same_migrations_in_order() {
        let names = |m: Migrator| -> Vec<(i64, String)> {
            m.iter()
                .map(|m| {
                    // The engine's transaction holds every migration.
                    assert!(!m.no_tx, "{} runs outside a transaction", m.version);
                    assert!(m.migration_type.is_up_migration(), "{}", m.version);
                    (m.version, m.description.to_string())
                })
                .collect()
        };
        let a = names(sqlite());
        assert_eq!(a, names(postgres()));
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(a.first().map(|m| m.0), Some(1));
        assert_eq!(a.last().map(|m| m.0), Some(level()));
    }

    /// Every BLOB column holds either a keyed hash (looked up, never opened)
    /// or a sealed value that `rotate-keys` must find in `SEALED_COLUMNS`;
    /// every blind index (`…_index`) is in `BLIND_INDEXES`. Read from the
    /// schema the SQLite migrations make.
    #[tokio::test]
    async fn every_sealed_column_is_known_to_key_rotation() {
        const HASHES: &[&str] = &[
            "contact_index",
            "secret_hash",
            "phone_index",
            "email_index",
            "snils_index",
            "token_hash",
            "key",
            "code_hash",
            "enrol_token_hash",
            "passport_index",
            "prev_hash",
            "hash",
            "device_hash",
            "continuation_hash",
            "quota_key",
        ];
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlite().run(&mut conn).await.unwrap();
        // sqlx's own table: its checksums are neither sealed nor looked up.
        let mut blobs: Vec<(String, String)> = sqlx::query_as(
            "SELECT t.name, c.name FROM sqlite_master t, pragma_table_info(t.name) c \
             WHERE t.type = 'table' AND t.name <> '_sqlx_migrations' AND c.type = 'BLOB'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        blobs.sort();
        let mut indexes: Vec<_> = blobs
            .iter()
            .filter(|(_, c)| c.ends_with("_index"))
            .cloned()
            .collect();
        blobs.retain(|(_, c)| !HASHES.contains(&c.as_str()));
        let mut known: Vec<_> = crate::SEALED_COLUMNS
            .iter()
            .map(|c| (c.table.to_owned(), c.column.to_owned()))
            .collect();
        known.sort();
        assert_eq!(blobs, known);
        // Every blind index is known to the rotation of the index key.
        let mut known: Vec<_> = crate::BLIND_INDEXES
            .iter()
            .map(|c| (c.table.to_owned(), c.column.to_owned()))
            .collect();
        known.sort();
        indexes.sort();
        assert_eq!(indexes, known);
    }
}
