//! Databases made by a released version, opened by this one: the rows they
//! hold, written through the store of that release (see
//! `tests/fixtures/README.md`), must still be read back as they were, and
//! the schema must end up the one a fresh database gets.
use std::str::FromStr as _;
use std::sync::Arc;

use sqlx::Connection as _;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uslugi_app::ports::{
    AccountRecord, CheckRecord, ContinuationRecord, PersonalDataRecord, RegistrationRecord,
    SessionRecord,
};
use uslugi_app::registries::Registry;
use uslugi_domain::{
    AccountId, AccountLevel, Channel, CheckStatus, RegistrationId, VerificationStatus,
};
use uslugi_storage::testing::TestDatabase;
use uslugi_storage::{Backend, connect};

use crate::fixtures::registration_message;

const AT: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

fn account_id() -> AccountId {
    "6f1c1f0e-8f5a-4d6c-9a57-1b0b6d3c2a01".parse().unwrap()
}

fn submission_id() -> uuid::Uuid {
    "0b9e2f3a-58c1-4f0e-a3d4-2c6e7f8a9b02".parse().unwrap()
}

fn registration() -> RegistrationRecord {
    RegistrationRecord {
        id: "3d2a4b5c-6e7f-4a8b-9c0d-1e2f3a4b5c03"
            .parse::<RegistrationId>()
            .unwrap(),
        channel: Channel::Sms,
        lang: "ru".into(),
        surname: b"sealed-surname".to_vec(),
        given_name: b"sealed-given".to_vec(),
        contact: b"sealed-phone".to_vec(),
        contact_index: b"phone-index".to_vec(),
        existing_account: false,
        secret_hash: b"secret-hash".to_vec(),
        secret_expires_at: AT + Duration::seconds(300),
        attempts: 0,
        sent_at: AT,
        sends: 1,
        confirmed_at: None,
        continuation: None,
        created_at: AT,
        expires_at: AT + Duration::days(1),
    }
}

fn account() -> AccountRecord {
    AccountRecord {
        id: account_id(),
        level: AccountLevel::Simplified,
        surname: b"sealed-surname".to_vec(),
        given_name: b"sealed-given".to_vec(),
        phone: Some(b"sealed-phone".to_vec()),
        phone_index: Some(b"phone-index".to_vec()),
        email: None,
        email_index: None,
        snils_index: None,
        passport_index: None,
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        must_change_password: false,
        password_expires_at: None,
        failed_logins: 0,
        throttled_until: None,
        locked: false,
        confirmed_at: None,
        confirmed_via: None,
        created_at: AT,
    }
}

fn checks() -> Vec<CheckRecord> {
    [Registry::Sfr, Registry::Mvd]
        .into_iter()
        .enumerate()
        .map(|(i, registry)| CheckRecord {
            id: uuid::Uuid::from_u128(0x5eed_0000 + i as u128),
            submission_id: submission_id(),
            account_id: account_id(),
            registry,
            status: CheckStatus::Pending,
            reason: None,
            request: b"sealed-request".to_vec(),
            gateway_request_id: None,
            attempts: 0,
            next_run_at: AT,
            deadline_at: AT + Duration::days(5),
            leased_until: None,
            created_at: AT,
            finished_at: None,
            registration_address: None,
        })
        .collect()
}

fn personal_data() -> PersonalDataRecord {
    PersonalDataRecord {
        account_id: account_id(),
        status: VerificationStatus::InProgress,
        draft: None,
        submitted: Some(b"sealed-data".to_vec()),
        submission_id: Some(submission_id()),
        submitted_at: Some(AT),
        verified: None,
        verified_at: None,
        addresses: Some(b"sealed-addresses".to_vec()),
        registration_address: None,
        assisted: None,
        updated_at: AT,
    }
}

fn session() -> SessionRecord {
    SessionRecord {
        token_hash: b"session-token-hash".to_vec(),
        account_id: account_id(),
        created_at: AT,
        last_seen_at: AT,
        expires_at: AT + Duration::days(30),
        idle_timeout: Duration::minutes(30),
        remember: true,
        must_change_password: false,
        device_hash: Some(b"device-hash".to_vec()),
        user_agent: Some("Firefox".into()),
        network: Some("192.0.2".into()),
    }
}

/// Writes the rows of the fixture: an account made by a registration, its
/// personal data submitted to the registries, a session.
pub async fn fill(store: &Arc<dyn Backend>) {
    let r = registration();
    store
        .insert_registration(&r, &registration_message(&r))
        .await
        .unwrap();
    let continuation = ContinuationRecord {
        hash: b"go".to_vec(),
        expires_at: AT + Duration::minutes(30),
    };
    store
        .mark_registration_confirmed(r.id, AT, &continuation)
        .await
        .unwrap();
    store
        .complete_registration(
            r.id,
            b"go",
            AT,
            &account(),
            &crate::fixtures::audit("registered"),
        )
        .await
        .unwrap();
    store
        .save_draft(account_id(), b"sealed-draft", AT)
        .await
        .unwrap();
    store
        .save_addresses(account_id(), b"sealed-addresses", AT)
        .await
        .unwrap();
    store
        .submit_personal_data(
            account_id(),
            submission_id(),
            b"sealed-data",
            &checks(),
            None,
            AT,
        )
        .await
        .unwrap();
    store.insert_session(&session()).await.unwrap();
}

