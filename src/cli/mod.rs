//! The `uslugi` command line.
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{Deployment, DevelopmentBecause, Overrides, Settings};

mod admin;
mod admin_account;
mod backup;
mod logging;

use admin::AdminCommand;

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
    /// How lines are written to standard error: text, or JSON lines for a
    /// log shipper (also USLUGI_LOG_FORMAT, or log_format in the file).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    log_format: Option<crate::config::LogFormat>,
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

/// What `serve` reads besides the file and the environment.
#[derive(Args)]
struct ServeArgs {
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
    /// Serve /metrics, /health/live and /health/ready on this second
    /// address (also USLUGI_METRICS_LISTEN; off by default).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Development mode on any address (also USLUGI_DEV=1): the
    /// development mailbox and the simulators stand in for SMTP, the SMS
    /// gateway and the registries. Without it, that is only on a loopback listener
    /// with a loopback base URL; elsewhere they must be configured.
    #[arg(long)]
    dev: bool,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the settings in effect and every problem; exit 0, or 2.
    Check(ServeArgs),
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal: pages, JSON API and background work, in one process.
    Serve(ServeArgs),
    /// The settings: `config check` prints those in effect (the same layers
    /// as `serve`: file, environment, flags; secrets redacted) and every
    /// problem, and exits 2 if there is one.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
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

fn serve_settings(config: Option<&PathBuf>, args: ServeArgs) -> anyhow::Result<Settings> {
    settings_with_sim(
        config,
        args.listen,
        &args.common,
        &args.sim,
        args.post_delivery_s,
        args.dev,
        args.metrics_listen,
    )
}

fn settings(
    config: Option<&PathBuf>,
    listen: Option<String>,
    common: &Common,
) -> anyhow::Result<Settings> {
    settings_with_sim(
        config,
        listen,
        common,
        &SimFlags::default(),
        None,
        false,
        None,
    )
}

fn settings_with_sim(
    config: Option<&PathBuf>,
    listen: Option<String>,
    common: &Common,
    sim: &SimFlags,
    post_delivery_s: Option<u64>,
    dev: bool,
    metrics_listen: Option<String>,
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
        metrics_listen,
    };
    let (settings, unknown) = Settings::load(config.map(PathBuf::as_path), &env, &overrides)?;
    logging::apply(settings.log_format);
    for key in unknown {
        tracing::warn!(setting = %key, "unknown setting ignored");
    }
    Ok(settings)
}

/// `--version`: the release and the schema it makes (what `migrate` leaves
/// and a node of this release expects), for upgrade notes and support.
fn version() -> String {
    format!(
        "{} (migration level {})",
        env!("CARGO_PKG_VERSION"),
        uslugi_storage::migration_level()
    )
}

pub fn main() -> ExitCode {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let matches = Cli::command().version(version()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    logging::init(
        logging::early_format(cli.log_format),
        cli.log_format.is_some(),
    );
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
            logging::say_error(&format!("error: {e:#}"));
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
        Command::Config {
            command: ConfigCommand::Check(args),
        } => {
            let settings = match serve_settings(config, args) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("problem: {e:#}");
                    return Ok(ExitCode::from(2));
                }
            };
            println!("{}", settings.redacted()?);
            let problems = settings.problems();
            if problems.is_empty() {
                println!("# no problems");
                return Ok(ExitCode::SUCCESS);
            }
            for problem in &problems {
                eprintln!("problem: {problem}");
            }
            Ok(ExitCode::from(2))
        }
        Command::Serve(args) => {
            let settings = match serve_settings(config, args) {
                Ok(s) => s,
                Err(e) => {
                    logging::say_error(&format!("cannot start: {e:#}"));
                    return Ok(ExitCode::from(2));
                }
            };
            // Every problem the settings have is told, each on its line,
            // before anything is created, generated, migrated or bound.
            let problems = settings.problems();
            if !problems.is_empty() {
                for problem in &problems {
                    logging::say_error(&format!("cannot start: {problem}"));
                }
                return Ok(ExitCode::from(2));
            }
            let addr = settings.listen_addr()?;
            // The recorder first, so the node's start is counted too.
            let exporter = match &settings.metrics_listen {
                Some(listen) => Some(crate::metrics::exporter(listen).await?),
                None => None,
            };
            // In JSON mode every line is a log line: the mailbox is not
            // echoed (its messages stay at /dev/outbox), as codes must not
            // reach a log shipper.
            let echo = !logging::is_json();
            let mut app =
                crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), echo).await?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            if let Some(exporter) = exporter {
                logging::say(&format!(
                    "metrics: http://{}/metrics, /health/live, /health/ready",
                    exporter.listener.local_addr()?
                ));
                app.metrics = Some(exporter);
            }
            let base = settings.base_url()?;
            if let Deployment::Development(because) = app.deployment {
                logging::say(&development_banner(because, &app));
            }
            logging::say(&format!(
                "uslugi is listening on http://{} — open {base}/",
                listener.local_addr()?
            ));
            logging::say(&format!(
                "database: {}",
                uslugi_storage::redact_url(&settings.database_url())
            ));
            if let Some(path) = &app.dev_mailbox_path {
                logging::say(&format!(
                    "messages go to the development mailbox: {base}/dev/outbox, {base}/dev/outbox.json (from this machine only), `uslugi outbox` ({})",
                    path.display()
                ));
            }
            if let Some(post) = &app.printed_post {
                let left = post.numbers_left().await?;
                tracing::info!(
                    tracking_numbers_left = left,
                    "letters are printed here: each takes the next number of the allocated range; print the day's batch with `uslugi admin letters export`, move letters along with `uslugi admin letters import-tracking`"
                );
                if post.running_low(left) {
                    tracing::warn!(
                        tracking_numbers_left = left,
                        "few tracking numbers are left: ask the post for the next range"
                    );
                }
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
        Command::Admin { command } => admin::run(config, command).await,
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
            // The node itself, on its listener: not `base_url`, which names
            // the public address in front of every node.
            let base = match url {
                Some(u) => u,
                None => local_url(&settings(config, None, &Common::default())?.listen),
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

/// Where this machine reaches a node listening on `listen`: an address of
/// every interface is reached on loopback.
fn local_url(listen: &str) -> String {
    match listen.parse::<std::net::SocketAddr>() {
        Ok(mut at) if at.ip().is_unspecified() => {
            at.set_ip(if at.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
            format!("http://{at}")
        }
        _ => format!("http://{listen}"),
    }
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
