//! Tracking numbers of printed letters: taken in order from the range the
//! post allocated, once per letter even at once, and moved along by the
//! post's statuses, never back.
use uslugi_app::ports::StatusRecorded;
use uslugi_domain::{PostStatus, TrackingRange};

use crate::fixtures::*;

contract!(
    numbers_are_taken_in_order_once_per_letter_until_the_range_ends,
    letters_at_once_never_share_a_number,
    statuses_move_a_letter_along_never_back,
);

fn range(prefix: &str, start: &str, end: &str) -> TrackingRange {
    TrackingRange::parse(prefix, start, end).unwrap()
}

async fn numbers_are_taken_in_order_once_per_letter_until_the_range_ends(store: Arc<dyn Backend>) {
    let r = range("10100012", "00007", "00009");
    assert_eq!(store.post_numbers_left(&r).await.unwrap(), 3);
    let first = store
        .take_post_number("letter-1", &r, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(first.clone()), r.number(7));
    assert_eq!(
        store.take_post_number("letter-1", &r, T0).await.unwrap(),
        Some(first.clone()),
        "a letter handed over again keeps its number"
    );
    let second = store
        .take_post_number("letter-2", &r, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(second), r.number(8));
    assert_eq!(store.post_numbers_left(&r).await.unwrap(), 1);
    assert!(
        store
            .take_post_number("letter-3", &r, T0)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.post_numbers_left(&r).await.unwrap(), 0);
    assert_eq!(
        store.take_post_number("letter-4", &r, T0).await.unwrap(),
        None,
        "the range is used up"
    );
    // The post allocates the next range: numbering starts at its start,
    // and a letter numbered before keeps its number.
    let next = range("10100013", "00001", "00100");
    assert_eq!(
        store.take_post_number("letter-4", &next, T0).await.unwrap(),
        next.number(1)
    );
    assert_eq!(
        store.take_post_number("letter-1", &next, T0).await.unwrap(),
        Some(first)
    );
    assert_eq!(store.post_numbers_left(&next).await.unwrap(), 99);
}

async fn letters_at_once_never_share_a_number(store: Arc<dyn Backend>) {
    let r = range("10100012", "00001", "00030");
    let takes: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let r = r.clone();
            tokio::spawn(async move {
                store
                    .take_post_number(&format!("letter-{i}"), &r, T0)
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for take in takes {
        numbers.push(take.await.unwrap().as_str().to_owned());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 20, "{numbers:?}");
    assert_eq!(store.post_numbers_left(&r).await.unwrap(), 10);
}

async fn statuses_move_a_letter_along_never_back(store: Arc<dyn Backend>) {
    let r = range("10100012", "00001", "00010");
    let n = store
        .take_post_number("letter-1", &r, T0)
        .await
        .unwrap()
        .unwrap();
    let never_taken = r.number(10).unwrap();
    assert_eq!(
        store.post_status(&n).await.unwrap(),
        Some(PostStatus::Accepted)
    );
    assert_eq!(store.post_status(&never_taken).await.unwrap(), None);
    let hour = Duration::hours(1);
    let record = |status, at| {
        let store = store.clone();
        let n = n.clone();
        async move { store.record_post_status(&n, status, at).await.unwrap() }
    };
    assert_eq!(
        record(PostStatus::Arrived, T0 + hour * 2).await,
        StatusRecorded::Applied
    );
    assert_eq!(
        record(PostStatus::InTransit, T0 + hour).await,
        StatusRecorded::Stale,
        "a file that comes late"
    );
    assert_eq!(
        store.post_status(&n).await.unwrap(),
        Some(PostStatus::Arrived)
    );
    assert_eq!(
        record(PostStatus::HandedOver, T0 + hour * 3).await,
        StatusRecorded::Applied
    );
    assert_eq!(
        store.post_status(&n).await.unwrap(),
        Some(PostStatus::HandedOver)
    );
    assert_eq!(
        store
            .record_post_status(&never_taken, PostStatus::Arrived, T0 + hour)
            .await
            .unwrap(),
        StatusRecorded::Unknown
    );
}
