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
    a_registration_and_its_message_are_written_and_abandoned_together,
    only_the_resend_that_wins_writes_its_message,
);

async fn registrations_round_trip(store: Arc<dyn Backend>) {
    let r = registration(Channel::Email, b"idx-1");
    store
        .insert_registration(&r, &registration_message(&r))
        .await
        .unwrap();
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

    store
        .abandon_registration(r.id, uuid::Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(store.registration(r.id).await.unwrap(), None);
}

async fn concurrent_code_attempts_never_exceed_the_limit(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-2");
    store
        .insert_registration(&r, &registration_message(&r))
        .await
        .unwrap();
    let tries = at_once(&store, 50, |store, _| async move {
        store.take_code_attempt(r.id, 3).await.unwrap()
    })
    .await;
    assert_eq!(taken(tries), [1, 2, 3]);
    assert_eq!(store.registration(r.id).await.unwrap().unwrap().attempts, 3);
}

async fn resend_replaces_the_secret_once(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-3");
    store
        .insert_registration(&r, &registration_message(&r))
        .await
        .unwrap();
    store.take_code_attempt(r.id, 3).await.unwrap();
    let later = T0 + Duration::seconds(61);
    let first = store
        .replace_registration_secret(
            r.id,
            T0,
            b"new-secret",
            later + Duration::seconds(300),
            later,
            &contact_message("resend-1"),
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
            &contact_message("resend-2"),
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
    store
        .insert_registration(&r, &registration_message(&r))
        .await
        .unwrap();
    let a = account_for(&r);
    assert!(matches!(
        store
            .complete_registration(r.id, b"go", T0, &a, &audit("registered"))
            .await,
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
        .complete_registration(r.id, b"go", T0, &a, &audit("registered"))
        .await
        .unwrap();
    assert_eq!(store.account(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.registration(r.id).await.unwrap(), None);
    assert!(matches!(
        store
            .complete_registration(r.id, b"go", T0, &a, &audit("registered"))
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn a_taken_contact_is_a_conflict_and_leaves_the_registration(store: Arc<dyn Backend>) {
    let first = registered_account(&store, b"idx-5").await;
    let r = confirmed_registration(&store, Channel::Sms, b"idx-5", b"go").await;
    let a = account_for(&r);
    assert!(matches!(
        store
            .complete_registration(r.id, b"go", T0, &a, &audit("registered"))
            .await,
        Err(StoreError::Conflict(UniqueField::Phone))
    ));
    assert!(
        store.registration(r.id).await.unwrap().is_some(),
        "rolled back"
    );
    assert_eq!(store.account(a.id).await.unwrap(), None);
    assert!(store.account(first.id).await.unwrap().is_some());

    let e = confirmed_registration(&store, Channel::Email, b"idx-6", b"go").await;
    store
        .complete_registration(e.id, b"go", T0, &account_for(&e), &audit("registered"))
        .await
        .unwrap();
    let e2 = confirmed_registration(&store, Channel::Email, b"idx-6", b"go").await;
    assert!(matches!(
        store
            .complete_registration(e2.id, b"go", T0, &account_for(&e2), &audit("registered"))
            .await,
        Err(StoreError::Conflict(UniqueField::Email))
    ));
}

async fn expired_registrations_are_swept(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-9");
    store
        .insert_registration(&r, &registration_message(&r))
        .await
        .unwrap();
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

/// The registration's first message is written with it; abandoning the
/// registration (its message could not be sent at once) removes both.
async fn a_registration_and_its_message_are_written_and_abandoned_together(
    store: Arc<dyn Backend>,
) {
    let r = registration(Channel::Sms, b"idx-msg-1");
    let m = registration_message(&r);
    store.insert_registration(&r, &m).await.unwrap();
    let due = store
        .lease_outbox(T0, T0 + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [m.id]);
    assert_eq!(due[0].account_id, None);

    let kept = registration(Channel::Sms, b"idx-msg-2");
    let kept_message = registration_message(&kept);
    store
        .insert_registration(&kept, &kept_message)
        .await
        .unwrap();
    store.abandon_registration(r.id, m.id).await.unwrap();
    assert_eq!(store.registration(r.id).await.unwrap(), None);
    let later = T0 + Duration::minutes(5);
    let due = store
        .lease_outbox(later, later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|d| d.id).collect::<Vec<_>>(),
        [kept_message.id],
        "only the abandoned registration's message is gone"
    );
    // A message delivered already is never taken back.
    store
        .mark_outbox_delivered(kept_message.id, later)
        .await
        .unwrap();
    store.abandon_outbox_message(kept_message.id).await.unwrap();
    store
        .abandon_registration(kept.id, kept_message.id)
        .await
        .unwrap();
    let far = later + Duration::days(2);
    assert_eq!(
        store.wipe_delivered_outbox_bodies(far).await.unwrap(),
        1,
        "the delivered message is still there"
    );
}

/// Two resends at once: only the one that replaced the secret wrote its
/// message.
async fn only_the_resend_that_wins_writes_its_message(store: Arc<dyn Backend>) {
    let r = registration(Channel::Sms, b"idx-msg-3");
    let first = registration_message(&r);
    store.insert_registration(&r, &first).await.unwrap();
    store.mark_outbox_delivered(first.id, T0).await.unwrap();
    let later = T0 + Duration::seconds(61);
    let (won, lost) = (
        contact_message("resend-won"),
        contact_message("resend-lost"),
    );
    for (secret, m) in [(b"s-1", &won), (b"s-2", &lost)] {
        store
            .replace_registration_secret(r.id, T0, secret, later + Duration::seconds(300), later, m)
            .await
            .unwrap();
    }
    let due = store
        .lease_outbox(later, later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [won.id]);
}
