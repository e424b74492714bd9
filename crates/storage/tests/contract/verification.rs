//! Personal data and registry checks: a submission and its checks written
//! at once, checks leased to one worker at a time and finished once, a
//! completion applied once with one message.
use crate::fixtures::*;

contract!(
    drafts_and_addresses_are_kept,
    a_submission_writes_its_checks_atomically,
    due_checks_are_leased_to_one_worker_at_a_time,
    a_check_finishes_once,
    a_completion_applies_once_with_one_message,
    a_snils_verified_elsewhere_stops_the_completion,
    a_confirmed_account_stays_confirmed_when_new_data_pass,
    idle_workers_see_no_work_and_busy_ones_do,
);

async fn drafts_and_addresses_are_kept(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-1").await;
    assert_eq!(store.personal_data(a.id).await.unwrap(), None);
    store.save_draft(a.id, b"draft-1", T0).await.unwrap();
    store
        .save_addresses(a.id, b"addresses-1", T0)
        .await
        .unwrap();
    store
        .save_draft(a.id, b"draft-2", T0 + Duration::seconds(5))
        .await
        .unwrap();
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Draft);
    assert_eq!(p.draft.as_deref(), Some(&b"draft-2"[..]));
    assert_eq!(
        p.addresses.as_deref(),
        Some(&b"addresses-1"[..]),
        "a draft keeps the addresses"
    );
    assert_eq!(p.updated_at, T0 + Duration::seconds(5));
    assert_eq!(
        (p.submitted, p.verified, p.submission_id),
        (None, None, None)
    );
}

async fn a_submission_writes_its_checks_atomically(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-2").await;
    store.save_draft(a.id, b"draft", T0).await.unwrap();

    // A failure half-way (two checks at one registry) leaves nothing behind.
    let bad = uuid::Uuid::new_v4();
    let twice = vec![
        check(a.id, bad, Registry::Sfr),
        check(a.id, bad, Registry::Sfr),
    ];
    assert!(
        store
            .submit_personal_data(a.id, bad, b"data", &twice, None, T0)
            .await
            .is_err()
    );
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Draft);
    assert_eq!(p.draft.as_deref(), Some(&b"draft"[..]));
    assert!(store.checks_of_submission(bad).await.unwrap().is_empty());

    let (s, checks) = open_submission(&store, a.id, b"data").await;
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::InProgress);
    assert_eq!(
        store.pending_jobs().await.unwrap().registry_checks,
        2,
        "the failed submission's checks were never written"
    );
    assert_eq!(
        (p.draft, p.submitted.as_deref()),
        (None, Some(&b"data"[..]))
    );
    assert_eq!((p.submission_id, p.submitted_at), (Some(s), Some(T0)));
    let stored = store.checks_of_submission(s).await.unwrap();
    assert_eq!(
        stored, checks,
        "Social Fund first, then the Interior Ministry"
    );

    let again = uuid::Uuid::new_v4();
    assert!(matches!(
        store
            .submit_personal_data(a.id, again, b"other", &both_checks(a.id, again), None, T0)
            .await,
        Err(StoreError::Conflict(UniqueField::Other))
    ));
    assert!(store.checks_of_submission(again).await.unwrap().is_empty());
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.submitted.as_deref(), Some(&b"data"[..]));
}

