//! What every code or link shares in storage: secrets that may collide
//! (six-digit codes) are no unique key, and the step after a confirmation
//! is taken only with the live continuation, once.
use std::sync::Arc;
use uslugi_domain::Channel;

use time::Duration;
use uslugi_app::ports::{RecoveryCompletion, StoreError};
use uslugi_storage::Backend;

use crate::fixtures::*;

contract!(
    equal_code_hashes_do_not_collide_in_storage,
    a_registration_completes_only_with_its_live_continuation,
    a_recovery_completes_only_with_its_live_continuation_and_ends_what_others_started,
);

async fn equal_code_hashes_do_not_collide_in_storage(store: Arc<dyn Backend>) {
    // Two people may well be sent the same six digits at once.
    let mut first = registration(Channel::Sms, b"same-code-1");
    let mut second = registration(Channel::Sms, b"same-code-2");
    first.secret_hash = b"hash-of-123456".to_vec();
    second.secret_hash = b"hash-of-123456".to_vec();
    store
        .insert_registration(&first, &registration_message(&first))
        .await
        .unwrap();
    store
        .insert_registration(&second, &registration_message(&second))
        .await
        .unwrap();

    let a = registered_account(&store, b"same-code-3").await;
    let b = registered_account(&store, b"same-code-4").await;
    store
        .start_recovery(
            &recovery(Some(a.id), b"hash-of-654321"),
            &message(a.id, "rc:same:a"),
        )
        .await
        .unwrap();
    store
        .start_recovery(
            &recovery(Some(b.id), b"hash-of-654321"),
            &message(b.id, "rc:same:b"),
        )
        .await
        .unwrap();
    super::contacts::start_two_changes_with_one_secret(&store, &a, &b).await;
}

async fn a_registration_completes_only_with_its_live_continuation(store: Arc<dyn Backend>) {
    let r = confirmed_registration(&store, Channel::Email, b"continue-1", b"issued").await;
    let a = account_for(&r);
    for (hash, at, why) in [
        (&b"guessed"[..], T0, "another token"),
        (&b""[..], T0, "no token"),
        (
            &b"issued"[..],
            T0 + Duration::minutes(30),
            "after its 30 minutes",
        ),
    ] {
        assert!(
            matches!(
                store
                    .complete_registration(r.id, hash, at, &a, &audit("registered"))
                    .await,
                Err(StoreError::NotFound)
            ),
            "{why}"
        );
        assert_eq!(store.account(a.id).await.unwrap(), None, "{why}");
    }
    store
        .complete_registration(
            r.id,
            b"issued",
            T0 + Duration::minutes(29),
            &a,
            &audit("registered"),
        )
        .await
        .unwrap();
    assert!(store.account(a.id).await.unwrap().is_some());
}

async fn a_recovery_completes_only_with_its_live_continuation_and_ends_what_others_started(
    store: Arc<dyn Backend>,
) {
    let a = registered_account(&store, b"continue-2").await;
    store
        .insert_session(&session_of(&a, b"thief"))
        .await
        .unwrap();
    let owners = recovery(Some(a.id), b"owners-secret");
    let strangers = recovery(Some(a.id), b"strangers-secret");
    store
        .start_recovery(&owners, &message(a.id, "rc:owners"))
        .await
        .unwrap();
    store
        .start_recovery(&strangers, &message(a.id, "rc:strangers"))
        .await
        .unwrap();
    let change = super::contacts::pending_change(&store, &a).await;
    store
        .mark_recovery_confirmed(owners.id, T0, &continuation(b"owners"))
        .await
        .unwrap();
    assert_eq!(
        store.pending_requests(a.id, owners.id, T0).await.unwrap(),
        2,
        "the stranger's recovery and the contact change"
    );
    let completion = |hash: &[u8], at| RecoveryCompletion {
        recovery_id: owners.id,
        continuation_hash: hash.to_vec(),
        account_id: a.id,
        password_hash: "$argon2id$owners".into(),
        notices: vec![message(a.id, "recovered")],
        audit: audit("access_recovered"),
        at,
    };
    assert!(
        !store
            .complete_recovery(&completion(b"guessed", T0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_recovery(&completion(b"owners", T0 + Duration::minutes(30)))
            .await
            .unwrap(),
        "expired"
    );
    assert_ne!(
        store.account(a.id).await.unwrap().unwrap().password_hash,
        "$argon2id$owners"
    );
    assert!(
        store
            .complete_recovery(&completion(b"owners", T0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_recovery(&completion(b"owners", T0))
            .await
            .unwrap(),
        "spent"
    );
    assert_eq!(store.session(b"thief").await.unwrap(), None);
    assert_eq!(store.recovery(strangers.id).await.unwrap(), None);
    assert_eq!(store.contact_change(change).await.unwrap(), None);
    assert!(store.recovery(owners.id).await.unwrap().is_some());
}
