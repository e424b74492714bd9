//! A phone confirmed at a service center's desk: its code is tried at most
//! three times, each try taken before it is compared, even when twenty
//! arrive at once; a new code starts the tries again; a confirmed phone
//! registers once.
use std::sync::Arc;

use time::Duration;
use uslugi_app::ports::{DeskPhoneRecord, OutboxRecord};
use uslugi_storage::Backend;

use crate::fixtures::*;

contract!(
    a_desk_phone_takes_three_tries_per_code_and_registers_once,
    twenty_tries_at_once_take_three,
);

fn code_sms(key: &str) -> OutboxRecord {
    OutboxRecord {
        account_id: None,
        ..message(uslugi_domain::AccountId::random(), key)
    }
}

async fn desk_phone(store: &Arc<dyn Backend>, token: &[u8]) -> DeskPhoneRecord {
    centers(store).await;
    let op = new_operator("center-a", token);
    store.insert_operator(&op, &audit("added")).await.unwrap();
    let r = DeskPhoneRecord {
        id: uuid::Uuid::new_v4(),
        operator_id: op.id,
        phone: b"sealed-phone".to_vec(),
        phone_index: b"phone-index".to_vec(),
        code_hash: b"first-code".to_vec(),
        code_expires_at: T0 + Duration::seconds(300),
        attempts: 0,
        sent_at: T0,
        confirmed_at: None,
        used_at: None,
        expires_at: T0 + Duration::minutes(30),
    };
    store
        .start_desk_phone(&r, &code_sms("desk-1"))
        .await
        .unwrap();
    r
}

async fn a_desk_phone_takes_three_tries_per_code_and_registers_once(store: Arc<dyn Backend>) {
    let r = desk_phone(&store, b"desk-token-1").await;
    assert_eq!(store.desk_phone(r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(
        store.lease_outbox(T0, T0, 10).await.unwrap().len(),
        1,
        "the code's SMS, with the record"
    );
    for n in 1..=3 {
        assert_eq!(
            store.take_desk_code_attempt(r.id, 3, T0).await.unwrap(),
            Some((n, b"first-code".to_vec()))
        );
    }
    assert_eq!(
        store.take_desk_code_attempt(r.id, 3, T0).await.unwrap(),
        None
    );

    let later = T0 + Duration::seconds(61);
    let second = code_sms("desk-2");
    assert!(
        !store
            .replace_desk_code(r.id, later, b"second-code", later, &second)
            .await
            .unwrap(),
        "not the code that was sent: another resend won"
    );
    let second = OutboxRecord {
        created_at: later,
        ..second
    };
    assert!(
        store
            .replace_desk_code(
                r.id,
                T0,
                b"second-code",
                later + Duration::seconds(300),
                &second
            )
            .await
            .unwrap()
    );
    let now = store.desk_phone(r.id).await.unwrap().unwrap();
    assert_eq!(
        (now.attempts, now.sent_at),
        (0, later),
        "the tries start again"
    );
    assert_eq!(
        store.take_desk_code_attempt(r.id, 3, later).await.unwrap(),
        Some((1, b"second-code".to_vec()))
    );
    assert_eq!(
        store
            .take_desk_code_attempt(r.id, 3, later + Duration::seconds(300))
            .await
            .unwrap(),
        None,
        "not once the code has expired"
    );

    assert!(
        !store.use_desk_phone(r.id, later).await.unwrap(),
        "not confirmed"
    );
    assert!(store.confirm_desk_phone(r.id, later).await.unwrap());
    assert!(!store.confirm_desk_phone(r.id, later).await.unwrap());
    assert_eq!(
        store.take_desk_code_attempt(r.id, 3, later).await.unwrap(),
        None
    );
    assert!(
        !store
            .replace_desk_code(r.id, later, b"third", later, &code_sms("desk-3"))
            .await
            .unwrap(),
        "no code after the confirmation"
    );
    assert!(store.use_desk_phone(r.id, later).await.unwrap());
    assert!(!store.use_desk_phone(r.id, later).await.unwrap(), "once");

    assert_eq!(
        store
            .delete_expired_desk_phones(T0 + Duration::minutes(29))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_expired_desk_phones(T0 + Duration::minutes(30))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.desk_phone(r.id).await.unwrap(), None);
}

async fn twenty_tries_at_once_take_three(store: Arc<dyn Backend>) {
    let r = desk_phone(&store, b"desk-token-2").await;
    let tries = at_once(&store, 20, |store, _| async move {
        let taken = store.take_desk_code_attempt(r.id, 3, T0).await.unwrap();
        taken.map(|(n, _)| n)
    })
    .await;
    assert_eq!(taken(tries), [1, 2, 3]);
}