async fn due_checks_are_leased_to_one_worker_at_a_time(store: Arc<dyn Backend>) {
    let mut all = Vec::new();
    for i in 0..5u8 {
        let a = registered_account(&store, &[b'l', i]).await;
        let s = uuid::Uuid::new_v4();
        let checks = both_checks(a.id, s);
        all.extend(checks.iter().map(|c| c.id));
        store
            .submit_personal_data(a.id, s, b"data", &checks, None, T0)
            .await
            .unwrap();
    }
    let lease = T0 + Duration::seconds(60);
    let workers = at_once(&store, 4, |store, _| async move {
        let mut got = Vec::new();
        for _ in 0..5 {
            got.extend(store.lease_due_checks(T0, lease, 2).await.unwrap());
        }
        got
    })
    .await;
    let mut leased: Vec<_> = workers.into_iter().flatten().map(|c| c.id).collect();
    leased.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(leased, expected, "every due check leased exactly once");
    assert!(
        store
            .lease_due_checks(T0 + Duration::seconds(59), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A worker that died leaves its lease to expire; then the check is due again.
    let again = store
        .lease_due_checks(lease, lease + Duration::seconds(60), 100)
        .await
        .unwrap();
    assert_eq!(again.len(), all.len());

    // Rescheduling releases the lease and waits until the new time.
    let c = &again[0];
    store
        .record_gateway_request(c.id, Some("req-1"))
        .await
        .unwrap();
    store
        .reschedule_check(c.id, CheckStatus::Retrying, 1, T0 + Duration::hours(1))
        .await
        .unwrap();
    let later = T0 + Duration::minutes(59);
    assert!(
        store
            .lease_due_checks(later, later, 100)
            .await
            .unwrap()
            .iter()
            .all(|x| x.id != c.id)
    );
    let at = T0 + Duration::hours(1);
    let due = store
        .lease_due_checks(at, at + Duration::seconds(60), 100)
        .await
        .unwrap();
    let c2 = due.iter().find(|x| x.id == c.id).expect("due again");
    assert_eq!((c2.status, c2.attempts), (CheckStatus::Retrying, 1));
    assert_eq!(c2.gateway_request_id.as_deref(), Some("req-1"));
}

async fn a_check_finishes_once(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-3").await;
    let (s, checks) = open_submission(&store, a.id, b"data").await;
    let at = T0 + Duration::seconds(3);
    assert!(
        store
            .finish_check(
                checks[0].id,
                CheckStatus::Failed,
                Some("data_mismatch"),
                None,
                at
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_check(checks[0].id, CheckStatus::Passed, None, None, at)
            .await
            .unwrap(),
        "a second run changes nothing"
    );
    store
        .reschedule_check(checks[0].id, CheckStatus::Retrying, 7, at)
        .await
        .unwrap();
    let stored = store.checks_of_submission(s).await.unwrap();
    assert_eq!(stored[0].status, CheckStatus::Failed);
    assert_eq!(stored[0].reason.as_deref(), Some("data_mismatch"));
    assert_eq!((stored[0].attempts, stored[0].finished_at), (0, Some(at)));
    let far = T0 + Duration::days(1);
    let due = store.lease_due_checks(far, far, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![checks[1].id],
        "closed checks are never due"
    );
    assert!(
        store.submissions_to_complete(10).await.unwrap().is_empty(),
        "one check is still open"
    );
}

async fn a_completion_applies_once_with_one_message(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"pd-4").await;
    store.save_addresses(a.id, b"addresses", T0).await.unwrap();
    let s = closed_submission(&store, a.id, b"data", PASSED, T0).await;
    assert_eq!(
        store.submissions_to_complete(10).await.unwrap(),
        vec![(a.id, s)]
    );
    let at = T0 + Duration::seconds(10);
    let verified = VerifiedIdentity {
        surname: b"new-surname".to_vec(),
        given_name: b"new-given".to_vec(),
        ..identity(b"snils-1", b"passport-index")
    };
    let done = Completion {
        at,
        ..with_message(completion(a.id, s, Some(verified)))
    };
    assert!(store.complete_submission(&done).await.unwrap());
    let repeat = with_message(done.clone());
    assert!(
        !store.complete_submission(&repeat).await.unwrap(),
        "applied once"
    );
    assert!(store.submissions_to_complete(10).await.unwrap().is_empty());

    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Verified);
    assert_eq!(
        (p.verified.as_deref(), p.verified_at),
        (Some(&b"data"[..]), Some(at))
    );
    assert_eq!(p.addresses.as_deref(), Some(&b"addresses"[..]));
    let acc = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(acc.level, AccountLevel::Standard);
    assert_eq!(
        (acc.surname.as_slice(), acc.given_name.as_slice()),
        (&b"new-surname"[..], &b"new-given"[..])
    );
    let by_snils = store
        .account_by_login(LoginKind::Snils, b"snils-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_snils.id, a.id);

    let out = store
        .lease_outbox(at, at + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![done.message.clone().unwrap()]
            .into_iter()
            .map(|mut m| {
                m.leased_until = Some(at + Duration::seconds(60));
                m
            })
            .collect::<Vec<_>>()
    );

    // New data that fail keep the verified data and the level in force.
    let mismatch = (CheckStatus::Failed, Some("data_mismatch"));
    let s2 = closed_submission(&store, a.id, b"data-2", mismatch, at).await;
    let failed = Completion {
        at,
        ..with_message(completion(a.id, s2, None))
    };
    assert!(store.complete_submission(&failed).await.unwrap());
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.status, VerificationStatus::Failed);
    assert_eq!(
        (p.submitted.as_deref(), p.verified.as_deref()),
        (Some(&b"data-2"[..]), Some(&b"data"[..]))
    );
    assert_eq!(
        store.account(a.id).await.unwrap().unwrap().level,
        AccountLevel::Standard
    );
    assert_eq!(
        store.lease_outbox(at, at, 10).await.unwrap().len(),
        1,
        "the first message is leased, the second is new"
    );
}

async fn a_snils_verified_elsewhere_stops_the_completion(store: Arc<dyn Backend>) {
    let mut ids = Vec::new();
    for i in 0..2u8 {
        let a = registered_account(&store, &[b's', i]).await;
        let s = closed_submission(&store, a.id, b"data", PASSED, T0).await;
        ids.push((a.id, s));
    }
    let completion = |(account, submission): (AccountId, uuid::Uuid)| {
        let same = identity(b"same-snils", b"passport-index");
        with_message(completion(account, submission, Some(same)))
    };
    assert!(
        store
            .complete_submission(&completion(ids[0]))
            .await
            .unwrap()
    );
    assert!(matches!(
        store.complete_submission(&completion(ids[1])).await,
        Err(StoreError::Conflict(UniqueField::Snils))
    ));
    let p = store.personal_data(ids[1].0).await.unwrap().unwrap();
    assert_eq!(
        (p.status, p.verified),
        (VerificationStatus::InProgress, None),
        "nothing written"
    );
    assert_eq!(
        store.account(ids[1].0).await.unwrap().unwrap().level,
        AccountLevel::Simplified
    );
    assert_eq!(
        store.lease_outbox(T0, T0, 10).await.unwrap().len(),
        1,
        "only the first message"
    );
}

async fn a_confirmed_account_stays_confirmed_when_new_data_pass(store: Arc<dyn Backend>) {
    let mut a = account_for(&registration(Channel::Sms, b"confirmed-1"));
    a.level = AccountLevel::Confirmed;
    store
        .import_accounts(std::slice::from_ref(&a))
        .await
        .unwrap();
    let s = closed_submission(&store, a.id, b"new-data", PASSED, T0).await;
    let applied = store
        .complete_submission(&completion(
            a.id,
            s,
            Some(VerifiedIdentity {
                surname: b"new-surname".to_vec(),
                ..identity(b"snils-confirmed", b"passport-index")
            }),
        ))
        .await
        .unwrap();
    assert!(applied);
    let after = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        after.level,
        AccountLevel::Confirmed,
        "never lowered to standard"
    );
    assert_eq!(
        after.surname, b"new-surname",
        "the new verified name is the account's"
    );
}

