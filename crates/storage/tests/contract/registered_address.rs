//! The Interior Ministry's address of registration: kept on its check, made
//! the account's when the submission passes, and replaced (or cleared) by
//! the next submission that passes — never by one that fails.
use std::sync::Arc;

use uslugi_app::ports::{CheckStatus, Completion, VerificationStatus, VerifiedIdentity};
use uslugi_app::registries::Registry;
use uslugi_storage::Backend;

use super::{T0, TestDatabase, both_checks, open, registered_account};

contract!(the_ministrys_address_follows_the_data_in_force);

fn verified(address: Option<&[u8]>) -> VerifiedIdentity {
    VerifiedIdentity {
        surname: b"s".to_vec(),
        given_name: b"g".to_vec(),
        snils_index: b"snils-address".to_vec(),
        passport_index: b"passport-address".to_vec(),
        registration_address: address.map(<[u8]>::to_vec),
    }
}

async fn submit_and_close(
    store: &Arc<dyn Backend>,
    account: uslugi_domain::AccountId,
    mvd: CheckStatus,
    address: Option<&[u8]>,
) -> uuid::Uuid {
    let s = uuid::Uuid::new_v4();
    let checks = both_checks(account, s);
    store
        .submit_personal_data(account, s, b"data", &checks, None, T0)
        .await
        .unwrap();
    for c in &checks {
        let (status, kept) = match c.registry {
            Registry::Sfr => (CheckStatus::Passed, None),
            Registry::Mvd => (mvd, address),
        };
        assert!(
            store
                .finish_check(c.id, status, None, kept, T0)
                .await
                .unwrap()
        );
    }
    let stored = store.checks_of_submission(s).await.unwrap();
    let mvd_check = stored.iter().find(|c| c.registry == Registry::Mvd).unwrap();
    assert_eq!(mvd_check.registration_address.as_deref(), address);
    s
}

fn completion(
    account: uslugi_domain::AccountId,
    submission: uuid::Uuid,
    verified: Option<VerifiedIdentity>,
) -> Completion {
    Completion {
        account_id: account,
        submission_id: submission,
        status: if verified.is_some() {
            VerificationStatus::Verified
        } else {
            VerificationStatus::Failed
        },
        verified,
        message: None,
        in_person: None,
        audit: None,
        at: T0,
    }
}

async fn the_ministrys_address_follows_the_data_in_force(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"address-1").await;
    let s = submit_and_close(&store, a.id, CheckStatus::Passed, Some(b"sealed-address")).await;
    assert!(
        store
            .complete_submission(&completion(a.id, s, Some(verified(Some(b"for-pd")))))
            .await
            .unwrap()
    );
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.registration_address.as_deref(), Some(&b"for-pd"[..]));

    // Newer data that fail leave the address of the data in force.
    let s = submit_and_close(&store, a.id, CheckStatus::Failed, None).await;
    assert!(
        store
            .complete_submission(&completion(a.id, s, None))
            .await
            .unwrap()
    );
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.registration_address.as_deref(), Some(&b"for-pd"[..]));

    // Newer data that pass without an address take the old one away.
    let s = submit_and_close(&store, a.id, CheckStatus::Passed, None).await;
    assert!(
        store
            .complete_submission(&completion(a.id, s, Some(verified(None))))
            .await
            .unwrap()
    );
    let p = store.personal_data(a.id).await.unwrap().unwrap();
    assert_eq!(p.registration_address, None);
}
