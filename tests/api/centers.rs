//! «Центры обслуживания»: the shipped list, search, «открыто сейчас» in the
//! center's own time zone, the page and the API, import and export.
use serde_json::Value;
use time::Duration;

use crate::helpers::*;

async fn search(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/service-centers{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{query}");
    let body: Value = r.json().await.unwrap();
    body["centers"].as_array().unwrap().clone()
}

fn ids(centers: &[Value]) -> Vec<&str> {
    centers.iter().map(|c| c["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_shipped_centers_are_searched_by_region_text_and_service() {
    let app = spawn_app().await;
    let all = search(&app, "").await;
    assert!(
        all.len() >= 38,
        "the seeds' centers are loaded: {}",
        all.len()
    );

    let kogalym = search(
        &app,
        "?region=Ханты-Мансийский%20автономный%20округ%20—%20Югра",
    )
    .await;
    assert_eq!(kogalym.len(), 3);
    let text = search(&app, "?q=КОГАЛЫМ%20дружбы").await;
    assert_eq!(
        ids(&text),
        vec![
            "kogalym-administration",
            "kogalym-rostelecom-druzhby-narodov"
        ]
    );
    let registration = search(&app, "?q=Когалым&service=registration").await;
    assert_eq!(ids(&registration), vec!["kogalym-mfc-mira"]);
    let c = &registration[0];
    assert_eq!(c["postal_code"], "628485");
    assert_eq!(c["utc_offset"], "+05:00");
    assert_eq!(c["hours"]["sat"], "08:00-18:00");
    assert_eq!(c["hours"]["sun"], "");

    let r = app
        .client
        .get(app.url("/api/v1/service-centers?service=teleport"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["service"].is_string());

    // The API reads open_now strictly, and a malformed query string is
    // answered with the JSON error, not axum's plain text.
    let get = |query: &'static str| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/service-centers{query}"));
        async move { client.get(url).send().await.unwrap() }
    };
    let r = get("?open_now=AAA").await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["open_now"].is_string(), "{body}");
    assert_eq!(
        search(&app, "?open_now=false").await.len(),
        all_count(&app).await
    );
    // Only the forms the document lists: not an empty value, nor one
    // with spaces or in capitals (the page's form is kinder).
    for query in [
        "?open_now=",
        "?open_now=on",
        "?service=",
        "?service=%20registration",
        "?service=Registration",
    ] {
        let r = get(query).await;
        assert_eq!(r.status(), 422, "{query}");
    }
    let r = get("?q=a&q=b").await;
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed");
}

async fn all_count(app: &TestApp) -> usize {
    search(app, "").await.len()
}

#[tokio::test]
async fn open_now_is_judged_in_each_centers_time_zone() {
    let app = spawn_app().await;
    // The fake clock starts on Monday 2026-03-02 at 09:00 UTC: 12:00 in
    // Kaluga (+03:00), 14:00 in Kogalym (+05:00).
    let open = search(&app, "?q=Когалым&open_now=1").await;
    assert_eq!(
        ids(&open),
        vec![
            "kogalym-administration",
            "kogalym-mfc-mira",
            "kogalym-rostelecom-druzhby-narodov"
        ]
    );
    // 07:45 UTC: 12:45 in Kogalym, the administration's lunch break.
    app.advance(Duration::minutes(22 * 60 + 45));
    let open = search(&app, "?q=Когалым&open_now=1").await;
    assert_eq!(
        ids(&open),
        vec!["kogalym-mfc-mira", "kogalym-rostelecom-druzhby-narodov"]
    );
    // 16:30 UTC: 21:30 in Kogalym (everything closed), 19:30 in Kaluga.
    app.advance(Duration::minutes(8 * 60 + 45));
    assert!(search(&app, "?q=Когалым&open_now=1").await.is_empty());
    let kaluga = search(&app, "?q=Калуга&open_now=true").await;
    assert!(
        kaluga.iter().all(|c| c["kind"] == "mfc"),
        "the МФЦ work until 20:00, Rostelecom until 19:00"
    );
    assert!(!kaluga.is_empty());
    assert!(kaluga.iter().all(|c| c["open_now"] == true));
}

#[tokio::test]
async fn the_page_lists_the_centers_with_their_week() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/service-centers?q=Когалым&service=identity_confirmation"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Центры обслуживания"));
    assert!(html.contains("Найдено центров: 3"), "{html}");
    assert!(html.contains("628481, г. Когалым, ул. Дружбы народов, д. 7, каб. 205"));
    assert!(html.contains("08:30–18:00, перерыв 12:30–14:00"));
    assert!(html.contains("Время местное (UTC+05:00)"));
    assert!(html.contains("выходной"));
    assert!(html.contains("Открыто сейчас"));
    let r = app
        .client
        .get(app.url("/service-centers?q=Атлантида"))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Ничего не найдено"));
    let register = app
        .client
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(register.contains(
        "href=\"/service-centers?service=registration\">Зарегистрироваться в центре обслуживания"
    ));
}

#[tokio::test]
async fn centers_import_all_or_nothing_and_export_again() {
    let app = spawn_app().await;
    let exported = app.store.all_centers().await.unwrap().len();
    let mut centers: Vec<uslugi_domain::ServiceCenter> = app
        .store
        .all_centers()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.json).unwrap())
        .collect();
    let csv = uslugi::centers_file::to_csv(&centers).unwrap();
    assert_eq!(uslugi::centers_file::parse_csv(&csv).unwrap(), centers);

    let store = app.store.clone();
    let use_case = uslugi_app::centers::Centers::new(store, std::sync::Arc::new(app.clock.clone()));
    centers[0].name = "Переименованный центр".into();
    let mut bad = centers[1].clone();
    bad.postal_code = "123".into();
    let err = use_case
        .import(&[centers[0].clone(), bad])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("postal code"), "{err}");
    let renamed = || async {
        app.store
            .all_centers()
            .await
            .unwrap()
            .iter()
            .any(|r| r.json.contains("Переименованный центр"))
    };
    assert!(!renamed().await, "nothing written when one center is wrong");
    use_case.import(&centers[..1]).await.unwrap();
    assert!(renamed().await);
    assert_eq!(
        app.store.all_centers().await.unwrap().len(),
        exported,
        "replaced, not added"
    );
    let twice = use_case
        .import(&[centers[2].clone(), centers[2].clone()])
        .await;
    assert!(twice.is_err(), "an id twice in one file is refused");
}
