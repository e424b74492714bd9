//! PostgreSQL over TLS: `sslmode=require` encrypts, `verify-ca` and
//! `verify-full` check the server's certificate against `sslrootcert`.
//! CI runs the local server with a certificate of its own authority
//! (`.ci/run`) and names that authority in `USLUGI_TEST_DATABASE_TLS_ROOT`;
//! under CI a missing server or authority is a failure.
use sqlx::Connection as _;
use uslugi_storage::testing::{POSTGRES_ENV, under_ci};

const ROOT_ENV: &str = "USLUGI_TEST_DATABASE_TLS_ROOT";
const OTHER_ROOT_ENV: &str = "USLUGI_TEST_DATABASE_TLS_OTHER_ROOT";

fn configured() -> Option<(String, String, String)> {
    let found = (
        std::env::var(POSTGRES_ENV).ok(),
        std::env::var(ROOT_ENV).ok(),
        std::env::var(OTHER_ROOT_ENV).ok(),
    );
    match found {
        (Some(url), Some(root), Some(other)) => Some((url, root, other)),
        _ if under_ci() => panic!(
            "{POSTGRES_ENV}, {ROOT_ENV} and {OTHER_ROOT_ENV} must be set under CI: \
             the TLS test cannot reach its server"
        ),
        _ => {
            eprintln!("skipped: {POSTGRES_ENV} and the TLS authorities are not set");
            None
        }
    }
}

/// The server's name in the URL, as its certificate names it.
fn with(url: &str, query: &str) -> String {
    let url = url.replace("@127.0.0.1", "@localhost");
    format!("{url}?{query}")
}

#[tokio::test]
async fn the_store_talks_to_postgresql_over_tls_and_checks_who_answers() {
    let Some((url, root, other)) = configured() else {
        return;
    };
    let store = uslugi_storage::connect(&with(&url, "sslmode=require"))
        .await
        .expect("sslmode=require");
    store.ping().await.expect("a query over TLS");
    let mut connection = sqlx::PgConnection::connect(&with(&url, "sslmode=require"))
        .await
        .unwrap();
    let (ssl,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert!(ssl, "the connection is encrypted");

    for mode in ["verify-ca", "verify-full"] {
        let trusted = with(&url, &format!("sslmode={mode}&sslrootcert={root}"));
        let store = uslugi_storage::connect(&trusted)
            .await
            .unwrap_or_else(|e| panic!("{mode} with the server's authority: {e:#}"));
        store.ping().await.unwrap();
        let stranger = with(&url, &format!("sslmode={mode}&sslrootcert={other}"));
        let refused = match uslugi_storage::connect(&stranger).await {
            Err(_) => true,
            Ok(store) => store.ping().await.is_err(),
        };
        assert!(
            refused,
            "{mode}: a server another authority vouches for is refused"
        );
    }
}
