//! Wires the product together: storage, keys, hashing, messages, the web
//! application, and the background sweeper.
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use async_trait::async_trait;
use tokio::net::TcpListener;
use uslugi_adapters::{ByChannel, DevMailbox, HttpRegistryGateway, HttpSmsGateway, SmtpMailer};
use uslugi_app::password_hasher::{HashParams, PasswordHasher};
use uslugi_app::ports::Messenger;
use uslugi_app::registries::RegistryGateway;
use uslugi_app::verification::{Verification, VerificationPolicy};
use uslugi_app::{Accounts, Clock, Policy};
use uslugi_storage::Backend;
use uslugi_web::{AppState, Readiness};

use crate::config::{Deployment, Settings};

struct StoreReadiness(Arc<dyn Backend>);

#[async_trait]
impl Readiness for StoreReadiness {
    async fn ready(&self) -> bool {
        self.0.ping().await.is_ok()
    }
}

/// The running parts of one node, before it starts listening.
pub struct App {
    pub state: AppState,
    pub store: Arc<dyn Backend>,
    /// The development mailbox's file, in development mode.
    pub dev_mailbox_path: Option<PathBuf>,
    /// The in-process registry simulator, when the settings choose it.
    pub sim: Option<uslugi_sim::RunningSim>,
    /// Run the checks and the outbox in the background (tests drive them
    /// by hand instead).
    pub run_workers: bool,
    /// Development (stand-ins allowed) or production (real transports).
    pub deployment: Deployment,
    pub audit: uslugi_app::audit::AuditLog,
    /// The audit chain's head, kept outside the database.
    pub audit_head: Arc<crate::audit_head::FileHead>,
    /// Begins the node's stop: the event streams end, the workers finish
    /// the job in hand and take no other.
    pub stop: uslugi_web::shutdown::StopNode,
    /// How long the stop waits for requests and workers.
    pub shutdown_grace: std::time::Duration,
    /// The metrics listener (`metrics_listen`), set by `serve`.
    pub metrics: Option<crate::metrics::Exporter>,
    /// The post when the portal prints its letters (`[post] mode = "print"`).
    pub printed_post: Option<Arc<uslugi_app::post::PrintedPost>>,
}

impl App {
    /// Notes the audit chain's head outside the database if it moved on;
    /// says loudly when the database lost the head noted before.
    pub async fn note_audit_head(&self) {
        note_audit_head(&self.audit, self.store.as_ref(), self.audit_head.as_ref()).await;
    }
}

async fn note_audit_head(
    audit: &uslugi_app::audit::AuditLog,
    store: &dyn Backend,
    head: &crate::audit_head::FileHead,
) {
    match audit.note_head(store, head).await {
        Ok(uslugi_app::audit::HeadNote::Diverged { kept }) => tracing::error!(
            kept,
            file = %head.path().display(),
            "the database no longer holds the audit record the head file saw written: \
             records were removed; run `uslugi admin audit verify`"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "the audit head could not be noted"),
    }
}

pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Backend>> {
    crate::private_files::prepare(settings)?;
    let url = settings.database_url();
    let store = uslugi_storage::connect(&url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            uslugi_storage::redact_url(&url)
        )
    })?;
    let applied = store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(store)
}

pub fn dev_mailbox_path(settings: &Settings) -> PathBuf {
    settings
        .data_dir
        .join(uslugi_adapters::dev_mailbox::FILE_NAME)
}

