//! The `uslugi` command line.
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{Deployment, DevelopmentBecause, Overrides, Settings};

#[derive(Parser)]
#[command(
    name = "uslugi",
    version,
    about = "State-services portal with its citizen identity system",
    long_about = "State-services portal with its citizen identity system.\n\n\
        With no configuration, `uslugi serve` starts on 127.0.0.1:8080 and keeps everything \
        (SQLite database, generated secrets, development mailbox of SMS and e-mail) in ./uslugi-data.\n\
        Settings come from defaults, then the TOML file (--config / USLUGI_CONFIG), then USLUGI_… \
        environment variables (nested keys with __, secrets from …_FILE), then flags."
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "USLUGI_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct Common {
    /// Directory for the SQLite database, generated secrets and the development mailbox.
    #[arg(long, env = "USLUGI_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB (PostgreSQL for several nodes).
    #[arg(long, env = "USLUGI_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
}

/// The in-process registry simulator of `serve` (also `USLUGI_SIM_CITIZENS_FILE`,
/// `USLUGI_SIM_DELAY_MS`, `USLUGI_SIM_FAILURE_RATE`, or `[registries.sim]`).
#[derive(Args, Clone, Default)]
struct SimFlags {
    /// Citizens the simulated registries know (JSON array; also USLUGI_SIM_CITIZENS_FILE); default: the demo set.
    #[arg(long, value_name = "FILE")]
    sim_citizens: Option<PathBuf>,
    /// How long a simulated registry takes to answer, in ms: MIN or MIN-MAX (also USLUGI_SIM_DELAY_MS; default 2000-5000).
    #[arg(long, value_name = "MIN[-MAX]", value_parser = check_delay)]
    sim_delay_ms: Option<String>,
    /// Share of simulated registry calls that fail, 0 to 1 (also USLUGI_SIM_FAILURE_RATE; default 0.05).
    #[arg(long, value_name = "R", value_parser = uslugi_sim::parse_failure_rate)]
    sim_failure_rate: Option<f64>,
}

