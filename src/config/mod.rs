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
    LetterSender, LimitSettings, PasswordHashSettings, RegistrySettings, RegistrySimSettings,
};

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
    /// Believe `X-Forwarded-For` (only behind your own reverse proxy).
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            dev: false,
            data_dir: PathBuf::from("./uslugi-data"),
            database_url: None,
            base_url: None,
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
            letter_sender: LetterSender::default(),
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
