//! The outbox: messages leased, delivered and rescheduled; after delivery a
//! message keeps its sealed body a day, then loses it, and one not yet
//! delivered keeps it whatever its age.
use crate::fixtures::*;

contract!(
    the_outbox_is_leased_delivered_and_rescheduled,
    delivered_messages_lose_their_body_and_undelivered_ones_keep_it,
);

/// A message written the way the product writes one: with the completion
/// of a submission whose checks failed.
async fn queued_message(store: &Arc<dyn Backend>, index: &[u8], key: &str) -> OutboxRecord {
    let a = registered_account(store, index).await;
    let failed = (CheckStatus::Failed, Some("snils_not_found"));
    let s = closed_submission(store, a.id, b"data", failed, T0).await;
    let m = message(a.id, key);
    store
        .complete_submission(&Completion {
            message: Some(m.clone()),
            ..completion(a.id, s, None)
        })
        .await
        .unwrap();
    m
}

/// The outbox bodies rotation would find: the ones still sealed.
async fn bodies(store: &Arc<dyn Backend>) -> Vec<String> {
    let column = uslugi_storage::SEALED_COLUMNS
        .iter()
        .find(|c| c.table == "outbox" && c.column == "body")
        .unwrap();
    store
        .sealed_values(column, "", 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

async fn delivered_messages_lose_their_body_and_undelivered_ones_keep_it(store: Arc<dyn Backend>) {
    let delivered = queued_message(&store, b"ob-1", "verification:ob-1").await;
    let waiting = queued_message(&store, b"ob-2", "verification:ob-2").await;
    assert_eq!(store.pending_jobs().await.unwrap().messages, 2);
    let leased = store
        .lease_outbox(T0, T0 + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 2);
    store.mark_outbox_delivered(delivered.id, T0).await.unwrap();
    store
        .reschedule_outbox(waiting.id, 1, T0 + Duration::days(3))
        .await
        .unwrap();
    assert_eq!(
        store.pending_jobs().await.unwrap().messages,
        1,
        "a message waits until it is delivered, rescheduled or not"
    );

    // A day is kept: the sweep an hour before its end empties nothing.
    let day = Duration::hours(24);
    assert_eq!(
        store
            .wipe_delivered_outbox_bodies(T0 + day - Duration::hours(1) - day)
            .await
            .unwrap(),
        0
    );
    assert_eq!(bodies(&store).await.len(), 2);
    let later = T0 + day + Duration::minutes(1);
    assert_eq!(
        store
            .wipe_delivered_outbox_bodies(later - day)
            .await
            .unwrap(),
        1,
        "only the delivered one"
    );
    assert_eq!(bodies(&store).await, vec![waiting.id.to_string()]);
    assert_eq!(
        store
            .wipe_delivered_outbox_bodies(later - day)
            .await
            .unwrap(),
        0,
        "emptied once"
    );
    // The one still waiting goes out whole when its time comes.
    let at = T0 + Duration::days(3);
    let again = store
        .lease_outbox(at, at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].body, waiting.body);
}

async fn the_outbox_is_leased_delivered_and_rescheduled(store: Arc<dyn Backend>) {
    let m = queued_message(&store, b"pd-5", "verification:x").await;
    let lease = T0 + Duration::seconds(30);
    assert_eq!(store.lease_outbox(T0, lease, 10).await.unwrap().len(), 1);
    assert!(
        store.lease_outbox(T0, lease, 10).await.unwrap().is_empty(),
        "leased once"
    );
    store
        .reschedule_outbox(m.id, 1, T0 + Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        store
            .lease_outbox(lease, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "waits for its time"
    );
    let at = T0 + Duration::minutes(1);
    let again = store
        .lease_outbox(at, at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    store.mark_outbox_delivered(m.id, at).await.unwrap();
    let far = T0 + Duration::days(1);
    assert!(
        store.lease_outbox(far, far, 10).await.unwrap().is_empty(),
        "delivered: never again"
    );
}