async fn idle_workers_see_no_work_and_busy_ones_do(store: Arc<dyn Backend>) {
    assert!(!store.has_due_work(T0).await.unwrap(), "an empty database");
    let a = registered_account(&store, b"due-1").await;
    let (s, checks) = open_submission(&store, a.id, b"data").await;
    assert!(store.has_due_work(T0).await.unwrap(), "new checks are due");
    let lease = T0 + Duration::seconds(30);
    store.lease_due_checks(T0, lease, 10).await.unwrap();
    assert!(
        !store.has_due_work(T0).await.unwrap(),
        "leased checks are someone's"
    );
    store
        .reschedule_check(
            checks[0].id,
            CheckStatus::Pending,
            0,
            T0 + Duration::seconds(5),
        )
        .await
        .unwrap();
    store
        .finish_check(checks[1].id, CheckStatus::Passed, None, None, T0)
        .await
        .unwrap();
    assert!(
        !store.has_due_work(T0).await.unwrap(),
        "not due before its time"
    );
    assert!(store.has_due_work(T0 + Duration::seconds(5)).await.unwrap());
    store
        .finish_check(checks[0].id, CheckStatus::Passed, None, None, T0)
        .await
        .unwrap();
    assert!(
        store.has_due_work(T0).await.unwrap(),
        "a finished submission waits to be completed"
    );
    let m = message(a.id, "due-1");
    store
        .complete_submission(&Completion {
            message: Some(m.clone()),
            ..completion(a.id, s, None)
        })
        .await
        .unwrap();
    assert!(
        store.has_due_work(T0).await.unwrap(),
        "a message waits to be sent"
    );
    store.mark_outbox_delivered(m.id, T0).await.unwrap();
    assert!(!store.has_due_work(T0).await.unwrap(), "all done");
}
