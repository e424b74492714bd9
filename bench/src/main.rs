//! `uslugi-bench`: starts a real `uslugi serve` (release build) on SQLite and
//! on PostgreSQL, fills it through the storage layer, loads it over loopback
//! from this process, and prints one table (and, with `--json FILE`, the
//! same figures as JSON). See `docs/benchmarks.md`.
//!
//! Every ratio is taken between figures of the same run, minutes apart at
//! most, so that it holds on a noisy machine.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use sqlx::Connection as _;
use uslugi_app::crypto::Crypto;
use uslugi_storage::Backend;

mod client;
mod enumeration;
mod fill;
mod hash_floor;
mod load;
mod machine;
mod report;
mod server;

use server::Server;

#[derive(Parser)]
#[command(
    name = "uslugi-bench",
    about = "Benchmarks a real `uslugi serve` on SQLite and PostgreSQL"
)]
struct Cli {
    /// 10,000 accounts only and shorter runs (under 3 minutes for both engines).
    #[arg(long)]
    quick: bool,
    /// Also write the figures as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = EngineChoice::Both)]
    engine: EngineChoice,
    /// The server binary (default: target/release/uslugi, built if missing).
    #[arg(long, value_name = "PATH")]
    server_bin: Option<PathBuf>,
    /// The account counts to measure at, comma-separated: every figure at
    /// the first, login and /me side by side at each (default 10000, and
    /// 1000000 in a full run). The national-scale run of docs/scale.md:
    /// `--engine postgres --accounts 10000,10000000`.
    #[arg(long, value_name = "N,N,…", value_delimiter = ',')]
    accounts: Vec<usize>,
    /// A PostgreSQL server where a fresh database may be created and dropped.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// How long and how hard each part runs.
struct Plan {
    quick: bool,
    /// Account counts the login and /me figures are taken at; the first is
    /// where every other figure is measured too.
    scales: Vec<usize>,
    /// The one-core hash floor is measured once, for this long.
    hash_1core: Duration,
    /// Logins and registrations alternate with the hash floor in slices
    /// this long.
    slice: Duration,
    login_slices: usize,
    register_slices: usize,
    /// `GET /me` runs this long in all, in `me_slices` slices.
    me: Duration,
    me_slices: usize,
    warmup: Duration,
    login_connections: usize,
    register_connections: usize,
    me_connections: usize,
    sessions: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        let cores = cores();
        let secs =
            |quick_s: u64, full_s: u64| Duration::from_secs(if quick { quick_s } else { full_s });
        Self {
            quick,
            scales: if quick {
                vec![10_000]
            } else {
                vec![10_000, 1_000_000]
            },
            hash_1core: secs(3, 8),
            slice: secs(2, 3),
            login_slices: if quick { 3 } else { 5 },
            register_slices: if quick { 3 } else { 5 },
            me: secs(5, 10),
            me_slices: 5,
            warmup: Duration::from_secs(1),
            // Enough requests waiting that the hashing workers (one per
            // core) never idle; more would only add queueing delay.
            login_connections: 4 * cores,
            register_connections: 6 * cores,
            me_connections: 64,
            sessions: 100_000,
        }
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The figures of one engine, by JSON key.
pub type Figures = BTreeMap<&'static str, f64>;

pub struct EngineReport {
    pub engine: Engine,
    pub figures: Figures,
    /// Account count → figures measured with that many accounts.
    pub scale: BTreeMap<usize, Figures>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut plan = Plan::new(cli.quick);
    if !cli.accounts.is_empty() {
        anyhow::ensure!(
            cli.accounts.iter().all(|&n| n >= 1_000),
            "--accounts: at least 1000 accounts each"
        );
        plan.scales.clone_from(&cli.accounts);
    }
    let server_bin = server_binary(cli.server_bin.as_deref())?;
    let engines: &[Engine] = match cli.engine {
        EngineChoice::Sqlite => &[Engine::Sqlite],
        EngineChoice::Postgres => &[Engine::Postgres],
        EngineChoice::Both => &[Engine::Sqlite, Engine::Postgres],
    };
    let machine = machine::describe();
    eprintln!(
        "uslugi-bench ({} run): {} on {}, server {}",
        if plan.quick { "quick" } else { "full" },
        machine["cpu_model"].as_str().unwrap_or("?"),
        machine["os"].as_str().unwrap_or("?"),
        server_bin.display()
    );
    let mut reports = Vec::new();
    for &engine in engines {
        eprintln!("== {}", engine.name());
        reports.push(bench_engine(engine, &plan, &server_bin, &cli.postgres_url).await?);
    }
    let total = started.elapsed();
    println!("{}", report::table(&reports, &plan.scales, cores()));
    println!("total time: {:.0} s", total.as_secs_f64());
    if let Some(path) = &cli.json {
        let document = report::json(&reports, &plan, machine, total);
        std::fs::write(path, serde_json::to_string_pretty(&document)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `--server-bin`, or the workspace's release build, built if missing.
fn server_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        anyhow::ensure!(path.exists(), "{} does not exist", path.display());
        return Ok(path.to_owned());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the bench crate lives in the workspace")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let bin = target.join("release").join("uslugi");
    if !bin.exists() {
        eprintln!("building the server: cargo build --release --bin uslugi");
        let status = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
            .args(["build", "--release", "--bin", "uslugi"])
            .current_dir(workspace)
            .status()
            .context("cannot run cargo")?;
        anyhow::ensure!(status.success(), "building the server failed");
    }
    Ok(bin)
}

/// A database of its own for one engine's run.
struct Database {
    url: String,
    /// For PostgreSQL: the admin URL and the database to drop afterwards.
    postgres: Option<(String, String)>,
}

impl Database {
    async fn create(engine: Engine, dir: &Path, postgres_url: &str) -> anyhow::Result<Self> {
        match engine {
            Engine::Sqlite => Ok(Self {
                url: format!("sqlite://{}", dir.join("uslugi.db").display()),
                postgres: None,
            }),
            Engine::Postgres => {
                let name = format!("uslugi_bench_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(postgres_url)
                    .await
                    .with_context(|| format!("cannot connect to PostgreSQL at {postgres_url}"))?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .context("cannot create the benchmark database")?;
                // The same server and options (`?sslmode=…`), another database.
                let (path, query) = postgres_url
                    .split_once('?')
                    .map_or((postgres_url, ""), |(p, q)| (p, q));
                let (base, _) = path
                    .rsplit_once('/')
                    .context("the PostgreSQL URL names a database")?;
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                };
                Ok(Self {
                    url: format!("{base}/{name}{query}"),
                    postgres: Some((postgres_url.to_owned(), name)),
                })
            }
        }
    }

    async fn drop_database(self) {
        if let Some((admin_url, name)) = self.postgres
            && let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await
        {
            let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
            if let Err(e) = dropped {
                eprintln!("warning: could not drop the database {name}: {e}");
            }
        }
    }
}

async fn bench_engine(
    engine: Engine,
    plan: &Plan,
    server_bin: &Path,
    postgres_url: &str,
) -> anyhow::Result<EngineReport> {
    let mut databases = Vec::new();
    let result = bench_engine_in(engine, plan, server_bin, postgres_url, &mut databases).await;
    for db in databases {
        db.drop_database().await;
    }
    result
}

/// A fresh database filled with accounts, and what a server on it needs.
struct Prepared {
    dir: tempfile::TempDir,
    url: String,
    secrets: PathBuf,
    store: Arc<dyn Backend>,
    filler: fill::Filler,
    fill: Duration,
}

impl Prepared {
    async fn new(
        engine: Engine,
        postgres_url: &str,
        accounts: usize,
        databases: &mut Vec<Database>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("uslugi-bench-").tempdir()?;
        let db = Database::create(engine, dir.path(), postgres_url).await?;
        let url = db.url.clone();
        databases.push(db);
        // The same secrets file for the generator and the server.
        let secrets = dir.path().join("secrets.toml");
        uslugi::secrets::write_new(&secrets)?;
        let crypto = Crypto::new(uslugi::secrets::load(&secrets, false)?);
        let store: Arc<dyn Backend> = uslugi_storage::connect(&url)
            .await
            .context("cannot open the benchmark database")?;
        store.migrate().await?;
        let mut filler = fill::Filler::new(crypto).await?;
        let fill = filler.fill_to(&store, accounts).await?;
        eprintln!(
            "filled {accounts} accounts in {:.1} s ({:.0} a second)",
            fill.as_secs_f64(),
            accounts as f64 / fill.as_secs_f64()
        );
        Ok(Self {
            dir,
            url,
            secrets,
            store,
            filler,
            fill,
        })
    }

    async fn start(&self, server_bin: &Path) -> anyhow::Result<Server> {
        Server::start(server_bin, self.dir.path(), &self.url, &self.secrets).await
    }
}

async fn bench_engine_in(
    engine: Engine,
    plan: &Plan,
    server_bin: &Path,
    postgres_url: &str,
    databases: &mut Vec<Database>,
) -> anyhow::Result<EngineReport> {
    let mut figures = Figures::new();
    let mut scale = BTreeMap::new();
    figures.insert("load_average_start", machine::load_average());
    // What else the machine did meanwhile: its busy time less ours.
    let started = Instant::now();
    let busy_before = machine::busy_cpu_seconds();
    let self_before = server::cpu_seconds("/proc/self/stat")?;
    let postgres_before = machine::postgres_cpu_seconds();

    let first = plan.scales[0];
    let main = Prepared::new(engine, postgres_url, first, databases).await?;
    let server = main.start(server_bin).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    figures.insert("rss_idle_mb", server.rss_mb()?);
    eprintln!("server idle: {:.1} MiB resident", figures["rss_idle_mb"]);

    let one = hash_floor_async(1, plan.hash_1core).await?;
    figures.insert("hash_per_s_1core", one);
    eprintln!("hash floor, 1 core: {one:.1}/s");

    // Warm up: the hashing workers allocate their blocks, connections open.
    load::logins(server.addr, first, plan.login_connections, plan.warmup, 0).await?;

    // Larger databases get servers of their own, with as many sessions, and
    // are measured side by side with the first, slice by slice, so that
    // the machine's drift cannot pass for an effect of size.
    let mut larger = Vec::new();
    for &accounts in &plan.scales[1..] {
        let prepared = Prepared::new(engine, postgres_url, accounts, databases).await?;
        let server = prepared.start(server_bin).await?;
        load::logins(
            server.addr,
            accounts,
            plan.login_connections,
            plan.warmup,
            0,
        )
        .await?;
        larger.push((prepared, server));
    }
    let mut targets = vec![(&server, first)];
    targets.extend(larger.iter().map(|(p, s)| (s, p.filler.ids.len())));
    let mut points = measure_points(plan, &targets).await?;
    for (i, point) in points.iter_mut().enumerate() {
        let fill = if i == 0 {
            main.fill
        } else {
            larger[i - 1].0.fill
        };
        point.figures.insert("fill_s", fill.as_secs_f64());
    }
    for (key, value) in &points[0].figures {
        if *key != "fill_s" {
            figures.insert(key, *value);
        }
    }

    let mailbox = Arc::new(load::DevMailbox::new(main.dir.path().join("outbox.jsonl")));
    let mut register = against_floor(&server, plan.register_slices, plan.slice, |d| {
        load::registrations(
            server.addr,
            Arc::clone(&mailbox),
            plan.register_connections,
            d,
        )
    })
    .await?;
    figures.insert("register_per_s", register.run.per_second());
    figures.insert(
        "register_vs_hash_floor",
        register.run.per_second() / register.floor,
    );
    figures.insert("register_p50_ms", register.run.latency_ms(0.5));
    figures.insert("register_errors", register.run.errors as f64);
    figures.insert(
        "register_server_cpu_ms",
        register.cpu.server * 1e3 / register.run.per_second(),
    );
    eprintln!(
        "registrations: {:.1}/s ({:.2} of the floor {:.1}/s; floor slices {})",
        figures["register_per_s"],
        figures["register_vs_hash_floor"],
        register.floor,
        slices(&register.floors)
    );
    // `hash_per_s_all` is the floor `login_vs_hash_floor` was taken against
    // (from `measure_points`); registrations had slices of their own.
    figures.insert("register_hash_floor_per_s", register.floor);
    figures.insert("rss_after_load_mb", server.rss_mb()?);
    figures.insert("rss_anon_after_load_mb", server.rss_anon_mb()?);
    enumeration_figures(&server, first, plan, &mut figures).await?;
    let me_tokens = std::mem::take(&mut points[0].tokens);
    for (point, (_, accounts)) in points.into_iter().zip(&targets) {
        scale.insert(*accounts, point.figures);
    }

    // 100,000 live sessions: written through the storage layer while the
    // server runs, then each used once through /me; then /me again as
    // above, to show what they cost.
    let (session_tokens, took) = main.filler.add_sessions(&main.store, plan.sessions).await?;
    figures.insert("sessions_import_s", took.as_secs_f64());
    let t0 = Instant::now();
    let used = load::me_each(server.addr, Arc::new(session_tokens), 32).await?;
    anyhow::ensure!(
        used.errors == 0,
        "{} of the imported sessions were refused",
        used.errors
    );
    figures.insert("rss_100k_sessions_mb", server.rss_mb()?);
    figures.insert("rss_anon_100k_sessions_mb", server.rss_anon_mb()?);
    eprintln!(
        "{} sessions imported in {:.1} s, each used once in {:.1} s: {:.1} MiB resident",
        plan.sessions,
        took.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        figures["rss_100k_sessions_mb"]
    );

    load::me(server.addr, &me_tokens, plan.me_connections, plan.warmup).await?;
    let (mut me, cpu) = measured(
        &server,
        load::me(server.addr, &me_tokens, plan.me_connections, plan.me),
    )
    .await?;
    figures.insert("me_100k_sessions_per_s", me.per_second());
    figures.insert("me_100k_sessions_p99_ms", me.latency_ms(0.99));
    figures.insert(
        "me_100k_sessions_server_cpu_us",
        cpu.server * 1e6 / me.per_second(),
    );
    eprintln!(
        "with 100k more sessions: /me {:.0}/s, p99 {:.2} ms, server CPU {:.0} µs a request",
        figures["me_100k_sessions_per_s"],
        figures["me_100k_sessions_p99_ms"],
        figures["me_100k_sessions_server_cpu_us"]
    );

    let mut ours = server::cpu_seconds("/proc/self/stat")? - self_before;
    for s in std::iter::once(&server).chain(larger.iter().map(|(_, s)| s)) {
        ours += s.cpu_seconds()?;
    }
    let postgres = match engine {
        Engine::Postgres => {
            machine::postgres_cpu_between(&postgres_before, &machine::postgres_cpu_seconds())
        }
        Engine::Sqlite => 0.0,
    };
    let others = (machine::busy_cpu_seconds() - busy_before - ours - postgres).max(0.0);
    figures.insert(
        "other_processes_cpu_cores",
        others / started.elapsed().as_secs_f64(),
    );
    figures.insert("load_average_end", machine::load_average());
    if figures["other_processes_cpu_cores"] > 0.25 {
        eprintln!(
            "warning: other processes used {:.2} cores on average during this run; \
             its figures are disturbed",
            figures["other_processes_cpu_cores"]
        );
    }
    let mut server = server;
    server.check_alive()?;
    server.stop();
    for (_, mut s) in larger {
        s.check_alive()?;
        s.stop();
    }
    Ok(EngineReport {
        engine,
        figures,
        scale,
    })
}

/// Known against unknown logins, registrations and recoveries, one request
/// at a time (see `enumeration.rs`).
async fn enumeration_figures(
    server: &Server,
    accounts: usize,
    plan: &Plan,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let pairs = if plan.quick { 500 } else { 1000 };
    for (seed, flow) in enumeration::Flow::ALL.into_iter().enumerate() {
        let samples = enumeration::sample(server.addr, flow, accounts, pairs, seed as u64).await?;
        let (diff_key, rate_key) = match flow {
            enumeration::Flow::Login => ("enum_login_median_diff_pct", "enum_login_classify_pct"),
            enumeration::Flow::Registration => (
                "enum_registration_median_diff_pct",
                "enum_registration_classify_pct",
            ),
            enumeration::Flow::Recovery => (
                "enum_recovery_median_diff_pct",
                "enum_recovery_classify_pct",
            ),
        };
        figures.insert(diff_key, samples.median_difference_pct());
        figures.insert(rate_key, samples.classification_pct());
        eprintln!(
            "enumeration, {}: known vs unknown median {:+.1} %, one sample classified {:.1} % \
             ({pairs} pairs)",
            flow.name(),
            figures[diff_key],
            figures[rate_key]
        );
    }
    Ok(())
}

/// Login and /me figures of one server.
struct Point {
    figures: Figures,
    /// Sessions its logins made.
    tokens: Vec<String>,
}

/// Login and /me figures of each server (with its account count), their
/// slices alternating so that all see the same machine.
async fn measure_points(plan: &Plan, targets: &[(&Server, usize)]) -> anyhow::Result<Vec<Point>> {
    let per_slice = 1000usize.div_ceil(plan.login_slices);
    let mut logins: Vec<load::Run> = targets.iter().map(|_| load::Run::default()).collect();
    let mut login_cpu = vec![CpuUse::default(); targets.len()];
    let mut floors = Vec::new();
    for _ in 0..plan.login_slices {
        floors.push(hash_floor_async(cores(), plan.slice).await?);
        for (i, (server, accounts)) in targets.iter().enumerate() {
            let (run, used) = measured(
                server,
                load::logins(
                    server.addr,
                    *accounts,
                    plan.login_connections,
                    plan.slice,
                    per_slice,
                ),
            )
            .await?;
            login_cpu[i].add(used, run.elapsed);
            logins[i].append(run);
        }
    }
    let floor = mean(&floors);

    // A short warm-up, then the measured slices.
    let me_slice = plan.me / plan.me_slices as u32;
    let mut tokens = Vec::new();
    for ((server, _), login) in targets.iter().zip(&mut logins) {
        let t = std::mem::take(&mut login.tokens);
        load::me(server.addr, &t, plan.me_connections, plan.warmup).await?;
        tokens.push(t);
    }
    let mut mes: Vec<load::Run> = targets.iter().map(|_| load::Run::default()).collect();
    let mut healths: Vec<load::Run> = targets.iter().map(|_| load::Run::default()).collect();
    let mut me_cpu = vec![CpuUse::default(); targets.len()];
    let mut me_threads = vec![[0.0; 4]; targets.len()];
    for _ in 0..plan.me_slices {
        for (i, (server, _)) in targets.iter().enumerate() {
            let before = server.cpu_seconds_by_thread();
            let (run, used) = measured(
                server,
                load::me(server.addr, &tokens[i], plan.me_connections, me_slice),
            )
            .await?;
            let after = server.cpu_seconds_by_thread();
            for k in 0..4 {
                me_threads[i][k] += after[k] - before[k];
            }
            me_cpu[i].add(used, run.elapsed);
            mes[i].append(run);
            // The same load on the bare HTTP stack, in the same slice.
            let run = load::health(server.addr, plan.me_connections, me_slice).await?;
            healths[i].append(run);
        }
    }

    let mut points = Vec::new();
    for (i, (_, accounts)) in targets.iter().enumerate() {
        let login = &mut logins[i];
        let lc = login_cpu[i].per_second(login.elapsed);
        let mut figures = Figures::new();
        figures.insert("hash_per_s_all", floor);
        figures.insert("login_per_s", login.per_second());
        figures.insert("login_vs_hash_floor", login.per_second() / floor);
        figures.insert("login_p50_ms", login.latency_ms(0.5));
        figures.insert("login_p99_ms", login.latency_ms(0.99));
        figures.insert("login_errors", login.errors as f64);
        figures.insert("login_server_cpu_cores", lc.server);
        figures.insert("login_server_cpu_ms", lc.server * 1e3 / login.per_second());
        figures.insert(
            "login_postgres_cpu_ms",
            lc.postgres * 1e3 / login.per_second(),
        );
        figures.insert("login_client_cpu_ms", lc.client * 1e3 / login.per_second());
        eprintln!(
            "{accounts} accounts: logins {:.1}/s ({:.2} of the floor {floor:.1}/s; floor slices {}), p50 {:.0} ms, server CPU {:.2} cores",
            figures["login_per_s"],
            figures["login_vs_hash_floor"],
            slices(&floors),
            figures["login_p50_ms"],
            lc.server
        );

        let me = &mut mes[i];
        let cpu = me_cpu[i].per_second(me.elapsed);
        let per_request = |k: usize| me_threads[i][k] * 1e6 / me.ok as f64;
        figures.insert("me_server_cpu_us_runtime", per_request(0));
        figures.insert("me_server_cpu_us_sqlite_threads", per_request(1));
        figures.insert("me_per_s", me.per_second());
        figures.insert("me_p50_ms", me.latency_ms(0.5));
        figures.insert("me_p99_ms", me.latency_ms(0.99));
        figures.insert("me_errors", me.errors as f64);
        let health = &mut healths[i];
        figures.insert("health_per_s", health.per_second());
        figures.insert("health_p99_ms", health.latency_ms(0.99));
        figures.insert("health_errors", health.errors as f64);
        // The authenticated request's share of the bare stack's rate: what
        // the session lookup and the handler cost, whatever the machine.
        figures.insert("me_vs_health", me.per_second() / health.per_second());
        figures.insert("me_server_cpu_cores", cpu.server);
        figures.insert("me_client_cpu_cores", cpu.client);
        // CPU per request holds better than requests per second when other
        // work shares the machine.
        figures.insert("me_server_cpu_us", cpu.server * 1e6 / me.per_second());
        figures.insert("me_postgres_cpu_us", cpu.postgres * 1e6 / me.per_second());
        figures.insert("me_postgres_cpu_cores", cpu.postgres);
        eprintln!(
            "{accounts} accounts: /health {:.0}/s, p99 {:.2} ms; /me at {:.2} of it",
            figures["health_per_s"], figures["health_p99_ms"], figures["me_vs_health"]
        );
        eprintln!(
            "{accounts} accounts: /me {:.0}/s, p50 {:.2} ms, p99 {:.2} ms; CPU: server {:.2} ({:.0} µs a request: runtime {:.0}, SQLite threads {:.0}), load generator {:.2} cores",
            figures["me_per_s"],
            figures["me_p50_ms"],
            figures["me_p99_ms"],
            cpu.server,
            figures["me_server_cpu_us"],
            figures["me_server_cpu_us_runtime"],
            figures["me_server_cpu_us_sqlite_threads"],
            cpu.client
        );
        points.push(Point {
            figures,
            tokens: std::mem::take(&mut tokens[i]),
        });
    }
    Ok(points)
}

/// Cores' worth of CPU the server and this load generator used.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    server: f64,
    client: f64,
    /// The local PostgreSQL server's processes (0 on SQLite).
    postgres: f64,
}

async fn measured(
    server: &Server,
    work: impl std::future::Future<Output = anyhow::Result<load::Run>>,
) -> anyhow::Result<(load::Run, CpuUse)> {
    let server_before = server.cpu_seconds()?;
    let client_before = server::cpu_seconds("/proc/self/stat")?;
    let postgres_before = machine::postgres_cpu_seconds();
    let t0 = Instant::now();
    let run = work.await?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = CpuUse {
        server: (server.cpu_seconds()? - server_before) / wall,
        client: (server::cpu_seconds("/proc/self/stat")? - client_before) / wall,
        postgres: machine::postgres_cpu_between(&postgres_before, &machine::postgres_cpu_seconds())
            / wall,
    };
    if run.ok == 0 {
        bail!("no request succeeded ({} failed)", run.errors);
    }
    Ok((run, cpu))
}

impl CpuUse {
    /// Adds a slice's use, weighted by its length.
    fn add(&mut self, used: CpuUse, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        self.server += used.server * secs;
        self.client += used.client * secs;
        self.postgres += used.postgres * secs;
    }

