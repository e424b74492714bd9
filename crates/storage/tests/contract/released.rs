//! Databases made by a released version, opened by this one: the rows they
//! hold, written through the store of that release (see
//! `tests/fixtures/README.md`), must still be read back as they were.
use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uslugi_app::ports::{
    AccountRecord, Channel, CheckRecord, CheckStatus, ContinuationRecord, RegistrationRecord,
    SessionRecord,
};
use uslugi_app::registries::Registry;
use uslugi_domain::{AccountId, AccountLevel, RegistrationId};
use uslugi_storage::Backend;

const AT: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

fn account_id() -> AccountId {
    "6f1c1f0e-8f5a-4d6c-9a57-1b0b6d3c2a01".parse().unwrap()
}

fn submission_id() -> uuid::Uuid {
    "0b9e2f3a-58c1-4f0e-a3d4-2c6e7f8a9b02".parse().unwrap()
}

fn registration() -> RegistrationRecord {
    RegistrationRecord {
        id: "3d2a4b5c-6e7f-4a8b-9c0d-1e2f3a4b5c03".parse::<RegistrationId>().unwrap(),
        channel: Channel::Sms,
        lang: "ru".into(),
        surname: b"sealed-surname".to_vec(),
        given_name: b"sealed-given".to_vec(),
        contact: b"sealed-phone".to_vec(),
        contact_index: b"phone-index".to_vec(),
        existing_account: false,
        secret_hash: b"secret-hash".to_vec(),
        secret_expires_at: AT + Duration::seconds(300),
        attempts: 0,
        sent_at: AT,
        sends: 1,
        confirmed_at: None,
        continuation: None,
        created_at: AT,
        expires_at: AT + Duration::days(1),
    }
}

fn account() -> AccountRecord {
    AccountRecord {
        id: account_id(),
        level: AccountLevel::Simplified,
        surname: b"sealed-surname".to_vec(),
        given_name: b"sealed-given".to_vec(),
        phone: Some(b"sealed-phone".to_vec()),
        phone_index: Some(b"phone-index".to_vec()),
        email: None,
        email_index: None,
        snils_index: None,
        passport_index: None,
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        must_change_password: false,
        password_expires_at: None,
        failed_logins: 0,
        throttled_until: None,
        locked: false,
        confirmed_at: None,
        confirmed_via: None,
        created_at: AT,
    }
}

fn checks() -> Vec<CheckRecord> {
    [Registry::Sfr, Registry::Mvd]
        .into_iter()
        .enumerate()
        .map(|(i, registry)| CheckRecord {
            id: uuid::Uuid::from_u128(0x5eed_0000 + i as u128),
            submission_id: submission_id(),
            account_id: account_id(),
            registry,
            status: CheckStatus::Pending,
            reason: None,
            request: b"sealed-request".to_vec(),
            gateway_request_id: None,
            attempts: 0,
            next_run_at: AT,
            deadline_at: AT + Duration::days(5),
            leased_until: None,
            created_at: AT,
            finished_at: None,
            registration_address: None,
        })
        .collect()
}

fn session() -> SessionRecord {
    SessionRecord {
        token_hash: b"session-token-hash".to_vec(),
        account_id: account_id(),
        created_at: AT,
        last_seen_at: AT,
        expires_at: AT + Duration::days(30),
        idle_timeout: Duration::minutes(30),
        remember: true,
        must_change_password: false,
        device_hash: Some(b"device-hash".to_vec()),
        user_agent: Some("Firefox".into()),
        network: Some("192.0.2".into()),
    }
}

/// Writes the rows of the fixture: an account made by a registration, its
/// personal data submitted to the registries, a session.
pub async fn fill(store: &Arc<dyn Backend>) {
    let r = registration();
    store.insert_registration(&r).await.unwrap();
    let continuation = ContinuationRecord {
        hash: b"go".to_vec(),
        expires_at: AT + Duration::minutes(30),
    };
    store
        .mark_registration_confirmed(r.id, AT, &continuation)
        .await
        .unwrap();
    store
        .complete_registration(r.id, b"go", AT, &account())
        .await
        .unwrap();
    store.save_draft(account_id(), b"sealed-draft", AT).await.unwrap();
    store
        .save_addresses(account_id(), b"sealed-addresses", AT)
        .await
        .unwrap();
    store
        .submit_personal_data(
            account_id(),
            submission_id(),
            b"sealed-data",
            &checks(),
            None,
            AT,
        )
        .await
        .unwrap();
    store.insert_session(&session()).await.unwrap();
}
