//! What the contract tests share: the prelude every aggregate's file
//! imports (`use crate::fixtures::*;`), a store opened and migrated, and
//! records built the way the product builds them.
// The prelude: what most aggregates' tests name, so each file starts with
// one glob import instead of a list that drifts.
pub use std::sync::Arc;

pub use time::macros::datetime;
pub use time::{Duration, OffsetDateTime};
pub use uslugi_app::ports::{
    AccountRecord, Assisted, AuditChain, AuditEntry, AuditFilter, AuditWrite, CheckRecord,
    Completion, Enrolment, LetterLimit, LetterOrder, LetterRecord, OperatorRecord,
    OperatorSessionRecord, OutboxRecord, RateDecision, RegistrationRecord, SessionRecord,
    StoreError, TemporaryPassword, UniqueField, VerifiedIdentity,
};
pub use uslugi_app::registries::Registry;
pub use uslugi_domain::{
    AccountId, AccountLevel, Channel, CheckStatus, ConfirmedVia, LetterStatus, LoginKind,
    OperatorId, OperatorRole, RegistrationId, VerificationStatus,
};
pub use uslugi_storage::testing::TestDatabase;
pub use uslugi_storage::{Backend, connect};

pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

pub async fn open(url: &str) -> Arc<dyn Backend> {
    let store = connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

pub fn registration(channel: Channel, contact_index: &[u8]) -> RegistrationRecord {
    RegistrationRecord {
        id: RegistrationId::random(),
        channel,
        lang: "ru".into(),
        surname: b"sealed-surname".to_vec(),
        given_name: b"sealed-given".to_vec(),
        contact: b"sealed-contact".to_vec(),
        contact_index: contact_index.to_vec(),
        existing_account: false,
        secret_hash: uuid::Uuid::new_v4().as_bytes().to_vec(),
        secret_expires_at: T0 + Duration::seconds(300),
        attempts: 0,
        sent_at: T0,
        sends: 1,
        confirmed_at: None,
        continuation: None,
        created_at: T0,
        expires_at: T0 + Duration::days(1),
    }
}

/// A continuation as the confirmation stores it, live for 30 minutes.
pub fn continuation(hash: &[u8]) -> uslugi_app::ports::ContinuationRecord {
    uslugi_app::ports::ContinuationRecord {
        hash: hash.to_vec(),
        expires_at: T0 + Duration::minutes(30),
    }
}

pub fn account_for(r: &RegistrationRecord) -> AccountRecord {
    let (phone, phone_index, email, email_index) = match r.channel {
        Channel::Sms => (
            Some(r.contact.clone()),
            Some(r.contact_index.clone()),
            None,
            None,
        ),
        Channel::Email => (
            None,
            None,
            Some(r.contact.clone()),
            Some(r.contact_index.clone()),
        ),
    };
    AccountRecord {
        id: AccountId::random(),
        level: AccountLevel::Simplified,
        surname: r.surname.clone(),
        given_name: r.given_name.clone(),
        phone,
        phone_index,
        email,
        email_index,
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
        created_at: T0,
    }
}

/// A registration whose contact was confirmed, its continuation `hash`
/// live for 30 minutes.
pub async fn confirmed_registration(
    store: &Arc<dyn Backend>,
    channel: Channel,
    contact_index: &[u8],
    hash: &[u8],
) -> RegistrationRecord {
    let r = registration(channel, contact_index);
    store
        .insert_registration(&r, &registration_message(&r))
        .await
        .unwrap();
    store
        .mark_registration_confirmed(r.id, T0, &continuation(hash))
        .await
        .unwrap();
    r
}

pub async fn registered_account(store: &Arc<dyn Backend>, index: &[u8]) -> AccountRecord {
    let r = registration(Channel::Sms, index);
    let m = registration_message(&r);
    store.insert_registration(&r, &m).await.unwrap();
    // Out of the way of the tests that count the outbox's messages.
    store.abandon_outbox_message(m.id).await.unwrap();
    store
        .mark_registration_confirmed(r.id, T0, &continuation(b"go"))
        .await
        .unwrap();
    let a = account_for(&r);
    store
        .complete_registration(r.id, b"go", T0, &a, &audit("registered"))
        .await
        .unwrap();
    a
}

pub fn check(account: AccountId, submission: uuid::Uuid, registry: Registry) -> CheckRecord {
    CheckRecord {
        id: uuid::Uuid::new_v4(),
        submission_id: submission,
        account_id: account,
        registry,
        status: CheckStatus::Pending,
        reason: None,
        request: b"sealed-request".to_vec(),
        gateway_request_id: None,
        attempts: 0,
        next_run_at: T0,
        deadline_at: T0 + Duration::days(5),
        leased_until: None,
        created_at: T0,
        finished_at: None,
        registration_address: None,
    }
}

pub fn both_checks(account: AccountId, submission: uuid::Uuid) -> Vec<CheckRecord> {
    vec![
        check(account, submission, Registry::Sfr),
        check(account, submission, Registry::Mvd),
    ]
}

pub fn message(account: AccountId, key: &str) -> OutboxRecord {
    OutboxRecord {
        id: uuid::Uuid::new_v4(),
        dedupe_key: key.into(),
        account_id: Some(account),
        channel: Channel::Sms,
        recipient: b"sealed-to".to_vec(),
        subject: b"sealed-subject".to_vec(),
        body: b"sealed-body".to_vec(),
        created_at: T0,
        next_attempt_at: T0,
        attempts: 0,
        leased_until: None,
        delivered_at: None,
    }
}

/// A message to a contact with no account yet (a registration's code).
pub fn contact_message(key: &str) -> OutboxRecord {
    OutboxRecord {
        account_id: None,
        ..message(AccountId::random(), key)
    }
}

/// The first message of registration `r`.
pub fn registration_message(r: &RegistrationRecord) -> OutboxRecord {
    contact_message(&format!("registration:{}:1", r.id))
}

/// A chain that is easy to recompute in a test: the previous hash, the
/// place and the action, concatenated.
pub struct TestChain;

impl AuditChain for TestChain {
    fn link(&self, prev: &[u8], seq: i64, e: &AuditEntry) -> Vec<u8> {
        let mut v = prev.iter().take(8).copied().collect::<Vec<u8>>();
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(e.action.as_bytes());
        v
    }
}

pub fn audit(action: &str) -> AuditWrite {
    audit_of(action, None, None, None)
}

pub fn audit_of(
    action: &str,
    center: Option<&str>,
    operator: Option<OperatorId>,
    account: Option<AccountId>,
) -> AuditWrite {
    AuditWrite {
        entry: AuditEntry {
            id: uuid::Uuid::new_v4(),
            at: T0,
            actor: "operator".into(),
            operator_id: operator,
            center_id: center.map(str::to_owned),
            account_id: account,
            action: action.into(),
            outcome: "ok".into(),
            details: "{}".into(),
        },
        chain: Arc::new(TestChain),
    }
}

pub async fn centers(store: &Arc<dyn Backend>) {
    let rec = |id: &str| uslugi_app::ports::CenterRecord {
        id: id.into(),
        region: "Калужская область".into(),
        json: "{}".into(),
    };
    store
        .upsert_centers(&[rec("center-a"), rec("center-b")], T0)
        .await
        .unwrap();
}

pub fn new_operator(center: &str, token: &[u8]) -> OperatorRecord {
    OperatorRecord {
        id: OperatorId::random(),
        center_id: center.into(),
        role: OperatorRole::Operator,
        name: None,
        login: None,
        password_hash: None,
        totp_secret: b"sealed-key".to_vec(),
        totp_last_step: None,
        enrol_token_hash: Some(token.to_vec()),
        enrol_expires_at: Some(T0 + Duration::hours(72)),
        enrolled_at: None,
        disabled_at: None,
        failed_logins: 0,
        throttled_until: None,
        created_at: T0,
    }
}

pub fn enrolment(login: &str, step: i64) -> Enrolment {
    Enrolment {
        name: b"sealed-name".to_vec(),
        login: login.into(),
        password_hash: "$argon2id$op".into(),
        totp_step: step,
        at: T0,
    }
}

/// The audit records a test wrote: all but the `registered` record each
/// account made by [`registered_account`] begins with.
pub async fn all_audit(store: &Arc<dyn Backend>) -> Vec<uslugi_app::ports::AuditRecord> {
    store
        .audit_chain(1, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.action != "registered")
        .collect()
}

pub fn assisted() -> Assisted {
    Assisted {
        operator_id: OperatorId::random(),
        center_id: "center-a".into(),
    }
}

pub fn in_person_account(phone_index: &[u8]) -> AccountRecord {
    let r = registration(Channel::Sms, phone_index);
    let mut a = account_for(&r);
    a.must_change_password = true;
    a
}

pub fn session_of(a: &AccountRecord, token: &[u8]) -> SessionRecord {
    SessionRecord {
        token_hash: token.to_vec(),
        account_id: a.id,
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0 + Duration::hours(12),
        idle_timeout: Duration::minutes(30),
        remember: false,
        must_change_password: false,
        device_hash: None,
        user_agent: None,
        network: None,
    }
}

/// A submission of `data` whose two checks closed with `status` (for
/// `reason`) at `at`: ready to complete. Submitted at `at` as well.
pub async fn closed_submission(
    store: &Arc<dyn Backend>,
    account: AccountId,
    data: &[u8],
    (status, reason): (CheckStatus, Option<&str>),
    at: OffsetDateTime,
) -> uuid::Uuid {
    let s = uuid::Uuid::new_v4();
    store
        .submit_personal_data(account, s, data, &both_checks(account, s), None, at)
        .await
        .unwrap();
    close_checks(store, s, (status, reason), at).await;
    s
}

/// A submission of `data` at `T0`, its two checks pending: the submission
/// and the checks.
pub async fn open_submission(
    store: &Arc<dyn Backend>,
    account: AccountId,
    data: &[u8],
) -> (uuid::Uuid, Vec<CheckRecord>) {
    let s = uuid::Uuid::new_v4();
    let checks = both_checks(account, s);
    store
        .submit_personal_data(account, s, data, &checks, None, T0)
        .await
        .unwrap();
    (s, checks)
}

/// Closes every check of `submission` with `status` (for `reason`) at `at`.
pub async fn close_checks(
    store: &Arc<dyn Backend>,
    submission: uuid::Uuid,
    (status, reason): (CheckStatus, Option<&str>),
    at: OffsetDateTime,
) {
    for c in store.checks_of_submission(submission).await.unwrap() {
        store
            .finish_check(c.id, status, reason, None, at)
            .await
            .unwrap();
    }
}

/// Both checks passed.
pub const PASSED: (CheckStatus, Option<&str>) = (CheckStatus::Passed, None);

/// A standard account (checks passed) for the confirmation tests.
pub async fn standard_account(store: &Arc<dyn Backend>, index: &[u8]) -> AccountRecord {
    let a = registered_account(store, index).await;
    let s = closed_submission(store, a.id, b"d", PASSED, T0).await;
    let mut snils = b"snils-".to_vec();
    snils.extend_from_slice(index);
    store
        .complete_submission(&completion(a.id, s, Some(identity(&snils, b"p"))))
        .await
        .unwrap();
    a
}

pub fn recovery(account: Option<AccountId>, secret: &[u8]) -> uslugi_app::ports::RecoveryRecord {
    uslugi_app::ports::RecoveryRecord {
        id: uuid::Uuid::new_v4(),
        account_id: account,
        login_kind: LoginKind::Phone,
        channel: Channel::Sms,
        lang: "ru".into(),
        secret_hash: secret.to_vec(),
        secret_expires_at: T0 + Duration::seconds(300),
        attempts: 0,
        confirmed_at: None,
        completed_at: None,
        continuation: None,
        created_at: T0,
        expires_at: T0 + Duration::minutes(35),
        sent_at: T0,
        sends: 1,
        quota_key: Some(b"destination".to_vec()),
    }
}

pub fn restriction(
    until: Option<OffsetDateTime>,
    locked: bool,
) -> uslugi_app::ports::LoginRestriction {
    uslugi_app::ports::LoginRestriction {
        throttled_until: until,
        locked,
    }
}

/// The completion of a submission: verified when the registries confirmed
/// an identity, failed otherwise; no message, no audit record.
pub fn completion(
    account: AccountId,
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

/// `c` with the citizen's message about it, keyed as the product keys it.
pub fn with_message(c: Completion) -> Completion {
    Completion {
        message: Some(message(
            c.account_id,
            &format!("verification:{}", c.submission_id),
        )),
        ..c
    }
}

/// A temporary password as the desk issues it, live for a day.
pub fn temporary_password(hash: &str) -> TemporaryPassword {
    TemporaryPassword {
        hash: hash.into(),
        expires_at: T0 + Duration::hours(24),
    }
}

/// An identity as the registries confirm it, with its blind indexes.
pub fn identity(snils_index: &[u8], passport_index: &[u8]) -> VerifiedIdentity {
    VerifiedIdentity {
        surname: b"s".to_vec(),
        given_name: b"g".to_vec(),
        snils_index: snils_index.to_vec(),
        passport_index: passport_index.to_vec(),
        registration_address: None,
    }
}

/// Runs `n` copies of `task` at once, each with its own handle to the store
/// and its index, as `n` nodes would; their results in index order.
pub async fn at_once<T, F, Fut>(store: &Arc<dyn Backend>, n: u8, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Backend>, u8) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(task(Arc::clone(store), i)))
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

/// How many of the calls `at_once` ran succeeded.
pub fn wins(results: &[bool]) -> usize {
    results.iter().filter(|&&won| won).count()
}

/// The attempts the calls `at_once` ran took, in order: `[1, 2, 3]` when
/// exactly three of at most three were taken, whatever the race.
pub fn taken<T: Into<Option<u32>>>(results: Vec<T>) -> Vec<u32> {
    let mut taken: Vec<u32> = results.into_iter().filter_map(Into::into).collect();
    taken.sort_unstable();
    taken
}

/// The actions of the audit records that name `account`, newest first.
pub async fn audit_actions_of(store: &Arc<dyn Backend>, account: AccountId) -> Vec<String> {
    let about = AuditFilter {
        account_id: Some(account),
        ..AuditFilter::default()
    };
    store
        .audit_records(&about, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect()
}

/// The keys of every message in the outbox, sorted (leases them all).
pub async fn outbox_keys(store: &Arc<dyn Backend>) -> Vec<String> {
    let mut keys: Vec<String> = store
        .lease_outbox(T0 + Duration::DAY, T0 + Duration::DAY, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.dedupe_key)
        .collect();
    keys.sort();
    keys
}
