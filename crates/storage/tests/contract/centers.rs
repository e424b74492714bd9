//! Service centers: upserted by id.
use crate::fixtures::*;

contract!(service_centers_are_upserted_by_id,);

async fn service_centers_are_upserted_by_id(store: Arc<dyn Backend>) {
    use uslugi_app::ports::CenterRecord;
    let record = |id: &str, region: &str, json: &str| CenterRecord {
        id: id.into(),
        region: region.into(),
        json: json.into(),
    };
    assert!(store.all_centers().await.unwrap().is_empty());
    store
        .upsert_centers(
            &[
                record("b", "Калужская область", "{\"n\":1}"),
                record("a", "Калужская область", "{\"n\":2}"),
            ],
            T0,
        )
        .await
        .unwrap();
    store
        .upsert_centers(
            &[record(
                "b",
                "Ханты-Мансийский автономный округ — Югра",
                "{\"n\":3}",
            )],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        store.all_centers().await.unwrap(),
        vec![
            record("a", "Калужская область", "{\"n\":2}"),
            record("b", "Ханты-Мансийский автономный округ — Югра", "{\"n\":3}")
        ],
        "by id; the second import replaced b"
    );
}
