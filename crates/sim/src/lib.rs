//! The simulators of uslugi: the registries behind the registry gateway,
//! and the post ([`SimPost`]).
//!
//! The registry simulator ([`SimState`], served by [`router`]) speaks the
//! asynchronous request/response protocol of `docs/registries.md` and
//! answers as the Social Fund and the Interior Ministry would, from its own
//! records ([`SimRegistry`]), after a delay, failing a share of the calls.
//! The product reaches it the way it would reach a real gateway: through
//! `uslugi_adapters::HttpRegistryGateway`, over HTTP, on a loopback port
//! when it runs in-process ([`spawn_in_process`]) or at its own address
//! ([`serve_standalone`]).

mod citizens;
pub mod post;
mod server;
mod settings;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uslugi_app::Clock;

pub use citizens::{
    Citizen, CitizensError, DEMO_CITIZENS_JSON, PassportRecord, PassportStatus, SimRegistry,
};
pub use post::{DEFAULT_DELIVERY, SimPost};
pub use server::{PollOutcome, RETENTION, SimState, SubmitError, router, serve};
pub use settings::{
    DEFAULT_DELAY_MS, DEFAULT_FAILURE_RATE, DEFAULT_TIMEOUT_HOLD, MAX_DELAY_MS, SettingsError,
    SimSettings, check_failure_rate, parse_delay_ms, parse_failure_rate,
};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Citizens(#[from] CitizensError),
    #[error("the registry simulator cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("the registry simulator failed: {0}")]
    Serve(std::io::Error),
}

/// A simulator serving on a loopback port.
#[derive(Debug)]
pub struct RunningSim {
    /// `http://127.0.0.1:PORT`, for `uslugi_adapters::HttpRegistryGateway::new`.
    pub base_url: String,
    pub state: SimState,
    /// Serves until aborted.
    pub task: JoinHandle<()>,
}

/// Starts the simulator of `settings` on `127.0.0.1` at a port the system
/// chooses, measuring its delays with `clock`.
pub async fn spawn_in_process(
    settings: &SimSettings,
    clock: Arc<dyn Clock>,
) -> Result<RunningSim, SimError> {
    spawn_with_state(SimState::from_settings(settings, clock)?).await
}

/// Like [`spawn_in_process`], for a simulator already built (tests build one
/// over their own records and fake clock).
pub async fn spawn_with_state(state: SimState) -> Result<RunningSim, SimError> {
    let bind = |source| SimError::Bind {
        addr: "127.0.0.1:0".into(),
        source,
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let router = router(state.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the in-process registry simulator stopped");
        }
    });
    Ok(RunningSim {
        base_url: format!("http://{addr}"),
        state,
        task,
    })
}

/// `uslugi sim serve`: the simulator of `settings` at `listen`, until
/// `shutdown` completes.
pub async fn serve_standalone(
    listen: SocketAddr,
    settings: &SimSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SimError> {
    let state = SimState::from_settings(settings, Arc::new(MillisecondClock))?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: listen.to_string(),
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(listen);
    tracing::info!(
        %addr,
        citizens = state.registry().citizens().len(),
        delay_ms = ?settings.delay_ms,
        failure_rate = settings.failure_rate,
        "registry simulator listening"
    );
    serve(listener, state, shutdown)
        .await
        .map_err(SimError::Serve)
}

/// The product's `SystemClock` keeps whole seconds, which would round the
/// delays of a standalone simulator; nothing else reads this clock.
struct MillisecondClock;

impl Clock for MillisecondClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}
