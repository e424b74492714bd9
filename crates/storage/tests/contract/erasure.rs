//! An account erased by an administrator: every row of it goes in one
//! transaction, its login is free again, and the audit log keeps what was
//! done to it, by id.
use crate::fixtures::*;

contract!(an_erased_account_leaves_only_its_audit_records);

async fn an_erased_account_leaves_only_its_audit_records(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"erase-1").await;
    let kept = registered_account(&store, b"erase-2").await;
    store
        .insert_session(&session_of(&a, b"erase-t1"))
        .await
        .unwrap();
    store
        .insert_session(&session_of(&kept, b"erase-t2"))
        .await
        .unwrap();
    let failed = (CheckStatus::Failed, Some("snils_not_found"));
    let submission = closed_submission(&store, a.id, b"sealed-data", failed, T0).await;
    store
        .append_audit(&audit_of("login", None, None, Some(a.id)))
        .await
        .unwrap();
    let index = a.phone_index.clone().unwrap();
    assert!(
        store
            .account_by_login(LoginKind::Phone, &index)
            .await
            .unwrap()
            .is_some()
    );

    let erased = audit_of("account_deleted", None, None, Some(a.id));
    assert!(store.delete_account(a.id, &erased).await.unwrap());
    assert!(store.account(a.id).await.unwrap().is_none());
    assert!(
        store
            .account_by_login(LoginKind::Phone, &index)
            .await
            .unwrap()
            .is_none(),
        "the login is free again"
    );
    assert!(store.session(b"erase-t1").await.unwrap().is_none());
    assert!(store.personal_data(a.id).await.unwrap().is_none());
    assert!(
        store
            .checks_of_submission(submission)
            .await
            .unwrap()
            .is_empty()
    );
    let records = audit_actions_of(&store, a.id).await;
    assert_eq!(records, ["account_deleted", "login"], "the log keeps both");

    assert!(
        store.account(kept.id).await.unwrap().is_some(),
        "nobody else's"
    );
    assert!(store.session(b"erase-t2").await.unwrap().is_some());
    assert!(
        !store.delete_account(a.id, &erased).await.unwrap(),
        "once; nothing appended"
    );
}
