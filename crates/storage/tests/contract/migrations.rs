//! Migrations: applied twice they change nothing, and both engines' folders
//! describe the same schema.
use crate::fixtures::*;

contract!(migrations_are_idempotent,);

async fn migrations_are_idempotent(store: Arc<dyn Backend>) {
    assert!(store.migrate().await.unwrap().is_empty());
    store.ping().await.unwrap();
}

/// Both migration folders must describe the same tables and columns.
#[tokio::test]
async fn both_engines_have_the_same_schema() {
    let Some(pg) = TestDatabase::postgres().await else {
        eprintln!(
            "skipped: {} is not set",
            uslugi_storage::testing::POSTGRES_ENV
        );
        return;
    };
    let lite = TestDatabase::sqlite();
    open(&lite.url).await;
    open(&pg.url).await;
    let sqlite_pool = sqlx::SqlitePool::connect(&lite.url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&sqlite_pool)
    .await
    .unwrap();
    let mut sqlite_columns = Vec::new();
    for t in &tables {
        let cols: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT name FROM pragma_table_info('{t}') ORDER BY name"
        ))
        .fetch_all(&sqlite_pool)
        .await
        .unwrap();
        sqlite_columns.extend(cols.into_iter().map(|c| format!("{t}.{c}")));
    }
    let pg_pool = sqlx::PgPool::connect(&pg.url).await.unwrap();
    let pg_columns: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'public' ORDER BY table_name, column_name",
    )
    .fetch_all(&pg_pool)
    .await
    .unwrap();
    sqlite_columns.sort();
    let mut pg_sorted = pg_columns;
    pg_sorted.sort();
    assert_eq!(sqlite_columns, pg_sorted);
    pg_pool.close().await;
    pg.drop_database().await;
}
