//! The Interior Ministry's address of registration: kept on its check, made
//! the account's when the submission passes, and replaced (or cleared) by
//! the next submission that passes — never by one that fails.
use crate::fixtures::*;

contract!(
    the_ministrys_address_follows_the_data_in_force,
    a_snils_moves_whole_or_not_at_all,
);

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
    let (s, checks) = open_submission(store, account, b"data").await;
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

/// A center moves a taken SNILS: the holder's account loses it with its
/// verified data and confirmation, the desk's account gets it, the notice
/// and the record are written — or, when either side changed, nothing.
async fn a_snils_moves_whole_or_not_at_all(store: Arc<dyn Backend>) {
    use uslugi_app::ports::{AuditFilter, SnilsTransfer};
    use uslugi_domain::{AccountLevel, CheckStatus, ConfirmedVia, LoginKind, VerificationStatus};

    let holder = registered_account(&store, b"move-holder").await;
    let s = submit_and_close(&store, holder.id, CheckStatus::Passed, None).await;
    let mut v = verified(Some(b"holder-address"));
    v.snils_index = b"snils-move".to_vec();
    assert!(
        store
            .complete_submission(&completion(holder.id, s, Some(v)))
            .await
            .unwrap()
    );
    let audit = audit_of("identity_confirmed", Some("c"), None, Some(holder.id));
    assert!(
        store
            .confirm_identity(holder.id, ConfirmedVia::Letter, T0, None, &audit)
            .await
            .unwrap()
    );
    let desk = registered_account(&store, b"move-desk").await;
    let submission = submit_and_close(&store, desk.id, CheckStatus::Passed, Some(b"a")).await;
    assert!(
        store
            .complete_submission(&completion(desk.id, submission, None))
            .await
            .unwrap()
    );
    let mut moved = verified(Some(b"desk-address"));
    moved.snils_index = b"snils-move".to_vec();
    moved.passport_index = b"passport-desk".to_vec();
    let transfer = |snils_index: &[u8]| SnilsTransfer {
        from: holder.id,
        snils_index: snils_index.to_vec(),
        to: desk.id,
        submission_id: submission,
        verified: moved.clone(),
        notices: vec![message(
            holder.id,
            &format!("snils-transferred:{submission}"),
        )],
        audit: audit_of("snils_transferred", Some("c"), None, Some(desk.id)),
        at: T0,
    };

    assert!(
        !store
            .transfer_snils(&transfer(b"snils-other"))
            .await
            .unwrap(),
        "the holder no longer holds it: nothing"
    );
    let h = store.account(holder.id).await.unwrap().unwrap();
    assert_eq!(h.level, AccountLevel::Confirmed);

    assert!(
        store
            .transfer_snils(&transfer(b"snils-move"))
            .await
            .unwrap()
    );
    let h = store.account(holder.id).await.unwrap().unwrap();
    assert_eq!(
        (h.level, h.snils_index, h.passport_index, h.confirmed_at),
        (AccountLevel::Simplified, None, None, None)
    );
    let hp = store.personal_data(holder.id).await.unwrap().unwrap();
    assert_eq!(
        (hp.status, hp.verified, hp.registration_address),
        (VerificationStatus::Draft, None, None)
    );
    let d = store.account(desk.id).await.unwrap().unwrap();
    assert_eq!(d.level, AccountLevel::Standard);
    assert_eq!(d.passport_index.as_deref(), Some(&b"passport-desk"[..]));
    let dp = store.personal_data(desk.id).await.unwrap().unwrap();
    assert_eq!(dp.status, VerificationStatus::Verified);
    assert_eq!(dp.verified.as_deref(), Some(&b"data"[..]));
    assert_eq!(
        dp.registration_address.as_deref(),
        Some(&b"desk-address"[..])
    );
    let by_snils = store
        .account_by_login(LoginKind::Snils, b"snils-move")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_snils.id, desk.id);
    let out = store
        .lease_outbox(T0, T0 + time::Duration::minutes(1), 10)
        .await
        .unwrap();
    assert!(
        out.iter()
            .any(|m| m.dedupe_key == format!("snils-transferred:{submission}"))
    );
    let records = store
        .audit_records(
            &AuditFilter {
                account_id: Some(desk.id),
                ..AuditFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.entry.action == "snils_transferred")
    );

    assert!(
        !store
            .transfer_snils(&transfer(b"snils-move"))
            .await
            .unwrap(),
        "once"
    );
}