/// Wires one node. In production (see [`Settings::deployment`]) nothing
/// stands in for the real transports and gateways: the settings were
/// checked to name them all. `echo_mailbox` prints development messages to
/// the console; production has none to print.
pub async fn build(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    echo_mailbox: bool,
) -> anyhow::Result<App> {
    let deployment = settings.deployment()?;
    crate::private_files::prepare(settings)?;
    let base_url = settings.base_url()?;
    let (secrets_path, default_location) = settings.secrets_path();
    let secrets = crate::secrets::load(&secrets_path, default_location)?;
    let store = open_store(settings).await?;

    let h = &settings.password_hash;
    let workers = if h.workers == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
    } else {
        h.workers
    };
    let hasher = PasswordHasher::start(
        HashParams {
            memory_kib: h.memory_kib,
            iterations: h.iterations,
            parallelism: h.parallelism,
        },
        workers,
    )
    .context("password hashing")?;

    let (messenger, dev_mailbox, dev_mailbox_path): (Arc<dyn Messenger>, _, _) = match (
        &settings.smtp,
        &settings.sms_gateway,
    ) {
        (None, None) if matches!(deployment, Deployment::Development(_)) => {
            let path = dev_mailbox_path(settings);
            let mailbox = Arc::new(DevMailbox::new(
                path.clone(),
                Arc::clone(&clock),
                echo_mailbox,
            ));
            (
                mailbox.clone() as Arc<dyn Messenger>,
                Some(mailbox),
                Some(path),
            )
        }
        (Some(smtp), Some(sms)) => {
            let email = SmtpMailer::new(smtp).map_err(|e| anyhow::anyhow!("smtp: {e}"))?;
            let sms = HttpSmsGateway::new(sms.clone())
                .map_err(|e| anyhow::anyhow!("sms_gateway: {e}"))?;
            (
                Arc::new(ByChannel {
                    sms: Arc::new(sms),
                    email: Arc::new(email),
                }) as Arc<dyn Messenger>,
                None,
                None,
            )
        }
        (None, None) => {
            bail!("production has no development mailbox: configure [smtp] and [sms_gateway]")
        }
        _ => bail!(
            "configure both [smtp] and [sms_gateway] for real delivery, or neither for the development mailbox; \
             with only one, the other channel's messages would be lost"
        ),
    };

    let mut policy = Policy::new(base_url);
    policy.sends_per_contact_per_hour = settings.limits.sends_per_contact_per_hour;
    policy.sends_per_ip_per_hour = settings.limits.sends_per_ip_per_hour;
    policy.throttle_after_failures = settings.limits.throttle_after_failures;
    policy.lock_after_failures = settings.limits.lock_after_failures;
    policy.display_offset = settings.display_offset()?;

    let crypto = uslugi_app::crypto::Crypto::new(secrets);
    upgrade_sealed_values(store.as_ref(), &crypto).await?;
    let audit_head = Arc::new(crate::audit_head::FileHead::new(settings.audit_head_path()));
    let hasher = Arc::new(hasher);
    let printed_post = settings.post.range()?.map(|range| {
        Arc::new(uslugi_app::post::PrintedPost::new(
            store.clone(),
            range,
            Arc::clone(&clock),
        ))
    });
    let post: Arc<dyn uslugi_app::post::Post> = match &printed_post {
        Some(printed) => Arc::clone(printed) as Arc<dyn uslugi_app::post::Post>,
        None => Arc::new(
            uslugi_sim::SimPost::new(
                Arc::clone(&clock),
                time::Duration::seconds(
                    i64::try_from(settings.post_delivery_s).unwrap_or(i64::MAX),
                ),
                Some(settings.data_dir.join("post.jsonl")),
                dev_mailbox
                    .clone()
                    .map(|o| o as Arc<dyn uslugi_app::post::LetterCopy>),
            )
            .context("the post simulator's records")?
            .with_failure_rate(settings.post_failure_rate),
        ),
    };
    let mut deps =
        uslugi_app::Deps::new(store.clone(), messenger, hasher, crypto, Arc::clone(&clock));
    deps.messenger = Arc::new(crate::metrics::CountedMessenger(Arc::clone(
        &deps.messenger,
    )));
    deps.job_metrics = Arc::new(crate::metrics::JobsReported);
    let audit = deps.audit.clone();
    let letters = Arc::new(uslugi_app::letters::Letters::new(
        &deps,
        post,
        uslugi_app::letters::LetterPolicy::default(),
        &policy,
    ));
    let (gateway, sim) = registry_gateway(settings, Arc::clone(&clock)).await?;
    let verification = Arc::new(Verification::new(
        &deps,
        gateway,
        &policy,
        VerificationPolicy {
            submissions_per_account_per_hour: settings.limits.submissions_per_account_per_hour,
            submissions_per_ip_per_hour: settings.limits.submissions_per_ip_per_hour,
            ..VerificationPolicy::default()
        },
        Some(Arc::clone(&letters)),
    ));
    // The desk's code shares the SMS codes' life and the one limit per phone.
    let operator_policy = uslugi_app::operators::OperatorPolicy {
        desk_code_ttl: policy.sms_code_ttl,
        sends_per_phone_per_hour: policy.sends_per_contact_per_hour,
        ..uslugi_app::operators::OperatorPolicy::default()
    };
    let accounts = Accounts::new(&deps, policy.clone());
    let accounts = match &settings.places_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read places_file {}", path.display()))?;
            let places = uslugi_app::places::Places::parse(&text)
                .with_context(|| format!("places_file {}", path.display()))?;
            tracing::info!(networks = places.len(), "places of networks loaded");
            accounts.with_places(places)
        }
        None => accounts,
    };
    let centers = Arc::new(uslugi_app::centers::Centers::new(
        store.clone(),
        Arc::clone(&clock),
    ));
    let shipped = crate::centers_file::parse_json(crate::centers_file::SHIPPED)
        .context("the shipped list of service centers")?;
    let seeded = centers
        .seed_if_empty(&shipped)
        .await
        .context("loading the shipped list of service centers")?;
    if seeded > 0 {
        tracing::info!(
            centers = seeded,
            "loaded the shipped list of service centers"
        );
    }
    // A head file that cannot be kept stops the start: better than a node
    // whose log could lose its tail unnoticed.
    if let Err(uslugi_app::audit::HeadError::Keeper(e)) =
        audit.note_head(store.as_ref(), audit_head.as_ref()).await
    {
        bail!("audit_head_file: {e}");
    }
    let operators = uslugi_app::operators::Operators::new(
        &deps,
        operator_policy,
        &policy,
        Arc::clone(&centers),
        Arc::clone(&verification),
    );
    let (stop, shutdown) = uslugi_web::shutdown::channel();
    let state = AppState {
        count_requests: settings.metrics_listen.is_some(),
        shutdown,
        letters,
        operators: Arc::new(operators),
        centers,
        accounts: Arc::new(accounts),
        verification,
        dev_mailbox,
        readiness: Arc::new(StoreReadiness(store.clone())),
        forwarded_for: settings.forwarded_for()?,
    };
    Ok(App {
        state,
        store,
        dev_mailbox_path,
        sim,
        run_workers: settings.workers,
        deployment,
        audit,
        audit_head,
        stop,
        shutdown_grace: std::time::Duration::from_secs(settings.shutdown_grace_s),
        metrics: None,
        printed_post,
    })
}

