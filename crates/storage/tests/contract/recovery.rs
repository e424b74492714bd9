//! Access recovery: started, confirmed and completed once.
use crate::fixtures::*;

contract!(
    a_recovery_is_started_confirmed_and_completed_once,
    a_recovery_s_code_is_replaced_by_one_resend_and_not_once_completed,
);

async fn a_recovery_is_started_confirmed_and_completed_once(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"recover-1").await;
    store.insert_session(&session_of(&a, b"old")).await.unwrap();
    let unknown = recovery(None, b"nobody-knows");
    store
        .start_recovery(
            &unknown,
            // What the product writes for a login no account has: a row
            // delivered already, never sent.
            &uslugi_app::ports::OutboxRecord {
                account_id: None,
                delivered_at: Some(T0),
                ..message(a.id, "rc:unknown")
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.recovery(unknown.id).await.unwrap(),
        Some(unknown.clone())
    );
    let r = recovery(Some(a.id), b"secret-1");
    store
        .start_recovery(&r, &message(a.id, &format!("recovery:{}", r.id)))
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

async fn a_recovery_s_code_is_replaced_by_one_resend_and_not_once_completed(
    store: Arc<dyn Backend>,
) {
    let a = registered_account(&store, b"recover-2").await;
    let r = recovery(Some(a.id), b"secret-2a");
    store
        .start_recovery(&r, &message(a.id, "rc:2:1"))
        .await
        .unwrap();
    assert_eq!(store.take_recovery_attempt(r.id, 3).await.unwrap(), Some(1));
    let mut again = message(a.id, "rc:2:2");
    again.created_at = T0 + Duration::seconds(61);
    let expires = T0 + Duration::seconds(361);
    assert!(
        store
            .replace_recovery_secret(r.id, T0, b"secret-2b", expires, &again)
            .await
            .unwrap()
    );
    let mut late = message(a.id, "rc:2:3");
    late.created_at = T0 + Duration::seconds(62);
    assert!(
        !store
            .replace_recovery_secret(r.id, T0, b"secret-2c", expires, &late)
            .await
            .unwrap(),
        "the second resend from the same state loses"
    );
    let now = store.recovery(r.id).await.unwrap().unwrap();
    assert_eq!(
        (now.secret_hash.as_slice(), now.attempts, now.sends),
        (b"secret-2b".as_slice(), 0, 2)
    );
    assert_eq!(
        (now.sent_at, now.secret_expires_at),
        (T0 + Duration::seconds(61), expires)
    );
    assert_eq!(now.quota_key.as_deref(), Some(b"destination".as_slice()));

    store
        .mark_recovery_confirmed(r.id, T0, &continuation(b"go-2"))
        .await
        .unwrap();
    let completion = uslugi_app::ports::RecoveryCompletion {
        recovery_id: r.id,
        continuation_hash: b"go-2".to_vec(),
        account_id: a.id,
        password_hash: "$argon2id$recovered".into(),
        notices: vec![],
        audit: audit("access_recovered"),
        at: T0 + Duration::seconds(70),
    };
    assert!(store.complete_recovery(&completion).await.unwrap());
    let mut after = message(a.id, "rc:2:4");
    after.created_at = T0 + Duration::seconds(130);
    assert!(
        !store
            .replace_recovery_secret(r.id, now.sent_at, b"secret-2d", expires, &after)
            .await
            .unwrap(),
        "a completed recovery sends nothing more"
    );
    assert_eq!(
        store.take_recovery_attempt(r.id, 3).await.unwrap(),
        None,
        "nor takes attempts"
    );
    assert_eq!(outbox_keys(&store).await, ["rc:2:1", "rc:2:2"]);
}
