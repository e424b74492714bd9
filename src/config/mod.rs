//! Settings, layered: defaults → TOML file → `USLUGI_…` environment → flags.
//! Nested keys are reached from the environment with `__`, e.g.
//! `USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR=100`. Secrets (the database URL, the
//! SMTP password, the SMS gateway's auth header) may come from a file named
//! by the variable with `_FILE` appended.
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use uslugi_adapters::{SmsGatewaySettings, SmtpSettings};

mod deployment;
mod layers;
mod sections;

pub use deployment::{Deployment, DevelopmentBecause, ProductionNotConfigured, check_base_url};
pub use layers::Overrides;
pub use sections::{
    LetterSender, LimitSettings, PasswordHashSettings, PostSettings, RegistrySettings,
    RegistrySimSettings,
};

/// `log_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub listen: String,
    /// Development mode whatever `listen` and `base_url` say (also `--dev`,
    /// `USLUGI_DEV=1`): the development mailbox and the simulators stand in for
    /// real transports and gateways. Without it, development mode is only
    /// for a loopback listener with a loopback (or unset) `base_url`.
    pub dev: bool,
    pub data_dir: PathBuf,
    /// `sqlite://…` (default: a file in the data directory) or `postgres://…`.
    pub database_url: Option<String>,
    /// The public address of the portal; links in messages are built from it.
    pub base_url: Option<String>,
    /// The reverse proxies in front of the portal (networks, `10.0.0.0/8`,
    /// or addresses): a request from one of them is from the rightmost
    /// `X-Forwarded-For` hop that is not one of them.
    pub trusted_proxies: Vec<String>,
    /// Older, all or nothing: believe every peer's `X-Forwarded-For` and
    /// take its last hop. `trusted_proxies` replaces it (and wins).
    pub trust_forwarded_for: bool,
    /// Keys for hashing and encryption (default: `secrets.toml` in the data
    /// directory, generated on first start).
    pub secrets_file: Option<PathBuf>,
    /// Where the audit chain's head is kept outside the database (default:
    /// `audit-head` in the data directory); `admin audit verify` compares it.
    pub audit_head_file: Option<PathBuf>,
    /// Offset in which times are shown to people, e.g. "+03:00" (Moscow).
    pub display_utc_offset: String,
    /// A CSV file of networks and their places (`95.165.0.0/16,Москва`): the
    /// sessions page, the history and the notice of a new device then name
    /// the approximate place. None ships with uslugi.
    pub places_file: Option<PathBuf>,
    pub password_hash: PasswordHashSettings,
    pub limits: LimitSettings,
    pub smtp: Option<SmtpSettings>,
    pub sms_gateway: Option<SmsGatewaySettings>,
    pub registries: RegistrySettings,
    /// How the process writes its lines: `text` or `json` (JSON lines).
    pub log_format: LogFormat,
    /// A second listener for `/metrics` (Prometheus), `/health/live` and
    /// `/health/ready`, e.g. `127.0.0.1:9090`; off when unset. Keep it off
    /// the public network.
    pub metrics_listen: Option<String>,
    /// How long a stopping node (SIGTERM) waits for requests in flight and
    /// its workers before it exits anyway, in seconds.
    pub shutdown_grace_s: u64,
    /// Run the background work (registry checks, the outbox) on this node.
    /// Off for nodes that only serve pages when others do the work; the state
    /// is in the database, so any number of nodes may run it.
    pub workers: bool,
    /// How long the simulated post takes to hand a letter over, in seconds
    /// (about two weeks; seconds in tests).
    pub post_delivery_s: u64,
    /// The share of letters the simulated post refuses at first (the portal
    /// hands them over again).
    pub post_failure_rate: f64,
    /// Who the letters with identity codes are from, as printed on them.
    pub letter_sender: LetterSender,
    /// How letters reach the post: simulated, or printed here.
    pub post: PostSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            dev: false,
            data_dir: PathBuf::from("./uslugi-data"),
            database_url: None,
            base_url: None,
            trusted_proxies: Vec::new(),
            trust_forwarded_for: false,
            secrets_file: None,
            audit_head_file: None,
            display_utc_offset: "+03:00".into(),
            places_file: None,
            password_hash: PasswordHashSettings::default(),
            limits: LimitSettings::default(),
            smtp: None,
            sms_gateway: None,
            registries: RegistrySettings::default(),
            workers: true,
            post_delivery_s: u64::try_from(uslugi_sim::DEFAULT_DELIVERY.whole_seconds())
                .unwrap_or(1_209_600),
            post_failure_rate: 0.02,
            shutdown_grace_s: 10,
            metrics_listen: None,
            log_format: LogFormat::Text,
            letter_sender: LetterSender::default(),
            post: PostSettings::default(),
        }
    }
}