fn check_delay(s: &str) -> Result<String, uslugi_sim::SettingsError> {
    uslugi_sim::parse_delay_ms(s).map(|_| s.to_owned())
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal: pages, JSON API and background work, in one process.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "USLUGI_LISTEN", value_name = "ADDR")]
        listen: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        sim: SimFlags,
        /// How long the simulated post takes to hand a letter over, in seconds
        /// (also USLUGI_POST_DELIVERY_S; default 1209600, two weeks).
        #[arg(long, value_name = "N")]
        post_delivery_s: Option<u64>,
        /// Development mode on any address (also USLUGI_DEV=1): the
        /// development mailbox and the simulators stand in for SMTP, the SMS
        /// gateway and the registries. Without it, that is only on a loopback listener
        /// with a loopback base URL; elsewhere they must be configured.
        #[arg(long)]
        dev: bool,
    },
    /// Apply database migrations and exit (serve also does this at start).
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Show the messages held by the development mailbox (embedded default), newest first.
    // The command's name is older than the mailbox's, and developers' scripts
    // call it: it stays.
    Outbox {
        #[command(flatten)]
        common: Common,
        /// Print JSON, as /dev/outbox.json does.
        #[arg(long)]
        json: bool,
        /// Show at most this many messages.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Administration: accounts and keys.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The registry simulator: stands in for the Social Fund and the Interior Ministry.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Check that a running node answers and its database is reachable (exit 0 if so).
    Healthcheck {
        /// Base URL of the node (default: http:// plus the listen address).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum SimCommand {
    /// Serve the simulated registries over HTTP (protocol: docs/registries.md).
    Serve {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// Citizens' records (JSON array); without it, the built-in demo set.
        #[arg(long, value_name = "FILE")]
        citizens: Option<PathBuf>,
        /// How long an answer takes, in milliseconds: MIN or MIN-MAX.
        #[arg(long, value_name = "MIN[-MAX]", default_value = "2000-5000")]
        delay_ms: String,
        /// Share of calls that fail (503 or timeout), from 0 to 1.
        #[arg(long, value_name = "R", value_parser = uslugi_sim::parse_failure_rate, default_value_t = uslugi_sim::DEFAULT_FAILURE_RATE)]
        failure_rate: f64,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Lift the throttling and lock of an account after repeated wrong passwords.
    Unlock {
        /// The account's phone, e-mail or SNILS.
        login: String,
        #[command(flatten)]
        common: Common,
    },
    /// Seal all personal data in the database under a new encryption key
    /// (added to the secrets file and made current; the old keys stay there so
    /// nodes not yet given the new file keep working). Copy the file to every
    /// node and restart them; then run with --retire.
    RotateKeys {
        /// Do not add a key: re-seal what is still under old keys with the
        /// current one, then remove the old keys from the secrets file.
        #[arg(long)]
        retire: bool,
        /// Replace the keyed-hash key of the blind indexes (phone, e-mail,
        /// SNILS, passport) and compute every index again under the new
        /// one. Stop every node first; copy the file to every node before
        /// starting them again. A node does not start while a rotation is
        /// unfinished; running the command again finishes it.
        #[arg(long, conflicts_with = "retire")]
        keyed_hash: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Service centers: import and export (CSV or JSON, by the file's extension).
    Centers {
        #[command(subcommand)]
        command: CentersCommand,
    },
    /// Keys for hashing and encryption.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Service-center operators: add one (prints a one-time enrolment link), list, disable.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Letters with identity codes, for the mailing center.
    Letters {
        #[command(subcommand)]
        command: LettersCommand,
    },
    /// The append-only audit log of security events.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Operator,
    Supervisor,
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator of a service center and print the one-time link with
    /// which they choose a login and password and enrol their authenticator
    /// app (valid 72 hours).
    Add {
        /// The service center's id (see `uslugi admin centers export`).
        #[arg(long, value_name = "ID")]
        center: String,
        /// `operator` serves citizens; `supervisor` also reads the center's audit records.
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        common: Common,
    },
    /// List the operators of every center.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Disable an operator: their sessions end at once and they cannot log in.
    Disable {
        /// The operator's id (from `list`).
        id: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum LettersCommand {
    /// Write the letters handed to the post on a day as a PDF ready to print
    /// (one page per letter) and a CSV registry of the batch.
    Export {
        /// The day, YYYY-MM-DD or DD.MM.YYYY, in the portal's display time.
        #[arg(long, value_name = "D")]
        date: String,
        /// Folder for letters-D.pdf and letters-D.csv.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check that every record links to the one before it (exit 1 if not).
    Verify {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum CentersCommand {
    /// Add or replace the centers of FILE (.csv or .json), all or none: every
    /// center is checked before any is written.
    Import {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Write every center to FILE (.csv or .json).
    Export {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Write a new secrets file (for the first node of a PostgreSQL deployment).
    Generate {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn settings(
    config: Option<&PathBuf>,
    listen: Option<String>,
    common: &Common,
) -> anyhow::Result<Settings> {
    settings_with_sim(config, listen, common, &SimFlags::default(), None, false)
}

fn settings_with_sim(
    config: Option<&PathBuf>,
    listen: Option<String>,
    common: &Common,
    sim: &SimFlags,
    post_delivery_s: Option<u64>,
    dev: bool,
) -> anyhow::Result<Settings> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let overrides = Overrides {
        listen,
        dev,
        data_dir: common.data_dir.clone(),
        database_url: common.database_url.clone(),
        sim_citizens_file: sim.sim_citizens.clone(),
        sim_delay_ms: sim.sim_delay_ms.clone(),
        sim_failure_rate: sim.sim_failure_rate,
        post_delivery_s,
    };
    let (settings, unknown) = Settings::load(config.map(PathBuf::as_path), &env, &overrides)?;
    for key in unknown {
        tracing::warn!(setting = %key, "unknown setting ignored");
    }
    Ok(settings)
}

fn init_logging() {
    let filter: tracing_subscriber::filter::Targets = std::env::var("USLUGI_LOG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| "info".parse().expect("static filter"));
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            // A configuration to correct, not a failure to retry: service
            // managers are told apart by the code.
            if e.downcast_ref::<crate::config::ProductionNotConfigured>()
                .is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_ref();
    match cli.command {
        Command::Serve {
            listen,
            common,
            sim,
            post_delivery_s,
            dev,
        } => {
            let settings = settings_with_sim(config, listen, &common, &sim, post_delivery_s, dev)?;
            let addr = settings.listen_addr()?;
            let app =
                crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), true).await?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let base = settings.base_url()?;
            if let Deployment::Development(because) = app.deployment {
                println!("{}", development_banner(because, &app));
            }
            println!(
                "uslugi is listening on http://{} — open {base}/",
                listener.local_addr()?
            );
            println!(
                "database: {}",
                uslugi_storage::redact_url(&settings.database_url())
            );
            if let Some(path) = &app.dev_mailbox_path {
                println!(
                    "messages go to the development mailbox: {base}/dev/outbox, {base}/dev/outbox.json (from this machine only), `uslugi outbox` ({})",
                    path.display()
                );
            }
            if app.deployment == Deployment::Production {
                // No adapter to Russian Post's API exists yet: the letters
                // are printed from `admin letters export`, and the built-in
                // post keeps their tracking numbers.
                tracing::info!(
                    "letters: the built-in post assigns tracking numbers; print the letters with `uslugi admin letters export`"
                );
            }
            crate::server::serve(app, listener, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { common } => {
            let settings = settings(config, None, &common)?;
            crate::server::open_store(&settings).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox {
            common,
            json,
            limit,
        } => {
            let settings = settings(config, None, &common)?;
            let entries =
                uslugi_adapters::dev_mailbox::read(&crate::server::dev_mailbox_path(&settings))
                    .await?;
            let entries: Vec<_> = entries.into_iter().take(limit).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else if entries.is_empty() {
                println!("the development mailbox is empty");
            } else {
                for m in entries {
                    println!("— {} {} to {}", m.created_at, m.channel, m.to);
                    if !m.subject.is_empty() {
                        println!("  {}", m.subject);
                    }
                    for line in m.body.lines() {
                        println!("  {line}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command: AdminCommand::Unlock { login, common },
        } => {
            let settings = settings(config, None, &common)?;
            let app =
                crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
            let unlocked = app.state.identity.unlock(&login).await?;
            app.note_audit_head().await;
            if unlocked {
                println!("unlocked");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no account with that phone, e-mail or SNILS");
                Ok(ExitCode::from(2))
            }
        }
        Command::Admin {
            command: AdminCommand::Centers { command },
        } => {
            let (file, common, import) = match command {
                CentersCommand::Import { file, common } => (file, common, true),
                CentersCommand::Export { file, common } => (file, common, false),
            };
            let settings = settings(config, None, &common)?;
            let store = crate::server::open_store(&settings).await?;
            let centers =
                uslugi_app::centers::Centers::new(store, Arc::new(uslugi_app::SystemClock));
            if import {
                let list = crate::centers_file::read(&file)?;
                let n = centers.import(&list).await?;
                println!("imported {n} centers from {}", file.display());
            } else {
                let list = centers.all().await?;
                crate::centers_file::write(&file, &list)?;
                println!("exported {} centers to {}", list.len(), file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::RotateKeys {
                    keyed_hash: true,
                    common,
                    ..
                },
        } => {
            let settings = settings(config, None, &common)?;
            let (path, _) = settings.secrets_path();
            let (old, new) = crate::secrets::begin_index_rotation(&path)?;
            let store = crate::server::open_store(&settings).await?;
            let (old, new) = (
                uslugi_app::crypto::Crypto::new(old),
                uslugi_app::crypto::Crypto::new(new),
            );
            // The indexes are computed from sealed values: those of an older
            // version are bound to their rows first, as a start would.
            crate::server::upgrade_sealed_values(store.as_ref(), &old).await?;
            let (moved, failed) = crate::server::reindex_all(store.as_ref(), &old, &new).await?;
            crate::secrets::finish_index_rotation(&path)?;
            println!(
                "the blind indexes are under a new key in {}: {moved} moved",
                path.display()
            );
            println!("copy {} to every node, then start them", path.display());
            if failed > 0 {
                eprintln!(
                    "{failed} indexes matched neither key or their values could not be read; \
                     they were left as they are (the log names their tables)"
                );
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command: AdminCommand::RotateKeys { retire, common, .. },
        } => {
            let settings = settings(config, None, &common)?;
            let (path, default_location) = settings.secrets_path();
            crate::secrets::load(&path, default_location)?;
            if !retire {
                let id = crate::secrets::add_key(&path)?;
                println!("new encryption key {id} is current in {}", path.display());
            }
            let secrets = crate::secrets::load(&path, false)?;
            let store = crate::server::open_store(&settings).await?;
            let crypto = uslugi_app::crypto::Crypto::new(secrets);
            let (resealed, failed) = crate::server::reseal_all(store.as_ref(), &crypto).await?;
            println!("re-sealed {resealed} values under the current key");
            if failed > 0 {
                eprintln!(
                    "{failed} values could not be opened with any key in the file; they were left as they are"
                );
                return Ok(ExitCode::FAILURE);
            }
            if retire {
                let retired = crate::secrets::retire_old_keys(&path)?;
                println!("retired keys {retired:?}; every value is under the current key");
            } else {
                println!(
                    "copy {} to every node and restart them; then run `uslugi admin rotate-keys --retire`",
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::Secrets {
                    command: SecretsCommand::Generate { out },
                },
        } => {
            crate::secrets::write_new(&out)?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command: AdminCommand::Operator { command },
        } => admin_operator(config, command).await,
        Command::Admin {
            command:
                AdminCommand::Letters {
                    command: LettersCommand::Export { date, out, common },
                },
        } => {
            let day = crate::letters_file::parse_date(&date)?;
            let settings = settings(config, None, &common)?;
            let app =
                crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
            let (pdf, csv, n) = crate::letters_file::export(
                &app.state.letters,
                day,
                &out,
                &settings.letter_sender,
                &settings.base_url()?,
            )
            .await?;
            app.note_audit_head().await;
            println!(
                "{n} letters of {day}: {} and {}",
                pdf.display(),
                csv.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::Audit {
                    command: AuditCommand::Verify { common },
                },
        } => {
            let settings = settings(config, None, &common)?;
            let (path, default_location) = settings.secrets_path();
            let secrets = crate::secrets::load(&path, default_location)?;
            let store = crate::server::open_store(&settings).await?;
            let log = uslugi_app::audit::AuditLog::new(Arc::new(uslugi_app::crypto::Crypto::new(
                secrets,
            )));
            let head = crate::audit_head::FileHead::new(settings.audit_head_path());
            let kept = uslugi_app::audit::AuditHeadKeeper::read(&head)?;
            let report = log.verify_against(store.as_ref(), kept.as_ref()).await?;
            match report.first_problem {
                None => {
                    println!(
                        "the audit log is whole: {} records, each linked to the one before",
                        report.records
                    );
                    match kept {
                        Some(k) => println!(
                            "it holds record {} as the head file {} saw it written",
                            k.seq,
                            head.path().display()
                        ),
                        None => eprintln!(
                            "warning: no audit head file at {}: records cut from the end cannot be told from here \
                             (give this command the node's data directory or USLUGI_AUDIT_HEAD_FILE)",
                            head.path().display()
                        ),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, problem)) => {
                    eprintln!(
                        "the audit log is broken at record {seq}: {problem} ({} records before it are sound)",
                        report.records
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Sim {
            command:
                SimCommand::Serve {
                    listen,
                    citizens,
                    delay_ms,
                    failure_rate,
                },
        } => {
            let settings =
                uslugi_sim::SimSettings::from_parts(citizens, Some(&delay_ms), Some(failure_rate))?;
            println!("registry simulator listening on http://{listen}");
            uslugi_sim::serve_standalone(listen, &settings, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url } => {
            let base = match url {
                Some(u) => u,
                None => settings(config, None, &Common::default())?.base_url()?,
            };
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()?;
            match client
                .get(format!("{}/health", base.trim_end_matches('/')))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {
                    println!("ok");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(r) => {
                    eprintln!("unhealthy: {}", r.status());
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => {
                    eprintln!("unreachable: {}", e.without_url());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

async fn admin_operator(
    config: Option<&PathBuf>,
    command: OperatorCommand,
) -> anyhow::Result<ExitCode> {
    let common = match &command {
        OperatorCommand::Add { common, .. }
        | OperatorCommand::List { common }
        | OperatorCommand::Disable { common, .. } => common.clone(),
    };
    let settings = settings(config, None, &common)?;
    let app = crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
    let operators = &app.state.operators;
    let outcome = match command {
        OperatorCommand::Add { center, role, .. } => {
            let role = match role {
                RoleArg::Operator => uslugi_domain::OperatorRole::Operator,
                RoleArg::Supervisor => uslugi_domain::OperatorRole::Supervisor,
            };
            match operators.add(&center, role).await {
                Ok(op) => {
                    println!("operator {} of {center} ({role}) added", op.id);
                    println!(
                        "one-time enrolment link (give it to the operator only; valid until {}):",
                        op.expires_at
                            .format(&time::format_description::well_known::Rfc3339)?
                    );
                    println!("{}", op.enrolment_link);
                    Ok(ExitCode::SUCCESS)
                }
                Err(uslugi_app::operators::AddOperatorError::UnknownCenter) => {
                    eprintln!(
                        "no service center with id {center:?}; `uslugi admin centers export centers.csv` lists them"
                    );
                    Ok(ExitCode::from(2))
                }
                Err(uslugi_app::operators::AddOperatorError::Internal(e)) => Err(e.into()),
            }
        }
        OperatorCommand::List { .. } => {
            let list = operators.list().await?;
            if list.is_empty() {
                println!(
                    "no operators yet: `uslugi admin operator add --center ID --role operator`"
                );
            }
            for o in list {
                let state = if o.disabled {
                    "disabled"
                } else if o.enrolled {
                    "active"
                } else {
                    "waiting for enrolment"
                };
                println!(
                    "{}  {}  {}  {}  {}  {state}",
                    o.id,
                    o.center_id,
                    o.role,
                    o.login.as_deref().unwrap_or("-"),
                    o.name.as_deref().unwrap_or("-"),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        OperatorCommand::Disable { id, .. } => {
            let Ok(id) = id.parse() else {
                eprintln!("{id:?} is not an operator id");
                return Ok(ExitCode::from(2));
            };
            if operators.disable(id).await? {
                println!("disabled; the operator's sessions have ended");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no such active operator");
                Ok(ExitCode::from(2))
            }
        }
    };
    // The records just written are noted outside the database at once.
    app.note_audit_head().await;
    outcome
}

/// Says, in capitals, that this node is not for real people, and what
/// stands in for what.
fn development_banner(because: DevelopmentBecause, app: &crate::server::App) -> String {
    let why = match because {
        DevelopmentBecause::Loopback => "listening on loopback only",
        DevelopmentBecause::Asked => "asked for with --dev / USLUGI_DEV",
    };
    let mut stand_ins = Vec::new();
    if app.dev_mailbox_path.is_some() {
        stand_ins.push("SMS and e-mail go to the development mailbox and are printed here");
    }
    if app.sim.is_some() {
        stand_ins.push("the registries are simulated");
    }
    stand_ins.push("the post is simulated");
    format!(
        "DEVELOPMENT MODE ({why}): {}. NOT FOR REAL PEOPLE'S DATA.",
        stand_ins.join("; ")
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
