//! Accounts: found by each login, failed sign-ins counted and cleared, one
//! attempt taken per state however many arrive at once, bulk import.
use crate::fixtures::*;

contract!(
    accounts_are_found_by_each_login,
    failed_logins_count_and_clear,
    concurrent_login_attempts_are_taken_one_per_state,
    accounts_and_sessions_import_in_bulk,
);

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

    let r = confirmed_registration(&store, Channel::Email, b"email-idx", b"go").await;
    let b = account_for(&r);
    store
        .complete_registration(r.id, b"go", T0, &b, &audit("registered"))
        .await
        .unwrap();
    let found = store
        .account_by_login(LoginKind::Email, b"email-idx")
        .await
        .unwrap();
    assert_eq!(found, Some(b));
    assert_eq!(store.account(AccountId::random()).await.unwrap(), None);
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
    let tries = at_once(&store, 50, |store, _| async move {
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
    .await;
    assert_eq!(wins(&tries), 1);
    let got = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(got.failed_logins, 1);
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
            last_seen_at: T0 + Duration::seconds(i64::from(i)),
            remember: i % 2 == 1,
            ..session_of(
                &accounts[i as usize % accounts.len()],
                format!("bulk-token-{i}").as_bytes(),
            )
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
