//! The load: logins, authenticated reads and registrations, each driven by
//! a fixed number of keep-alive connections for a fixed time.
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hyper::header::HeaderValue;
use tokio::sync::Mutex;

use crate::client::{Http, bearer, json_field};
use crate::fill::{GIVEN_NAME, PASSWORD, SURNAME, account_phone};

/// What one timed run did.
#[derive(Debug, Default)]
pub struct Run {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latency of every successful request, in microseconds.
    pub latencies_us: Vec<u32>,
    /// The session tokens logins returned.
    pub tokens: Vec<String>,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q`-quantile of latency in milliseconds.
    pub fn latency_ms(&mut self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    /// Adds a run that followed this one (its time too).
    pub fn append(&mut self, other: Run) {
        self.elapsed += other.elapsed;
        self.merge(other);
    }

    fn merge(&mut self, other: Run) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.tokens.extend(other.tokens);
    }
}

/// Runs `connections` copies of `worker` until `duration` has passed; each
/// finishes the request it is in, and the time runs until the last is done.
async fn timed<F, Fut>(connections: usize, duration: Duration, worker: F) -> anyhow::Result<Run>
where
    F: Fn(usize, Instant) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Run>> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|n| tokio::spawn(worker(n, deadline)))
        .collect();
    let mut total = Run::default();
    for t in tasks {
        total.merge(t.await.context("load task panicked")??);
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

/// A small, fast pseudo-random sequence (xorshift64*), one per connection.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: usize) -> Self {
        Self((seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

fn login_body(phone: &str) -> String {
    serde_json::json!({"login": phone, "password": PASSWORD}).to_string()
}

/// `POST /api/v1/sessions` with right passwords, accounts drawn at random
/// from the `accounts` generated ones. Keeps up to `keep_tokens` tokens.
pub async fn logins(
    addr: SocketAddr,
    accounts: usize,
    connections: usize,
    duration: Duration,
    keep_tokens: usize,
) -> anyhow::Result<Run> {
    let keep = keep_tokens.div_ceil(connections.max(1));
    timed(connections, duration, move |n, deadline| async move {
        let mut http = Http::connect(addr).await?;
        let mut rng = Rng::new(n);
        let mut run = Run::default();
        while Instant::now() < deadline {
            let body = login_body(&account_phone(rng.below(accounts)));
            let t0 = Instant::now();
            let (status, answer) = http.post_json("/api/v1/sessions", body).await?;
            if status == 201 {
                run.latencies_us.push(micros(t0));
                run.ok += 1;
                if run.tokens.len() < keep {
                    run.tokens.push(json_field(&answer, "session_token")?);
                }
            } else {
                run.errors += 1;
                report_error("login", status, &answer);
            }
        }
        Ok(run)
    })
    .await
}

/// `GET /api/v1/me` with the given sessions, round robin over `connections`.
pub async fn me(
    addr: SocketAddr,
    tokens: &[String],
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    anyhow::ensure!(!tokens.is_empty(), "no sessions to read /me with");
    gets(addr, "/api/v1/me", tokens, connections, duration).await
}

/// `GET /health` over `connections`: the bare HTTP stack, which the
/// authenticated request's rate is compared with.
pub async fn health(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    gets(addr, "/health", &[], connections, duration).await
}

/// `GET path` over `connections`, with the given sessions round robin (none:
/// no `Authorization`).
async fn gets(
    addr: SocketAddr,
    path: &'static str,
    tokens: &[String],
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let headers: Arc<Vec<HeaderValue>> = Arc::new(
        tokens
            .iter()
            .map(|t| bearer(t))
            .collect::<anyhow::Result<_>>()?,
    );
    timed(connections, duration, move |n, deadline| {
        let headers = Arc::clone(&headers);
        async move {
            let mut http = Http::connect(addr).await?;
            let mut run = Run::default();
            run.latencies_us.reserve(50_000);
            let mut i = n;
            while Instant::now() < deadline {
                let auth = (!headers.is_empty()).then(|| &headers[i % headers.len()]);
                i += connections;
                let t0 = Instant::now();
                let (status, answer) = http.get(path, auth).await?;
                if status == 200 {
                    run.latencies_us.push(micros(t0));
                    run.ok += 1;
                } else {
                    run.errors += 1;
                    report_error(path, status, &answer);
                }
            }
            Ok(run)
        }
    })
    .await
}

/// `GET /api/v1/me` once with each token (so every session is used).
pub async fn me_each(
    addr: SocketAddr,
    tokens: Arc<Vec<String>>,
    connections: usize,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let far = Duration::from_secs(24 * 3600);
    timed(connections, far, move |_, _| {
        let tokens = Arc::clone(&tokens);
        let next = Arc::clone(&next);
        async move {
            let mut http = Http::connect(addr).await?;
            let mut run = Run::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let (status, answer) = http.get("/api/v1/me", Some(&bearer(token)?)).await?;
                if status == 200 {
                    run.ok += 1;
                } else {
                    run.errors += 1;
                    report_error("/me", status, &answer);
                }
            }
            Ok(run)
        }
    })
    .await
}

/// Whole registrations by phone: start, confirm with the SMS code read from
/// the development mailbox, set the password. Phones come from `+795…`, apart from the
/// generated accounts.
pub async fn registrations(
    addr: SocketAddr,
    mailbox: Arc<DevMailbox>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    static NEXT_PHONE: AtomicU64 = AtomicU64::new(0);
    timed(connections, duration, move |_, deadline| {
        let mailbox = Arc::clone(&mailbox);
        async move {
            let mut http = Http::connect(addr).await?;
            let mut run = Run::default();
            while Instant::now() < deadline {
                let phone = format!(
                    "+795{:08}",
                    NEXT_PHONE.fetch_add(1, Ordering::Relaxed) % 100_000_000
                );
                let t0 = Instant::now();
                let start = serde_json::json!({
                    "surname": SURNAME, "given_name": GIVEN_NAME,
                    "phone": phone, "accept_terms": true,
                });
                let (status, answer) = http
                    .post_json("/api/v1/registrations", start.to_string())
                    .await?;
                if status != 202 {
                    run.errors += 1;
                    report_error("registration", status, &answer);
                    continue;
                }
                let id = json_field(&answer, "registration_id")?;
                let code = mailbox.code_for(&phone).await?;
                let (status, answer) = http
                    .post_json(
                        &format!("/api/v1/registrations/{id}/confirm"),
                        serde_json::json!({ "code": code }).to_string(),
                    )
                    .await?;
                if status != 200 {
                    run.errors += 1;
                    report_error("confirmation", status, &answer);
                    continue;
                }
                // Whoever confirmed continues (a server before issue 13
                // returns no token and asks for none).
                let continuation = json_field(&answer, "continuation_token").ok();
                let (status, answer) = http
                    .post_json(
                        &format!("/api/v1/registrations/{id}/password"),
                        serde_json::json!({
                            "continuation_token": continuation,
                            "password": PASSWORD, "password_confirmation": PASSWORD,
                        })
                        .to_string(),
                    )
                    .await?;
                if status == 201 {
                    run.latencies_us.push(micros(t0));
                    run.ok += 1;
                } else {
                    run.errors += 1;
                    report_error("password", status, &answer);
                }
            }
            Ok(run)
        }
    })
    .await
}

fn micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// Prints the first few failures of a kind, so a broken run says why.
fn report_error(what: &str, status: u16, answer: &[u8]) {
    static SHOWN: AtomicU64 = AtomicU64::new(0);
    if SHOWN.fetch_add(1, Ordering::Relaxed) < 5 {
        eprintln!(
            "  ! {what}: HTTP {status} {}",
            String::from_utf8_lossy(&answer[..answer.len().min(300)])
        );
    }
}

/// Reads the server's development mailbox, `outbox.jsonl`, as it grows
/// (never the whole file again), keeping the latest code sent to each phone.
pub struct DevMailbox {
    inner: Mutex<MailboxState>,
}

struct MailboxState {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    codes: HashMap<String, String>,
}

impl DevMailbox {
    pub fn new(path: PathBuf) -> Self {
        Self {
            inner: Mutex::new(MailboxState {
                path,
                offset: 0,
                partial: Vec::new(),
                codes: HashMap::new(),
            }),
        }
    }

    /// The code last sent to `phone`. The server writes the message before
    /// it answers, so it is normally there at the first look.
    pub async fn code_for(&self, phone: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let mut state = self.inner.lock().await;
                if let Some(code) = state.codes.remove(phone) {
                    return Ok(code);
                }
                state.read_new()?;
                if let Some(code) = state.codes.remove(phone) {
                    return Ok(code);
                }
            }
            if Instant::now() > deadline {
                bail!("no SMS to {phone} in the development mailbox after 10 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

impl MailboxState {
    fn read_new(&mut self) -> anyhow::Result<()> {
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        file.seek(SeekFrom::Start(self.offset))?;
        let mut fresh = Vec::new();
        let n = file.read_to_end(&mut fresh)?;
        self.offset += n as u64;
        self.partial.extend_from_slice(&fresh);
        let Some(last_newline) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let complete: Vec<u8> = self.partial.drain(..=last_newline).collect();
        for line in complete.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let entry: serde_json::Value = serde_json::from_slice(line)?;
            let to = entry.get("to").and_then(serde_json::Value::as_str);
            let body = entry.get("body").and_then(serde_json::Value::as_str);
            if let (Some(to), Some(code)) = (to, body.and_then(six_digits)) {
                self.codes.insert(to.to_owned(), code);
            }
        }
        Ok(())
    }
}

/// The only run of exactly six digits in an SMS: its code.
fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_in_messages() {
        assert_eq!(
            six_digits("Код подтверждения: 042917. Никому не сообщайте его").as_deref(),
            Some("042917")
        );
        assert_eq!(six_digits("port 8080, 1234567"), None);
    }

    #[test]
    fn latency_quantiles() {
        let mut run = Run {
            latencies_us: (1..=100).map(|i| i * 1000).collect(),
            ..Run::default()
        };
        assert_eq!(run.latency_ms(0.5), 51.0);
        assert_eq!(run.latency_ms(0.99), 99.0);
    }
}