/// The gateway to the registries: the simulator in this process (embedded
/// default), or a gateway at a URL.
async fn registry_gateway(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<dyn RegistryGateway>, Option<uslugi_sim::RunningSim>)> {
    let r = &settings.registries;
    let timeout = std::time::Duration::from_millis(r.timeout_ms);
    match r.gateway.as_str() {
        "sim" if settings.deployment()? == Deployment::Production => {
            bail!(
                "production has no registry simulator: set registries.gateway = \"http\" and registries.url"
            )
        }
        "sim" => {
            let sim = uslugi_sim::spawn_in_process(&r.sim.to_sim()?, clock)
                .await
                .context("cannot start the registry simulator")?;
            let gateway =
                HttpRegistryGateway::new(&sim.base_url, timeout).context("registry gateway")?;
            tracing::info!(
                citizens = sim.state.registry().citizens().len(),
                "registries: the simulator, in this process"
            );
            Ok((Arc::new(gateway), Some(sim)))
        }
        "http" => {
            let Some(url) = &r.url else {
                bail!("registries.url is needed when registries.gateway = \"http\"");
            };
            let gateway = HttpRegistryGateway::new(url, timeout).context("registries.url")?;
            Ok((Arc::new(gateway), None))
        }
        other => bail!("registries.gateway must be \"sim\" or \"http\", not \"{other}\""),
    }
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    mut app: App,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let accounts = Arc::clone(&app.state.accounts);
    let letters = Arc::clone(&app.state.letters);
    let operators = Arc::clone(&app.state.operators);
    let verification = Arc::clone(&app.state.verification);
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = accounts.sweep().await {
                tracing::warn!(error = %e, "sweeping expired records failed");
            }
            if let Err(e) = letters.sweep().await {
                tracing::warn!(error = %e, "wiping the codes of dead letters failed");
            }
            if let Err(e) = operators.sweep().await {
                tracing::warn!(error = %e, "sweeping console sessions failed");
            }
            if let Err(e) = verification.wipe_delivered_messages().await {
                tracing::warn!(error = %e, "emptying delivered messages failed");
            }
        }
    });
    // Every record is written in the transaction of what it records, by
    // whichever part of the product acted; at start, then once a second,
    // the head is noted outside the database if it moved (two indexed
    // reads when it did not), and once more at shutdown.
    let (audit, store, audit_head) = (
        app.audit.clone(),
        Arc::clone(&app.store),
        Arc::clone(&app.audit_head),
    );
    let witness = {
        let (audit, store, head) = (audit.clone(), Arc::clone(&store), Arc::clone(&audit_head));
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every.tick().await;
                note_audit_head(&audit, store.as_ref(), head.as_ref()).await;
            }
        })
    };
    let workers_alive = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers = app.run_workers.then(|| {
        let verification = Arc::clone(&app.state.verification);
        let stopping = app.state.shutdown.clone();
        let alive = Arc::clone(&workers_alive);
        alive.store(true, std::sync::atomic::Ordering::Relaxed);
        tokio::spawn(async move {
            run_workers(&verification, stopping).await;
            alive.store(false, std::sync::atomic::Ordering::Relaxed);
        })
    });
    let metrics = app.metrics.take().map(|exporter| {
        let router = crate::metrics::router(
            &exporter,
            Arc::clone(&app.store),
            Arc::clone(&workers_alive),
            app.run_workers,
            app.printed_post.clone(),
        );
        let mut begun = app.state.shutdown.clone();
        tokio::spawn(
            axum::serve(exporter.listener, router)
                .with_graceful_shutdown(async move { begun.begun().await })
                .into_future(),
        )
    });
    let mut stopping = app.state.shutdown.clone();
    let router = uslugi_web::router(app.state);
    let stop = app.stop;
    // The signal begins the stop: the listener closes (axum), the event
    // streams and the workers hear it; requests in flight finish.
    let server = tokio::spawn({
        let mut begun = stopping.clone();
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move { begun.begun().await })
        .into_future()
    });
    tokio::spawn(async move {
        shutdown.await;
        stop.stop();
    });
    let grace = app.shutdown_grace;
    let finished = async {
        let result = server.await.context("the server task failed")?;
        if let Some(w) = workers {
            w.await.context("the workers' task failed")?;
        }
        result.context("server failed")
    };
    tokio::pin!(finished);
    let result = tokio::select! {
        r = &mut finished => r,
        () = async {
            stopping.begun().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(
                grace_s = grace.as_secs(),
                "requests or workers still busy when the grace period ended; stopping anyway"
            );
            Ok(())
        }
    };
    sweeper.abort();
    witness.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    note_audit_head(&audit, store.as_ref(), audit_head.as_ref()).await;
    if let Some(sim) = app.sim {
        sim.task.abort();
    }
    result
}

