//! The data subject's right of access: «Скачать мои данные» and
//! `GET /api/v1/me/data` give everything held about the person who asks,
//! and nothing that would open the account to whoever holds the file.
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_citizen_downloads_everything_held_about_them_and_only_that() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261500001", &ivanov()).await;
    let other = app.citizen("+79261500002").await;
    let unauthenticated = app
        .client
        .get(app.url("/api/v1/me/data"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);

    let r = app.get_bearer("/api/v1/me/data", &token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"uslugi-my-data.json\""
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let text = r.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], 1);
    assert_eq!(doc["account"]["phone"], "+79261500001");
    assert_eq!(doc["account"]["level"], "standard");
    assert_eq!(doc["account"]["surname"], "Иванов");
    let pd = &doc["personal_data"];
    assert_eq!(pd["status"], "verified");
    assert_eq!(pd["verified"]["snils"], "112-233-445 95");
    assert_eq!(pd["checks"].as_array().unwrap().len(), 2);
    assert_eq!(pd["checks"][0]["registry"], "sfr");
    assert_eq!(doc["sessions"].as_array().unwrap().len(), 1);
    let actions: Vec<&str> = doc["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"login"), "{actions:?}");
    assert_eq!(actions[0], "registered", "the first record: {actions:?}");
    let consents: Vec<&str> = doc["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    assert_eq!(consents, ["terms_of_use", "personal_data_processing"]);
    assert!(!text.contains("+79261500002"), "nobody else's data");
    for secret in [
        "password_hash",
        "code_hash",
        "token_hash",
        "totp_secret",
        &token,
    ] {
        assert!(!text.contains(secret), "{secret} in the file");
    }

    // The download itself is in the history the next one shows.
    let again: Value = app
        .get_bearer("/api/v1/me/data", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        again["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "data_exported" && h["by"] == "citizen")
    );
    let theirs: Value = app
        .get_bearer("/api/v1/me/data", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["account"]["phone"], "+79261500002");
    assert_eq!(theirs["personal_data"]["verified"], Value::Null);

    // The page's link: the same file, by the session cookie.
    let mut b = Browser::new(&app);
    let (status, _, location) = b.get("/me/data.json").await;
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/login"));
    let (_, page, _) = {
        let r = app
            .client
            .get(app.url("/me"))
            .header("cookie", format!("__Host-uslugi-session={token}"))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap(), ())
    };
    assert!(
        page.contains("href=\"/me/data.pdf\" download>Скачать мои данные (PDF)")
            && page.contains("href=\"/me/data.json\" download>JSON"),
        "{page}"
    );
    let file = app
        .client
        .get(app.url("/me/data.json"))
        .header("cookie", format!("__Host-uslugi-session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let doc: Value = file.json().await.unwrap();
    assert_eq!(doc["account"]["phone"], "+79261500001");
}

/// The PDF of «Скачать мои данные» behind the cookie session, read back as
/// a viewer reads it.
async fn my_data_pdf(
    app: &TestApp,
    token: &str,
    lang: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<String>) {
    let r = app
        .client
        .get(app.url("/me/data.pdf"))
        .header(
            "cookie",
            format!("__Host-uslugi-session={token}; __Host-uslugi-lang={lang}"),
        )
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let bytes = r.bytes().await.unwrap().to_vec();
    let texts = if status == 200 {
        uslugi_print::readback::Pdf::parse(bytes)
            .texts()
            .iter()
            .map(|t| uslugi_print::readback::flat(t))
            .collect()
    } else {
        Vec::new()
    };
    (status, headers, texts)
}

#[tokio::test]
async fn the_readable_copy_is_a_pdf_of_the_same_document_in_the_person_s_language() {
    let app = spawn_app().await;
    let token = app.standard_citizen("+79261500003", &ivanov()).await;
    let mut b = Browser::new(&app);
    let (status, _, location) = b.get("/me/data.pdf").await;
    assert_eq!(status, 303, "a session first");
    assert!(location.unwrap().starts_with("/login"));

    let (status, headers, pages) = my_data_pdf(&app, &token, "ru").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"uslugi-my-data.pdf\""
    );
    assert_eq!(headers["cache-control"], "no-store");
    let all = pages.join(" ");
    for expected in [
        "Мои данные на портале",
        "Уровень учётной записи стандартная",
        "Мобильный телефон +79261500003",
        "Иванов Иван Иванович",
        "112-233-445 95",
        "4510 123456",
        "Проверка СНИЛС и персональных данных в Социальном фонде России",
        "На обработку персональных данных",
        "История действий",
        "Сеансы",
    ] {
        assert!(all.contains(expected), "«{expected}» in {all}");
    }
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("стр. {} из {}", i + 1, pages.len())),
            "{page}"
        );
    }
    // Nothing that opens the account: no hashes, no codes.
    assert!(!all.contains("argon2"));

    let (_, _, pages) = my_data_pdf(&app, &token, "en").await;
    let all = pages.join(" ");
    assert!(
        all.contains("My data on the portal") && all.contains("Account level standard"),
        "{all}"
    );
    // Each download is in the history, as the JSON file's is.
    let audit = app.store.audit_chain(1, 1000).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.entry.action == "data_exported")
            .count(),
        2
    );
}
