//! Rate limits: a window holds under concurrency and slides with time.
use crate::fixtures::*;

contract!(
    rate_limits_hold_under_concurrency,
    rate_limits_slide_with_time,
);

async fn rate_limits_hold_under_concurrency(store: Arc<dyn Backend>) {
    let hits = at_once(&store, 20, |store, _| async move {
        store
            .hit_rate_limit("test", b"key", T0, Duration::HOUR, 5)
            .await
            .unwrap()
            == RateDecision::Allowed
    })
    .await;
    assert_eq!(wins(&hits), 5);
    // Another key and another bucket are counted apart.
    assert_eq!(
        store
            .hit_rate_limit("test", b"other", T0, Duration::HOUR, 5)
            .await
            .unwrap(),
        RateDecision::Allowed
    );
    assert_eq!(
        store
            .hit_rate_limit("other", b"key", T0, Duration::HOUR, 5)
            .await
            .unwrap(),
        RateDecision::Allowed
    );
}

async fn rate_limits_slide_with_time(store: Arc<dyn Backend>) {
    let hit = |at: OffsetDateTime| {
        let store = Arc::clone(&store);
        async move {
            store
                .hit_rate_limit("slide", b"k", at, Duration::HOUR, 2)
                .await
                .unwrap()
        }
    };
    assert_eq!(hit(T0).await, RateDecision::Allowed);
    assert_eq!(hit(T0 + Duration::minutes(10)).await, RateDecision::Allowed);
    assert_eq!(
        hit(T0 + Duration::minutes(20)).await,
        RateDecision::Refused {
            retry_at: T0 + Duration::HOUR
        }
    );
    assert_eq!(hit(T0 + Duration::minutes(61)).await, RateDecision::Allowed);
    assert_eq!(
        store
            .purge_rate_events(T0 + Duration::minutes(30))
            .await
            .unwrap(),
        2
    );
}
