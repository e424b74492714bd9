//! The storage contract of the citizens' second factor: what a code unlocks
//! is written with the code spent, once, whatever runs at the same time.
use crate::fixtures::*;
use uslugi_app::ports::{
    FactorChallengeRecord, FactorChange, FactorEnrolment, FactorProof, SecondFactorRecord,
};
use uslugi_domain::{FactorMethod, FactorPurpose};

contract!(
    a_factor_is_turned_on_once_with_its_backup_codes,
    a_login_step_opens_one_session_and_an_app_code_works_once,
    a_backup_code_works_once_even_at_once,
    turning_the_factor_off_spends_the_sms_code_and_removes_everything,
    factor_attempts_and_resends_hold_under_concurrency,
    a_temporary_password_turns_the_factor_off,
);

fn challenge(
    a: &AccountRecord,
    purpose: FactorPurpose,
    method: FactorMethod,
) -> FactorChallengeRecord {
    FactorChallengeRecord {
        id: uuid::Uuid::new_v4(),
        account_id: a.id,
        purpose,
        method,
        totp_secret: (method == FactorMethod::Totp).then(|| b"sealed-key".to_vec()),
        code_hash: (method == FactorMethod::Sms).then(|| b"code-hash".to_vec()),
        code_expires_at: Some(T0 + Duration::minutes(5)),
        sent_at: Some(T0),
        attempts: 0,
        remember: true,
        device_hash: Some(b"device".to_vec()),
        user_agent: Some("Firefox".into()),
        network: Some("10.0.0.0/24".into()),
        lang: "ru".into(),
        created_at: T0,
        expires_at: T0 + Duration::minutes(10),
    }
}

/// Completes the login step `step` with `proof`, no notice: whether it
/// opened `session`.
async fn log_in(
    store: &Arc<dyn Backend>,
    step: uuid::Uuid,
    proof: FactorProof,
    session: &SessionRecord,
) -> bool {
    store
        .complete_factor_login(step, &proof, session, &super::sessions::logged_in(None))
        .await
        .unwrap()
}

fn enrolment(a: &AccountRecord, c: &FactorChallengeRecord, codes: &[&[u8]]) -> FactorEnrolment {
    FactorEnrolment {
        challenge_id: c.id,
        factor: SecondFactorRecord {
            account_id: a.id,
            method: c.method,
            totp_secret: c.totp_secret.clone(),
            totp_last_step: Some(100),
            enabled_at: T0,
            backup_codes_left: 0,
        },
        backup_code_hashes: codes.iter().map(|c| c.to_vec()).collect(),
        notices: vec![message(a.id, &format!("factor-on:{}", c.id))],
        audit: audit("second_factor_enabled"),
    }
}

/// How many backup codes the account has left.
async fn codes_left(store: &Arc<dyn Backend>, a: &AccountRecord) -> u32 {
    let factor = store.second_factor(a.id).await.unwrap().unwrap();
    factor.backup_codes_left
}

/// Turns the factor on with step `c` and `codes`: whether it was.
async fn enable(
    store: &Arc<dyn Backend>,
    a: &AccountRecord,
    c: &FactorChallengeRecord,
    codes: &[&[u8]],
) -> bool {
    store
        .enable_second_factor(&enrolment(a, c, codes))
        .await
        .unwrap()
}

/// An account with an app turned on (last step taken: 100) and two backup codes.
pub(crate) async fn with_app(store: &Arc<dyn Backend>, index: &[u8]) -> AccountRecord {
    let a = registered_account(store, index).await;
    let c = challenge(&a, FactorPurpose::Enrol, FactorMethod::Totp);
    store.insert_factor_challenge(&c, None).await.unwrap();
    assert!(enable(store, &a, &c, &[b"backup-1", b"backup-2"]).await);
    a
}

