//! The storage contract: every test runs on SQLite, and on PostgreSQL when
//! `USLUGI_TEST_DATABASE_URL` names a server (CI gives one).
use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uslugi_app::ports::{
    AccountRecord, CheckRecord, Completion, OutboxRecord, RateDecision, RegistrationRecord,
    SessionRecord, StoreError, UniqueField, VerifiedIdentity,
};
use uslugi_app::registries::Registry;
use uslugi_domain::{
    AccountId, AccountLevel, Channel, CheckStatus, ConfirmedVia, LetterStatus, LoginKind,
    RegistrationId, VerificationStatus,
};
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

// What every code or link shares: `contract/challenges.rs`.
#[path = "contract/challenges.rs"]
mod challenges;

// A change of phone or e-mail: `contract/contacts.rs`.
#[path = "contract/contacts.rs"]
mod contacts;

contract!(
    migrations_are_idempotent,
    registrations_round_trip,
    concurrent_code_attempts_never_exceed_the_limit,
    resend_replaces_the_secret_once,
    completing_a_registration_creates_the_account_atomically,
    a_taken_contact_is_a_conflict_and_leaves_the_registration,
    accounts_are_found_by_each_login,
    failed_logins_count_and_clear,
    concurrent_login_attempts_are_taken_one_per_state,
    sessions_live_and_expire,
    rate_limits_hold_under_concurrency,
    rate_limits_slide_with_time,
    expired_registrations_are_swept,
    accounts_and_sessions_import_in_bulk,
    drafts_and_addresses_are_kept,
    a_submission_writes_its_checks_atomically,
    due_checks_are_leased_to_one_worker_at_a_time,
    a_check_finishes_once,
    a_completion_applies_once_with_one_message,
    a_snils_verified_elsewhere_stops_the_completion,
    the_outbox_is_leased_delivered_and_rescheduled,
    sealed_values_are_paged_and_replaced_only_if_unchanged,
    the_sealing_format_starts_at_one_and_only_rises,
    a_confirmed_account_stays_confirmed_when_new_data_pass,
    idle_workers_see_no_work_and_busy_ones_do,
    service_centers_are_upserted_by_id,
    the_audit_log_links_each_record_to_the_one_before,
    concurrent_audit_appends_make_one_chain,
    audit_records_are_read_by_center_operator_and_account,
    operators_enrol_once_with_a_login_of_their_own,
    a_totp_step_is_taken_once,
    disabling_an_operator_ends_their_sessions,
    operator_sessions_expire_when_idle,
    a_registration_at_a_center_is_written_whole_or_not_at_all,
    only_a_standard_account_is_confirmed_in_person,
    a_temporary_password_ends_every_session,
    changing_the_password_keeps_this_session,
    letters_are_ordered_within_the_limits_even_at_once,
    a_new_letter_voids_the_last_one,
    queued_letters_are_leased_sent_and_confirmed_once,
    the_days_letters_and_their_codes,
    a_recovery_is_started_confirmed_and_completed_once,
    devices_are_noted_and_sessions_listed_and_ended,
    a_letter_used_after_a_confirmation_at_a_center_changes_nothing_else,
);

#[path = "contract/second_factor.rs"]
mod second_factor;

// A phone confirmed at a service center's desk: `contract/desk.rs`.
#[path = "contract/desk.rs"]
mod desk;

// The Interior Ministry's address of registration: `contract/registered_address.rs`.
#[path = "contract/registered_address.rs"]
mod registered_address;

// Databases made by a release before `sqlx::migrate!`: `contract/released.rs`.
#[path = "contract/released.rs"]
mod released;

// What is left of a message after delivery: `contract/outbox.rs`.
#[path = "contract/outbox.rs"]
mod outbox;

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
        continuation: None,
        created_at: T0,
        expires_at: T0 + Duration::days(1),
    }
}

/// A continuation as the confirmation stores it, live for 30 minutes.
fn continuation(hash: &[u8]) -> uslugi_app::ports::ContinuationRecord {
    uslugi_app::ports::ContinuationRecord {
        hash: hash.to_vec(),
        expires_at: T0 + Duration::minutes(30),
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
        passport_index: None,
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        must_change_password: false,
        password_expires_at: None,
        failed_logins: 0,
        throttled_until: None,
        locked: false,
        confirmed_at: None,
        confirmed_via: None,
        created_at: T0,
    }
}

