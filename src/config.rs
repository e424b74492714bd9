//! Settings, layered: defaults → TOML file → `USLUGI_…` environment → flags.
//! Nested keys are reached from the environment with `__`, e.g.
//! `USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR=100`. Secrets (the database URL, the
//! SMTP password, the SMS gateway's auth header) may come from a file named
//! by the variable with `_FILE` appended.
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use uslugi_adapters::{SmsGatewaySettings, SmtpSettings};

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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LetterSender {
    pub name: String,
    /// The lines of the return address, the postal code first.
    pub address: Vec<String>,
}

impl Default for LetterSender {
    fn default() -> Self {
        Self {
            name: "Госуслуги (uslugi)".into(),
            address: vec![
                uslugi_sim::post::SENDING_OFFICE.into(),
                "г. Москва".into(),
                "Почтамт, а/я «Госуслуги»".into(),
            ],
        }
    }
}

/// Where the Social Fund and the Interior Ministry are reached.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrySettings {
    /// `sim`: the simulator, started inside this process (the embedded
    /// default); `http`: a gateway at `url` (`uslugi sim serve`, or a real
    /// interagency-exchange adapter speaking docs/registries.md).
    pub gateway: String,
    pub url: Option<String>,
    /// How long one call to the gateway may take.
    pub timeout_ms: u64,
    pub sim: RegistrySimSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrySimSettings {
    /// Citizens' records (JSON array); without it, the built-in demo set.
    pub citizens_file: Option<PathBuf>,
    /// `MIN` or `MIN-MAX` milliseconds before an answer is ready.
    #[serde(deserialize_with = "text_or_number")]
    pub delay_ms: String,
    /// Share of calls that fail, 0 to 1.
    #[serde(deserialize_with = "float_or_integer")]
    pub failure_rate: f64,
    /// How long a simulated timeout holds the answer back, in ms.
    pub timeout_hold_ms: u64,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            gateway: "sim".into(),
            url: None,
            timeout_ms: 10_000,
            sim: RegistrySimSettings::default(),
        }
    }
}

impl Default for RegistrySimSettings {
    fn default() -> Self {
        let (min, max) = uslugi_sim::DEFAULT_DELAY_MS;
        Self {
            citizens_file: None,
            delay_ms: format!("{min}-{max}"),
            failure_rate: uslugi_sim::DEFAULT_FAILURE_RATE,
            timeout_hold_ms: u64::try_from(uslugi_sim::DEFAULT_TIMEOUT_HOLD.as_millis())
                .unwrap_or(u64::MAX),
        }
    }
}

