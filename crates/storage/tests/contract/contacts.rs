//! The contract of a change of phone or e-mail: one live change per kind,
//! attempts taken atomically, one resend at a time, and a completion that is
//! written whole, once, or not at all.
use std::sync::Arc;

use time::Duration;
use uslugi_app::ports::{ContactChangeCompletion, ContactChangeRecord, StoreError, UniqueField};
use uslugi_domain::{AccountId, LoginKind};
use uslugi_storage::Backend;

use crate::fixtures::*;

contract!(
    a_new_change_voids_the_last_of_its_kind,
    concurrent_change_attempts_never_exceed_the_limit,
    a_change_is_resent_once_with_its_message,
    a_completed_change_replaces_the_contact_once_with_its_notice_and_record,
    a_contact_taken_meanwhile_leaves_everything_as_it_was,
    expired_changes_are_swept,
);

fn change(account: AccountId, kind: LoginKind, index: &[u8], secret: &[u8]) -> ContactChangeRecord {
    ContactChangeRecord {
        id: uuid::Uuid::new_v4(),
        account_id: account,
        kind,
        lang: "ru".into(),
        new_contact: b"sealed-new".to_vec(),
        contact_index: index.to_vec(),
        taken: false,
        secret_hash: secret.to_vec(),
        secret_expires_at: T0 + Duration::seconds(300),
        attempts: 0,
        sent_at: T0,
        sends: 1,
        completed_at: None,
        created_at: T0,
        expires_at: T0 + Duration::HOUR,
    }
}

fn completion(c: &ContactChangeRecord, notice_key: &str) -> ContactChangeCompletion {
    ContactChangeCompletion {
        change_id: c.id,
        account_id: c.account_id,
        kind: c.kind,
        sealed: b"sealed-as-account-phone".to_vec(),
        index: c.contact_index.clone(),
        notices: vec![message(c.account_id, notice_key)],
        audit: audit_of("contact_changed", None, None, Some(c.account_id)),
        at: T0 + Duration::seconds(30),
    }
}

async fn a_new_change_voids_the_last_of_its_kind(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"cc-phone-1").await;
    let first = change(a.id, LoginKind::Phone, b"cc-new-1", b"cc-secret-1");
    store
        .start_contact_change(&first, &message(a.id, "cc:1"))
        .await
        .unwrap();
    assert_eq!(
        store.contact_change(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store
            .contact_change_by_secret(b"cc-secret-1")
            .await
            .unwrap(),
        Some(first.clone())
    );
    let email = change(a.id, LoginKind::Email, b"cc-new-mail", b"cc-secret-mail");
    store
        .start_contact_change(&email, &message(a.id, "cc:mail"))
        .await
        .unwrap();
    let second = change(a.id, LoginKind::Phone, b"cc-new-2", b"cc-secret-2");
    store
        .start_contact_change(&second, &message(a.id, "cc:2"))
        .await
        .unwrap();
    assert_eq!(
        store.contact_change(first.id).await.unwrap(),
        None,
        "voided"
    );
    assert!(store.contact_change(second.id).await.unwrap().is_some());
    assert!(
        store.contact_change(email.id).await.unwrap().is_some(),
        "another kind stays"
    );
    assert_eq!(outbox_keys(&store).await, ["cc:1", "cc:2", "cc:mail"]);
}

async fn concurrent_change_attempts_never_exceed_the_limit(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"cc-phone-2").await;
    let c = change(a.id, LoginKind::Phone, b"cc-new-3", b"cc-secret-3");
    store
        .start_contact_change(&c, &message(a.id, "cc:3"))
        .await
        .unwrap();
    let tries = at_once(&store, 50, |store, _| async move {
        store.take_contact_change_attempt(c.id, 3).await.unwrap()
    })
    .await;
    assert_eq!(taken(tries), [1, 2, 3]);
    assert_eq!(
        store.contact_change(c.id).await.unwrap().unwrap().attempts,
        3
    );
}

async fn a_change_is_resent_once_with_its_message(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"cc-phone-3").await;
    let c = change(a.id, LoginKind::Phone, b"cc-new-4", b"cc-secret-4");
    store
        .start_contact_change(&c, &message(a.id, "cc:4:1"))
        .await
        .unwrap();
    store.take_contact_change_attempt(c.id, 3).await.unwrap();
    let mut again = message(a.id, "cc:4:2");
    again.created_at = T0 + Duration::seconds(61);
    let expires = T0 + Duration::seconds(361);
    assert!(
        store
            .replace_contact_change_secret(c.id, T0, b"cc-secret-4b", expires, &again)
            .await
            .unwrap()
    );
    let mut late = message(a.id, "cc:4:3");
    late.created_at = T0 + Duration::seconds(62);
    assert!(
        !store
            .replace_contact_change_secret(c.id, T0, b"cc-secret-4c", expires, &late)
            .await
            .unwrap(),
        "the second resend from the same state loses"
    );
    let now = store.contact_change(c.id).await.unwrap().unwrap();
    assert_eq!(now.secret_hash, b"cc-secret-4b");
    assert_eq!(now.attempts, 0);
    assert_eq!(now.sends, 2);
    assert_eq!(now.sent_at, T0 + Duration::seconds(61));
    assert_eq!(now.secret_expires_at, expires);
    assert_eq!(outbox_keys(&store).await, ["cc:4:1", "cc:4:2"]);
}

