//! Letters with an identity code: ordered within limits even at once, a new
//! one voiding the last, leased, sent and confirmed once.
use crate::fixtures::*;

contract!(
    letters_are_ordered_within_the_limits_even_at_once,
    a_new_letter_voids_the_last_one,
    queued_letters_are_leased_sent_and_confirmed_once,
    the_days_letters_and_their_codes,
    a_letter_used_after_a_confirmation_at_a_center_changes_nothing_else,
);

fn letter(a: AccountId, at: OffsetDateTime) -> LetterRecord {
    LetterRecord {
        id: uuid::Uuid::new_v4(),
        account_id: a,
        lang: "ru".into(),
        code_hash: b"code-hash".to_vec(),
        code: Some(b"sealed-code".to_vec()),
        recipient: b"sealed-name".to_vec(),
        address: b"sealed-address".to_vec(),
        status: LetterStatus::Queued,
        tracking_number: None,
        voided: false,
        attempts: 0,
        dispatch_attempts: 0,
        next_attempt_at: at,
        leased_until: None,
        sent_at: None,
        expires_at: None,
        used_at: None,
        created_at: at,
    }
}

const LIMITS: [LetterLimit; 2] = [
    LetterLimit {
        count: 1,
        window: Duration::hours(24),
    },
    LetterLimit {
        count: 4,
        window: Duration::days(30),
    },
];

async fn letters_are_ordered_within_the_limits_even_at_once(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"letters-1").await;
    let tries = at_once(&store, 10, |store, _| async move {
        store
            .order_letter(&letter(a.id, T0), &LIMITS, &audit("ordered"))
            .await
            .unwrap()
    })
    .await;
    let mut accepted = 0;
    for t in tries {
        match t {
            LetterOrder::Accepted => accepted += 1,
            LetterOrder::TooSoon(at) => assert_eq!(at, T0 + Duration::hours(24)),
        }
    }
    assert_eq!(accepted, 1, "ten orders at once: one letter");
    assert_eq!(
        all_audit(&store).await.len(),
        1,
        "refused orders write nothing"
    );
    for day in 1..4 {
        let at = T0 + Duration::days(day);
        assert_eq!(
            store
                .order_letter(&letter(a.id, at), &LIMITS, &audit("ordered"))
                .await
                .unwrap(),
            LetterOrder::Accepted
        );
    }
    let fifth = T0 + Duration::days(4);
    assert_eq!(
        store
            .order_letter(&letter(a.id, fifth), &LIMITS, &audit("ordered"))
            .await
            .unwrap(),
        LetterOrder::TooSoon(T0 + Duration::days(30)),
        "four in thirty days"
    );
}

async fn a_new_letter_voids_the_last_one(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"letters-2").await;
    let first = letter(a.id, T0);
    store
        .order_letter(&first, &LIMITS, &audit("o"))
        .await
        .unwrap();
    assert_eq!(
        store.current_letter(a.id).await.unwrap().unwrap().id,
        first.id
    );
    let second = letter(a.id, T0 + Duration::days(1));
    store
        .order_letter(&second, &LIMITS, &audit("o"))
        .await
        .unwrap();
    assert_eq!(
        store.current_letter(a.id).await.unwrap().unwrap().id,
        second.id
    );
    assert_eq!(
        store.pending_jobs().await.unwrap().letters,
        1,
        "a voided letter waits no more"
    );
    let leased = store
        .lease_due_letters(T0 + Duration::days(1), T0 + Duration::days(2), 10)
        .await
        .unwrap();
    assert_eq!(
        leased.iter().map(|l| l.id).collect::<Vec<_>>(),
        [second.id],
        "a voided letter is never sent"
    );
    assert!(
        !store
            .confirm_by_letter(first.id, T0, None, &audit("c"))
            .await
            .unwrap()
    );
}