impl RegistrySimSettings {
    pub fn to_sim(&self) -> anyhow::Result<uslugi_sim::SimSettings> {
        let mut sim = uslugi_sim::SimSettings::from_parts(
            self.citizens_file.clone(),
            Some(&self.delay_ms),
            Some(self.failure_rate),
        )
        .context("registries.sim")?;
        sim.timeout_hold = std::time::Duration::from_millis(self.timeout_hold_ms);
        Ok(sim)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordHashSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashing threads; 0 means one per core.
    pub workers: usize,
}

impl Default for PasswordHashSettings {
    fn default() -> Self {
        let p = uslugi_app::password_hasher::HashParams::OWASP;
        Self {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
            workers: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    pub sends_per_contact_per_hour: u32,
    pub sends_per_ip_per_hour: u32,
    pub throttle_after_failures: u32,
    pub lock_after_failures: u32,
    /// Personal data sent to the registries, per account and per client
    /// address (an IPv6 client by its /64), each an hour.
    pub submissions_per_account_per_hour: u32,
    pub submissions_per_ip_per_hour: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        let p = uslugi_app::Policy::new("");
        let v = uslugi_app::verification::VerificationPolicy::default();
        Self {
            sends_per_contact_per_hour: p.sends_per_contact_per_hour,
            sends_per_ip_per_hour: p.sends_per_ip_per_hour,
            throttle_after_failures: p.throttle_after_failures,
            lock_after_failures: p.lock_after_failures,
            submissions_per_account_per_hour: v.submissions_per_account_per_hour,
            submissions_per_ip_per_hour: v.submissions_per_ip_per_hour,
        }
    }
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

/// What the command line may set on top of the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    /// `--dev`: only ever turns development mode on.
    pub dev: bool,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub sim_citizens_file: Option<PathBuf>,
    pub sim_delay_ms: Option<String>,
    pub sim_failure_rate: Option<f64>,
    pub post_delivery_s: Option<u64>,
}

const ENV_PREFIX: &str = "USLUGI_";
/// Variables that are not settings (they choose the file, or are read elsewhere).
const ENV_NOT_SETTINGS: &[&str] = &["USLUGI_CONFIG", "USLUGI_LOG", "USLUGI_TEST_DATABASE_URL"];
/// Secrets that may be read from a file named by `…_FILE` (other settings
/// ending in `_FILE`, like `USLUGI_SECRETS_FILE`, are paths themselves).
/// Short names of nested settings, fixed by the contract of `uslugi serve`.
const ENV_ALIASES: &[(&str, &[&str])] = &[
    (
        "USLUGI_SIM_CITIZENS_FILE",
        &["registries", "sim", "citizens_file"],
    ),
    ("USLUGI_SIM_DELAY_MS", &["registries", "sim", "delay_ms"]),
    (
        "USLUGI_SIM_FAILURE_RATE",
        &["registries", "sim", "failure_rate"],
    ),
];
const ENV_SECRETS: &[&str] = &[
    "USLUGI_DATABASE_URL",
    "USLUGI_SMTP__PASSWORD",
    "USLUGI_SMS_GATEWAY__AUTH_HEADER",
];

impl Settings {
    /// Loads the layers. `env` is passed in so tests need not touch the
    /// process environment.
    pub fn load(
        config_file: Option<&Path>,
        env: &[(String, String)],
        overrides: &Overrides,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let mut tree = toml::Value::try_from(Settings::default()).context("default settings")?;
        if let Some(path) = config_file {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the configuration file {}", path.display())
            })?;
            let file: toml::Value = toml::from_str(&text).with_context(|| {
                format!(
                    "the configuration file {} is not valid TOML",
                    path.display()
                )
            })?;
            merge(&mut tree, file);
        }
        for (name, value) in env {
            if !name.starts_with(ENV_PREFIX) || ENV_NOT_SETTINGS.contains(&name.as_str()) {
                continue;
            }
            let (key, value) = match name
                .strip_suffix("_FILE")
                .filter(|base| ENV_SECRETS.contains(base))
            {
                Some(base) => {
                    let text = std::fs::read_to_string(value)
                        .with_context(|| format!("{name}: cannot read {value}"))?;
                    (base, text.trim_end_matches(['\n', '\r']).to_owned())
                }
                None => (name.as_str(), value.clone()),
            };
            let path: Vec<String> = match ENV_ALIASES.iter().find(|(alias, _)| *alias == key) {
                Some((_, path)) => path.iter().map(|p| (*p).to_owned()).collect(),
                None => key[ENV_PREFIX.len()..]
                    .split("__")
                    .map(str::to_ascii_lowercase)
                    .collect(),
            };
            set_path(&mut tree, &path, env_value(&value));
        }
        if let Some(v) = &overrides.listen {
            set_path(
                &mut tree,
                &["listen".into()],
                toml::Value::String(v.clone()),
            );
        }
        if overrides.dev {
            set_path(&mut tree, &["dev".into()], toml::Value::Boolean(true));
        }
        if let Some(v) = &overrides.data_dir {
            set_path(
                &mut tree,
                &["data_dir".into()],
                toml::Value::String(v.display().to_string()),
            );
        }
        if let Some(v) = &overrides.database_url {
            set_path(
                &mut tree,
                &["database_url".into()],
                toml::Value::String(v.clone()),
            );
        }
        let sim = |tree: &mut toml::Value, key: &str, value: toml::Value| {
            set_path(
                tree,
                &["registries".into(), "sim".into(), key.into()],
                value,
            );
        };
        if let Some(v) = &overrides.sim_citizens_file {
            sim(
                &mut tree,
                "citizens_file",
                toml::Value::String(v.display().to_string()),
            );
        }
        if let Some(v) = &overrides.sim_delay_ms {
            sim(&mut tree, "delay_ms", toml::Value::String(v.clone()));
        }
        if let Some(v) = overrides.sim_failure_rate {
            sim(&mut tree, "failure_rate", toml::Value::Float(v));
        }
        if let Some(v) = overrides.post_delivery_s {
            set_path(
                &mut tree,
                &["post_delivery_s".into()],
                toml::Value::Integer(i64::try_from(v).unwrap_or(i64::MAX)),
            );
        }
        let mut unknown = Vec::new();
        let relaxed = strip_unknown(tree, &mut unknown)?;
        let settings: Settings = relaxed.try_into().context("invalid settings")?;
        Ok((settings, unknown))
    }

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

/// How `serve` runs: with stand-ins a developer can read, or for real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// The development mailbox, the registry simulator and the development pages
    /// may stand in; why it is this mode.
    Development(DevelopmentBecause),
    /// Real message delivery and the registry gateway are required.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevelopmentBecause {
    /// Listening on loopback, with a loopback (or no) base URL: nobody but
    /// this machine can reach it.
    Loopback,
    /// `--dev`, `USLUGI_DEV=1` or `dev = true`.
    Asked,
}

