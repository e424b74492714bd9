//! Operators: enrolled once with a login of their own, a TOTP step taken
//! once, sessions ended on disabling and expired when idle.
use crate::fixtures::*;

contract!(
    operators_enrol_once_with_a_login_of_their_own,
    a_totp_step_is_taken_once,
    disabling_an_operator_ends_their_sessions,
    operator_sessions_expire_when_idle,
);

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
    let tries = at_once(&store, 10, |store, _| async move {
        store.take_totp_step(op.id, 11).await.unwrap()
    })
    .await;
    assert_eq!(wins(&tries), 1, "one code, one login, whatever the nodes");
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
