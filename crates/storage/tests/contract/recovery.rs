//! Access recovery: started, confirmed and completed once.
use crate::fixtures::*;

contract!(a_recovery_is_started_confirmed_and_completed_once,);

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
