//! `uslugi admin rotate-keys`: every sealed value moves to the new key, and
//! a node that holds only the new key reads everything.
use std::sync::Arc;

use serde_json::{Value, json};
use uslugi_app::crypto::{Crypto, SealedField};
use uslugi_storage::SEALED_COLUMNS;

use crate::helpers::*;

#[tokio::test]
async fn rotating_keys_reseals_every_value_and_a_node_with_only_the_new_key_reads_them() {
    let app = spawn_app().await;
    let (token, app_key) = something_in_every_table(&app).await;

    let path = app.data_dir.join("secrets.toml");
    assert_eq!(uslugi::secrets::add_key(&path).unwrap(), 2);
    let crypto = Crypto::new(uslugi::secrets::load(&path, false).unwrap());
    let (resealed, failed) = uslugi::server::reseal_all(app.store.as_ref(), &crypto)
        .await
        .unwrap();
    assert_eq!(failed, 0);
    let mut columns_with_values = 0;
    let mut values = 0;
    for column in SEALED_COLUMNS {
        let page = app.store.sealed_values(column, "", 1000).await.unwrap();
        columns_with_values += usize::from(!page.is_empty());
        for (_, sealed) in page {
            values += 1;
            assert_eq!(
                sealed[1], 2,
                "{}.{} under the new key",
                column.table, column.column
            );
        }
    }
    assert_eq!(resealed, values, "every value was re-sealed once");
    assert_eq!(
        columns_with_values,
        SEALED_COLUMNS.len(),
        "the test covers every sealed column"
    );
    let (again, _) = uslugi::server::reseal_all(app.store.as_ref(), &crypto)
        .await
        .unwrap();
    assert_eq!(again, 0, "a second run has nothing to do");

    assert_eq!(uslugi::secrets::retire_old_keys(&path).unwrap(), vec![1]);
    // A second node on the same data, with only the new key.
    let base = second_node(&app).await;
    let get = |path: &'static str| {
        let client = app.client.clone();
        let url = format!("{base}{path}");
        let token = token.clone();
        async move {
            let r = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };
    let me = get("/api/v1/me").await;
    assert_eq!(
        (me["level"].as_str(), me["phone"].as_str()),
        (Some("standard"), Some("+79261005001"))
    );
    let pd = get("/api/v1/me/personal-data").await;
    assert_eq!(pd["verified"]["snils"], "112-233-445 95");
    assert_eq!(pd["form"]["surname"], "Черновик");
    assert_eq!(
        get("/api/v1/me/addresses").await["actual"]["street"],
        "ул. Ленина"
    );
    // The app's key, re-sealed, still checks the app's codes.
    let r = app
        .client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"login": "+79261005001", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let step: Value = r.json().await.unwrap();
    let r = app
        .client
        .post(format!("{base}/api/v1/sessions/second-factor"))
        .json(&json!({"challenge_id": step["challenge_id"], "code": totp_now(&app, &app_key)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// Issue 13, finding 16: a sealed value was bound to its column only, so
/// whoever could write to the database moved one person's sealed phone into
/// another's row and the product read it as theirs (codes and notices went
/// to that phone). Values are now bound to their row; the values an older
/// version wrote are sealed again, bound, at the first start.
#[tokio::test]
async fn values_of_an_older_version_are_bound_to_their_rows_at_start_and_a_moved_value_does_not_open()
 {
    use uslugi_app::crypto::SEAL_FORMAT;
    use uslugi_app::ports::AccountRecord;
    use uslugi_domain::{AccountId, AccountLevel};

    let (a, b) = (AccountId::random(), AccountId::random());
    let app = spawn_seeded(
        |_| {},
        async |settings| {
            // What the previous version left: values bound to their field
            // only, and the database at format 1.
            let store = uslugi::server::open_store(settings).await.unwrap();
            assert_eq!(store.sealing_format().await.unwrap(), 1);
            let (path, default_location) = settings.secrets_path();
            let crypto = Crypto::new(uslugi::secrets::load(&path, default_location).unwrap());
            let now = time::OffsetDateTime::now_utc();
            let account = |id, surname: &str, phone: &str| AccountRecord {
                id,
                level: AccountLevel::Simplified,
                surname: crypto.seal_legacy(SealedField::Surname, surname),
                given_name: crypto.seal_legacy(SealedField::GivenName, "Иван"),
                phone: Some(crypto.seal_legacy(SealedField::Phone, phone)),
                phone_index: Some(crypto.keyed_hash(
                    uslugi_app::crypto::HashPurpose::PhoneIndex,
                    phone.as_bytes(),
                )),
                email: None,
                email_index: None,
                snils_index: None,
                passport_index: None,
                password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
                    .into(),
                must_change_password: false,
                password_expires_at: None,
                failed_logins: 0,
                throttled_until: None,
                locked: false,
                confirmed_at: None,
                confirmed_via: None,
                created_at: now,
            };
            store
                .import_accounts(&[
                    account(a, "Иванов", "+79261005101"),
                    account(b, "Петров", "+79261005102"),
                ])
                .await
                .unwrap();
        },
    )
    .await;

    assert_eq!(app.store.sealing_format().await.unwrap(), SEAL_FORMAT);
    let phone = SEALED_COLUMNS
        .iter()
        .find(|c| c.table == "accounts" && c.column == "phone")
        .unwrap();
    let phones = app.store.sealed_values(phone, "", 10).await.unwrap();
    assert_eq!(phones.len(), 2);
    assert!(
        phones.iter().all(|(_, v)| i64::from(v[0]) == SEAL_FORMAT),
        "every value was sealed again in the current format"
    );
    let profile = app.accounts.profile(a).await.unwrap().unwrap();
    assert_eq!(profile.surname, "Иванов");
    assert_eq!(profile.phone.unwrap().e164(), "+79261005101");

    // Someone with write access to the database moves B's phone into A's row.
    let value = |id: AccountId| {
        phones
            .iter()
            .find(|(k, _)| *k == id.to_string())
            .unwrap()
            .1
            .clone()
    };
    assert!(
        app.store
            .replace_sealed(phone, &a.to_string(), &value(a), &value(b))
            .await
            .unwrap()
    );
    assert!(
        app.accounts.profile(a).await.is_err(),
        "a value moved to another row does not open"
    );
    // A value of the older format put back later is refused as well.
    let (path, _) = app.settings.secrets_path();
    let crypto = Crypto::new(uslugi::secrets::load(&path, false).unwrap());
    assert!(
        app.store
            .replace_sealed(
                phone,
                &a.to_string(),
                &value(b),
                &crypto.seal_legacy(SealedField::Phone, "+79261005102"),
            )
            .await
            .unwrap()
    );
    assert!(app.accounts.profile(a).await.is_err());
    assert_eq!(
        app.accounts
            .profile(b)
            .await
            .unwrap()
            .unwrap()
            .phone
            .unwrap()
            .e164(),
        "+79261005102"
    );
}

/// Something in every sealed table and every blind index: an account with
/// verified personal data, addresses and a notification, a registration in
/// progress and a change of phone waiting for its code, a letter, an
/// operator, an authenticator app on and another waiting, a phone at a desk,
/// an account by e-mail. Returns the first citizen's token and app key.
async fn something_in_every_table(app: &TestApp) -> (String, uslugi_app::totp::TotpSecret) {
    let token = app.citizen("+79261005001").await;
    let r = app
        .put_bearer("/api/v1/me/personal-data", &token, &ivanov())
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.post_bearer("/api/v1/me/personal-data/submit", &token)
            .await
            .status(),
        202
    );
    app.settle(5).await;
    let address = json!({"postal_code": "248000", "region": "Калужская обл.", "locality": "г. Калуга",
        "street": "ул. Ленина", "house": "5", "building": "", "flat": ""});
    app.put_bearer(
        "/api/v1/me/addresses",
        &token,
        &json!({"registration": address, "actual": address}),
    )
    .await;
    // A letter with its code kept for printing, and an enrolled operator.
    let r = app
        .client
        .post(app.url("/api/v1/me/identity/letter"))
        .bearer_auth(&token)
        .json(&json!({"address": address}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    app.settle(1).await;
    app.operator(
        "kaluga-mfc-kaluga-ul-khrustalnaya-34a",
        uslugi_domain::OperatorRole::Operator,
        "keys.test",
    )
    .await;
    // An authenticator app turned on, and another waiting for its first code.
    let enrol = |token: String| {
        let client = app.client.clone();
        let url = app.url("/api/v1/me/second-factor");
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"method": "totp", "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            r.json::<Value>().await.unwrap()
        }
    };
    let started = enrol(token.clone()).await;
    let app_key =
        uslugi_app::totp::TotpSecret::from_base32(started["secret"].as_str().unwrap()).unwrap();
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/me/second-factor/{}/confirm",
            started["enrolment_id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .json(&json!({"code": totp_now(app, &app_key)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    enrol(app.citizen("+79261005004").await).await;
    app.put_bearer(
        "/api/v1/me/personal-data",
        &token,
        &json!({"surname": "Черновик"}),
    )
    .await;
    app.start_phone("+79261005002").await;
    // A phone typed at a center's desk, waiting for its code.
    let mut desk = app
        .operator(
            "kaluga-mfc-obninsk-prosmarksa-d-130",
            uslugi_domain::OperatorRole::Operator,
            "klyuchova",
        )
        .await;
    let (s, _, _) = desk
        .post("/operator/register", &[("phone", "+79261005005")])
        .await;
    assert_eq!(s, 303);
    // A new phone waiting for its code.
    let r = app
        .client
        .post(app.url("/api/v1/me/contacts"))
        .bearer_auth(&token)
        .json(&json!({"phone": "+79261005003", "password": PASSWORD, "code": totp_now(app, &app_key)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = app
        .post(
            "/api/v1/registrations",
            &json!({"surname": "Волков", "given_name": "Иван", "email": "volkov@example.org", "accept_terms": true}),
        )
        .await;
    let id = r.json::<Value>().await.unwrap()["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.last_link("volkov@example.org").await;
    let secret = link.split("token=").nth(1).unwrap().to_owned();
    let r = app
        .confirm_registration(&id, &json!({"token": secret}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.set_password(&id, PASSWORD).await.status(), 201);
    (token, app_key)
}

/// Issue 13, finding 17: the keyed-hash key could not be replaced, so a
/// leaked key let anyone test phones, e-mails and SNILS against the blind
/// indexes of a copy of the database for good. `rotate-keys --keyed-hash`
/// computes every blind index again under a new key; a node with the new
/// file finds everyone; sessions, codes and the audit chain keep theirs.
#[tokio::test]
async fn rotating_the_keyed_hash_key_moves_every_blind_index_and_a_node_with_the_new_file_finds_everyone()
 {
    use uslugi_app::crypto::HashPurpose;
    use uslugi_domain::LoginKind;
    use uslugi_storage::BLIND_INDEXES;

    let app = spawn_app().await;
    let (token, _) = something_in_every_table(&app).await;
    let path = app.data_dir.join("secrets.toml");
    let before = uslugi::secrets::load(&path, false).unwrap();
    let mut rows = 0;
    for column in BLIND_INDEXES {
        let page = app.store.blind_index_rows(column, "", 1000).await.unwrap();
        assert!(
            !page.is_empty(),
            "the test covers {}.{}",
            column.table,
            column.column
        );
        rows += page.len() as u64;
    }

    let (old, new) = uslugi::secrets::begin_index_rotation(&path).unwrap();
    let unfinished = uslugi::secrets::load(&path, false).unwrap_err().to_string();
    assert!(
        unfinished.contains("rotate-keys --keyed-hash"),
        "no node starts with the indexes half moved: {unfinished}"
    );
    let (old, new) = (Crypto::new(old), Crypto::new(new));
    let (moved, failed) = uslugi::server::reindex_all(app.store.as_ref(), &old, &new)
        .await
        .unwrap();
    assert_eq!((moved, failed), (rows, 0), "every index moved once");
    let again = uslugi::server::reindex_all(app.store.as_ref(), &old, &new)
        .await
        .unwrap();
    assert_eq!(again, (0, 0), "a second run has nothing to do");
    uslugi::secrets::finish_index_rotation(&path).unwrap();
    let after = uslugi::secrets::load(&path, false).unwrap();
    assert_eq!(
        after.hmac_key.0, before.hmac_key.0,
        "codes, sessions and the audit chain keep their key"
    );

    let phone = |c: &Crypto| c.keyed_hash(HashPurpose::PhoneIndex, b"+79261005001");
    assert!(
        app.store
            .account_by_login(LoginKind::Phone, &phone(&old))
            .await
            .unwrap()
            .is_none(),
        "the old key finds nobody"
    );
    assert!(
        app.store
            .account_by_login(LoginKind::Phone, &phone(&new))
            .await
            .unwrap()
            .is_some()
    );

    // A second node on the same data, with the new file.
    let base = second_node(&app).await;
    let log_in = |login: &'static str| {
        let client = app.client.clone();
        let url = format!("{base}/api/v1/sessions");
        async move {
            client
                .post(url)
                .json(&json!({"login": login, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(log_in("volkov@example.org").await, 201, "by e-mail");
    // The first citizen has an authenticator app: the password step is
    // passed when the account was found by its phone or its SNILS.
    assert_eq!(log_in("+79261005001").await, 202, "by phone");
    assert_eq!(log_in("112-233-445 95").await, 202, "by SNILS");
    let r = app
        .client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a session from before goes on");
}

/// Another node on the same data and settings (the secrets file as it is
/// now), without workers; returns its base URL.
async fn second_node(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut node = uslugi::server::build(&app.settings, Arc::new(app.clock.clone()), false)
        .await
        .unwrap();
    node.run_workers = false;
    tokio::spawn(uslugi::server::serve(
        node,
        listener,
        std::future::pending(),
    ));
    base
}