/// The fixture's rows as the store reads them.
type Rows = (
    Option<AccountRecord>,
    Option<PersonalDataRecord>,
    Vec<CheckRecord>,
    Option<SessionRecord>,
);

async fn rows(store: &Arc<dyn Backend>) -> Rows {
    (
        store.account(account_id()).await.unwrap(),
        store.personal_data(account_id()).await.unwrap(),
        store.checks_of_submission(submission_id()).await.unwrap(),
        store.session(&session().token_hash).await.unwrap(),
    )
}

/// The release's own record of its migrations; kept for its nodes.
const RELEASE_TABLE: &str = "schema_migrations";

/// Tables, columns, indexes and triggers, one line each, in order. Without
/// the release's own record, which only a released database has.
async fn schema(url: &str) -> Vec<String> {
    let mut lines: Vec<String> = if url.starts_with("sqlite:") {
        // SQLite keeps each object's statement, rewritten by every ALTER.
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(
            "SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || COALESCE(sql, '') \
             FROM sqlite_master WHERE tbl_name <> $1 ORDER BY type, name",
        )
        .bind(RELEASE_TABLE)
        .fetch_all(&mut conn)
        .await
        .unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let mut lines: Vec<String> = sqlx::query_scalar(
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' ' || COALESCE(column_default, '') FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> $1",
        )
        .bind(RELEASE_TABLE)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        lines.extend(
            sqlx::query_scalar::<_, String>(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> $1 \
                 UNION ALL SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t \
                 JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal",
            )
            .bind(RELEASE_TABLE)
            .fetch_all(&mut conn)
            .await
            .unwrap(),
        );
        lines
    };
    lines.sort();
    lines
}

/// sqlx's record of the migrations: version, description, success,
/// checksum, and when and how fast each ran.
type Bookkeeping = Vec<(i64, String, bool, Vec<u8>, String, i64)>;

async fn bookkeeping(url: &str) -> Bookkeeping {
    let sql = "SELECT version, description, success, checksum, CAST(installed_on AS TEXT), \
               execution_time FROM _sqlx_migrations ORDER BY version";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
    }
}

/// What two records of the same migrations share: not when they ran.
fn applied(b: &Bookkeeping) -> Vec<(i64, String, bool, Vec<u8>)> {
    b.iter()
        .map(|(v, d, s, c, _, _)| (*v, d.clone(), *s, c.clone()))
        .collect()
}

/// The versions the release's own record lists.
async fn release_record(url: &str) -> Vec<i64> {
    let sql = "SELECT version FROM schema_migrations ORDER BY version";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    }
}

/// The migrations of this version after `release`'s last one.
fn since(release: i64) -> Vec<i64> {
    (release + 1..=uslugi_storage::migration_level()).collect()
}

/// `released` holds a database the release made, with the fixture's rows;
/// `fresh` is empty. Both are of the same engine.
async fn migrates_in_place(released: &TestDatabase, fresh: &TestDatabase) {
    let store = connect(&released.url).await.expect("connect");
    assert_eq!(
        store.migrate().await.expect("migrate a released database"),
        since(13),
        "the migrations newer than the release, and only those"
    );
    let expected = (
        Some(account()),
        Some(personal_data()),
        checks(),
        Some(session()),
    );
    assert_eq!(rows(&store).await, expected);

    let new = crate::fixtures::open(&fresh.url).await;
    fill(&new).await;
    assert_eq!(rows(&new).await, expected, "as this version writes them");
    assert_eq!(schema(&released.url).await, schema(&fresh.url).await);
    let record = bookkeeping(&released.url).await;
    assert_eq!(
        applied(&record),
        applied(&bookkeeping(&fresh.url).await),
        "the release's migrations, with the checksums sqlx computes"
    );
    assert_eq!(
        release_record(&released.url).await,
        (1..=13).collect::<Vec<_>>()
    );

    assert!(store.migrate().await.unwrap().is_empty(), "twice");
    assert_eq!(bookkeeping(&released.url).await, record, "twice");
    assert_eq!(schema(&released.url).await, schema(&fresh.url).await);
    assert_eq!(rows(&store).await, expected);
    // A node restarted on this version carries nothing over again.
    let again = connect(&released.url).await.unwrap();
    assert!(again.migrate().await.unwrap().is_empty());
    assert_eq!(bookkeeping(&released.url).await, record);
}