/// Production was chosen (not loopback, no `--dev`) but what it needs is
/// not configured; each missing setting named as a file key and a variable.
#[derive(Debug, thiserror::Error)]
#[error(
    "uslugi is reachable from other machines (listen {listen}, base_url {base_url}), so it runs in \
     production, where codes and passwords must reach people by real SMS and e-mail and personal \
     data must be checked by the real registries. Not configured:\n{}\n\
     Set these (in the configuration file or the environment), or, for development only, start \
     with --dev (USLUGI_DEV=1) to use the development mailbox and the simulators.",
    .missing.iter().map(|m| format!("  - {m}")).collect::<Vec<_>>().join("\n")
)]
pub struct ProductionNotConfigured {
    pub listen: String,
    pub base_url: String,
    pub missing: Vec<&'static str>,
}

impl Settings {
    /// Development only on loopback or when asked; production otherwise,
    /// and then only with every real transport and gateway configured.
    pub fn deployment(&self) -> anyhow::Result<Deployment> {
        if self.dev {
            return Ok(Deployment::Development(DevelopmentBecause::Asked));
        }
        let listen = self.listen_addr()?;
        let base_is_loopback = self.base_url.as_deref().is_none_or(is_loopback_url);
        if listen.ip().is_loopback() && base_is_loopback {
            return Ok(Deployment::Development(DevelopmentBecause::Loopback));
        }
        if self.base_url.is_some() {
            self.base_url()?;
        }
        let missing = self.missing_for_production();
        if missing.is_empty() {
            return Ok(Deployment::Production);
        }
        Err(ProductionNotConfigured {
            listen: self.listen.clone(),
            base_url: self.base_url.clone().unwrap_or_else(|| "unset".into()),
            missing,
        }
        .into())
    }

    fn missing_for_production(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.base_url.is_none() {
            missing.push("base_url (USLUGI_BASE_URL): the public https:// address of the portal");
        }
        let smtp = self.smtp.clone().unwrap_or_default();
        if smtp.host.trim().is_empty() {
            missing.push("smtp.host (USLUGI_SMTP__HOST)");
        }
        if smtp.from.trim().is_empty() {
            missing.push("smtp.from (USLUGI_SMTP__FROM)");
        }
        if self
            .sms_gateway
            .as_ref()
            .is_none_or(|g| g.url.trim().is_empty())
        {
            missing.push("sms_gateway.url (USLUGI_SMS_GATEWAY__URL)");
        }
        // A simulator would check real people's data against made-up
        // records: every standard account built on it would be worthless.
        if self.registries.gateway != "http" {
            missing.push("registries.gateway = \"http\" (USLUGI_REGISTRIES__GATEWAY=http)");
        }
        if self
            .registries
            .url
            .as_deref()
            .is_none_or(|u| u.trim().is_empty())
        {
            missing.push("registries.url (USLUGI_REGISTRIES__URL)");
        }
        missing
    }
}

/// Whether an http(s) URL names this machine (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Plain HTTP only where nobody can listen in: on the loopback interface.
pub fn check_base_url(url: &str) -> anyhow::Result<()> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if !url.starts_with("http://") {
        bail!("base_url must start with https:// (or http:// on loopback): {url}");
    }
    if !is_loopback_url(url) {
        bail!(
            "base_url {url} uses plain HTTP on a non-loopback host: session cookies are Secure, so put uslugi behind a TLS proxy and set base_url to https://…"
        );
    }
    Ok(())
}

