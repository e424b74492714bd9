//! The storage contract: every test runs on SQLite, and on PostgreSQL when
//! `USLUGI_TEST_DATABASE_URL` names a server (CI gives one).
use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uslugi_app::ports::{
    AccountRecord, Channel, LoginKind, RateDecision, RegistrationRecord, SessionRecord, StoreError,
    UniqueField,
};
use uslugi_domain::{AccountId, AccountLevel, RegistrationId};
use uslugi_storage::testing::TestDatabase;
use uslugi_storage::{Backend, connect};

const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

/// Runs one contract test body on each engine available.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDatabase::sqlite();
                    let store = super::open(&db.url).await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestDatabase::postgres().await else {
                        eprintln!("skipped: {} is not set", uslugi_storage::testing::POSTGRES_ENV);
                        return;
                    };
                    let store = super::open(&db.url).await;
                    super::$name(store).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

contract!(
    migrations_are_idempotent,
    registrations_round_trip,
    concurrent_code_attempts_never_exceed_the_limit,
    resend_replaces_the_secret_once,
    completing_a_registration_creates_the_account_atomically,
    a_taken_contact_is_a_conflict_and_leaves_the_registration,
    accounts_are_found_by_each_login,
    failed_logins_count_and_clear,
    sessions_live_and_expire,
    rate_limits_hold_under_concurrency,
    rate_limits_slide_with_time,
    expired_registrations_are_swept,
    accounts_and_sessions_import_in_bulk,
);

