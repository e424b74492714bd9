//! The citizen's own deletion: asked once, with the factor's proof spent
//! and every session ended; cancelled by a login; erased only once due and
//! only if no login cancelled it.
use crate::fixtures::*;
use uslugi_app::ports::{
    CancelledDeletion, DeletionRequest, FactorProof, LoginWrites, PendingDeletion,
};

contract!(
    a_deletion_is_asked_once_and_ends_every_session,
    a_spent_proof_asks_nothing,
    a_login_cancels_a_deletion_and_the_erasure_then_does_nothing,
    a_due_deletion_erases_the_account_and_keeps_its_audit_records,
);

fn request(a: &AccountRecord, proof: Option<FactorProof>) -> DeletionRequest {
    DeletionRequest {
        account_id: a.id,
        requested_at: T0,
        erase_after: T0 + Duration::days(30),
        proof: proof.map(|p| (None, p)),
        notices: vec![message(a.id, &format!("deletion:{}", a.id))],
        audit: audit_of("deletion_requested", None, None, Some(a.id)),
    }
}

async fn a_deletion_is_asked_once_and_ends_every_session(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"del-1").await;
    let other = registered_account(&store, b"del-2").await;
    for (who, token) in [(&a, b"del-t1"), (&a, b"del-t2"), (&other, b"del-t3")] {
        store.insert_session(&session_of(who, token)).await.unwrap();
    }
    assert_eq!(store.pending_deletion(a.id).await.unwrap(), None);
    let asked = at_once(&store, 4, |store, _| {
        let r = request(&a, None);
        async move { store.schedule_deletion(&r).await.unwrap() }
    })
    .await;
    assert_eq!(wins(&asked), 1, "asked once, whatever arrives at once");
    assert_eq!(
        store.pending_deletion(a.id).await.unwrap(),
        Some(PendingDeletion {
            requested_at: T0,
            erase_after: T0 + Duration::days(30),
        })
    );
    assert!(store.session(b"del-t1").await.unwrap().is_none());
    assert!(store.session(b"del-t2").await.unwrap().is_none());
    assert!(
        store.session(b"del-t3").await.unwrap().is_some(),
        "another account's session stays"
    );
    let recorded = all_audit(&store).await;
    assert_eq!(
        recorded
            .iter()
            .filter(|r| r.entry.action == "deletion_requested")
            .count(),
        1,
        "one audit record, with the one request written"
    );
}

async fn a_spent_proof_asks_nothing(store: Arc<dyn Backend>) {
    let a = crate::second_factor::with_app(&store, b"del-proof").await;
    store
        .insert_session(&session_of(&a, b"del-proof-t"))
        .await
        .unwrap();
    let spent = FactorProof::BackupCode(b"backup-1".to_vec());
    assert!(
        store
            .spend_factor_proof(a.id, None, &spent, T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .schedule_deletion(&request(&a, Some(spent)))
            .await
            .unwrap()
    );
    assert_eq!(store.pending_deletion(a.id).await.unwrap(), None);
    assert!(
        store.session(b"del-proof-t").await.unwrap().is_some(),
        "nothing written"
    );
    // The other code is good once.
    let fresh = FactorProof::BackupCode(b"backup-2".to_vec());
    assert!(
        store
            .schedule_deletion(&request(&a, Some(fresh)))
            .await
            .unwrap()
    );
    assert!(store.session(b"del-proof-t").await.unwrap().is_none());
}

async fn a_login_cancels_a_deletion_and_the_erasure_then_does_nothing(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"del-login").await;
    // Every login carries what a cancellation writes; the login's own
    // transaction decides whether there was one to cancel.
    let login = |token: &'static [u8]| {
        let store = Arc::clone(&store);
        let a = a.clone();
        async move {
            let writes = LoginWrites {
                if_deletion_cancelled: Some(CancelledDeletion {
                    notices: vec![message(a.id, &format!("cancelled:{token:?}"))],
                    audit: audit_of("deletion_cancelled", None, None, Some(a.id)),
                }),
                ..crate::sessions::logged_in(None)
            };
            store
                .open_session(&session_of(&a, token), &writes)
                .await
                .unwrap();
        }
    };
    let cancellations = |store: Arc<dyn Backend>| async move {
        all_audit(&store)
            .await
            .iter()
            .filter(|r| r.entry.action == "deletion_cancelled")
            .count()
    };
    login(b"del-login-before").await;
    assert_eq!(
        cancellations(Arc::clone(&store)).await,
        0,
        "nothing pending, nothing cancelled"
    );

    assert!(store.schedule_deletion(&request(&a, None)).await.unwrap());
    login(b"del-login-t").await;
    assert_eq!(store.pending_deletion(a.id).await.unwrap(), None);
    assert_eq!(cancellations(Arc::clone(&store)).await, 1);
    login(b"del-login-again").await;
    assert_eq!(cancellations(Arc::clone(&store)).await, 1, "cancelled once");

    let late = T0 + Duration::days(31);
    assert!(store.due_deletions(late, 10).await.unwrap().is_empty());
    let erased = audit_of("account_deleted", None, None, Some(a.id));
    assert!(!store.erase_if_due(a.id, late, &erased).await.unwrap());
    assert!(store.account(a.id).await.unwrap().is_some());
    assert!(store.session(b"del-login-t").await.unwrap().is_some());
}

async fn a_due_deletion_erases_the_account_and_keeps_its_audit_records(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"del-due").await;
    let kept = registered_account(&store, b"del-kept").await;
    assert!(store.schedule_deletion(&request(&a, None)).await.unwrap());
    let erased = audit_of("account_deleted", None, None, Some(a.id));
    let before = T0 + Duration::days(29);
    assert!(store.due_deletions(before, 10).await.unwrap().is_empty());
    assert!(!store.erase_if_due(a.id, before, &erased).await.unwrap());
    let due = T0 + Duration::days(30);
    assert_eq!(store.due_deletions(due, 10).await.unwrap(), vec![a.id]);
    let twice = at_once(&store, 3, |store, _| {
        let erased = erased.clone();
        async move { store.erase_if_due(a.id, due, &erased).await.unwrap() }
    })
    .await;
    assert_eq!(wins(&twice), 1, "erased once");
    assert!(store.account(a.id).await.unwrap().is_none());
    assert_eq!(store.pending_deletion(a.id).await.unwrap(), None);
    assert!(store.account(kept.id).await.unwrap().is_some());
    assert_eq!(
        audit_actions_of(&store, a.id).await,
        ["account_deleted", "deletion_requested"],
        "the log keeps both, by the account's id"
    );
}