async fn a_completed_change_replaces_the_contact_once_with_its_notice_and_record(
    store: Arc<dyn Backend>,
) {
    let a = registered_account(&store, b"cc-phone-5").await;
    let c = change(a.id, LoginKind::Phone, b"cc-new-5", b"cc-secret-5");
    store
        .start_contact_change(&c, &message(a.id, "cc:5"))
        .await
        .unwrap();
    assert!(
        store
            .complete_contact_change(&completion(&c, "changed:5"))
            .await
            .unwrap()
    );
    let after = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        after.phone.as_deref(),
        Some(&b"sealed-as-account-phone"[..])
    );
    assert_eq!(after.phone_index.as_deref(), Some(&b"cc-new-5"[..]));
    assert_eq!(after.email, a.email, "the other contact stays");
    assert!(
        store
            .account_by_login(LoginKind::Phone, b"cc-phone-5")
            .await
            .unwrap()
            .is_none(),
        "the old phone no longer finds the account"
    );
    assert_eq!(
        store
            .account_by_login(LoginKind::Phone, b"cc-new-5")
            .await
            .unwrap()
            .map(|x| x.id),
        Some(a.id)
    );
    let done = store.contact_change(c.id).await.unwrap().unwrap();
    assert_eq!(done.completed_at, Some(T0 + Duration::seconds(30)));
    assert_eq!(
        store.take_contact_change_attempt(c.id, 3).await.unwrap(),
        None,
        "a completed change takes no more attempts"
    );
    assert!(
        !store
            .complete_contact_change(&completion(&c, "changed:5b"))
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(outbox_keys(&store).await, ["cc:5", "changed:5"]);
    let records = all_audit(&store).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].entry.action, "contact_changed");

    // An e-mail where there was none.
    let e = change(a.id, LoginKind::Email, b"cc-mail-5", b"cc-secret-5e");
    store
        .start_contact_change(&e, &message(a.id, "cc:5e"))
        .await
        .unwrap();
    let mut ec = completion(&e, "changed:5e");
    ec.sealed = b"sealed-as-account-email".to_vec();
    assert!(store.complete_contact_change(&ec).await.unwrap());
    let after = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        after.email.as_deref(),
        Some(&b"sealed-as-account-email"[..])
    );
    assert_eq!(after.email_index.as_deref(), Some(&b"cc-mail-5"[..]));
    assert_eq!(after.phone_index.as_deref(), Some(&b"cc-new-5"[..]));
}

async fn a_contact_taken_meanwhile_leaves_everything_as_it_was(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"cc-phone-6").await;
    let other = registered_account(&store, b"cc-phone-7").await;
    let c = change(a.id, LoginKind::Phone, b"cc-phone-7", b"cc-secret-6");
    store
        .start_contact_change(&c, &message(a.id, "cc:6"))
        .await
        .unwrap();
    match store
        .complete_contact_change(&completion(&c, "changed:6"))
        .await
    {
        Err(StoreError::Conflict(UniqueField::Phone)) => {}
        other => panic!("expected a phone conflict, got {other:?}"),
    }
    assert_eq!(store.account(a.id).await.unwrap().unwrap(), a, "unchanged");
    assert_eq!(store.account(other.id).await.unwrap().unwrap(), other);
    assert_eq!(
        store
            .contact_change(c.id)
            .await
            .unwrap()
            .unwrap()
            .completed_at,
        None,
        "not completed"
    );
    assert_eq!(outbox_keys(&store).await, ["cc:6"], "no notice");
    assert!(all_audit(&store).await.is_empty(), "no record");
}

async fn expired_changes_are_swept(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"cc-phone-8").await;
    let c = change(a.id, LoginKind::Phone, b"cc-new-8", b"cc-secret-8");
    store
        .start_contact_change(&c, &message(a.id, "cc:8"))
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_expired_contact_changes(T0 + Duration::minutes(59))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_expired_contact_changes(T0 + Duration::HOUR)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.contact_change(c.id).await.unwrap(), None);
}

/// Two accounts' phone changes whose codes hash alike: both are kept.
pub(super) async fn start_two_changes_with_one_secret(
    store: &Arc<dyn Backend>,
    a: &uslugi_app::ports::AccountRecord,
    b: &uslugi_app::ports::AccountRecord,
) {
    for (account, index, key) in [
        (a, b"same-new-1", "cc:same:1"),
        (b, b"same-new-2", "cc:same:2"),
    ] {
        let c = change(account.id, LoginKind::Phone, index, b"hash-of-111111");
        store
            .start_contact_change(&c, &message(account.id, key))
            .await
            .unwrap();
    }
}

/// A phone change the account has not confirmed; its id.
pub(super) async fn pending_change(
    store: &Arc<dyn Backend>,
    a: &uslugi_app::ports::AccountRecord,
) -> uuid::Uuid {
    let c = change(a.id, LoginKind::Phone, b"pending-new", b"pending-secret");
    store
        .start_contact_change(&c, &message(a.id, "cc:pending"))
        .await
        .unwrap();
    c.id
}