/// Runs the registry checks and the outbox: at once when there is new work,
/// otherwise twice a second. State lives in the database, so several nodes
/// may run workers side by side.
/// On the node's stop the job in hand finishes (its lease is then
/// released by its outcome) and no other is taken.
async fn run_workers(verification: &Verification, mut stopping: uslugi_web::shutdown::Shutdown) {
    loop {
        if stopping.has_begun() {
            return;
        }
        match verification.run_once().await {
            Ok(done) if !done.is_idle() => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "background work failed; trying again shortly");
            }
        }
        tokio::select! {
            () = verification.wait_for_work() => {}
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            () = stopping.begun() => {}
        }
    }
}

/// Seals every sealed value again under the current key and in the current
/// format, column by column, a page at a time. A value changed meanwhile is
/// left to its writer (who sealed it under the current key already).
/// Returns how many values were re-sealed and how many could not be opened.
pub async fn reseal_all(
    store: &dyn Backend,
    crypto: &uslugi_app::crypto::Crypto,
) -> anyhow::Result<(u64, u64)> {
    let counts = reseal_each(store, |field, row, old| crypto.reseal(field, row, old)).await?;
    store
        .set_sealing_format(uslugi_app::crypto::SEAL_FORMAT)
        .await
        .context("noting the format of sealed values")?;
    Ok(counts)
}

