//! The connections a node holds, as the metrics listener reports them.
use crate::fixtures::*;

contract!(connections_at_rest_are_idle);

async fn connections_at_rest_are_idle(store: Arc<dyn Backend>) {
    registered_account(&store, b"conn-1").await;
    // A pool takes a connection back on a task of its own, a moment after
    // its last use: wait for that (bounded), not for a time.
    let started = std::time::Instant::now();
    let at_rest = loop {
        let now = store.pool_connections();
        if now.busy == 0 || started.elapsed() > std::time::Duration::from_secs(10) {
            break now;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(at_rest.busy, 0, "nothing runs: {at_rest:?}");
    assert!(
        at_rest.idle >= 1,
        "the connections just used stay open: {at_rest:?}"
    );
}