async fn registered_account(store: &Arc<dyn Backend>, index: &[u8]) -> AccountRecord {
    let r = registration(Channel::Sms, index);
    store.insert_registration(&r).await.unwrap();
    store
        .mark_registration_confirmed(r.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    let a = account_for(&r);
    store
        .complete_registration(r.id, b"go", T0, &a)
        .await
        .unwrap();
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
        .mark_registration_confirmed(r.id, T0 + Duration::seconds(5), &continuation(b"go"))
        .await
        .unwrap();
    // A second confirmation keeps the first time.
    store
        .mark_registration_confirmed(r.id, T0 + Duration::seconds(9), &continuation(b"again"))
        .await
        .unwrap();
    let got = store.registration(r.id).await.unwrap().unwrap();
    assert_eq!(got.confirmed_at, Some(T0 + Duration::seconds(5)));
    // The later confirmation's continuation replaced the first one.
    assert_eq!(got.continuation, Some(continuation(b"again")));

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
        store.complete_registration(r.id, b"go", T0, &a).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.account(a.id).await.unwrap(),
        None,
        "unconfirmed: no account"
    );

    store
        .mark_registration_confirmed(r.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    store
        .complete_registration(r.id, b"go", T0, &a)
        .await
        .unwrap();
    assert_eq!(store.account(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.registration(r.id).await.unwrap(), None);
    assert!(matches!(
        store.complete_registration(r.id, b"go", T0, &a).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_taken_contact_is_a_conflict_and_leaves_the_registration(store: Arc<dyn Backend>) {
    let first = registered_account(&store, b"idx-5").await;
    let r = registration(Channel::Sms, b"idx-5");
    store.insert_registration(&r).await.unwrap();
    store
        .mark_registration_confirmed(r.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    let a = account_for(&r);
    assert!(matches!(
        store.complete_registration(r.id, b"go", T0, &a).await,
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
    store
        .mark_registration_confirmed(e.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    store
        .complete_registration(e.id, b"go", T0, &account_for(&e))
        .await
        .unwrap();
    let e2 = registration(Channel::Email, b"idx-6");
    store.insert_registration(&e2).await.unwrap();
    store
        .mark_registration_confirmed(e2.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .complete_registration(e2.id, b"go", T0, &account_for(&e2))
            .await,
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
    store
        .mark_registration_confirmed(r.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    let b = account_for(&r);
    store
        .complete_registration(r.id, b"go", T0, &b)
        .await
        .unwrap();
    let found = store
        .account_by_login(LoginKind::Email, b"email-idx")
        .await
        .unwrap();
    assert_eq!(found, Some(b));
    assert_eq!(store.account(AccountId::random()).await.unwrap(), None);
}

fn restriction(until: Option<OffsetDateTime>, locked: bool) -> uslugi_app::ports::LoginRestriction {
    uslugi_app::ports::LoginRestriction {
        throttled_until: until,
        locked,
    }
}

async fn failed_logins_count_and_clear(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"idx-7").await;
    for seen in 0..4 {
        assert!(
            store
                .take_login_attempt(a.id, seen, T0, restriction(None, false))
                .await
                .unwrap()
        );
    }
    assert!(
        !store
            .take_login_attempt(a.id, 3, T0, restriction(None, false))
            .await
            .unwrap(),
        "a stale count takes nothing"
    );
    let until = T0 + Duration::seconds(2);
    assert!(
        store
            .take_login_attempt(a.id, 4, T0, restriction(Some(until), false))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_login_attempt(a.id, 5, T0 + Duration::seconds(1), restriction(None, false))
            .await
            .unwrap(),
        "throttled"
    );
    // A right secret gives its attempt back, throttle and all.
    store.give_back_login_attempt(a.id, 5, None).await.unwrap();
    let got = store.account(a.id).await.unwrap().unwrap();
    assert_eq!((got.failed_logins, got.throttled_until), (4, None));
    store.give_back_login_attempt(a.id, 9, None).await.unwrap();
    assert_eq!(
        store.account(a.id).await.unwrap().unwrap().failed_logins,
        4,
        "only the attempt that is still the last"
    );
    assert!(
        store
            .take_login_attempt(a.id, 4, T0, restriction(None, true))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_login_attempt(a.id, 5, T0 + Duration::days(1), restriction(None, true))
            .await
            .unwrap(),
        "locked"
    );
    store.clear_login_failures(a.id).await.unwrap();
    let got = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (got.failed_logins, got.throttled_until, got.locked),
        (0, None, false)
    );
    assert!(
        !store
            .take_login_attempt(AccountId::random(), 0, T0, restriction(None, false))
            .await
            .unwrap()
    );
}

async fn concurrent_login_attempts_are_taken_one_per_state(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"idx-7b").await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .take_login_attempt(
                        a.id,
                        0,
                        T0,
                        restriction(Some(T0 + Duration::seconds(2)), false),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
    let got = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(got.failed_logins, 1);
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
        must_change_password: false,
        device_hash: None,
        user_agent: None,
        network: None,
    };
    let long = SessionRecord {
        token_hash: b"token-2".to_vec(),
        expires_at: T0 + Duration::days(30),
        idle_timeout: Duration::days(30),
        remember: true,
        must_change_password: false,
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
            must_change_password: false,
            device_hash: None,
            user_agent: None,
            network: None,
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

fn check(account: AccountId, submission: uuid::Uuid, registry: Registry) -> CheckRecord {
    CheckRecord {
        id: uuid::Uuid::new_v4(),
        submission_id: submission,
        account_id: account,
        registry,
        status: CheckStatus::Pending,
        reason: None,
        request: b"sealed-request".to_vec(),
        gateway_request_id: None,
        attempts: 0,
        next_run_at: T0,
        deadline_at: T0 + Duration::days(5),
        leased_until: None,
        created_at: T0,
        finished_at: None,
        registration_address: None,
    }
}

fn both_checks(account: AccountId, submission: uuid::Uuid) -> Vec<CheckRecord> {
    vec![
        check(account, submission, Registry::Sfr),
        check(account, submission, Registry::Mvd),
    ]
}

fn message(account: AccountId, key: &str) -> OutboxRecord {
    OutboxRecord {
        id: uuid::Uuid::new_v4(),
        dedupe_key: key.into(),
        account_id: Some(account),
        channel: Channel::Sms,
        recipient: b"sealed-to".to_vec(),
        subject: b"sealed-subject".to_vec(),
        body: b"sealed-body".to_vec(),
        created_at: T0,
        next_attempt_at: T0,
        attempts: 0,
        leased_until: None,
        delivered_at: None,
    }
}

async fn drafts_and_addresses_are_kept(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-1").await;
    assert_eq!(store.personal_data(a.id).await.unwrap(), None);
    store.save_draft(a.id, b"draft-1", T0).await.unwrap();
    store
        .save_addresses(a.id, b"addresses-1", T0)
        .await
        .unwrap();
    store
        .save_draft(a.id, b"draft-2", T0 + Duration::seconds(5))
        .await
        .unwrap();
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Draft);
    assert_eq!(p.draft.as_deref(), Some(&b"draft-2"[..]));
    assert_eq!(
        p.addresses.as_deref(),
        Some(&b"addresses-1"[..]),
        "a draft keeps the addresses"
    );
    assert_eq!(p.updated_at, T0 + Duration::seconds(5));
    assert_eq!(
        (p.submitted, p.verified, p.submission_id),
        (None, None, None)
    );
}

async fn a_submission_writes_its_checks_atomically(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-2").await;
    store.save_draft(a.id, b"draft", T0).await.unwrap();

    // A failure half-way (two checks at one registry) leaves nothing behind.
    let bad = uuid::Uuid::new_v4();
    let twice = vec![
        check(a.id, bad, Registry::Sfr),
        check(a.id, bad, Registry::Sfr),
    ];
    assert!(
        store
            .submit_personal_data(a.id, bad, b"data", &twice, None, T0)
            .await
            .is_err()
    );
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Draft);
    assert_eq!(p.draft.as_deref(), Some(&b"draft"[..]));
    assert!(store.checks_of_submission(bad).await.unwrap().is_empty());

    let s = uuid::Uuid::new_v4();
    let checks = both_checks(a.id, s);
    store
        .submit_personal_data(a.id, s, b"data", &checks, None, T0)
        .await
        .unwrap();
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::InProgress);
    assert_eq!(
        (p.draft, p.submitted.as_deref()),
        (None, Some(&b"data"[..]))
    );
    assert_eq!((p.submission_id, p.submitted_at), (Some(s), Some(T0)));
    let stored = store.checks_of_submission(s).await.unwrap();
    assert_eq!(
        stored, checks,
        "Social Fund first, then the Interior Ministry"
    );

    let again = uuid::Uuid::new_v4();
    assert!(matches!(
        store
            .submit_personal_data(a.id, again, b"other", &both_checks(a.id, again), None, T0)
            .await,
        Err(StoreError::Conflict(UniqueField::Other))
    ));
    assert!(store.checks_of_submission(again).await.unwrap().is_empty());
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.submitted.as_deref(), Some(&b"data"[..]));
}

async fn due_checks_are_leased_to_one_worker_at_a_time(store: Arc<dyn Backend>) {
    let mut all = Vec::new();
    for i in 0..5u8 {
        let a = registered_account(&store, &[b'l', i]).await;
        let s = uuid::Uuid::new_v4();
        let checks = both_checks(a.id, s);
        all.extend(checks.iter().map(|c| c.id));
        store
            .submit_personal_data(a.id, s, b"data", &checks, None, T0)
            .await
            .unwrap();
    }
    let lease = T0 + Duration::seconds(60);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..5 {
                got.extend(store.lease_due_checks(T0, lease, 2).await.unwrap());
            }
            got
        }));
    }
    let mut leased = Vec::new();
    for t in tasks {
        leased.extend(t.await.unwrap().into_iter().map(|c| c.id));
    }
    leased.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(leased, expected, "every due check leased exactly once");
    assert!(
        store
            .lease_due_checks(T0 + Duration::seconds(59), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A worker that died leaves its lease to expire; then the check is due again.
    let again = store
        .lease_due_checks(lease, lease + Duration::seconds(60), 100)
        .await
        .unwrap();
    assert_eq!(again.len(), all.len());

    // Rescheduling releases the lease and waits until the new time.
    let c = &again[0];
    store
        .record_gateway_request(c.id, Some("req-1"))
        .await
        .unwrap();
    store
        .reschedule_check(c.id, CheckStatus::Retrying, 1, T0 + Duration::hours(1))
        .await
        .unwrap();
    let later = T0 + Duration::minutes(59);
    assert!(
        store
            .lease_due_checks(later, later, 100)
            .await
            .unwrap()
            .iter()
            .all(|x| x.id != c.id)
    );
    let at = T0 + Duration::hours(1);
    let due = store
        .lease_due_checks(at, at + Duration::seconds(60), 100)
        .await
        .unwrap();
    let c2 = due.iter().find(|x| x.id == c.id).expect("due again");
    assert_eq!((c2.status, c2.attempts), (CheckStatus::Retrying, 1));
    assert_eq!(c2.gateway_request_id.as_deref(), Some("req-1"));
}

async fn a_check_finishes_once(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-3").await;
    let s = uuid::Uuid::new_v4();
    let checks = both_checks(a.id, s);
    store
        .submit_personal_data(a.id, s, b"data", &checks, None, T0)
        .await
        .unwrap();
    let at = T0 + Duration::seconds(3);
    assert!(
        store
            .finish_check(
                checks[0].id,
                CheckStatus::Failed,
                Some("data_mismatch"),
                None,
                at
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_check(checks[0].id, CheckStatus::Passed, None, None, at)
            .await
            .unwrap(),
        "a second run changes nothing"
    );
    store
        .reschedule_check(checks[0].id, CheckStatus::Retrying, 7, at)
        .await
        .unwrap();
    let stored = store.checks_of_submission(s).await.unwrap();
    assert_eq!(stored[0].status, CheckStatus::Failed);
    assert_eq!(stored[0].reason.as_deref(), Some("data_mismatch"));
    assert_eq!((stored[0].attempts, stored[0].finished_at), (0, Some(at)));
    let far = T0 + Duration::days(1);
    let due = store.lease_due_checks(far, far, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![checks[1].id],
        "closed checks are never due"
    );
    assert!(
        store.submissions_to_complete(10).await.unwrap().is_empty(),
        "one check is still open"
    );
}

async fn a_completion_applies_once_with_one_message(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-4").await;
    store.save_addresses(a.id, b"addresses", T0).await.unwrap();
    let s = uuid::Uuid::new_v4();
    let checks = both_checks(a.id, s);
    store
        .submit_personal_data(a.id, s, b"data", &checks, None, T0)
        .await
        .unwrap();
    for c in &checks {
        store
            .finish_check(c.id, CheckStatus::Passed, None, None, T0)
            .await
            .unwrap();
    }
    assert_eq!(
        store.submissions_to_complete(10).await.unwrap(),
        vec![(a.id, s)]
    );
    let at = T0 + Duration::seconds(10);
    let completion = Completion {
        account_id: a.id,
        submission_id: s,
        status: VerificationStatus::Verified,
        verified: Some(VerifiedIdentity {
            surname: b"new-surname".to_vec(),
            given_name: b"new-given".to_vec(),
            snils_index: b"snils-1".to_vec(),
            passport_index: b"passport-index".to_vec(),
            registration_address: None,
        }),
        message: Some(message(a.id, &format!("verification:{s}"))),
        in_person: None,
        audit: None,
        at,
    };
    assert!(store.complete_submission(&completion).await.unwrap());
    let mut repeat = completion.clone();
    repeat.message = Some(message(a.id, &format!("verification:{s}")));
    assert!(
        !store.complete_submission(&repeat).await.unwrap(),
        "applied once"
    );
    assert!(store.submissions_to_complete(10).await.unwrap().is_empty());

    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Verified);
    assert_eq!(
        (p.verified.as_deref(), p.verified_at),
        (Some(&b"data"[..]), Some(at))
    );
    assert_eq!(p.addresses.as_deref(), Some(&b"addresses"[..]));
    let acc = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(acc.level, AccountLevel::Standard);
    assert_eq!(
        (acc.surname.as_slice(), acc.given_name.as_slice()),
        (&b"new-surname"[..], &b"new-given"[..])
    );
    let by_snils = store
        .account_by_login(LoginKind::Snils, b"snils-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_snils.id, a.id);

    let out = store
        .lease_outbox(at, at + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![completion.message.clone().unwrap()]
            .into_iter()
            .map(|mut m| {
                m.leased_until = Some(at + Duration::seconds(60));
                m
            })
            .collect::<Vec<_>>()
    );

    // New data that fail keep the verified data and the level in force.
    let s2 = uuid::Uuid::new_v4();
    let checks2 = both_checks(a.id, s2);
    store
        .submit_personal_data(a.id, s2, b"data-2", &checks2, None, at)
        .await
        .unwrap();
    for c in &checks2 {
        store
            .finish_check(c.id, CheckStatus::Failed, Some("data_mismatch"), None, at)
            .await
            .unwrap();
    }
    let failed = Completion {
        account_id: a.id,
        submission_id: s2,
        status: VerificationStatus::Failed,
        verified: None,
        message: Some(message(a.id, &format!("verification:{s2}"))),
        in_person: None,
        audit: None,
        at,
    };
    assert!(store.complete_submission(&failed).await.unwrap());
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Failed);
    assert_eq!(
        (p.submitted.as_deref(), p.verified.as_deref()),
        (Some(&b"data-2"[..]), Some(&b"data"[..]))
    );
    assert_eq!(
        store.account(a.id).await.unwrap().unwrap().level,
        AccountLevel::Standard
    );
    assert_eq!(
        store.lease_outbox(at, at, 10).await.unwrap().len(),
        1,
        "the first message is leased, the second is new"
    );
}

async fn a_snils_verified_elsewhere_stops_the_completion(store: Arc<dyn Backend>) {
    let mut ids = Vec::new();
    for i in 0..2u8 {
        let a = registered_account(&store, &[b's', i]).await;
        let s = uuid::Uuid::new_v4();
        let checks = both_checks(a.id, s);
        store
            .submit_personal_data(a.id, s, b"data", &checks, None, T0)
            .await
            .unwrap();
        for c in &checks {
            store
                .finish_check(c.id, CheckStatus::Passed, None, None, T0)
                .await
                .unwrap();
        }
        ids.push((a.id, s));
    }
    let completion = |(account_id, submission_id): (AccountId, uuid::Uuid)| Completion {
        account_id,
        submission_id,
        status: VerificationStatus::Verified,
        verified: Some(VerifiedIdentity {
            surname: b"s".to_vec(),
            given_name: b"g".to_vec(),
            snils_index: b"same-snils".to_vec(),
            passport_index: b"passport-index".to_vec(),
            registration_address: None,
        }),
        message: Some(message(
            account_id,
            &format!("verification:{submission_id}"),
        )),
        in_person: None,
        audit: None,
        at: T0,
    };
    assert!(
        store
            .complete_submission(&completion(ids[0]))
            .await
            .unwrap()
    );
    assert!(matches!(
        store.complete_submission(&completion(ids[1])).await,
        Err(StoreError::Conflict(UniqueField::Snils))
    ));
    let p = store.personal_data(ids[1].0).await.unwrap().unwrap();
    assert_eq!(
        (p.status, p.verified),
        (VerificationStatus::InProgress, None),
        "nothing written"
    );
    assert_eq!(
        store.account(ids[1].0).await.unwrap().unwrap().level,
        AccountLevel::Simplified
    );
    assert_eq!(
        store.lease_outbox(T0, T0, 10).await.unwrap().len(),
        1,
        "only the first message"
    );
}

async fn the_outbox_is_leased_delivered_and_rescheduled(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-5").await;
    let s = uuid::Uuid::new_v4();
    let checks = both_checks(a.id, s);
    store
        .submit_personal_data(a.id, s, b"data", &checks, None, T0)
        .await
        .unwrap();
    for c in &checks {
        store
            .finish_check(c.id, CheckStatus::Failed, Some("snils_not_found"), None, T0)
            .await
            .unwrap();
    }
    let m = message(a.id, "verification:x");
    store
        .complete_submission(&Completion {
            account_id: a.id,
            submission_id: s,
            status: VerificationStatus::Failed,
            verified: None,
            message: Some(m.clone()),
            at: T0,
            in_person: None,
            audit: None,
        })
        .await
        .unwrap();
    let lease = T0 + Duration::seconds(30);
    assert_eq!(store.lease_outbox(T0, lease, 10).await.unwrap().len(), 1);
    assert!(
        store.lease_outbox(T0, lease, 10).await.unwrap().is_empty(),
        "leased once"
    );
    store
        .reschedule_outbox(m.id, 1, T0 + Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        store
            .lease_outbox(lease, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "waits for its time"
    );
    let at = T0 + Duration::minutes(1);
    let again = store
        .lease_outbox(at, at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    store.mark_outbox_delivered(m.id, at).await.unwrap();
    let far = T0 + Duration::days(1);
    assert!(
        store.lease_outbox(far, far, 10).await.unwrap().is_empty(),
        "delivered: never again"
    );
}

async fn the_sealing_format_starts_at_one_and_only_rises(store: Arc<dyn Backend>) {
    assert_eq!(store.sealing_format().await.unwrap(), 1);
    store.set_sealing_format(2).await.unwrap();
    assert_eq!(store.sealing_format().await.unwrap(), 2);
    store.set_sealing_format(1).await.unwrap();
    assert_eq!(
        store.sealing_format().await.unwrap(),
        2,
        "an older node cannot lower it"
    );
    store.migrate().await.unwrap();
    assert_eq!(store.sealing_format().await.unwrap(), 2);
}

async fn sealed_values_are_paged_and_replaced_only_if_unchanged(store: Arc<dyn Backend>) {
    let mut ids = Vec::new();
    for i in 0..3u8 {
        ids.push(registered_account(&store, &[b'k', i]).await.id.to_string());
    }
    ids.sort();
    let column = uslugi_storage::SEALED_COLUMNS
        .iter()
        .find(|c| c.table == "accounts" && c.column == "surname")
        .unwrap();
    let first = store.sealed_values(column, "", 2).await.unwrap();
    assert_eq!(
        first.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        ids[..2]
    );
    let rest = store.sealed_values(column, &first[1].0, 2).await.unwrap();
    assert_eq!(
        rest.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        ids[2..]
    );
    assert_eq!(rest[0].1, b"sealed-surname");

    assert!(
        store
            .replace_sealed(column, &ids[0], b"sealed-surname", b"resealed")
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_sealed(column, &ids[0], b"sealed-surname", b"again")
            .await
            .unwrap(),
        "a value changed meanwhile is left alone"
    );
    let acc = store
        .account(ids[0].parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acc.surname, b"resealed");
    // Only the known sealed columns may be named.
    let forged = uslugi_storage::SealedColumn {
        table: "accounts",
        key: "id",
        column: "password_hash",
        field: uslugi_app::crypto::SealedField::Surname,
    };
    assert!(store.sealed_values(&forged, "", 1).await.is_err());
}

async fn a_confirmed_account_stays_confirmed_when_new_data_pass(store: Arc<dyn Backend>) {
    let mut a = account_for(&registration(Channel::Sms, b"confirmed-1"));
    a.level = AccountLevel::Confirmed;
    store
        .import_accounts(std::slice::from_ref(&a))
        .await
        .unwrap();
    let s = uuid::Uuid::new_v4();
    let checks = both_checks(a.id, s);
    store
        .submit_personal_data(a.id, s, b"new-data", &checks, None, T0)
        .await
        .unwrap();
    for c in &checks {
        store
            .finish_check(c.id, CheckStatus::Passed, None, None, T0)
            .await
            .unwrap();
    }
    let applied = store
        .complete_submission(&Completion {
            account_id: a.id,
            submission_id: s,
            status: VerificationStatus::Verified,
            verified: Some(VerifiedIdentity {
                surname: b"new-surname".to_vec(),
                given_name: b"g".to_vec(),
                snils_index: b"snils-confirmed".to_vec(),
                passport_index: b"passport-index".to_vec(),
                registration_address: None,
            }),
            message: None,
            at: T0,
            in_person: None,
            audit: None,
        })
        .await
        .unwrap();
    assert!(applied);
    let after = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        after.level,
        AccountLevel::Confirmed,
        "never lowered to standard"
    );
    assert_eq!(
        after.surname, b"new-surname",
        "the new verified name is the account's"
    );
}

async fn idle_workers_see_no_work_and_busy_ones_do(store: Arc<dyn Backend>) {
    assert!(!store.has_due_work(T0).await.unwrap(), "an empty database");
    let a = registered_account(&store, b"due-1").await;
    let s = uuid::Uuid::new_v4();
    let checks = both_checks(a.id, s);
    store
        .submit_personal_data(a.id, s, b"data", &checks, None, T0)
        .await
        .unwrap();
    assert!(store.has_due_work(T0).await.unwrap(), "new checks are due");
    let lease = T0 + Duration::seconds(30);
    store.lease_due_checks(T0, lease, 10).await.unwrap();
    assert!(
        !store.has_due_work(T0).await.unwrap(),
        "leased checks are someone's"
    );
    store
        .reschedule_check(
            checks[0].id,
            CheckStatus::Pending,
            0,
            T0 + Duration::seconds(5),
        )
        .await
        .unwrap();
    store
        .finish_check(checks[1].id, CheckStatus::Passed, None, None, T0)
        .await
        .unwrap();
    assert!(
        !store.has_due_work(T0).await.unwrap(),
        "not due before its time"
    );
    assert!(store.has_due_work(T0 + Duration::seconds(5)).await.unwrap());
    store
        .finish_check(checks[0].id, CheckStatus::Passed, None, None, T0)
        .await
        .unwrap();
    assert!(
        store.has_due_work(T0).await.unwrap(),
        "a finished submission waits to be completed"
    );
    let m = message(a.id, "due-1");
    store
        .complete_submission(&Completion {
            account_id: a.id,
            submission_id: s,
            status: VerificationStatus::Failed,
            verified: None,
            message: Some(m.clone()),
            at: T0,
            in_person: None,
            audit: None,
        })
        .await
        .unwrap();
    assert!(
        store.has_due_work(T0).await.unwrap(),
        "a message waits to be sent"
    );
    store.mark_outbox_delivered(m.id, T0).await.unwrap();
    assert!(!store.has_due_work(T0).await.unwrap(), "all done");
}

async fn service_centers_are_upserted_by_id(store: Arc<dyn Backend>) {
    use uslugi_app::ports::CenterRecord;
    let record = |id: &str, region: &str, json: &str| CenterRecord {
        id: id.into(),
        region: region.into(),
        json: json.into(),
    };
    assert!(store.all_centers().await.unwrap().is_empty());
    store
        .upsert_centers(
            &[
                record("b", "Калужская область", "{\"n\":1}"),
                record("a", "Калужская область", "{\"n\":2}"),
            ],
            T0,
        )
        .await
        .unwrap();
    store
        .upsert_centers(
            &[record(
                "b",
                "Ханты-Мансийский автономный округ — Югра",
                "{\"n\":3}",
            )],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        store.all_centers().await.unwrap(),
        vec![
            record("a", "Калужская область", "{\"n\":2}"),
            record("b", "Ханты-Мансийский автономный округ — Югра", "{\"n\":3}")
        ],
        "by id; the second import replaced b"
    );
}

// ------------------------------------------------------------------ the confirmed account

use uslugi_app::ports::{
    Assisted, AuditChain, AuditEntry, AuditFilter, AuditWrite, Enrolment, LetterLimit, LetterOrder,
    LetterRecord, OperatorRecord, OperatorSessionRecord, TemporaryPassword,
};
use uslugi_domain::{OperatorId, OperatorRole};

/// A chain that is easy to recompute in a test: the previous hash, the
/// place and the action, concatenated.
struct TestChain;

impl AuditChain for TestChain {
    fn link(&self, prev: &[u8], seq: i64, e: &AuditEntry) -> Vec<u8> {
        let mut v = prev.iter().take(8).copied().collect::<Vec<u8>>();
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(e.action.as_bytes());
        v
    }
}

fn audit(action: &str) -> AuditWrite {
    audit_of(action, None, None, None)
}

fn audit_of(
    action: &str,
    center: Option<&str>,
    operator: Option<OperatorId>,
    account: Option<AccountId>,
) -> AuditWrite {
    AuditWrite {
        entry: AuditEntry {
            id: uuid::Uuid::new_v4(),
            at: T0,
            actor: "operator".into(),
            operator_id: operator,
            center_id: center.map(str::to_owned),
            account_id: account,
            action: action.into(),
            outcome: "ok".into(),
            details: "{}".into(),
        },
        chain: Arc::new(TestChain),
    }
}

async fn centers(store: &Arc<dyn Backend>) {
    let rec = |id: &str| uslugi_app::ports::CenterRecord {
        id: id.into(),
        region: "Калужская область".into(),
        json: "{}".into(),
    };
    store
        .upsert_centers(&[rec("center-a"), rec("center-b")], T0)
        .await
        .unwrap();
}

fn new_operator(center: &str, token: &[u8]) -> OperatorRecord {
    OperatorRecord {
        id: OperatorId::random(),
        center_id: center.into(),
        role: OperatorRole::Operator,
        name: None,
        login: None,
        password_hash: None,
        totp_secret: b"sealed-key".to_vec(),
        totp_last_step: None,
        enrol_token_hash: Some(token.to_vec()),
        enrol_expires_at: Some(T0 + Duration::hours(72)),
        enrolled_at: None,
        disabled_at: None,
        failed_logins: 0,
        throttled_until: None,
        created_at: T0,
    }
}

fn enrolment(login: &str, step: i64) -> Enrolment {
    Enrolment {
        name: b"sealed-name".to_vec(),
        login: login.into(),
        password_hash: "$argon2id$op".into(),
        totp_step: step,
        at: T0,
    }
}

async fn all_audit(store: &Arc<dyn Backend>) -> Vec<uslugi_app::ports::AuditRecord> {
    store.audit_chain(1, 10_000).await.unwrap()
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
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.append_audit(&audit(&format!("a{i}"))).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
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

async fn operators_enrol_once_with_a_login_of_their_own(store: Arc<dyn Backend>) {
    let op = new_operator("center-a", b"token-1");
    assert!(
        matches!(
            store.insert_operator(&op, &audit("added")).await,
            Err(StoreError::NotFound)
        ),
        "no such center"
    );
    assert!(all_audit(&store).await.is_empty(), "nothing written");
    centers(&store).await;
    store.insert_operator(&op, &audit("added")).await.unwrap();
    assert_eq!(
        store.operator_by_enrol_token(b"token-1").await.unwrap(),
        Some(op.clone())
    );
    assert!(
        store
            .complete_enrolment(op.id, &enrolment("ivanova", 100), &audit("enrolled"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_enrolment(op.id, &enrolment("other", 101), &audit("enrolled"))
            .await
            .unwrap(),
        "once"
    );
    let done = store.operator_by_login("ivanova").await.unwrap().unwrap();
    assert_eq!(done.id, op.id);
    assert_eq!(done.enrol_token_hash, None, "the link died");
    assert_eq!(done.totp_last_step, Some(100));
    assert!(done.enrolled_at.is_some());
    assert_eq!(
        store.operator_by_enrol_token(b"token-1").await.unwrap(),
        None
    );
    let second = new_operator("center-b", b"token-2");
    store
        .insert_operator(&second, &audit("added"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .complete_enrolment(second.id, &enrolment("ivanova", 5), &audit("enrolled"))
            .await,
        Err(StoreError::Conflict(UniqueField::Other))
    ));
    assert_eq!(store.operators().await.unwrap().len(), 2);
    assert_eq!(all_audit(&store).await.len(), 3, "added, enrolled, added");
}

async fn a_totp_step_is_taken_once(store: Arc<dyn Backend>) {
    centers(&store).await;
    let op = new_operator("center-a", b"t");
    store.insert_operator(&op, &audit("added")).await.unwrap();
    store
        .complete_enrolment(op.id, &enrolment("petrov", 10), &audit("e"))
        .await
        .unwrap();
    assert!(
        !store.take_totp_step(op.id, 10).await.unwrap(),
        "the enrolment's code is used"
    );
    assert!(
        !store.take_totp_step(op.id, 9).await.unwrap(),
        "an older one too"
    );
    let tries: Vec<_> = (0..10)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.take_totp_step(op.id, 11).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tries {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "one code, one login, whatever the nodes");
    assert!(
        store
            .take_operator_attempt(op.id, 0, T0, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_operator_attempt(op.id, 0, T0, None)
            .await
            .unwrap(),
        "a stale count takes nothing"
    );
    assert!(
        store
            .take_operator_attempt(op.id, 1, T0, Some(T0 + Duration::minutes(1)))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_operator_attempt(op.id, 2, T0 + Duration::seconds(59), None)
            .await
            .unwrap(),
        "throttled"
    );
    let o = store.operator(op.id).await.unwrap().unwrap();
    assert_eq!(
        (o.failed_logins, o.throttled_until),
        (2, Some(T0 + Duration::minutes(1)))
    );
    store.clear_operator_failures(op.id).await.unwrap();
    let o = store.operator(op.id).await.unwrap().unwrap();
    assert_eq!((o.failed_logins, o.throttled_until), (0, None));
}

fn operator_session(op: OperatorId, token: &[u8]) -> OperatorSessionRecord {
    OperatorSessionRecord {
        token_hash: token.to_vec(),
        operator_id: op,
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0 + Duration::hours(12),
    }
}

async fn disabling_an_operator_ends_their_sessions(store: Arc<dyn Backend>) {
    centers(&store).await;
    let op = new_operator("center-a", b"t");
    store.insert_operator(&op, &audit("added")).await.unwrap();
    store
        .insert_operator_session(&operator_session(op.id, b"s1"))
        .await
        .unwrap();
    assert!(
        store
            .disable_operator(op.id, T0, &audit("disabled"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .disable_operator(op.id, T0, &audit("disabled"))
            .await
            .unwrap()
    );
    assert_eq!(store.operator_session(b"s1").await.unwrap(), None);
    assert!(
        store
            .operator(op.id)
            .await
            .unwrap()
            .unwrap()
            .disabled_at
            .is_some()
    );
    assert_eq!(all_audit(&store).await.len(), 2);
}

async fn operator_sessions_expire_when_idle(store: Arc<dyn Backend>) {
    centers(&store).await;
    let op = new_operator("center-a", b"t");
    store.insert_operator(&op, &audit("added")).await.unwrap();
    store
        .insert_operator_session(&operator_session(op.id, b"s1"))
        .await
        .unwrap();
    store
        .insert_operator_session(&operator_session(op.id, b"s2"))
        .await
        .unwrap();
    store
        .touch_operator_session(b"s2", T0 + Duration::minutes(10))
        .await
        .unwrap();
    let idle = Duration::minutes(15);
    assert_eq!(
        store
            .delete_expired_operator_sessions(T0 + Duration::minutes(16), idle)
            .await
            .unwrap(),
        1
    );
    assert!(store.operator_session(b"s2").await.unwrap().is_some());
    store.delete_operator_session(b"s2").await.unwrap();
    assert_eq!(store.operator_session(b"s2").await.unwrap(), None);
}

fn assisted() -> Assisted {
    Assisted {
        operator_id: OperatorId::random(),
        center_id: "center-a".into(),
    }
}

fn in_person_account(phone_index: &[u8]) -> AccountRecord {
    let r = registration(Channel::Sms, phone_index);
    let mut a = account_for(&r);
    a.must_change_password = true;
    a
}

async fn a_registration_at_a_center_is_written_whole_or_not_at_all(store: Arc<dyn Backend>) {
    let taken = registered_account(&store, b"phone-taken").await;
    let before = all_audit(&store).await.len();
    let a = in_person_account(b"phone-taken");
    let s = uuid::Uuid::new_v4();
    assert!(matches!(
        store
            .register_in_person(
                &a,
                s,
                b"data",
                &both_checks(a.id, s),
                &assisted(),
                &audit("registered")
            )
            .await,
        Err(StoreError::Conflict(UniqueField::Phone))
    ));
    assert_eq!(store.account(a.id).await.unwrap(), None);
    assert_eq!(store.personal_data(a.id).await.unwrap(), None);
    assert!(store.checks_of_submission(s).await.unwrap().is_empty());
    assert_eq!(
        all_audit(&store).await.len(),
        before,
        "no audit record either"
    );
    assert!(store.account(taken.id).await.unwrap().is_some());

    let a = in_person_account(b"phone-new");
    let by = assisted();
    store
        .register_in_person(
            &a,
            s,
            b"data",
            &both_checks(a.id, s),
            &by,
            &audit("registered"),
        )
        .await
        .unwrap();
    let pd = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(pd.status, VerificationStatus::InProgress);
    assert_eq!(pd.assisted, Some(by));
    assert_eq!(store.checks_of_submission(s).await.unwrap().len(), 2);
    // Both checks passed: the completion confirms at once with a temporary password.
    for c in store.checks_of_submission(s).await.unwrap() {
        store
            .finish_check(c.id, CheckStatus::Passed, None, None, T0)
            .await
            .unwrap();
    }
    let c = Completion {
        account_id: a.id,
        submission_id: s,
        status: VerificationStatus::Verified,
        verified: Some(VerifiedIdentity {
            surname: b"s".to_vec(),
            given_name: b"g".to_vec(),
            snils_index: b"snils-center".to_vec(),
            passport_index: b"passport-center".to_vec(),
            registration_address: None,
        }),
        message: Some(message(a.id, "temporary-password:1")),
        in_person: Some(TemporaryPassword {
            hash: "$argon2id$temporary".into(),
            expires_at: T0 + Duration::hours(24),
        }),
        audit: Some(audit("registration_checked")),
        at: T0,
    };
    assert!(store.complete_submission(&c).await.unwrap());
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(done.level, AccountLevel::Confirmed);
    assert_eq!(done.confirmed_via, Some(ConfirmedVia::Center));
    assert_eq!(done.password_hash, "$argon2id$temporary");
    assert!(done.must_change_password);
    assert_eq!(done.password_expires_at, Some(T0 + Duration::hours(24)));
    assert_eq!(
        store
            .accounts_by_passport(b"passport-center")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        all_audit(&store).await.last().unwrap().entry.action,
        "registration_checked"
    );
}

async fn only_a_standard_account_is_confirmed_in_person(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"confirm-1").await;
    assert!(
        !store
            .confirm_identity(a.id, ConfirmedVia::Center, T0, None, &audit("c"))
            .await
            .unwrap()
    );
    assert!(all_audit(&store).await.is_empty());
    let a = standard_account(&store, b"confirm-2").await;
    let m = message(a.id, "confirmed:1");
    let at = T0 + Duration::hours(1);
    assert!(
        store
            .confirm_identity(a.id, ConfirmedVia::Center, at, Some(&m), &audit("c"))
            .await
            .unwrap()
    );
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (done.level, done.confirmed_at, done.confirmed_via),
        (
            AccountLevel::Confirmed,
            Some(at),
            Some(ConfirmedVia::Center)
        )
    );
    assert!(
        !store
            .confirm_identity(a.id, ConfirmedVia::Center, at, Some(&m), &audit("c"))
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(all_audit(&store).await.len(), 1);
    let leased = store
        .lease_outbox(at, at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1, "one notice");
}

fn session_of(a: &AccountRecord, token: &[u8]) -> SessionRecord {
    SessionRecord {
        token_hash: token.to_vec(),
        account_id: a.id,
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0 + Duration::hours(12),
        idle_timeout: Duration::minutes(30),
        remember: false,
        must_change_password: false,
        device_hash: None,
        user_agent: None,
        network: None,
    }
}

async fn a_temporary_password_ends_every_session(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"restore-1").await;
    store.insert_session(&session_of(&a, b"s1")).await.unwrap();
    store
        .take_login_attempt(
            a.id,
            0,
            T0,
            restriction(Some(T0 + Duration::hours(1)), true),
        )
        .await
        .unwrap();
    let pw = TemporaryPassword {
        hash: "$argon2id$temp".into(),
        expires_at: T0 + Duration::hours(24),
    };
    store
        .set_temporary_password(
            a.id,
            &pw,
            T0,
            &message(a.id, "access-restored:1"),
            &audit("restored"),
        )
        .await
        .unwrap();
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(done.password_hash, "$argon2id$temp");
    assert!(done.must_change_password && !done.locked);
    assert_eq!((done.failed_logins, done.throttled_until), (0, None));
    assert_eq!(store.session(b"s1").await.unwrap(), None);
    assert!(matches!(
        store
            .set_temporary_password(
                AccountId::random(),
                &pw,
                T0,
                &message(a.id, "access-restored:2"),
                &audit("restored")
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(all_audit(&store).await.len(), 1);
}

async fn changing_the_password_keeps_this_session(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"change-1").await;
    let mut here = session_of(&a, b"here");
    here.must_change_password = true;
    store.insert_session(&here).await.unwrap();
    store
        .insert_session(&session_of(&a, b"there"))
        .await
        .unwrap();
    store
        .change_password(
            a.id,
            "$argon2id$new",
            b"here",
            false,
            T0,
            &[],
            &audit("changed"),
        )
        .await
        .unwrap();
    assert!(
        !store
            .session(b"here")
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    assert!(
        store.session(b"there").await.unwrap().is_some(),
        "others stay unless asked"
    );
    store
        .change_password(
            a.id,
            "$argon2id$newer",
            b"here",
            true,
            T0,
            &[],
            &audit("changed"),
        )
        .await
        .unwrap();
    assert!(store.session(b"here").await.unwrap().is_some());
    assert_eq!(store.session(b"there").await.unwrap(), None);
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(done.password_hash, "$argon2id$newer");
    assert!(!done.must_change_password && done.password_expires_at.is_none());
}

fn letter(a: AccountId, at: OffsetDateTime) -> LetterRecord {
    LetterRecord {
        id: uuid::Uuid::new_v4(),
        account_id: a,
        lang: "ru".into(),
        code_hash: b"code-hash".to_vec(),
        code: Some(b"sealed-code".to_vec()),
        recipient: b"sealed-name".to_vec(),
        address: b"sealed-address".to_vec(),
        status: LetterStatus::Queued,
        tracking_number: None,
        voided: false,
        attempts: 0,
        dispatch_attempts: 0,
        next_attempt_at: at,
        leased_until: None,
        sent_at: None,
        expires_at: None,
        used_at: None,
        created_at: at,
    }
}

const LIMITS: [LetterLimit; 2] = [
    LetterLimit {
        count: 1,
        window: Duration::hours(24),
    },
    LetterLimit {
        count: 4,
        window: Duration::days(30),
    },
];

async fn letters_are_ordered_within_the_limits_even_at_once(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"letters-1").await;
    let tries: Vec<_> = (0..10)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .order_letter(&letter(a.id, T0), &LIMITS, &audit("ordered"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for t in tries {
        match t.await.unwrap() {
            LetterOrder::Accepted => accepted += 1,
            LetterOrder::TooSoon(at) => assert_eq!(at, T0 + Duration::hours(24)),
        }
    }
    assert_eq!(accepted, 1, "ten orders at once: one letter");
    assert_eq!(
        all_audit(&store).await.len(),
        1,
        "refused orders write nothing"
    );
    for day in 1..4 {
        let at = T0 + Duration::days(day);
        assert_eq!(
            store
                .order_letter(&letter(a.id, at), &LIMITS, &audit("ordered"))
                .await
                .unwrap(),
            LetterOrder::Accepted
        );
    }
    let fifth = T0 + Duration::days(4);
    assert_eq!(
        store
            .order_letter(&letter(a.id, fifth), &LIMITS, &audit("ordered"))
            .await
            .unwrap(),
        LetterOrder::TooSoon(T0 + Duration::days(30)),
        "four in thirty days"
    );
}

async fn a_new_letter_voids_the_last_one(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"letters-2").await;
    let first = letter(a.id, T0);
    store
        .order_letter(&first, &LIMITS, &audit("o"))
        .await
        .unwrap();
    assert_eq!(
        store.current_letter(a.id).await.unwrap().unwrap().id,
        first.id
    );
    let second = letter(a.id, T0 + Duration::days(1));
    store
        .order_letter(&second, &LIMITS, &audit("o"))
        .await
        .unwrap();
    assert_eq!(
        store.current_letter(a.id).await.unwrap().unwrap().id,
        second.id
    );
    let leased = store
        .lease_due_letters(T0 + Duration::days(1), T0 + Duration::days(2), 10)
        .await
        .unwrap();
    assert_eq!(
        leased.iter().map(|l| l.id).collect::<Vec<_>>(),
        [second.id],
        "a voided letter is never sent"
    );
    assert!(
        !store
            .confirm_by_letter(first.id, T0, None, &audit("c"))
            .await
            .unwrap()
    );
}

async fn queued_letters_are_leased_sent_and_confirmed_once(store: Arc<dyn Backend>) {
    let a = standard_account(&store, b"letters-3").await;
    let l = letter(a.id, T0);
    store.order_letter(&l, &LIMITS, &audit("o")).await.unwrap();
    let lease = T0 + Duration::seconds(30);
    assert_eq!(
        store.lease_due_letters(T0, lease, 10).await.unwrap().len(),
        1
    );
    assert!(
        store
            .lease_due_letters(T0, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "one worker at a time"
    );
    store
        .reschedule_letter(l.id, 1, T0 + Duration::seconds(5))
        .await
        .unwrap();
    assert!(
        store
            .lease_due_letters(T0, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "not yet due"
    );
    let at = T0 + Duration::seconds(5);
    let leased = store
        .lease_due_letters(at, at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(leased[0].dispatch_attempts, 1);
    assert!(
        !store
            .confirm_by_letter(l.id, at, None, &audit("c"))
            .await
            .unwrap(),
        "not sent yet"
    );
    let expires = at + Duration::days(30);
    assert!(
        store
            .mark_letter_sent(l.id, "10200012000017", at, expires)
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_letter_sent(l.id, "10200012000024", at, expires)
            .await
            .unwrap(),
        "sent once"
    );
    let sent = store.current_letter(a.id).await.unwrap().unwrap();
    assert_eq!(sent.status, LetterStatus::Sent);
    assert_eq!(sent.tracking_number.as_deref(), Some("10200012000017"));
    assert_eq!((sent.sent_at, sent.expires_at), (Some(at), Some(expires)));
    assert_eq!(store.take_letter_attempt(l.id, 2).await.unwrap(), Some(1));
    assert_eq!(store.take_letter_attempt(l.id, 2).await.unwrap(), Some(2));
    assert_eq!(store.take_letter_attempt(l.id, 2).await.unwrap(), None);
    let m = message(a.id, "confirmed:letter");
    assert!(
        store
            .confirm_by_letter(l.id, at, Some(&m), &audit("confirmed"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_by_letter(l.id, at, Some(&m), &audit("confirmed"))
            .await
            .unwrap(),
        "once"
    );
    let used = store.current_letter(a.id).await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(at));
    assert_eq!(used.code, None, "the printable code is wiped");
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (done.level, done.confirmed_via),
        (AccountLevel::Confirmed, Some(ConfirmedVia::Letter))
    );
}

async fn the_days_letters_and_their_codes(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"letters-4").await;
    let b = registered_account(&store, b"letters-5").await;
    for (acc, sent, tracking) in [
        (a.id, T0, "10200012000017"),
        (b.id, T0 + Duration::days(1), "10200012000024"),
    ] {
        let l = letter(acc, sent);
        store.order_letter(&l, &LIMITS, &audit("o")).await.unwrap();
        store
            .mark_letter_sent(l.id, tracking, sent, sent + Duration::days(30))
            .await
            .unwrap();
    }
    let day = store
        .letters_sent_between(T0 - Duration::hours(1), T0 + Duration::hours(23))
        .await
        .unwrap();
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].tracking_number.as_deref(), Some("10200012000017"));
    assert_eq!(
        store
            .wipe_dead_letter_codes(T0 + Duration::days(29))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .wipe_dead_letter_codes(T0 + Duration::days(30))
            .await
            .unwrap(),
        1,
        "expired codes are wiped"
    );
    assert_eq!(
        store.current_letter(a.id).await.unwrap().unwrap().code,
        None
    );
    assert!(
        store
            .current_letter(b.id)
            .await
            .unwrap()
            .unwrap()
            .code
            .is_some()
    );
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

fn recovery(account: Option<AccountId>, secret: &[u8]) -> uslugi_app::ports::RecoveryRecord {
    uslugi_app::ports::RecoveryRecord {
        id: uuid::Uuid::new_v4(),
        account_id: account,
        login_kind: LoginKind::Phone,
        channel: Channel::Sms,
        lang: "ru".into(),
        secret_hash: secret.to_vec(),
        secret_expires_at: T0 + Duration::seconds(300),
        attempts: 0,
        confirmed_at: None,
        completed_at: None,
        continuation: None,
        created_at: T0,
        expires_at: T0 + Duration::minutes(35),
    }
}

async fn a_recovery_is_started_confirmed_and_completed_once(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"recover-1").await;
    store.insert_session(&session_of(&a, b"old")).await.unwrap();
    let unknown = recovery(None, b"nobody-knows");
    store.start_recovery(&unknown, None).await.unwrap();
    assert_eq!(
        store.recovery(unknown.id).await.unwrap(),
        Some(unknown.clone())
    );
    let r = recovery(Some(a.id), b"secret-1");
    store
        .start_recovery(&r, Some(&message(a.id, &format!("recovery:{}", r.id))))
        .await
        .unwrap();
    assert_eq!(
        store
            .recovery_by_secret(b"secret-1")
            .await
            .unwrap()
            .map(|x| x.id),
        Some(r.id)
    );
    assert_eq!(
        store
            .lease_outbox(T0, T0 + Duration::seconds(30), 10)
            .await
            .unwrap()
            .len(),
        1,
        "the code goes out with it"
    );
    assert_eq!(store.take_recovery_attempt(r.id, 1).await.unwrap(), Some(1));
    assert_eq!(store.take_recovery_attempt(r.id, 1).await.unwrap(), None);
    store.give_back_recovery_attempt(r.id).await.unwrap();
    store.give_back_recovery_attempt(r.id).await.unwrap();
    assert_eq!(
        store.recovery(r.id).await.unwrap().unwrap().attempts,
        0,
        "given back, never below zero"
    );
    assert_eq!(store.take_recovery_attempt(r.id, 1).await.unwrap(), Some(1));
    let completion = |id| uslugi_app::ports::RecoveryCompletion {
        recovery_id: id,
        continuation_hash: b"go".to_vec(),
        account_id: a.id,
        password_hash: "$argon2id$recovered".into(),
        notices: vec![message(a.id, &format!("recovered:{id}"))],
        audit: audit("access_recovered"),
        at: T0,
    };
    assert!(
        !store.complete_recovery(&completion(r.id)).await.unwrap(),
        "not confirmed yet"
    );
    store
        .mark_recovery_confirmed(r.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    assert!(store.complete_recovery(&completion(r.id)).await.unwrap());
    assert!(
        !store.complete_recovery(&completion(r.id)).await.unwrap(),
        "once"
    );
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(done.password_hash, "$argon2id$recovered");
    assert_eq!(done.level, AccountLevel::Simplified);
    assert_eq!(store.session(b"old").await.unwrap(), None);
    assert_eq!(all_audit(&store).await.len(), 1);
    assert_eq!(
        store
            .delete_expired_recoveries(T0 + Duration::minutes(36))
            .await
            .unwrap(),
        2
    );
}

async fn devices_are_noted_and_sessions_listed_and_ended(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"devices-1").await;
    let m = |k: &str| message(a.id, k);
    use uslugi_app::ports::DeviceSeen;
    assert_eq!(
        store.device_seen(a.id, b"first").await.unwrap(),
        DeviceSeen {
            this: false,
            any: false
        },
        "the first login"
    );
    let mut login = session_of(&a, b"login-1");
    login.device_hash = Some(b"first".to_vec());
    store
        .open_session(&login, None, &audit("login"))
        .await
        .unwrap();
    assert_eq!(
        store.device_seen(a.id, b"first").await.unwrap(),
        DeviceSeen {
            this: true,
            any: true
        }
    );
    let seen = store.device_seen(a.id, b"second").await.unwrap();
    assert!(seen.is_news());
    let mut login = session_of(&a, b"login-2");
    login.device_hash = Some(b"second".to_vec());
    store
        .open_session(&login, Some(&m("new-device:2")), &audit("login"))
        .await
        .unwrap();
    assert!(store.session(b"login-2").await.unwrap().is_some());
    assert_eq!(
        all_audit(&store).await.len(),
        2,
        "each login audited with it"
    );
    let leased = store
        .lease_outbox(T0, T0 + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        leased
            .iter()
            .map(|l| l.dedupe_key.as_str())
            .collect::<Vec<_>>(),
        ["new-device:2"]
    );
    store.delete_account_sessions(a.id).await.unwrap();
    store.mark_outbox_delivered(leased[0].id, T0).await.unwrap();
    let mut s1 = session_of(&a, b"s1");
    s1.user_agent = Some("Chrome".into());
    s1.network = Some("10.0.0.0/24".into());
    s1.device_hash = Some(b"first".to_vec());
    store.insert_session(&s1).await.unwrap();
    let mut s2 = session_of(&a, b"s2");
    s2.last_seen_at = T0 + Duration::minutes(1);
    store.insert_session(&s2).await.unwrap();
    store.insert_session(&session_of(&a, b"s3")).await.unwrap();
    let list = store.account_sessions(a.id).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list[0].token_hash,
        b"s2".to_vec(),
        "most recently active first"
    );
    assert_eq!(store.session(b"s1").await.unwrap(), Some(s1));
    assert!(store.delete_account_session(a.id, b"s2").await.unwrap());
    assert!(
        !store
            .delete_account_session(AccountId::random(), b"s3")
            .await
            .unwrap(),
        "only the account's own"
    );
    assert_eq!(store.delete_other_sessions(a.id, b"s1").await.unwrap(), 1);
    assert_eq!(store.account_sessions(a.id).await.unwrap().len(), 1);
}

/// A standard account (checks passed) for the confirmation tests.
async fn standard_account(store: &Arc<dyn Backend>, index: &[u8]) -> AccountRecord {
    let a = registered_account(store, index).await;
    let s = uuid::Uuid::new_v4();
    store
        .submit_personal_data(a.id, s, b"d", &both_checks(a.id, s), None, T0)
        .await
        .unwrap();
    for c in store.checks_of_submission(s).await.unwrap() {
        store
            .finish_check(c.id, CheckStatus::Passed, None, None, T0)
            .await
            .unwrap();
    }
    let mut snils = b"snils-".to_vec();
    snils.extend_from_slice(index);
    store
        .complete_submission(&Completion {
            account_id: a.id,
            submission_id: s,
            status: VerificationStatus::Verified,
            verified: Some(VerifiedIdentity {
                surname: b"s".to_vec(),
                given_name: b"g".to_vec(),
                snils_index: snils,
                passport_index: b"p".to_vec(),
                registration_address: None,
            }),
            message: None,
            in_person: None,
            audit: None,
            at: T0,
        })
        .await
        .unwrap();
    a
}

async fn a_letter_used_after_a_confirmation_at_a_center_changes_nothing_else(
    store: Arc<dyn Backend>,
) {
    let a = standard_account(&store, b"both-ways").await;
    let l = letter(a.id, T0);
    store.order_letter(&l, &LIMITS, &audit("o")).await.unwrap();
    store
        .mark_letter_sent(l.id, "10200012000017", T0, T0 + Duration::days(30))
        .await
        .unwrap();
    assert!(
        store
            .confirm_identity(a.id, ConfirmedVia::Center, T0, None, &audit("center"))
            .await
            .unwrap()
    );
    let later = T0 + Duration::days(3);
    let m = message(a.id, "letter-notice");
    assert!(
        store
            .confirm_by_letter(l.id, later, Some(&m), &audit("letter"))
            .await
            .unwrap(),
        "the code is spent"
    );
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (done.confirmed_via, done.confirmed_at),
        (Some(ConfirmedVia::Center), Some(T0))
    );
    assert!(
        store
            .lease_outbox(later, later + Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "no second notice"
    );
}

/// A PostgreSQL test that cannot reach its database fails under CI, and is
/// skipped (passes, saying so) only on a machine that is not CI. Runs one
/// PostgreSQL test of this very binary in a child process both ways.
#[test]
fn a_postgres_test_without_its_database_fails_under_ci_and_is_skipped_elsewhere() {
    let run = |ci: Option<&str>| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "postgres::migrations_are_idempotent"])
            .env_remove(uslugi_storage::testing::POSTGRES_ENV)
            .env_remove("CI");
        if let Some(ci) = ci {
            command.env("CI", ci);
        }
        let out = command.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (passed, output) = run(Some("true"));
    assert!(!passed, "under CI: {output}");
    assert!(output.contains("is not set under CI"), "says why: {output}");
    let (passed, output) = run(None);
    assert!(passed, "elsewhere: {output}");
    assert!(output.contains("1 passed"), "{output}");
}