async fn a_factor_is_turned_on_once_with_its_backup_codes(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"factor-on-1").await;
    assert_eq!(store.second_factor(a.id).await.unwrap(), None);
    let first = challenge(&a, FactorPurpose::Enrol, FactorMethod::Totp);
    store.insert_factor_challenge(&first, None).await.unwrap();
    let codes: Vec<Vec<u8>> = (0..10).map(|i| format!("code-{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = codes.iter().map(Vec::as_slice).collect();
    assert!(enable(&store, &a, &first, &refs).await);
    let f = store.second_factor(a.id).await.unwrap().unwrap();
    assert_eq!(f.method, FactorMethod::Totp);
    assert_eq!(f.totp_secret.as_deref(), Some(&b"sealed-key"[..]));
    assert_eq!(
        (f.totp_last_step, f.backup_codes_left, f.enabled_at),
        (Some(100), 10, T0)
    );
    assert_eq!(
        store.factor_challenge(first.id).await.unwrap(),
        None,
        "the enrolment's step is used up"
    );
    assert!(
        !enable(&store, &a, &first, &refs).await,
        "the same step twice"
    );
    // A second enrolment while one factor is on writes nothing at all.
    let second = challenge(&a, FactorPurpose::Enrol, FactorMethod::Sms);
    store.insert_factor_challenge(&second, None).await.unwrap();
    assert!(!enable(&store, &a, &second, &refs).await);
    assert!(
        store.factor_challenge(second.id).await.unwrap().is_some(),
        "rolled back"
    );
    assert_eq!(
        store.second_factor(a.id).await.unwrap().unwrap().method,
        FactorMethod::Totp
    );
    assert_eq!(all_audit(&store).await.len(), 1);
    let leased = store
        .lease_outbox(T0, T0 + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1, "one notice");
}

async fn a_login_step_opens_one_session_and_an_app_code_works_once(store: Arc<dyn Backend>) {
    let a = with_app(&store, b"factor-login-1").await;
    let step = challenge(&a, FactorPurpose::Login, FactorMethod::Totp);
    store.insert_factor_challenge(&step, None).await.unwrap();
    let read = store.factor_challenge(step.id).await.unwrap().unwrap();
    assert_eq!(read, step, "the step round-trips");
    assert_eq!(
        store
            .account_factor_challenge(a.id, FactorPurpose::Login)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(step.id)
    );
    store
        .take_login_attempt(
            a.id,
            0,
            T0,
            uslugi_app::ports::LoginRestriction {
                throttled_until: None,
                locked: false,
            },
        )
        .await
        .unwrap();
    // The step already taken at enrolment does not open anything.
    let mut s = session_of(&a, b"login-old-step");
    s.device_hash = Some(b"device".to_vec());
    assert!(!log_in(&store, step.id, FactorProof::TotpStep(100), &s).await);
    assert!(store.session(b"login-old-step").await.unwrap().is_none());
    assert!(
        store.factor_challenge(step.id).await.unwrap().is_some(),
        "nothing written"
    );
    // Ten nodes get the same right code at once: one session.
    let opened = at_once(&store, 10, |store, i| {
        let mut s = session_of(&a, &[b's', i]);
        s.device_hash = Some(b"device".to_vec());
        async move { log_in(&store, step.id, FactorProof::TotpStep(101), &s).await }
    })
    .await;
    assert_eq!(wins(&opened), 1);
    assert_eq!(store.account_sessions(a.id).await.unwrap().len(), 1);
    assert_eq!(
        store.account(a.id).await.unwrap().unwrap().failed_logins,
        0,
        "cleared"
    );
    assert!(store.device_seen(a.id, b"device").await.unwrap().this);
    assert_eq!(
        store
            .second_factor(a.id)
            .await
            .unwrap()
            .unwrap()
            .totp_last_step,
        Some(101)
    );
    // The same code again, in a new step: refused.
    let again = challenge(&a, FactorPurpose::Login, FactorMethod::Totp);
    store.insert_factor_challenge(&again, None).await.unwrap();
    let replay = session_of(&a, b"replay");
    assert!(!log_in(&store, again.id, FactorProof::TotpStep(101), &replay).await);
    // An enrolment step cannot stand for a login's.
    let enrol = challenge(&a, FactorPurpose::Enrol, FactorMethod::Totp);
    store.insert_factor_challenge(&enrol, None).await.unwrap();
    let as_login = session_of(&a, b"enrol-as-login");
    assert!(!log_in(&store, enrol.id, FactorProof::TotpStep(102), &as_login).await);
    // A new login step replaces the account's last one.
    let newer = challenge(&a, FactorPurpose::Login, FactorMethod::Totp);
    store.insert_factor_challenge(&newer, None).await.unwrap();
    assert_eq!(store.factor_challenge(again.id).await.unwrap(), None);
    assert!(
        store.factor_challenge(enrol.id).await.unwrap().is_some(),
        "other purposes stay"
    );
    assert_eq!(
        store
            .delete_expired_factor_challenges(T0 + Duration::minutes(10))
            .await
            .unwrap(),
        2
    );
}

async fn a_backup_code_works_once_even_at_once(store: Arc<dyn Backend>) {
    let a = with_app(&store, b"factor-backup-1").await;
    let login = |token: &'static [u8]| {
        let store = Arc::clone(&store);
        let a = a.clone();
        async move {
            let step = challenge(&a, FactorPurpose::Login, FactorMethod::Totp);
            store.insert_factor_challenge(&step, None).await.unwrap();
            let proof = FactorProof::BackupCode(b"backup-1".to_vec());
            log_in(&store, step.id, proof, &session_of(&a, token)).await
        }
    };
    assert!(login(b"first").await);
    assert!(!login(b"second").await, "the code is spent");
    assert_eq!(codes_left(&store, &a).await, 1);
    // Six renewals with the one code left, at once: one wins.
    let renewals = at_once(&store, 6, |store, i| {
        let change = FactorChange {
            account_id: a.id,
            challenge_id: None,
            proof: FactorProof::BackupCode(b"backup-2".to_vec()),
            new_backup_codes: Some(vec![vec![b'n', i]]),
            notices: vec![message(a.id, &format!("renewed-{i}"))],
            audit: audit("backup_codes_renewed"),
            at: T0,
        };
        async move { store.change_second_factor(&change).await.unwrap() }
    })
    .await;
    assert_eq!(wins(&renewals), 1);
    assert_eq!(codes_left(&store, &a).await, 1);
    // An unknown code spends nothing.
    let step = challenge(&a, FactorPurpose::Login, FactorMethod::Totp);
    store.insert_factor_challenge(&step, None).await.unwrap();
    let unknown = FactorProof::BackupCode(b"no-such-code".to_vec());
    assert!(!log_in(&store, step.id, unknown, &session_of(&a, b"unknown")).await);
    // Renewed codes replace the old ones.
    let renew = FactorChange {
        account_id: a.id,
        challenge_id: None,
        proof: FactorProof::TotpStep(200),
        new_backup_codes: Some(vec![
            b"new-1".to_vec(),
            b"new-2".to_vec(),
            b"new-3".to_vec(),
        ]),
        notices: vec![message(a.id, "codes-renewed")],
        audit: audit("backup_codes_renewed"),
        at: T0,
    };
    assert!(store.change_second_factor(&renew).await.unwrap());
    assert_eq!(codes_left(&store, &a).await, 3);
    assert!(
        !store.change_second_factor(&renew).await.unwrap(),
        "the app's code works once here too"
    );
    // Spent on its own (the factor's consent to a new phone): once.
    let consent = |proof: FactorProof| {
        let store = Arc::clone(&store);
        async move {
            store
                .spend_factor_proof(a.id, None, &proof, T0)
                .await
                .unwrap()
        }
    };
    assert!(consent(FactorProof::TotpStep(201)).await);
    assert!(!consent(FactorProof::TotpStep(201)).await);
    assert!(consent(FactorProof::BackupCode(b"new-1".to_vec())).await);
    assert!(!consent(FactorProof::BackupCode(b"new-1".to_vec())).await);
    assert_eq!(codes_left(&store, &a).await, 2);
}