/// Values sealed before each was bound to its row can be moved between
/// rows by whoever can write to the database. At a node's first start on
/// the current format they are all sealed again, bound to their rows, and
/// the database notes it, so later starts skip the walk and any legacy
/// value found afterwards is refused when read.
pub async fn upgrade_sealed_values(
    store: &dyn Backend,
    crypto: &uslugi_app::crypto::Crypto,
) -> anyhow::Result<()> {
    if store
        .sealing_format()
        .await
        .context("reading the format of sealed values")?
        >= uslugi_app::crypto::SEAL_FORMAT
    {
        return Ok(());
    }
    let (upgraded, failed) =
        reseal_each(store, |field, row, old| crypto.upgrade(field, row, old)).await?;
    if failed > 0 {
        // They could not be read before either; `admin rotate-keys` with the
        // missing key back in the secrets file upgrades them later.
        tracing::error!(
            failed,
            "sealed values could not be opened with the keys in the secrets file"
        );
    }
    store
        .set_sealing_format(uslugi_app::crypto::SEAL_FORMAT)
        .await
        .context("noting the format of sealed values")?;
    tracing::info!(upgraded, "sealed values bound to their rows");
    Ok(())
}

/// Moves every blind index from the key of `old` to the key of `new`,
/// computing each again from the sealed value it indexes, a page at a time
/// and each row only if it is unchanged. A row already under the new key
/// is skipped, so a rotation cut short is finished by running it again.
/// Returns how many indexes moved and how many rows matched neither key
/// (or whose value could not be read); those are left as they are.
pub async fn reindex_all(
    store: &dyn Backend,
    old: &uslugi_app::crypto::Crypto,
    new: &uslugi_app::crypto::Crypto,
) -> anyhow::Result<(u64, u64)> {
    use uslugi_app::blind_index::index_of;
    use uslugi_storage::BLIND_INDEXES;
    let (mut moved, mut failed) = (0u64, 0u64);
    for column in BLIND_INDEXES {
        let mut after = String::new();
        loop {
            let page = store
                .blind_index_rows(column, &after, 500)
                .await
                .with_context(|| format!("reading {}.{}", column.table, column.column))?;
            let Some((last, _, _)) = page.last() else {
                break;
            };
            let last = last.clone();
            for (key, index, source) in page {
                let indexes = source.as_deref().map(|sealed| {
                    (
                        index_of(old, column.field, column.indexed, &key, sealed),
                        index_of(new, column.field, column.indexed, &key, sealed),
                    )
                });
                match indexes {
                    Some((_, Ok(n))) if n == index => {}
                    Some((Ok(o), Ok(n))) if o == index => {
                        if store.replace_blind_index(column, &key, &o, &n).await? {
                            moved += 1;
                        }
                    }
                    _ => {
                        // The key is not named: it identifies a person's row.
                        tracing::error!(
                            table = column.table,
                            column = column.column,
                            "a blind index matches neither key, or its value cannot be read"
                        );
                        failed += 1;
                    }
                }
            }
            after = last;
        }
    }
    Ok((moved, failed))
}

async fn reseal_each(
    store: &dyn Backend,
    reseal: impl Fn(
        uslugi_app::crypto::SealedField,
        &str,
        &[u8],
    ) -> Result<Option<Vec<u8>>, uslugi_app::crypto::CryptoError>,
) -> anyhow::Result<(u64, u64)> {
    let (mut resealed, mut failed) = (0u64, 0u64);
    for column in uslugi_storage::SEALED_COLUMNS {
        let mut after = String::new();
        loop {
            let page = store
                .sealed_values(column, &after, 500)
                .await
                .with_context(|| format!("reading {}.{}", column.table, column.column))?;
            let Some((last, _)) = page.last() else { break };
            let last = last.clone();
            for (key, old) in page {
                match reseal(column.field, &key, &old) {
                    Ok(Some(new)) => {
                        if store.replace_sealed(column, &key, &old, &new).await? {
                            resealed += 1;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        // The key is not named: it identifies a person's row.
                        tracing::error!(table = column.table, column = column.column, error = %e, "a sealed value cannot be opened");
                        failed += 1;
                    }
                }
            }
            after = last;
        }
    }
    Ok((resealed, failed))
}