#[tokio::test]
async fn a_released_sqlite_database_migrates_in_place() {
    let released = TestDatabase::sqlite();
    let path = released.url.strip_prefix("sqlite://").unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/schema_migrations.sqlite"
        ),
        path,
    )
    .unwrap();
    migrates_in_place(&released, &TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn a_released_postgres_database_migrates_in_place() {
    let (Some(released), Some(fresh)) = (
        TestDatabase::postgres().await,
        TestDatabase::postgres().await,
    ) else {
        eprintln!(
            "skipped: {} is not set",
            uslugi_storage::testing::POSTGRES_ENV
        );
        return;
    };
    let dump = include_str!("../fixtures/schema_migrations.postgres.sql");
    // `\restrict` and `\unrestrict` are for psql alone.
    let sql: String = dump
        .lines()
        .filter(|l| !l.starts_with('\\'))
        .map(|l| format!("{l}\n"))
        .collect();
    // Its own connection: the dump empties the search path of the session.
    let mut conn = sqlx::PgConnection::connect(&released.url).await.unwrap();
    sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    migrates_in_place(&released, &fresh).await;
    released.drop_database().await;
    fresh.drop_database().await;
}

/// A database the release made before the last migrations existed: the
/// files up to `last` run as that release ran them, its record lists them.
async fn made_by_an_older_release(db: &TestDatabase, last: i64) {
    let engine = if db.url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    let folder = format!("{}/migrations/{engine}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut sql = String::from(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         applied_at BIGINT NOT NULL);\n",
    );
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        let (version, name) = name.split_once('_').unwrap();
        let version: i64 = version.parse().unwrap();
        if version > last {
            continue;
        }
        sql.push_str(&std::fs::read_to_string(&file).unwrap());
        sql.push_str(&format!(
            "\nINSERT INTO schema_migrations VALUES ({version}, '{name}', 1772442000);\n"
        ));
    }
    if engine == "sqlite" {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url)
            .unwrap()
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::raw_sql(&sql).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        conn.close().await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::raw_sql(&sql).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        conn.close().await.unwrap();
    }
}

/// The migrations newer than the release's record are applied, after the
/// record is carried over, and are what `migrate` says it applied.
async fn newer_migrations_are_applied_after_the_release_record(
    older: &TestDatabase,
    fresh: &TestDatabase,
) {
    made_by_an_older_release(older, 12).await;
    let store = connect(&older.url).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), since(12));
    assert_eq!(store.sealing_format().await.unwrap(), 1, "0013 ran");
    crate::fixtures::open(&fresh.url).await;
    assert_eq!(schema(&older.url).await, schema(&fresh.url).await);
    assert_eq!(
        applied(&bookkeeping(&older.url).await),
        applied(&bookkeeping(&fresh.url).await)
    );
    assert_eq!(
        release_record(&older.url).await,
        (1..=12).collect::<Vec<_>>(),
        "the release's record is left as it was"
    );
    assert!(store.migrate().await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_newer_migrations_are_applied_after_the_release_record() {
    newer_migrations_are_applied_after_the_release_record(
        &TestDatabase::sqlite(),
        &TestDatabase::sqlite(),
    )
    .await;
}

#[tokio::test]
async fn postgres_newer_migrations_are_applied_after_the_release_record() {
    let (Some(older), Some(fresh)) = (
        TestDatabase::postgres().await,
        TestDatabase::postgres().await,
    ) else {
        eprintln!(
            "skipped: {} is not set",
            uslugi_storage::testing::POSTGRES_ENV
        );
        return;
    };
    newer_migrations_are_applied_after_the_release_record(&older, &fresh).await;
    older.drop_database().await;
    fresh.drop_database().await;
}

/// A record naming a migration this version does not have: the database
/// is newer than the binary. Nothing is carried over, nothing runs.
#[tokio::test]
async fn a_release_record_from_a_newer_version_is_refused_whole() {
    let db = TestDatabase::sqlite();
    made_by_an_older_release(&db, 13).await;
    let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::query("INSERT INTO schema_migrations VALUES (99, 'from_the_future', 0)")
        .execute(&mut conn)
        .await
        .unwrap();
    let store = connect(&db.url).await.unwrap();
    let error = store.migrate().await.unwrap_err();
    assert!(
        format!("{error:?}").contains("VersionMissing(99)"),
        "{error:?}"
    );
    let sqlx_table: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = '_sqlx_migrations'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(sqlx_table, 0, "rolled back");
}

/// Two nodes of this version start at once on a database of an older
/// release: one carries the record over and applies 0013, the other waits
/// for it and finds nothing left to do.
async fn two_nodes_migrate_at_once(older: &TestDatabase) {
    made_by_an_older_release(older, 12).await;
    let (a, b) = (
        connect(&older.url).await.unwrap(),
        connect(&older.url).await.unwrap(),
    );
    let (a, b) = tokio::join!(a.migrate(), b.migrate());
    let mut applied = [a.unwrap(), b.unwrap()];
    applied.sort();
    assert_eq!(applied, [vec![], since(12)]);
    assert_eq!(
        bookkeeping(&older.url)
            .await
            .iter()
            .map(|m| m.0)
            .collect::<Vec<_>>(),
        since(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_nodes_migrate_at_once() {
    two_nodes_migrate_at_once(&TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_nodes_migrate_at_once() {
    let Some(older) = TestDatabase::postgres().await else {
        eprintln!(
            "skipped: {} is not set",
            uslugi_storage::testing::POSTGRES_ENV
        );
        return;
    };
    two_nodes_migrate_at_once(&older).await;
    older.drop_database().await;
}
