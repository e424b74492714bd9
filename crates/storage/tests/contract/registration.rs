//! Registrations: a code is tried within its limit even when tries arrive
//! at once, a resend replaces the secret once, completing one creates the
//! account in the same transaction.
use crate::fixtures::*;

contract!(
    registrations_round_trip,
    concurrent_code_attempts_never_exceed_the_limit,
    resend_replaces_the_secret_once,
    completing_a_registration_creates_the_account_atomically,
    a_taken_contact_is_a_conflict_and_leaves_the_registration,
    expired_registrations_are_swept,
);

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