async fn turning_the_factor_off_spends_the_sms_code_and_removes_everything(
    store: Arc<dyn Backend>,
) {
    let a = registered_account(&store, b"factor-off-1").await;
    let enrol = challenge(&a, FactorPurpose::Enrol, FactorMethod::Sms);
    store.insert_factor_challenge(&enrol, None).await.unwrap();
    let mut e = enrolment(&a, &enrol, &[b"b-1"]);
    e.factor.totp_last_step = None;
    assert!(store.enable_second_factor(&e).await.unwrap());
    let login = challenge(&a, FactorPurpose::Login, FactorMethod::Sms);
    store.insert_factor_challenge(&login, None).await.unwrap();
    let manage = challenge(&a, FactorPurpose::Manage, FactorMethod::Sms);
    store
        .insert_factor_challenge(&manage, Some(&message(a.id, "manage-code")))
        .await
        .unwrap();
    let off = |challenge_id| FactorChange {
        account_id: a.id,
        challenge_id,
        proof: FactorProof::SmsCode,
        new_backup_codes: None,
        notices: vec![message(a.id, &format!("factor-off:{challenge_id:?}"))],
        audit: audit("second_factor_disabled"),
        at: T0,
    };
    assert!(
        !store.change_second_factor(&off(None)).await.unwrap(),
        "an SMS code needs its step"
    );
    assert!(
        !store
            .change_second_factor(&off(Some(uuid::Uuid::new_v4())))
            .await
            .unwrap(),
        "another step"
    );
    assert!(
        store
            .change_second_factor(&off(Some(manage.id)))
            .await
            .unwrap()
    );
    assert_eq!(store.second_factor(a.id).await.unwrap(), None);
    assert_eq!(
        store.factor_challenge(login.id).await.unwrap(),
        None,
        "steps go too"
    );
    assert!(
        !store
            .change_second_factor(&off(Some(manage.id)))
            .await
            .unwrap(),
        "once"
    );
    let actions: Vec<_> = all_audit(&store)
        .await
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert_eq!(actions, ["second_factor_enabled", "second_factor_disabled"]);
    // On again later: the old backup code is no more.
    let enrol = challenge(&a, FactorPurpose::Enrol, FactorMethod::Totp);
    store.insert_factor_challenge(&enrol, None).await.unwrap();
    assert!(enable(&store, &a, &enrol, &[b"b-2"]).await);
    assert_eq!(codes_left(&store, &a).await, 1);
    let reuse = FactorChange {
        proof: FactorProof::BackupCode(b"b-1".to_vec()),
        ..off(None)
    };
    assert!(!store.change_second_factor(&reuse).await.unwrap());
}

