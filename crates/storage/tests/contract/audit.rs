//! The audit log: each record linked to the one before, one chain however
//! many append at once, read by center, operator and account, and
//! refused any change by the database itself.
use crate::fixtures::*;

contract!(
    the_audit_log_links_each_record_to_the_one_before,
    concurrent_audit_appends_make_one_chain,
    audit_records_are_read_by_center_operator_and_account,
    audit_records_are_read_between_two_times_in_pages,
);

async fn audit_records_are_read_between_two_times_in_pages(store: Arc<dyn Backend>) {
    let day = Duration::days(1);
    for (i, at) in [
        T0,
        T0 + day,
        T0 + day,
        T0 + day + Duration::hours(23),
        T0 + day * 2,
    ]
    .into_iter()
    .enumerate()
    {
        let mut w = audit(&format!("a{i}"));
        w.entry.at = at;
        store.append_audit(&w).await.unwrap();
    }
    let between = |after, limit| {
        let store = store.clone();
        async move {
            store
                .audit_between(T0 + day, T0 + day * 2, after, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.entry.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        between(0, 10).await,
        ["a1", "a2", "a3"],
        "the second day, oldest first"
    );
    assert_eq!(between(0, 2).await, ["a1", "a2"]);
    assert_eq!(between(3, 2).await, ["a3"], "the next page after seq 3");
}

async fn the_audit_log_links_each_record_to_the_one_before(store: Arc<dyn Backend>) {
    for a in ["first", "second", "third"] {
        store.append_audit(&audit(a)).await.unwrap();
    }
    let chain = all_audit(&store).await;
    assert_eq!(chain.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        chain[0].prev_hash,
        vec![0u8; 32],
        "the first links to the genesis"
    );
    for w in chain.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
        assert_eq!(w[1].hash, TestChain.link(&w[0].hash, w[1].seq, &w[1].entry));
    }
    assert_eq!(chain[2].entry.action, "third");
    let e = &chain[0].entry;
    assert_eq!(
        (e.actor.as_str(), e.outcome.as_str(), e.details.as_str()),
        ("operator", "ok", "{}")
    );
}

async fn concurrent_audit_appends_make_one_chain(store: Arc<dyn Backend>) {
    at_once(&store, 20, |store, i| async move {
        store.append_audit(&audit(&format!("a{i}"))).await.unwrap()
    })
    .await;
    let chain = all_audit(&store).await;
    assert_eq!(chain.len(), 20);
    for (i, w) in chain.windows(2).enumerate() {
        assert_eq!(w[1].seq, w[0].seq + 1, "no gap at {i}");
        assert_eq!(w[1].prev_hash, w[0].hash, "no fork at {i}");
    }
}

async fn audit_records_are_read_by_center_operator_and_account(store: Arc<dyn Backend>) {
    let (o1, o2) = (OperatorId::random(), OperatorId::random());
    let citizen = AccountId::random();
    store
        .append_audit(&audit_of("x", Some("center-a"), Some(o1), None))
        .await
        .unwrap();
    store
        .append_audit(&audit_of("y", Some("center-a"), Some(o2), Some(citizen)))
        .await
        .unwrap();
    store
        .append_audit(&audit_of("z", Some("center-b"), None, Some(citizen)))
        .await
        .unwrap();
    let read = |f: AuditFilter, before: Option<i64>| {
        let store = Arc::clone(&store);
        async move {
            store
                .audit_records(&f, before, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.entry.action)
                .collect::<Vec<_>>()
        }
    };
    let center_a = AuditFilter {
        center_id: Some("center-a".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        read(center_a.clone(), None).await,
        ["y", "x"],
        "newest first"
    );
    assert_eq!(read(center_a, Some(2)).await, ["x"]);
    let mine = AuditFilter {
        center_id: Some("center-a".into()),
        operator_id: Some(o1),
        ..AuditFilter::default()
    };
    assert_eq!(read(mine, None).await, ["x"]);
    let theirs = AuditFilter {
        account_id: Some(citizen),
        ..AuditFilter::default()
    };
    assert_eq!(read(theirs, None).await, ["z", "y"]);
}

/// Neither an update nor a removal of an audit record gets past the
/// database, whatever connects to it.
#[tokio::test]
async fn the_audit_log_refuses_changes_on_sqlite() {
    let db = TestDatabase::sqlite();
    let store = open(&db.url).await;
    store.append_audit(&audit("kept")).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    for sql in [
        "UPDATE audit_log SET outcome = 'forged'",
        "DELETE FROM audit_log",
    ] {
        let e = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(all_audit(&store).await[0].entry.outcome, "ok");
}

#[tokio::test]
async fn the_audit_log_refuses_changes_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!(
            "skipped: {} is not set",
            uslugi_storage::testing::POSTGRES_ENV
        );
        return;
    };
    let store = open(&db.url).await;
    store.append_audit(&audit("kept")).await.unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for sql in [
        "UPDATE audit_log SET outcome = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let e = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(all_audit(&store).await[0].entry.outcome, "ok");
    pool.close().await;
    drop(store);
    db.drop_database().await;
}
