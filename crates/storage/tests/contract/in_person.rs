//! What an operator does at a service center: a registration written whole
//! or not at all, a confirmation of a standard account only, a temporary
//! password that ends every session, a password change that keeps this one.
use crate::fixtures::*;

contract!(
    a_registration_at_a_center_is_written_whole_or_not_at_all,
    only_a_standard_account_is_confirmed_in_person,
    a_temporary_password_ends_every_session,
    changing_the_password_keeps_this_session,
);

async fn a_registration_at_a_center_is_written_whole_or_not_at_all(store: Arc<dyn Backend>) {
    let taken = registered_account(&store, b"phone-taken").await;
    let before = all_audit(&store).await.len();
    let a = in_person_account(b"phone-taken");
    let s = uuid::Uuid::new_v4();
    assert!(matches!(
        store
            .register_in_person(
                &a,
                s,
                b"data",
                &both_checks(a.id, s),
                &assisted(),
                &audit("registered")
            )
            .await,
        Err(StoreError::Conflict(UniqueField::Phone))
    ));
    assert_eq!(store.account(a.id).await.unwrap(), None);
    assert_eq!(store.personal_data(a.id).await.unwrap(), None);
    assert!(store.checks_of_submission(s).await.unwrap().is_empty());
    assert_eq!(
        all_audit(&store).await.len(),
        before,
        "no audit record either"
    );
    assert!(store.account(taken.id).await.unwrap().is_some());

    let a = in_person_account(b"phone-new");
    let by = assisted();
    store
        .register_in_person(
            &a,
            s,
            b"data",
            &both_checks(a.id, s),
            &by,
            &audit("registered"),
        )
        .await
        .unwrap();
    let pd = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(pd.status, VerificationStatus::InProgress);
    assert_eq!(pd.assisted, Some(by));
    assert_eq!(store.checks_of_submission(s).await.unwrap().len(), 2);
    // Both checks passed: the completion confirms at once with a temporary password.
    close_checks(&store, s, PASSED, T0).await;
    let c = Completion {
        message: Some(message(a.id, "temporary-password:1")),
        in_person: Some(temporary_password("$argon2id$temporary")),
        audit: Some(audit("registration_checked")),
        ..completion(a.id, s, Some(identity(b"snils-center", b"passport-center")))
    };
    assert!(store.complete_submission(&c).await.unwrap());
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(done.level, AccountLevel::Confirmed);
    assert_eq!(done.confirmed_via, Some(ConfirmedVia::Center));
    assert_eq!(done.password_hash, "$argon2id$temporary");
    assert!(done.must_change_password);
    assert_eq!(done.password_expires_at, Some(T0 + Duration::hours(24)));
    assert_eq!(
        store
            .accounts_by_passport(b"passport-center")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        all_audit(&store).await.last().unwrap().entry.action,
        "registration_checked"
    );
}

async fn only_a_standard_account_is_confirmed_in_person(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"confirm-1").await;
    assert!(
        !store
            .confirm_identity(a.id, ConfirmedVia::Center, T0, None, &audit("c"))
            .await
            .unwrap()
    );
    assert!(all_audit(&store).await.is_empty());
    let a = standard_account(&store, b"confirm-2").await;
    let m = message(a.id, "confirmed:1");
    let at = T0 + Duration::hours(1);
    assert!(
        store
            .confirm_identity(a.id, ConfirmedVia::Center, at, Some(&m), &audit("c"))
            .await
            .unwrap()
    );
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (done.level, done.confirmed_at, done.confirmed_via),
        (
            AccountLevel::Confirmed,
            Some(at),
            Some(ConfirmedVia::Center)
        )
    );
    assert!(
        !store
            .confirm_identity(a.id, ConfirmedVia::Center, at, Some(&m), &audit("c"))
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(all_audit(&store).await.len(), 1);
    let leased = store
        .lease_outbox(at, at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1, "one notice");
}

async fn a_temporary_password_ends_every_session(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"restore-1").await;
    store.insert_session(&session_of(&a, b"s1")).await.unwrap();
    store
        .take_login_attempt(
            a.id,
            0,
            T0,
            restriction(Some(T0 + Duration::hours(1)), true),
        )
        .await
        .unwrap();
    let pw = temporary_password("$argon2id$temp");
    store
        .set_temporary_password(
            a.id,
            &pw,
            T0,
            &message(a.id, "access-restored:1"),
            &audit("restored"),
        )
        .await
        .unwrap();
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(done.password_hash, "$argon2id$temp");
    assert!(done.must_change_password && !done.locked);
    assert_eq!((done.failed_logins, done.throttled_until), (0, None));
    assert_eq!(store.session(b"s1").await.unwrap(), None);
    assert!(matches!(
        store
            .set_temporary_password(
                AccountId::random(),
                &pw,
                T0,
                &message(a.id, "access-restored:2"),
                &audit("restored")
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(all_audit(&store).await.len(), 1);
}

async fn changing_the_password_keeps_this_session(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"change-1").await;
    let mut here = session_of(&a, b"here");
    here.must_change_password = true;
    store.insert_session(&here).await.unwrap();
    store
        .insert_session(&session_of(&a, b"there"))
        .await
        .unwrap();
    store
        .change_password(
            a.id,
            "$argon2id$new",
            b"here",
            false,
            T0,
            &[],
            &audit("changed"),
        )
        .await
        .unwrap();
    assert!(
        !store
            .session(b"here")
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    assert!(
        store.session(b"there").await.unwrap().is_some(),
        "others stay unless asked"
    );
    store
        .change_password(
            a.id,
            "$argon2id$newer",
            b"here",
            true,
            T0,
            &[],
            &audit("changed"),
        )
        .await
        .unwrap();
    assert!(store.session(b"here").await.unwrap().is_some());
    assert_eq!(store.session(b"there").await.unwrap(), None);
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(done.password_hash, "$argon2id$newer");
    assert!(!done.must_change_password && done.password_expires_at.is_none());
}
