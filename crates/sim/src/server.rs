//! The simulator's side of the protocol: it takes requests, answers each
//! from its records after a delay, and fails a share of the calls.
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::Rng;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use uslugi_adapters::registry_protocol::{
    ErrorBody, ErrorDetail, IDEMPOTENCY_KEY_HEADER, Polled, Submitted, WireRequest,
    is_valid_idempotency_key,
};
use uslugi_app::Clock;
use uslugi_app::registries::{PersonFacts, RegistryAnswer, RegistryRequest, RegistryRequestId};

use crate::SimError;
use crate::citizens::{SimRegistry, fits_layout};
use crate::settings::{SettingsError, SimSettings, check_failure_rate};

/// How long a request is kept once its answer is ready; after that its id
/// is unknown and its idempotency key free again.
pub const RETENTION: time::Duration = time::Duration::hours(24);

/// A request is a few hundred bytes; anything far larger is not one.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The simulator: its records, its behaviour and the requests it holds.
/// Cloning shares it.
#[derive(Clone)]
pub struct SimState(Arc<Shared>);

struct Shared {
    registry: SimRegistry,
    delay_ms: (u64, u64),
    /// An `f64`, kept as bits so that tests can change it while serving.
    failure_rate: AtomicU64,
    timeout_hold: Duration,
    clock: Arc<dyn Clock>,
    requests: Mutex<Requests>,
}

impl std::fmt::Debug for SimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimState")
            .field("citizens", &self.0.registry.citizens().len())
            .field("delay_ms", &self.0.delay_ms)
            .field("failure_rate", &self.failure_rate())
            .field("timeout_hold", &self.0.timeout_hold)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Malformed(String),
    #[error("this idempotency key was used for a different request")]
    KeyReused,
}

/// Where a submitted request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// Never submitted, or forgotten [`RETENTION`] after its answer.
    Unknown,
    Pending,
    Done(RegistryAnswer),
}

#[derive(Default)]
struct Requests {
    by_id: HashMap<String, Held>,
    /// Idempotency key → request id.
    by_key: HashMap<String, String>,
    /// Ids in the order of submission, for forgetting the oldest first.
    order: VecDeque<String>,
}

struct Held {
    key: String,
    request: RegistryRequest,
    /// Decided at submission: the records never change while serving.
    answer: RegistryAnswer,
    ready_at: OffsetDateTime,
}

impl Held {
    fn expired(&self, now: OffsetDateTime) -> bool {
        self.ready_at + RETENTION <= now
    }
}

impl Requests {
    /// Forgets expired requests from the oldest on. Delays differ, so one
    /// that expired behind a younger one waits for it; lookups check expiry
    /// themselves.
    fn sweep(&mut self, now: OffsetDateTime) {
        while let Some(id) = self.order.front().cloned() {
            if self.by_id.get(&id).is_some_and(|held| !held.expired(now)) {
                break;
            }
            self.forget(&id);
            self.order.pop_front();
        }
    }

    fn forget(&mut self, id: &str) {
        if let Some(held) = self.by_id.remove(id)
            && self
                .by_key
                .get(&held.key)
                .is_some_and(|held_id| held_id == id)
        {
            self.by_key.remove(&held.key);
        }
    }

    fn live(&self, id: &str, now: OffsetDateTime) -> Option<&Held> {
        self.by_id.get(id).filter(|held| !held.expired(now))
    }
}

