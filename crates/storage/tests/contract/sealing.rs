//! Key rotation: sealed values paged and replaced only if unchanged, and
//! the sealing format that only rises.
use crate::fixtures::*;

contract!(
    the_sealing_format_starts_at_one_and_only_rises,
    sealed_values_are_paged_and_replaced_only_if_unchanged,
);

async fn the_sealing_format_starts_at_one_and_only_rises(store: Arc<dyn Backend>) {
    assert_eq!(store.sealing_format().await.unwrap(), 1);
    store.set_sealing_format(2).await.unwrap();
    assert_eq!(store.sealing_format().await.unwrap(), 2);
    store.set_sealing_format(1).await.unwrap();
    assert_eq!(
        store.sealing_format().await.unwrap(),
        2,
        "an older node cannot lower it"
    );
    store.migrate().await.unwrap();
    assert_eq!(store.sealing_format().await.unwrap(), 2);
}

async fn sealed_values_are_paged_and_replaced_only_if_unchanged(store: Arc<dyn Backend>) {
    let mut ids = Vec::new();
    for i in 0..3u8 {
        ids.push(registered_account(&store, &[b'k', i]).await.id.to_string());
    }
    ids.sort();
    let column = uslugi_storage::SEALED_COLUMNS
        .iter()
        .find(|c| c.table == "accounts" && c.column == "surname")
        .unwrap();
    let first = store.sealed_values(column, "", 2).await.unwrap();
    assert_eq!(
        first.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        ids[..2]
    );
    let rest = store.sealed_values(column, &first[1].0, 2).await.unwrap();
    assert_eq!(
        rest.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        ids[2..]
    );
    assert_eq!(rest[0].1, b"sealed-surname");

    assert!(
        store
            .replace_sealed(column, &ids[0], b"sealed-surname", b"resealed")
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_sealed(column, &ids[0], b"sealed-surname", b"again")
            .await
            .unwrap(),
        "a value changed meanwhile is left alone"
    );
    let acc = store
        .account(ids[0].parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acc.surname, b"resealed");
    // Only the known sealed columns may be named.
    let forged = uslugi_storage::SealedColumn {
        table: "accounts",
        key: "id",
        column: "password_hash",
        field: uslugi_app::crypto::SealedField::Surname,
    };
    assert!(store.sealed_values(&forged, "", 1).await.is_err());
}