async fn factor_attempts_and_resends_hold_under_concurrency(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"factor-attempts-1").await;
    let step = challenge(&a, FactorPurpose::Login, FactorMethod::Sms);
    store.insert_factor_challenge(&step, None).await.unwrap();
    let tries = at_once(&store, 50, |store, _| async move {
        store.take_factor_attempt(step.id, 3).await.unwrap()
    })
    .await;
    assert_eq!(taken(tries), [1, 2, 3]);
    let resends = at_once(&store, 5, |store, i| {
        let m = message(a.id, &format!("resend-{i}"));
        async move {
            store
                .replace_factor_code(
                    step.id,
                    T0,
                    &[b'c', i],
                    T0 + Duration::minutes(6),
                    T0 + Duration::minutes(1),
                    &m,
                )
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(wins(&resends), 1, "one resend wins");
    let c = store.factor_challenge(step.id).await.unwrap().unwrap();
    assert_eq!(
        (c.attempts, c.sent_at),
        (0, Some(T0 + Duration::minutes(1)))
    );
    assert_eq!(
        store
            .lease_outbox(T0 + Duration::minutes(1), T0 + Duration::minutes(2), 10)
            .await
            .unwrap()
            .len(),
        1,
        "one new SMS"
    );
}

async fn a_temporary_password_turns_the_factor_off(store: Arc<dyn Backend>) {
    let a = with_app(&store, b"factor-restore-1").await;
    let step = challenge(&a, FactorPurpose::Login, FactorMethod::Totp);
    store.insert_factor_challenge(&step, None).await.unwrap();
    let pw = temporary_password("$argon2id$temp");
    store
        .set_temporary_password(
            a.id,
            &pw,
            T0,
            &message(a.id, "restored"),
            &audit("restored"),
        )
        .await
        .unwrap();
    assert_eq!(store.second_factor(a.id).await.unwrap(), None);
    assert_eq!(store.factor_challenge(step.id).await.unwrap(), None);
}