impl SimState {
    /// A simulator over `registry` that measures delays with `clock`.
    pub fn new(
        registry: SimRegistry,
        settings: &SimSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SettingsError> {
        settings.validate()?;
        Ok(Self(Arc::new(Shared {
            registry,
            delay_ms: settings.delay_ms,
            failure_rate: AtomicU64::new(settings.failure_rate.to_bits()),
            timeout_hold: settings.timeout_hold,
            clock,
            requests: Mutex::new(Requests::default()),
        })))
    }

    /// Like [`new`](Self::new), with the citizens of `settings.citizens_file`
    /// or, without one, the built-in demo set.
    pub fn from_settings(settings: &SimSettings, clock: Arc<dyn Clock>) -> Result<Self, SimError> {
        let registry = match &settings.citizens_file {
            Some(path) => SimRegistry::from_file(path)?,
            None => SimRegistry::demo(),
        };
        Ok(Self::new(registry, settings, clock)?)
    }

    pub fn registry(&self) -> &SimRegistry {
        &self.0.registry
    }

    pub fn failure_rate(&self) -> f64 {
        f64::from_bits(self.0.failure_rate.load(Ordering::Relaxed))
    }

    /// Changes the share of failing calls while serving.
    pub fn set_failure_rate(&self, rate: f64) -> Result<(), SettingsError> {
        let rate = check_failure_rate(rate)?;
        self.0.failure_rate.store(rate.to_bits(), Ordering::Relaxed);
        Ok(())
    }

    /// How many requests the simulator remembers.
    pub fn requests_held(&self) -> usize {
        let now = self.0.clock.now();
        let requests = self.requests();
        requests
            .by_id
            .values()
            .filter(|held| !held.expired(now))
            .count()
    }

    /// Takes a request, or returns the id already given to `key` if the
    /// same request was submitted with it.
    pub fn submit(
        &self,
        key: &str,
        request: RegistryRequest,
    ) -> Result<RegistryRequestId, SubmitError> {
        if !is_valid_idempotency_key(key) {
            return Err(SubmitError::Malformed(
                "the idempotency key must be 1 to 255 visible ASCII characters".into(),
            ));
        }
        check(&request).map_err(SubmitError::Malformed)?;
        let now = self.0.clock.now();
        let mut requests = self.requests();
        requests.sweep(now);
        if let Some(id) = requests.by_key.get(key).cloned() {
            match requests.live(&id, now) {
                Some(held) if held.request == request => return Ok(RegistryRequestId(id)),
                Some(_) => return Err(SubmitError::KeyReused),
                None => requests.forget(&id),
            }
        }
        let (min, max) = self.0.delay_ms;
        let delay_ms = rand::thread_rng().gen_range(min..=max);
        // Settings bound the delay to a day, far from overflowing either type.
        let delay = time::Duration::milliseconds(i64::try_from(delay_ms).unwrap_or(i64::MAX));
        let ready_at = now.checked_add(delay).unwrap_or(now);
        let id = uuid::Uuid::new_v4().to_string();
        let held = Held {
            key: key.to_owned(),
            answer: self.0.registry.answer(&request),
            request,
            ready_at,
        };
        tracing::debug!(request_id = %id, registry = ?held.request.registry(), delay_ms, "registry request taken");
        requests.by_key.insert(key.to_owned(), id.clone());
        requests.by_id.insert(id.clone(), held);
        requests.order.push_back(id.clone());
        Ok(RegistryRequestId(id))
    }

    pub fn poll(&self, id: &str) -> PollOutcome {
        let now = self.0.clock.now();
        let mut requests = self.requests();
        requests.sweep(now);
        match requests.live(id, now) {
            None => PollOutcome::Unknown,
            Some(held) if held.ready_at <= now => PollOutcome::Done(held.answer.clone()),
            Some(_) => PollOutcome::Pending,
        }
    }

    /// Nothing panics while holding the lock, but a poisoned map is still
    /// consistent: every change to it is a single insert or remove.
    fn requests(&self) -> MutexGuard<'_, Requests> {
        self.0
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// What every registry would refuse before looking: the layouts the protocol
/// fixes, and names that are there at all.
fn check(request: &RegistryRequest) -> Result<(), String> {
    match request {
        RegistryRequest::Sfr { snils, person, .. } => {
            if !fits_layout(snils, "NNNNNNNNNNN") {
                return Err("snils: expected eleven digits without separators".into());
            }
            check_person(person)
        }
        RegistryRequest::Mvd {
            series_number,
            department_code,
            person,
            ..
        } => {
            if !fits_layout(series_number, "NNNN NNNNNN") {
                return Err("series_number: expected NNNN NNNNNN".into());
            }
            if !fits_layout(department_code, "NNN-NNN") {
                return Err("department_code: expected NNN-NNN".into());
            }
            check_person(person)
        }
    }
}

fn check_person(person: &PersonFacts) -> Result<(), String> {
    if person.surname.trim().is_empty() {
        return Err("person.surname: must not be empty".into());
    }
    if person.given_name.trim().is_empty() {
        return Err("person.given_name: must not be empty".into());
    }
    Ok(())
}

/// The protocol of `docs/registries.md`, plus `GET /health`, which never
/// fails.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route("/v1/requests", post(submit))
        .route("/v1/requests/{id}", get(poll))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            simulate_failures,
        ))
        .route("/health", get(health))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: SimState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

enum Failure {
    Unavailable,
    Timeout,
}

/// Fails a call with the configured probability: half of the failures are a
/// 503 before the call is handled, half handle the call and then hold the
/// response past the client's patience, so that the caller cannot know
/// whether its request arrived.
async fn simulate_failures(State(sim): State<SimState>, request: Request, next: Next) -> Response {
    let rate = sim.failure_rate();
    let failure = {
        let mut rng = rand::thread_rng();
        (rate > 0.0 && rng.gen_bool(rate)).then(|| {
            if rng.gen_bool(0.5) {
                Failure::Unavailable
            } else {
                Failure::Timeout
            }
        })
    };
    match failure {
        None => next.run(request).await,
        Some(Failure::Unavailable) => {
            tracing::debug!("simulating an unavailable registry");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the registry is unavailable (simulated); try again later",
            )
        }
        Some(Failure::Timeout) => {
            tracing::debug!(hold = ?sim.0.timeout_hold, "simulating a registry timeout");
            let response = next.run(request).await;
            tokio::time::sleep(sim.0.timeout_hold).await;
            response
        }
    }
}

async fn submit(State(sim): State<SimState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(key) = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|key| is_valid_idempotency_key(key))
    else {
        return malformed(format!(
            "the {IDEMPOTENCY_KEY_HEADER} header must be present and hold 1 to 255 visible ASCII characters"
        ));
    };
    let request: WireRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return malformed(format!("the body is not a registry request: {e}")),
    };
    match sim.submit(key, request.into()) {
        Ok(RegistryRequestId(request_id)) => {
            (StatusCode::ACCEPTED, Json(Submitted { request_id })).into_response()
        }
        Err(SubmitError::Malformed(message)) => malformed(message),
        Err(e @ SubmitError::KeyReused) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            e.to_string(),
        ),
    }
}

async fn poll(State(sim): State<SimState>, Path(id): Path<String>) -> Response {
    match sim.poll(&id) {
        PollOutcome::Unknown => error(
            StatusCode::NOT_FOUND,
            "unknown_request",
            "no request with this id: never submitted, or forgotten a day after its answer",
        ),
        PollOutcome::Pending => Json(Polled::Pending).into_response(),
        PollOutcome::Done(answer) => Json(Polled::Done { answer }).into_response(),
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "no such path")
}

fn malformed(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "malformed_request", message)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.into(),
        },
    };
    (status, Json(body)).into_response()
}