/// `delay_ms = 0` and `delay_ms = "0-500"` both mean what they say, in a
/// file as in the environment.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        Text(String),
        Number(i64),
    }
    Ok(match V::deserialize(d)? {
        V::Text(s) => s,
        V::Number(n) => n.to_string(),
    })
}

fn float_or_integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        Float(f64),
        Integer(i64),
        Text(String),
    }
    match V::deserialize(d)? {
        V::Float(f) => Ok(f),
        #[expect(clippy::cast_precision_loss, reason = "a rate is 0 or 1 when whole")]
        V::Integer(i) => Ok(i as f64),
        V::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a number"))),
    }
}

fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_owned()),
    }
}

fn merge(base: &mut toml::Value, top: toml::Value) {
    match (base, top) {
        (toml::Value::Table(b), toml::Value::Table(t)) => {
            for (k, v) in t {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, t) => *b = t,
    }
}

fn set_path(tree: &mut toml::Value, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = tree;
    for p in parents {
        let toml::Value::Table(t) = node else { return };
        node = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    if let toml::Value::Table(t) = node {
        // Strings that name numbers stay strings where the setting is text,
        // and `1`/`0` are a switch where the setting is one (`USLUGI_DEV=1`).
        let value = match (t.get(last), value) {
            (Some(toml::Value::String(_)), toml::Value::Integer(i)) => {
                toml::Value::String(i.to_string())
            }
            (Some(toml::Value::Boolean(_)), toml::Value::Integer(i @ (0 | 1))) => {
                toml::Value::Boolean(i == 1)
            }
            (_, v) => v,
        };
        t.insert(last.clone(), value);
    }
}

/// Drops keys that no setting has, naming each, so a typo warns instead of
/// stopping the service (or silently doing nothing).
fn strip_unknown(tree: toml::Value, unknown: &mut Vec<String>) -> anyhow::Result<toml::Value> {
    let probe: Result<Settings, _> =
        serde_ignored::deserialize(tree.clone(), |path| unknown.push(path.to_string()));
    if unknown.is_empty() {
        probe.context("invalid settings")?;
        return Ok(tree);
    }
    let mut tree = tree;
    for path in unknown.iter() {
        remove_path(&mut tree, &path.split('.').collect::<Vec<_>>());
    }
    Ok(tree)
}

fn remove_path(tree: &mut toml::Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = tree;
    for p in parents {
        match node {
            toml::Value::Table(t) => match t.get_mut(*p) {
                Some(n) => node = n,
                None => return,
            },
            _ => return,
        }
    }
    if let toml::Value::Table(t) = node {
        t.remove(*last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn the_simulator_is_set_by_file_short_variables_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uslugi.toml");
        std::fs::write(
            &file,
            "[registries.sim]\ndelay_ms = 100\nfailure_rate = 0\ncitizens_file = \"/etc/a.json\"\n",
        )
        .unwrap();
        let (s, unknown) = Settings::load(Some(&file), &[], &Overrides::default()).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        let sim = s.registries.sim.to_sim().unwrap();
        assert_eq!((sim.delay_ms, sim.failure_rate), ((100, 100), 0.0));
        let e = env(&[
            ("USLUGI_SIM_DELAY_MS", "0"),
            ("USLUGI_SIM_FAILURE_RATE", "0.25"),
            ("USLUGI_SIM_CITIZENS_FILE", "/etc/b.json"),
        ]);
        let (s, unknown) = Settings::load(Some(&file), &e, &Overrides::default()).unwrap();
        assert!(
            unknown.is_empty(),
            "the short names are settings: {unknown:?}"
        );
        let sim = s.registries.sim.to_sim().unwrap();
        assert_eq!((sim.delay_ms, sim.failure_rate), ((0, 0), 0.25));
        assert_eq!(sim.citizens_file.as_deref(), Some(Path::new("/etc/b.json")));
        let flags = Overrides {
            sim_delay_ms: Some("10-20".into()),
            sim_failure_rate: Some(1.0),
            sim_citizens_file: Some("/etc/c.json".into()),
            ..Overrides::default()
        };
        let (s, _) = Settings::load(Some(&file), &e, &flags).unwrap();
        let sim = s.registries.sim.to_sim().unwrap();
        assert_eq!(
            (sim.delay_ms, sim.failure_rate),
            ((10, 20), 1.0),
            "flags win"
        );
        assert_eq!(sim.citizens_file.as_deref(), Some(Path::new("/etc/c.json")));
        assert_eq!(s.registries.gateway, "sim", "the embedded default");
    }

    #[test]
    fn the_audit_head_file_is_in_the_data_directory_or_where_the_variable_says() {
        let (s, _) = Settings::load(None, &[], &Overrides::default()).unwrap();
        assert_eq!(s.audit_head_path(), Path::new("./uslugi-data/audit-head"));
        let env = env(&[("USLUGI_AUDIT_HEAD_FILE", "/var/lib/uslugi-head/head")]);
        let (s, unknown) = Settings::load(None, &env, &Overrides::default()).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(s.audit_head_path(), Path::new("/var/lib/uslugi-head/head"));
    }

    #[test]
    fn the_places_file_is_a_path_from_the_variable() {
        let (s, _) = Settings::load(None, &[], &Overrides::default()).unwrap();
        assert_eq!(s.places_file, None, "no places unless given");
        let env = vec![(
            "USLUGI_PLACES_FILE".to_owned(),
            "/etc/uslugi/places.csv".to_owned(),
        )];
        let (s, unknown) = Settings::load(None, &env, &Overrides::default()).unwrap();
        assert!(unknown.is_empty());
        assert_eq!(
            s.places_file.as_deref(),
            Some(Path::new("/etc/uslugi/places.csv"))
        );
    }

    #[test]
    fn the_post_delivery_time_comes_from_the_variable_or_the_flag() {
        let (s, _) = Settings::load(None, &[], &Overrides::default()).unwrap();
        assert_eq!(s.post_delivery_s, 14 * 24 * 3600, "about two weeks");
        let env = vec![("USLUGI_POST_DELIVERY_S".to_owned(), "30".to_owned())];
        let (s, unknown) = Settings::load(None, &env, &Overrides::default()).unwrap();
        assert!(unknown.is_empty());
        assert_eq!(s.post_delivery_s, 30);
        let flags = Overrides {
            post_delivery_s: Some(5),
            ..Overrides::default()
        };
        let (s, _) = Settings::load(None, &env, &flags).unwrap();
        assert_eq!(s.post_delivery_s, 5, "the flag wins");
    }

    #[test]
    fn defaults_serve_the_embedded_product() {
        let (s, unknown) = Settings::load(None, &[], &Overrides::default()).unwrap();
        assert!(unknown.is_empty());
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.database_url(), "sqlite://./uslugi-data/uslugi.db");
        assert_eq!(s.base_url().unwrap(), "http://127.0.0.1:8080");
        assert_eq!(s.password_hash.memory_kib, 19456);
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uslugi.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/file\"\n[limits]\nsends_per_ip_per_hour = 7\n",
        )
        .unwrap();
        let secret = dir.path().join("smtp-password");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let e = env(&[
            ("USLUGI_DATA_DIR", "/srv/env"),
            ("USLUGI_LIMITS__SENDS_PER_CONTACT_PER_HOUR", "9"),
            ("USLUGI_SMTP__HOST", "smtp.example"),
            ("USLUGI_SMTP__FROM", "uslugi@example.org"),
            ("USLUGI_SMTP__PASSWORD_FILE", secret.to_str().unwrap()),
            ("USLUGI_SECRETS_FILE", "/etc/uslugi/secrets.toml"),
            ("PATH", "/bin"),
        ]);
        let flags = Overrides {
            listen: Some("127.0.0.1:9100".into()),
            ..Overrides::default()
        };
        let (s, _) = Settings::load(Some(&file), &e, &flags).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9100", "flag over file");
        assert_eq!(
            s.data_dir,
            PathBuf::from("/srv/env"),
            "environment over file"
        );
        assert_eq!(s.limits.sends_per_ip_per_hour, 7, "file over default");
        assert_eq!(s.limits.sends_per_contact_per_hour, 9);
        let smtp = s.smtp.unwrap();
        assert_eq!(smtp.password.as_deref(), Some("s3cret"));
        assert_eq!(smtp.host, "smtp.example");
        assert_eq!(
            s.secrets_file,
            Some(PathBuf::from("/etc/uslugi/secrets.toml")),
            "a path, not a secret"
        );
    }

    #[test]
    fn unknown_settings_warn_and_bad_values_stop() {
        let (_, unknown) = Settings::load(
            None,
            &env(&[("USLUGI_LISTEN_ADDR", "x")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(unknown, ["listen_addr"]);
        let bad = Settings::load(
            None,
            &env(&[("USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR", "many")]),
            &Overrides::default(),
        );
        assert!(bad.is_err());
    }

    fn production_env() -> Vec<(String, String)> {
        env(&[
            ("USLUGI_LISTEN", "0.0.0.0:8080"),
            ("USLUGI_BASE_URL", "https://uslugi.example"),
            ("USLUGI_SMTP__HOST", "smtp.example"),
            ("USLUGI_SMTP__FROM", "uslugi@example.org"),
            ("USLUGI_SMS_GATEWAY__URL", "https://sms.example/send"),
            ("USLUGI_REGISTRIES__GATEWAY", "http"),
            ("USLUGI_REGISTRIES__URL", "https://smev.example/"),
        ])
    }

    #[test]
    fn development_only_on_loopback_or_when_asked() {
        let load = |e: &[(&str, &str)], o: &Overrides| Settings::load(None, &env(e), o).unwrap().0;
        let none = Overrides::default();
        let dev = |because| Deployment::Development(because);
        assert_eq!(
            load(&[], &none).deployment().unwrap(),
            dev(DevelopmentBecause::Loopback),
            "the README's `uslugi serve` with no configuration"
        );
        for base in [
            "http://localhost:8080",
            "https://127.0.0.1",
            "http://[::1]:1",
        ] {
            assert_eq!(
                load(&[("USLUGI_BASE_URL", base)], &none)
                    .deployment()
                    .unwrap(),
                dev(DevelopmentBecause::Loopback),
                "{base}"
            );
        }
        let asked = Overrides {
            dev: true,
            ..Overrides::default()
        };
        let public = [("USLUGI_LISTEN", "0.0.0.0:8080")];
        assert_eq!(
            load(&public, &asked).deployment().unwrap(),
            dev(DevelopmentBecause::Asked)
        );
        assert_eq!(
            load(&[public[0], ("USLUGI_DEV", "1")], &none)
                .deployment()
                .unwrap(),
            dev(DevelopmentBecause::Asked)
        );
        let (s, unknown) = Settings::load(None, &production_env(), &none).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(s.deployment().unwrap(), Deployment::Production);
    }

    #[test]
    fn production_names_every_setting_it_misses() {
        for e in [
            env(&[("USLUGI_LISTEN", "0.0.0.0:8080")]),
            env(&[("USLUGI_BASE_URL", "https://uslugi.example")]),
            env(&[("USLUGI_DEV", "0"), ("USLUGI_LISTEN", "10.0.0.5:80")]),
        ] {
            let (s, _) = Settings::load(None, &e, &Overrides::default()).unwrap();
            let err = s.deployment().unwrap_err();
            let refused = err
                .downcast_ref::<ProductionNotConfigured>()
                .expect("a refusal that names what is missing");
            let text = err.to_string();
            for name in [
                "USLUGI_SMTP__HOST",
                "smtp.from",
                "USLUGI_SMTP__FROM",
                "sms_gateway.url",
                "USLUGI_SMS_GATEWAY__URL",
                "registries.gateway",
                "USLUGI_REGISTRIES__URL",
                "--dev",
                "USLUGI_DEV=1",
            ] {
                assert!(text.contains(name), "{name} in {text}");
            }
            assert_eq!(
                refused.missing.iter().any(|m| m.starts_with("base_url")),
                s.base_url.is_none()
            );
        }
        // One missing setting is named alone.
        let mut e = production_env();
        e.retain(|(k, _)| k != "USLUGI_SMTP__FROM");
        let (s, _) = Settings::load(None, &e, &Overrides::default()).unwrap();
        let err = s.deployment().unwrap_err();
        let refused = err.downcast_ref::<ProductionNotConfigured>().unwrap();
        assert_eq!(refused.missing, ["smtp.from (USLUGI_SMTP__FROM)"]);
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("http://localhost:8080/").is_ok());
        assert!(check_base_url("http://[::1]:8080").is_ok());
        assert!(check_base_url("https://uslugi.example").is_ok());
        assert!(check_base_url("http://uslugi.example").is_err());
        assert!(check_base_url("http://10.0.0.5:8080").is_err());
        assert!(check_base_url("ftp://x").is_err());
    }
}