async fn open(url: &str) -> Arc<dyn Backend> {
    let store = connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn registration(channel: Channel, contact_index: &[u8]) -> RegistrationRecord {
    RegistrationRecord {
        id: RegistrationId::random(),
        channel,
        lang: "ru".into(),
        surname: b"sealed-surname".to_vec(),
        given_name: b"sealed-given".to_vec(),
        contact: b"sealed-contact".to_vec(),
        contact_index: contact_index.to_vec(),
        existing_account: false,
        secret_hash: uuid::Uuid::new_v4().as_bytes().to_vec(),
        secret_expires_at: T0 + Duration::seconds(300),
        attempts: 0,
        sent_at: T0,
        sends: 1,
        confirmed_at: None,
        created_at: T0,
        expires_at: T0 + Duration::days(1),
    }
}

fn account_for(r: &RegistrationRecord) -> AccountRecord {
    let (phone, phone_index, email, email_index) = match r.channel {
        Channel::Sms => (
            Some(r.contact.clone()),
            Some(r.contact_index.clone()),
            None,
            None,
        ),
        Channel::Email => (
            None,
            None,
            Some(r.contact.clone()),
            Some(r.contact_index.clone()),
        ),
    };
    AccountRecord {
        id: AccountId::random(),
        level: AccountLevel::Simplified,
        surname: r.surname.clone(),
        given_name: r.given_name.clone(),
        phone,
        phone_index,
        email,
        email_index,
        snils_index: None,
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        failed_logins: 0,
        throttled_until: None,
        locked: false,
        created_at: T0,
    }
}

async fn registered_account(store: &Arc<dyn Backend>, index: &[u8]) -> AccountRecord {
    let r = registration(Channel::Sms, index);
    store.insert_registration(&r).await.unwrap();
    store.mark_registration_confirmed(r.id, T0).await.unwrap();
    let a = account_for(&r);
    store.complete_registration(r.id, &a).await.unwrap();
    a
}

async fn migrations_are_idempotent(store: Arc<dyn Backend>) {
    assert!(store.migrate().await.unwrap().is_empty());
    store.ping().await.unwrap();
}

async fn registrations_round_trip(store: Arc<dyn Backend>) {
    let r = registration(Channel::Email, b"idx-1");
    store.insert_registration(&r).await.unwrap();
    assert_eq!(store.registration(r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(
        store.registration_by_secret(&r.secret_hash).await.unwrap(),
        Some(r.clone())
    );
    assert_eq!(
        store.registration(RegistrationId::random()).await.unwrap(),
        None
    );
    assert_eq!(
        store.registration_by_secret(b"nothing").await.unwrap(),
        None
    );

    store
        .mark_registration_confirmed(r.id, T0 + Duration::seconds(5))
        .await
        .unwrap();
    // A second confirmation keeps the first time.
    store
        .mark_registration_confirmed(r.id, T0 + Duration::seconds(9))
        .await
        .unwrap();
    let got = store.registration(r.id).await.unwrap().unwrap();
    assert_eq!(got.confirmed_at, Some(T0 + Duration::seconds(5)));

    store.delete_registration(r.id).await.unwrap();
    assert_eq!(store.registration(r.id).await.unwrap(), None);
}

async fn concurrent_code_attempts_never_exceed_the_limit(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-2");
    store.insert_registration(&r).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.take_code_attempt(r.id, 3).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for t in tasks {
        if let Some(n) = t.await.unwrap() {
            taken.push(n);
        }
    }
    taken.sort_unstable();
    assert_eq!(taken, [1, 2, 3]);
    assert_eq!(store.registration(r.id).await.unwrap().unwrap().attempts, 3);
}

async fn resend_replaces_the_secret_once(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-3");
    store.insert_registration(&r).await.unwrap();
    store.take_code_attempt(r.id, 3).await.unwrap();
    let later = T0 + Duration::seconds(61);
    let first = store
        .replace_registration_secret(
            r.id,
            T0,
            b"new-secret",
            later + Duration::seconds(300),
            later,
        )
        .await
        .unwrap();
    let second = store
        .replace_registration_secret(
            r.id,
            T0,
            b"other-secret",
            later + Duration::seconds(300),
            later,
        )
        .await
        .unwrap();
    assert!(first);
    assert!(!second, "the second resend saw a stale send time");
    let got = store.registration(r.id).await.unwrap().unwrap();
    assert_eq!(got.secret_hash, b"new-secret");
    assert_eq!(got.attempts, 0);
    assert_eq!(got.sends, 2);
    assert_eq!(got.sent_at, later);
}

async fn completing_a_registration_creates_the_account_atomically(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-4");
    store.insert_registration(&r).await.unwrap();
    let a = account_for(&r);
    assert!(matches!(
        store.complete_registration(r.id, &a).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.account(a.id).await.unwrap(),
        None,
        "unconfirmed: no account"
    );

    store.mark_registration_confirmed(r.id, T0).await.unwrap();
    store.complete_registration(r.id, &a).await.unwrap();
    assert_eq!(store.account(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.registration(r.id).await.unwrap(), None);
    assert!(matches!(
        store.complete_registration(r.id, &a).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_taken_contact_is_a_conflict_and_leaves_the_registration(store: Arc<dyn Backend>) {
    let first = registered_account(&store, b"idx-5").await;
    let r = registration(Channel::Sms, b"idx-5");
    store.insert_registration(&r).await.unwrap();
    store.mark_registration_confirmed(r.id, T0).await.unwrap();
    let a = account_for(&r);
    assert!(matches!(
        store.complete_registration(r.id, &a).await,
        Err(StoreError::Conflict(UniqueField::Phone))
    ));
    assert!(
        store.registration(r.id).await.unwrap().is_some(),
        "rolled back"
    );
    assert_eq!(store.account(a.id).await.unwrap(), None);
    assert!(store.account(first.id).await.unwrap().is_some());

    let e = registration(Channel::Email, b"idx-6");
    store.insert_registration(&e).await.unwrap();
    store.mark_registration_confirmed(e.id, T0).await.unwrap();
    store
        .complete_registration(e.id, &account_for(&e))
        .await
        .unwrap();
    let e2 = registration(Channel::Email, b"idx-6");
    store.insert_registration(&e2).await.unwrap();
    store.mark_registration_confirmed(e2.id, T0).await.unwrap();
    assert!(matches!(
        store.complete_registration(e2.id, &account_for(&e2)).await,
        Err(StoreError::Conflict(UniqueField::Email))
    ));
}

async fn accounts_are_found_by_each_login(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"phone-idx").await;
    let found = store
        .account_by_login(LoginKind::Phone, b"phone-idx")
        .await
        .unwrap();
    assert_eq!(found.map(|f| f.id), Some(a.id));
    assert_eq!(
        store
            .account_by_login(LoginKind::Email, b"phone-idx")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .account_by_login(LoginKind::Snils, b"phone-idx")
            .await
            .unwrap(),
        None
    );

    let r = registration(Channel::Email, b"email-idx");
    store.insert_registration(&r).await.unwrap();
    store.mark_registration_confirmed(r.id, T0).await.unwrap();
    let b = account_for(&r);
    store.complete_registration(r.id, &b).await.unwrap();
    let found = store
        .account_by_login(LoginKind::Email, b"email-idx")
        .await
        .unwrap();
    assert_eq!(found, Some(b));
    assert_eq!(store.account(AccountId::random()).await.unwrap(), None);
}

async fn failed_logins_count_and_clear(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"idx-7").await;
    for n in 1..=5 {
        assert_eq!(store.add_failed_login(a.id).await.unwrap(), n);
    }
    let until = T0 + Duration::seconds(2);
    store
        .set_login_restriction(a.id, Some(until), true)
        .await
        .unwrap();
    let got = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (got.failed_logins, got.throttled_until, got.locked),
        (5, Some(until), true)
    );
    store.clear_login_failures(a.id).await.unwrap();
    let got = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (got.failed_logins, got.throttled_until, got.locked),
        (0, None, false)
    );
    assert!(matches!(
        store.add_failed_login(AccountId::random()).await,
        Err(StoreError::NotFound)
    ));
}

async fn sessions_live_and_expire(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"idx-8").await;
    let short = SessionRecord {
        token_hash: b"token-1".to_vec(),
        account_id: a.id,
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0 + Duration::hours(12),
        idle_timeout: Duration::minutes(30),
        remember: false,
    };
    let long = SessionRecord {
        token_hash: b"token-2".to_vec(),
        expires_at: T0 + Duration::days(30),
        idle_timeout: Duration::days(30),
        remember: true,
        ..short.clone()
    };
    store.insert_session(&short).await.unwrap();
    store.insert_session(&long).await.unwrap();
    assert_eq!(
        store.session(b"token-1").await.unwrap(),
        Some(short.clone())
    );
    store
        .touch_session(b"token-1", T0 + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(
        store
            .session(b"token-1")
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        T0 + Duration::minutes(10)
    );
    // Idle for 30 minutes since the last touch: gone; the remembered one stays.
    assert_eq!(
        store
            .delete_expired_sessions(T0 + Duration::minutes(40))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.session(b"token-1").await.unwrap(), None);
    assert!(store.session(b"token-2").await.unwrap().is_some());
    assert_eq!(store.delete_account_sessions(a.id).await.unwrap(), 1);
    assert_eq!(store.session(b"token-2").await.unwrap(), None);
    store.insert_session(&short).await.unwrap();
    store.delete_session(b"token-1").await.unwrap();
    assert_eq!(store.session(b"token-1").await.unwrap(), None);
}

async fn rate_limits_hold_under_concurrency(store: Arc<dyn Backend>) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .hit_rate_limit("test", b"key", T0, Duration::HOUR, 5)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        if t.await.unwrap() == RateDecision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
    // Another key and another bucket are counted apart.
    assert_eq!(
        store
            .hit_rate_limit("test", b"other", T0, Duration::HOUR, 5)
            .await
            .unwrap(),
        RateDecision::Allowed
    );
    assert_eq!(
        store
            .hit_rate_limit("other", b"key", T0, Duration::HOUR, 5)
            .await
            .unwrap(),
        RateDecision::Allowed
    );
}

async fn rate_limits_slide_with_time(store: Arc<dyn Backend>) {
    let hit = |at: OffsetDateTime| {
        let store = Arc::clone(&store);
        async move {
            store
                .hit_rate_limit("slide", b"k", at, Duration::HOUR, 2)
                .await
                .unwrap()
        }
    };
    assert_eq!(hit(T0).await, RateDecision::Allowed);
    assert_eq!(hit(T0 + Duration::minutes(10)).await, RateDecision::Allowed);
    assert_eq!(
        hit(T0 + Duration::minutes(20)).await,
        RateDecision::Refused {
            retry_at: T0 + Duration::HOUR
        }
    );
    assert_eq!(hit(T0 + Duration::minutes(61)).await, RateDecision::Allowed);
    assert_eq!(
        store
            .purge_rate_events(T0 + Duration::minutes(30))
            .await
            .unwrap(),
        2
    );
}

async fn expired_registrations_are_swept(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-9");
    store.insert_registration(&r).await.unwrap();
    assert_eq!(store.delete_expired_registrations(T0).await.unwrap(), 0);
    assert_eq!(
        store
            .delete_expired_registrations(r.expires_at)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.registration(r.id).await.unwrap(), None);
}

async fn accounts_and_sessions_import_in_bulk(store: Arc<dyn Backend>) {
    // More rows than one multi-row statement takes, so the import spans several.
    let accounts: Vec<AccountRecord> = (0..2500u32)
        .map(|i| {
            let mut a = account_for(&registration(Channel::Sms, format!("bulk-{i}").as_bytes()));
            a.failed_logins = i % 3;
            a.throttled_until = (i % 2 == 0).then_some(T0 + Duration::seconds(i64::from(i)));
            a.locked = i % 5 == 0;
            a
        })
        .collect();
    store.import_accounts(&accounts).await.unwrap();
    for a in [
        &accounts[0],
        &accounts[999],
        &accounts[1000],
        &accounts[2499],
    ] {
        assert_eq!(store.account(a.id).await.unwrap().as_ref(), Some(a));
        let found = store
            .account_by_login(LoginKind::Phone, a.phone_index.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(found.map(|f| f.id), Some(a.id));
    }
    store.import_accounts(&[]).await.unwrap();

    // All or none: a taken phone anywhere in the batch imports nothing.
    let fresh = account_for(&registration(Channel::Sms, b"bulk-fresh"));
    let taken = account_for(&registration(Channel::Sms, b"bulk-7"));
    assert!(matches!(
        store.import_accounts(&[fresh.clone(), taken]).await,
        Err(StoreError::Conflict(UniqueField::Phone))
    ));
    assert_eq!(store.account(fresh.id).await.unwrap(), None);

    let sessions: Vec<SessionRecord> = (0..1500u32)
        .map(|i| SessionRecord {
            token_hash: format!("bulk-token-{i}").into_bytes(),
            account_id: accounts[i as usize % accounts.len()].id,
            created_at: T0,
            last_seen_at: T0 + Duration::seconds(i64::from(i)),
            expires_at: T0 + Duration::hours(12),
            idle_timeout: Duration::minutes(30),
            remember: i % 2 == 1,
        })
        .collect();
    store.import_sessions(&sessions).await.unwrap();
    for s in [&sessions[0], &sessions[1000], &sessions[1499]] {
        assert_eq!(
            store.session(&s.token_hash).await.unwrap().as_ref(),
            Some(s)
        );
    }
    assert_eq!(
        store.delete_account_sessions(accounts[0].id).await.unwrap(),
        1
    );
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