    /// The mean use over `elapsed`, the sum of the slices added.
    fn per_second(self, elapsed: Duration) -> CpuUse {
        let secs = elapsed.as_secs_f64();
        CpuUse {
            server: self.server / secs,
            client: self.client / secs,
            postgres: self.postgres / secs,
        }
    }
}

/// A hash-bound load and the hash floor it is compared with.
struct AgainstFloor {
    run: load::Run,
    /// Hashes per second on all cores, the mean over the slices.
    floor: f64,
    floors: Vec<f64>,
    cpu: CpuUse,
}

/// Alternates `slices` slices of the hash floor (all cores, in this
/// process, the server idle) with as many slices of `work` against the
/// server, so that both see the same machine: when something else starts
/// or stops using the CPU, both figures move together and their ratio holds.
async fn against_floor<F, Fut>(
    server: &Server,
    slices: usize,
    slice: Duration,
    mut work: F,
) -> anyhow::Result<AgainstFloor>
where
    F: FnMut(Duration) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<load::Run>>,
{
    let mut total = load::Run::default();
    let mut floors = Vec::with_capacity(slices);
    let mut cpu = CpuUse::default();
    for _ in 0..slices.max(1) {
        floors.push(hash_floor_async(cores(), slice).await?);
        let (run, used) = measured(server, work(slice)).await?;
        cpu.add(used, run.elapsed);
        total.append(run);
    }
    let cpu = cpu.per_second(total.elapsed);
    Ok(AgainstFloor {
        run: total,
        floor: mean(&floors),
        floors,
        cpu,
    })
}

/// Per-slice figures, for the log: `122/130/127`.
fn slices(values: &[f64]) -> String {
    values
        .iter()
        .map(|f| format!("{f:.0}"))
        .collect::<Vec<_>>()
        .join("/")
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

async fn hash_floor_async(threads: usize, duration: Duration) -> anyhow::Result<f64> {
    tokio::task::spawn_blocking(move || hash_floor::hashes_per_second(threads, duration))
        .await
        .context("hash floor thread")?
}

/// The figures as JSON: the stable keys under each engine, and the rest.
pub fn engine_json(figures: &Figures) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in figures {
        map.insert((*k).to_owned(), round(*v));
    }
    Value::Object(map)
}

fn round(v: f64) -> Value {
    if v.is_finite() {
        json!((v * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}
