//! What a node tells Prometheus, on a listener of its own
//! (`metrics_listen`, off by default) so that the figures are never served
//! to the public: `/metrics` (text format), `/health/live` and
//! `/health/ready`. No label ever holds personal data: routes are
//! templates, results and channels are fixed words.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Router, routing};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use uslugi_app::jobs::{JobMetrics, JobOutcome, kinds};
use uslugi_app::ports::{DeliveryError, Message, Messenger};
use uslugi_app::post::PrintedPost;
use uslugi_domain::Token as _;
use uslugi_storage::Backend;

/// Seconds: from a cached page to a slow registry call.
const REQUEST_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Seconds: around the tens to hundreds of milliseconds Argon2id is set to.
const HASH_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0];

/// The exporter of a node that has `metrics_listen`.
pub struct Exporter {
    handle: PrometheusHandle,
    pub listener: tokio::net::TcpListener,
}

/// Installs the process's recorder (once: `serve` only) and binds the
/// metrics listener.
pub async fn exporter(listen: &str) -> anyhow::Result<Exporter> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("uslugi_http_request_duration_seconds".into()),
            REQUEST_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full("uslugi_password_hash_duration_seconds".into()),
            HASH_BUCKETS,
        )?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    describe();
    metrics::gauge!("uslugi_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    // Every counter's series from the start, at 0: an alert on a rate, or
    // a dashboard, sees "none yet" rather than "no such series".
    for result in uslugi_app::accounts::LOGIN_RESULTS {
        metrics::counter!("uslugi_logins_total", "result" => result).absolute(0);
    }
    for channel in uslugi_domain::Channel::forms() {
        for result in ["sent", "failed"] {
            metrics::counter!("uslugi_messages_total", "channel" => channel, "result" => result)
                .absolute(0);
        }
    }
    for kind in [kinds::REGISTRY_CHECK, kinds::OUTBOX, kinds::LETTER] {
        metrics::counter!("uslugi_job_failures_total", "kind" => kind).absolute(0);
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("metrics_listen: cannot listen on {listen}"))?;
    Ok(Exporter { handle, listener })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "uslugi_http_requests_total",
        "Requests answered, by route template, method and status"
    );
    describe_histogram!(
        "uslugi_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer, by route template"
    );
    describe_counter!(
        "uslugi_logins_total",
        "Password steps of citizens' logins: success, second_factor, refused (unknown, wrong or throttled alike), temporary_password_expired, disabled, error"
    );
    describe_counter!(
        "uslugi_messages_total",
        "Messages handed to the SMS gateway or the mail relay: sent or failed, by channel"
    );
    describe_counter!(
        "uslugi_job_failures_total",
        "Background jobs that failed (retried later, given up, or not run), by kind"
    );
    describe_histogram!(
        "uslugi_password_hash_duration_seconds",
        Unit::Seconds,
        "Time of one Argon2id hash or verification"
    );
    describe_gauge!(
        "uslugi_build_info",
        "Always 1; the version of the running build"
    );
    describe_gauge!(
        "uslugi_jobs_pending",
        "Background jobs not yet done (due now or later), by kind; the same on every node"
    );
    describe_gauge!(
        "uslugi_post_tracking_numbers_left",
        "Tracking numbers of the allocated range not yet taken ([post] mode = \"print\"): ask the post for the next range before it reaches 0"
    );
    describe_gauge!(
        "uslugi_db_pool_connections",
        "This node's connections to the database, busy or idle"
    );
    describe_gauge!(
        "uslugi_workers_alive",
        "1 while this node's background workers run (0 when they stopped or are off here)"
    );
}

/// Every hand-over to a transport, counted by channel and result: the
/// outbox's worker and the requests that try a message at once alike.
pub struct CountedMessenger(pub Arc<dyn Messenger>);

#[async_trait::async_trait]
impl Messenger for CountedMessenger {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let delivered = self.0.deliver(message).await;
        metrics::counter!(
            "uslugi_messages_total",
            "channel" => message.channel.as_str(),
            "result" => if delivered.is_ok() { "sent" } else { "failed" }
        )
        .increment(1);
        delivered
    }
}

/// Job outcomes into `uslugi_job_failures_total`.
pub struct JobsReported;

impl JobMetrics for JobsReported {
    fn job_ran(&self, kind: &'static str, outcome: JobOutcome) {
        if matches!(
            outcome,
            JobOutcome::Retried | JobOutcome::GaveUp | JobOutcome::Error
        ) {
            metrics::counter!("uslugi_job_failures_total", "kind" => kind).increment(1);
        }
    }
}

#[derive(Clone)]
struct Probe {
    handle: PrometheusHandle,
    store: Arc<dyn Backend>,
    workers: Arc<AtomicBool>,
    run_workers: bool,
    printed_post: Option<Arc<PrintedPost>>,
}

/// The metrics listener's routes. `workers` is true while this node's
/// workers run; a node that runs none (`workers = false`) is ready without.
pub fn router(
    exporter: &Exporter,
    store: Arc<dyn Backend>,
    workers: Arc<AtomicBool>,
    run_workers: bool,
    printed_post: Option<Arc<PrintedPost>>,
) -> Router {
    Router::new()
        .route("/metrics", routing::get(render))
        .route("/health/live", routing::get(|| async { "live\n" }))
        .route("/health/ready", routing::get(ready))
        .with_state(Probe {
            handle: exporter.handle.clone(),
            store,
            workers,
            run_workers,
            printed_post,
        })
}

async fn render(State(probe): State<Probe>) -> impl IntoResponse {
    let alive = probe.workers.load(Ordering::Relaxed);
    metrics::gauge!("uslugi_workers_alive").set(if alive { 1.0 } else { 0.0 });
    // Read at each scrape: the database is the queue, shared by every node,
    // so each node reports the same figure (alert on max, not sum).
    match probe.store.pending_jobs().await {
        Ok(pending) => {
            for (kind, count) in [
                (kinds::REGISTRY_CHECK, pending.registry_checks),
                (kinds::OUTBOX, pending.messages),
                (kinds::LETTER, pending.letters),
            ] {
                metrics::gauge!("uslugi_jobs_pending", "kind" => kind).set(count as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot count the pending jobs for /metrics"),
    }
    if let Some(post) = &probe.printed_post {
        match post.numbers_left().await {
            Ok(left) => {
                metrics::gauge!("uslugi_post_tracking_numbers_left").set(f64::from(left));
            }
            Err(e) => tracing::warn!(error = %e, "cannot count the tracking numbers left"),
        }
    }
    let pool = probe.store.pool_connections();
    for (state, count) in [("busy", pool.busy), ("idle", pool.idle)] {
        metrics::gauge!("uslugi_db_pool_connections", "state" => state).set(count as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        probe.handle.render(),
    )
}

/// Ready: the database answers (its migrations were applied when this node
/// started, before it listened) and the workers run, where they should.
async fn ready(State(probe): State<Probe>) -> impl IntoResponse {
    let database = probe.store.ping().await.is_ok();
    let workers = !probe.run_workers || probe.workers.load(Ordering::Relaxed);
    let status = if database && workers {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "failing" };
    (
        status,
        format!(
            "database: {}\nworkers: {}\n",
            word(database),
            if probe.run_workers {
                word(workers)
            } else {
                "not run here"
            }
        ),
    )
}
