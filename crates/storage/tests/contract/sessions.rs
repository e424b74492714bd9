//! Sessions: they live, expire when idle or old, and are listed and ended
//! per device.
use crate::fixtures::*;

contract!(
    sessions_live_and_expire,
    devices_are_noted_and_sessions_listed_and_ended,
    a_disabled_account_opens_no_session_until_enabled,
);

/// Disabling ends the sessions and appends its record at once; while the
/// account is disabled no session is written, whoever asks (a login that
/// began before); enabling lifts it, once.
async fn a_disabled_account_opens_no_session_until_enabled(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"blocked-1").await;
    let other = registered_account(&store, b"blocked-2").await;
    store.insert_session(&session_of(&a, b"t-1")).await.unwrap();
    store.insert_session(&session_of(&a, b"t-2")).await.unwrap();
    store
        .insert_session(&session_of(&other, b"t-3"))
        .await
        .unwrap();
    assert_eq!(store.account_disabled_at(a.id).await.unwrap(), None);
    let before = store.audit_chain(0, 1000).await.unwrap().len();
    assert_eq!(
        store
            .disable_account(a.id, T0, &audit("account_disabled"))
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(store.account_disabled_at(a.id).await.unwrap(), Some(T0));
    assert!(store.session(b"t-1").await.unwrap().is_none());
    assert!(
        store.session(b"t-3").await.unwrap().is_some(),
        "others keep theirs"
    );
    assert_eq!(store.audit_chain(0, 1000).await.unwrap().len(), before + 1);
    assert_eq!(
        store
            .disable_account(a.id, T0, &audit("account_disabled"))
            .await
            .unwrap(),
        None,
        "once"
    );
    assert!(matches!(
        store.insert_session(&session_of(&a, b"t-4")).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.session(b"t-4").await.unwrap().is_none());
    assert!(
        store
            .enable_account(a.id, &audit("account_enabled"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .enable_account(a.id, &audit("account_enabled"))
            .await
            .unwrap()
    );
    store.insert_session(&session_of(&a, b"t-4")).await.unwrap();
    assert_eq!(store.audit_chain(0, 1000).await.unwrap().len(), before + 2);
}

async fn sessions_live_and_expire(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"idx-8").await;
    let short = session_of(&a, b"token-1");
    let long = SessionRecord {
        expires_at: T0 + Duration::days(30),
        idle_timeout: Duration::days(30),
        remember: true,
        ..session_of(&a, b"token-2")
    };
    store.insert_session(&short).await.unwrap();
    store.insert_session(&long).await.unwrap();
    assert_eq!(
        store.session(b"token-1").await.unwrap(),
        Some(short.clone())
    );
    store
        .touch_session(b"token-1", T0 + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(
        store
            .session(b"token-1")
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        T0 + Duration::minutes(10)
    );
    // Idle for 30 minutes since the last touch: gone; the remembered one stays.
    assert_eq!(
        store
            .delete_expired_sessions(T0 + Duration::minutes(40))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.session(b"token-1").await.unwrap(), None);
    assert!(store.session(b"token-2").await.unwrap().is_some());
    assert_eq!(store.delete_account_sessions(a.id).await.unwrap(), 1);
    assert_eq!(store.session(b"token-2").await.unwrap(), None);
    store.insert_session(&short).await.unwrap();
    store.delete_session(b"token-1").await.unwrap();
    assert_eq!(store.session(b"token-1").await.unwrap(), None);
}

async fn devices_are_noted_and_sessions_listed_and_ended(store: Arc<dyn Backend>) {
    let a = registered_account(&store, b"devices-1").await;
    let m = |k: &str| message(a.id, k);
    use uslugi_app::ports::DeviceSeen;
    assert_eq!(
        store.device_seen(a.id, b"first").await.unwrap(),
        DeviceSeen {
            this: false,
            any: false
        },
        "the first login"
    );
    let mut login = session_of(&a, b"login-1");
    login.device_hash = Some(b"first".to_vec());
    store.open_session(&login, &logged_in(None)).await.unwrap();
    assert_eq!(
        store.device_seen(a.id, b"first").await.unwrap(),
        DeviceSeen {
            this: true,
            any: true
        }
    );
    let seen = store.device_seen(a.id, b"second").await.unwrap();
    assert!(seen.is_news());
    let mut login = session_of(&a, b"login-2");
    login.device_hash = Some(b"second".to_vec());
    store
        .open_session(&login, &logged_in(Some(m("new-device:2"))))
        .await
        .unwrap();
    assert!(store.session(b"login-2").await.unwrap().is_some());
    assert_eq!(
        all_audit(&store).await.len(),
        2,
        "each login audited with it"
    );
    let leased = store
        .lease_outbox(T0, T0 + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        leased
            .iter()
            .map(|l| l.dedupe_key.as_str())
            .collect::<Vec<_>>(),
        ["new-device:2"]
    );
    store.delete_account_sessions(a.id).await.unwrap();
    store.mark_outbox_delivered(leased[0].id, T0).await.unwrap();
    let mut s1 = session_of(&a, b"s1");
    s1.user_agent = Some("Chrome".into());
    s1.network = Some("10.0.0.0/24".into());
    s1.device_hash = Some(b"first".to_vec());
    store.insert_session(&s1).await.unwrap();
    let mut s2 = session_of(&a, b"s2");
    s2.last_seen_at = T0 + Duration::minutes(1);
    store.insert_session(&s2).await.unwrap();
    store.insert_session(&session_of(&a, b"s3")).await.unwrap();
    let list = store.account_sessions(a.id).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list[0].token_hash,
        b"s2".to_vec(),
        "most recently active first"
    );
    assert_eq!(store.session(b"s1").await.unwrap(), Some(s1));
    assert!(store.delete_account_session(a.id, b"s2").await.unwrap());
    assert!(
        !store
            .delete_account_session(AccountId::random(), b"s3")
            .await
            .unwrap(),
        "only the account's own"
    );
    assert_eq!(store.delete_other_sessions(a.id, b"s1").await.unwrap(), 1);
    assert_eq!(store.account_sessions(a.id).await.unwrap().len(), 1);
}

/// What a plain login writes beside its session: the notice, if any, and
/// its audit record.
pub(crate) fn logged_in(
    notice: Option<uslugi_app::ports::OutboxRecord>,
) -> uslugi_app::ports::LoginWrites {
    uslugi_app::ports::LoginWrites {
        notices: notice.into_iter().collect(),
        audit: audit("login"),
        if_deletion_cancelled: None,
    }
}