async fn queued_letters_are_leased_sent_and_confirmed_once(store: Arc<dyn Backend>) {
    let a = standard_account(&store, b"letters-3").await;
    let l = letter(a.id, T0);
    store.order_letter(&l, &LIMITS, &audit("o")).await.unwrap();
    let lease = T0 + Duration::seconds(30);
    assert_eq!(
        store.lease_due_letters(T0, lease, 10).await.unwrap().len(),
        1
    );
    assert!(
        store
            .lease_due_letters(T0, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "one worker at a time"
    );
    store
        .reschedule_letter(l.id, 1, T0 + Duration::seconds(5))
        .await
        .unwrap();
    assert!(
        store
            .lease_due_letters(T0, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "not yet due"
    );
    let at = T0 + Duration::seconds(5);
    let leased = store
        .lease_due_letters(at, at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(leased[0].dispatch_attempts, 1);
    assert!(
        !store
            .confirm_by_letter(l.id, at, None, &audit("c"))
            .await
            .unwrap(),
        "not sent yet"
    );
    let expires = at + Duration::days(30);
    assert!(
        store
            .mark_letter_sent(l.id, "10200012000017", at, expires)
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_letter_sent(l.id, "10200012000024", at, expires)
            .await
            .unwrap(),
        "sent once"
    );
    let sent = store.current_letter(a.id).await.unwrap().unwrap();
    assert_eq!(sent.status, LetterStatus::Sent);
    assert_eq!(sent.tracking_number.as_deref(), Some("10200012000017"));
    assert_eq!((sent.sent_at, sent.expires_at), (Some(at), Some(expires)));
    assert_eq!(store.take_letter_attempt(l.id, 2).await.unwrap(), Some(1));
    assert_eq!(store.take_letter_attempt(l.id, 2).await.unwrap(), Some(2));
    assert_eq!(store.take_letter_attempt(l.id, 2).await.unwrap(), None);
    let m = message(a.id, "confirmed:letter");
    assert!(
        store
            .confirm_by_letter(l.id, at, Some(&m), &audit("confirmed"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_by_letter(l.id, at, Some(&m), &audit("confirmed"))
            .await
            .unwrap(),
        "once"
    );
    let used = store.current_letter(a.id).await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(at));
    assert_eq!(used.code, None, "the printable code is wiped");
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (done.level, done.confirmed_via),
        (AccountLevel::Confirmed, Some(ConfirmedVia::Letter))
    );
}

async fn the_days_letters_and_their_codes(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"letters-4").await;
    let b = registered_account(&store, b"letters-5").await;
    for (acc, sent, tracking) in [
        (a.id, T0, "10200012000017"),
        (b.id, T0 + Duration::days(1), "10200012000024"),
    ] {
        let l = letter(acc, sent);
        store.order_letter(&l, &LIMITS, &audit("o")).await.unwrap();
        store
            .mark_letter_sent(l.id, tracking, sent, sent + Duration::days(30))
            .await
            .unwrap();
    }
    let day = store
        .letters_sent_between(T0 - Duration::hours(1), T0 + Duration::hours(23))
        .await
        .unwrap();
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].tracking_number.as_deref(), Some("10200012000017"));
    assert_eq!(
        store
            .wipe_dead_letter_codes(T0 + Duration::days(29))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .wipe_dead_letter_codes(T0 + Duration::days(30))
            .await
            .unwrap(),
        1,
        "expired codes are wiped"
    );
    assert_eq!(
        store.current_letter(a.id).await.unwrap().unwrap().code,
        None
    );
    assert!(
        store
            .current_letter(b.id)
            .await
            .unwrap()
            .unwrap()
            .code
            .is_some()
    );
}

async fn a_letter_used_after_a_confirmation_at_a_center_changes_nothing_else(
    store: Arc<dyn Backend>,
) {
    let a = standard_account(&store, b"both-ways").await;
    let l = letter(a.id, T0);
    store.order_letter(&l, &LIMITS, &audit("o")).await.unwrap();
    store
        .mark_letter_sent(l.id, "10200012000017", T0, T0 + Duration::days(30))
        .await
        .unwrap();
    assert!(
        store
            .confirm_identity(a.id, ConfirmedVia::Center, T0, None, &audit("center"))
            .await
            .unwrap()
    );
    let later = T0 + Duration::days(3);
    let m = message(a.id, "letter-notice");
    assert!(
        store
            .confirm_by_letter(l.id, later, Some(&m), &audit("letter"))
            .await
            .unwrap(),
        "the code is spent"
    );
    let done = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(
        (done.confirmed_via, done.confirmed_at),
        (Some(ConfirmedVia::Center), Some(T0))
    );
    assert!(
        store
            .lease_outbox(later, later + Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "no second notice"
    );
}
