//! The nested sections of the settings: the letters' sender, the registries
//! and their simulator, password hashing, the limits.
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

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

/// How letters reach the post (`[post]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PostSettings {
    /// `sim`: the post simulator (the development default); `print`: the
    /// portal prints its letters (`admin letters export`) with numbers from
    /// the range the post allocated, and imports the post's status files
    /// (`admin letters import-tracking`).
    pub mode: String,
    /// 8 digits: the sending office's index and the two digits the post
    /// issued with the range.
    #[serde(deserialize_with = "prefix", skip_serializing_if = "Option::is_none")]
    pub tracking_prefix: Option<String>,
    /// The range's first and last serials, 5 digits each.
    #[serde(deserialize_with = "serial", skip_serializing_if = "Option::is_none")]
    pub tracking_range_start: Option<String>,
    #[serde(deserialize_with = "serial", skip_serializing_if = "Option::is_none")]
    pub tracking_range_end: Option<String>,
}

impl Default for PostSettings {
    fn default() -> Self {
        Self {
            mode: "sim".into(),
            tracking_prefix: None,
            tracking_range_start: None,
            tracking_range_end: None,
        }
    }
}

impl PostSettings {
    /// The allocated range in print mode, `None` in sim mode; what is
    /// missing or wrong, named by key.
    pub fn range(&self) -> anyhow::Result<Option<uslugi_domain::TrackingRange>> {
        match self.mode.as_str() {
            "sim" => Ok(None),
            "print" => {
                let (Some(prefix), Some(start), Some(end)) = (
                    &self.tracking_prefix,
                    &self.tracking_range_start,
                    &self.tracking_range_end,
                ) else {
                    anyhow::bail!(
                        "post: mode = \"print\" needs tracking_prefix, tracking_range_start and \
                         tracking_range_end (the range the post allocated)"
                    );
                };
                uslugi_domain::TrackingRange::parse(prefix, start, end)
                    .map(Some)
                    .map_err(|e| anyhow::anyhow!("post: {e}"))
            }
            other => anyhow::bail!("post.mode must be \"sim\" or \"print\", not {other:?}"),
        }
    }
}

/// Digits as text (`"00001"`, kept as written) or as a number (`1`, from a
/// file or read so from the environment), written with `width` digits.
fn digits<'de, D: serde::Deserializer<'de>>(
    d: D,
    width: usize,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        Text(String),
        Number(u64),
    }
    Ok(Some(match V::deserialize(d)? {
        V::Text(s) => s,
        V::Number(n) => format!("{n:0width$}"),
    }))
}

/// A serial: `1` is `00001`.
fn serial<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    digits(d, 5)
}

/// A prefix is never padded: a number of seven digits is a mistake to name.
fn prefix<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    digits(d, 0)
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