impl Settings {
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| {
            format!(
                "listen: '{}' is not an address like 127.0.0.1:8080",
                self.listen
            )
        })
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("uslugi.db").display()))
    }

    pub fn base_url(&self) -> anyhow::Result<String> {
        let url = match &self.base_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        };
        check_base_url(&url)?;
        Ok(url)
    }

    pub fn audit_head_path(&self) -> PathBuf {
        self.audit_head_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("audit-head"))
    }

    /// Every problem the settings have that can be found without touching
    /// anything (no file written, no database opened, nothing sent): what
    /// `config check` prints and what stops `serve` before it does anything.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut note = |r: anyhow::Result<()>| {
            if let Err(e) = r {
                problems.push(format!("{e:#}"));
            }
        };
        note(self.listen_addr().map(drop));
        if self.base_url.is_some() {
            note(self.base_url().map(drop));
        }
        note(self.display_offset().map(drop));
        note(self.forwarded_for().map(drop));
        note(self.post.range().map(drop));
        if self.registries.gateway == "sim" {
            note(
                self.registries
                    .sim
                    .to_sim()
                    .map(drop)
                    .context("registries.sim"),
            );
        }
        if let Some(smtp) = &self.smtp {
            note(
                uslugi_adapters::SmtpMailer::new(smtp)
                    .map(drop)
                    .map_err(|e| anyhow::anyhow!("smtp: {e}")),
            );
        }
        if let Some(sms) = &self.sms_gateway {
            note(
                uslugi_adapters::HttpSmsGateway::new(sms.clone())
                    .map(drop)
                    .map_err(|e| anyhow::anyhow!("sms_gateway: {e}")),
            );
        }
        if let Some(path) = &self.places_file {
            note(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read places_file {}", path.display()))
                    .and_then(|text| {
                        uslugi_app::places::Places::parse(&text)
                            .map(drop)
                            .with_context(|| format!("places_file {}", path.display()))
                    }),
            );
        }
        // Production's refusal says why it is production and what is
        // missing, a line each.
        note(self.deployment().map(drop));
        problems
    }

    /// The settings in effect, as TOML, with passwords, tokens and the
    /// database's password replaced by `[redacted]`.
    pub fn redacted(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        if let Some(url) = &shown.database_url {
            shown.database_url = Some(uslugi_storage::redact_url(url));
        }
        if let Some(smtp) = &mut shown.smtp
            && smtp.password.is_some()
        {
            smtp.password = Some("[redacted]".into());
        }
        if let Some(sms) = &mut shown.sms_gateway {
            // Either may hold the gateway's key.
            for secret in [&mut sms.auth_header, &mut sms.body_template] {
                if secret.is_some() {
                    *secret = Some("[redacted]".into());
                }
            }
        }
        toml::to_string(&shown).context("the settings do not serialize")
    }

    /// Whose `X-Forwarded-For` is believed; an entry of `trusted_proxies`
    /// that is no network stops the start, naming it.
    pub fn forwarded_for(&self) -> anyhow::Result<uslugi_web::http::ForwardedFor> {
        use uslugi_web::http::ForwardedFor;
        if self.trusted_proxies.is_empty() {
            return Ok(if self.trust_forwarded_for {
                ForwardedFor::LastHop
            } else {
                ForwardedFor::Ignored
            });
        }
        let networks = self
            .trusted_proxies
            .iter()
            .map(|p| {
                uslugi_domain::IpNetwork::parse(p)
                    .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(ForwardedFor::Proxies(networks.into()))
    }

    pub fn secrets_path(&self) -> (PathBuf, bool) {
        match &self.secrets_file {
            Some(p) => (p.clone(), false),
            None => (self.data_dir.join("secrets.toml"), true),
        }
    }

    pub fn display_offset(&self) -> anyhow::Result<time::UtcOffset> {
        let format =
            time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
        time::UtcOffset::parse(&self.display_utc_offset, &format).with_context(|| {
            format!(
                "display_utc_offset: '{}' is not like +03:00",
                self.display_utc_offset
            )
        })
    }
}

/// The environment as `Settings::load` takes it, from literal pairs.
#[cfg(test)]
fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}
