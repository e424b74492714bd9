//! Reading the layers: the defaults, the TOML file, the `USLUGI_…`
//! environment (secrets possibly from files) and the command line's flags,
//! merged into one tree that unknown keys are dropped from with a warning.
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Settings;

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
    /// `--metrics-listen`.
    pub metrics_listen: Option<String>,
}

const ENV_PREFIX: &str = "USLUGI_";
/// Variables that are not settings (they choose the file, or are read elsewhere).
const ENV_NOT_SETTINGS: &[&str] = &["USLUGI_CONFIG", "USLUGI_LOG", "USLUGI_TEST_DATABASE_URL"];
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
/// Secrets that may be read from a file named by `…_FILE` (other settings
/// ending in `_FILE`, like `USLUGI_SECRETS_FILE`, are paths themselves).
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
        if let Some(v) = &overrides.metrics_listen {
            set_path(
                &mut tree,
                &["metrics_listen".into()],
                toml::Value::String(v.clone()),
            );
        }
        let mut unknown = Vec::new();
        let relaxed = strip_unknown(tree, &mut unknown)?;
        let settings: Settings = relaxed.try_into().context("invalid settings")?;
        Ok((settings, unknown))
    }
}

fn env_value(raw: &str) -> toml::Value {
    // Digits with a leading zero are a code (a serial `00041`), not a
    // number: kept as written.
    let coded = raw.len() > 1 && raw.starts_with('0');
    if let Ok(i) = raw.parse::<i64>()
        && !coded
    {
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
            // A list from the environment is comma-separated
            // (`USLUGI_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.7`).
            (Some(toml::Value::Array(_)), toml::Value::String(s)) => toml::Value::Array(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_owned()))
                    .collect(),
            ),
            (_, v) => v,
        };
        t.insert(last.clone(), value);
    }
}

/// Drops keys that no setting has, naming each, so a typo warns instead of
/// stopping the service (or silently doing nothing).
fn strip_unknown(tree: toml::Value, unknown: &mut Vec<String>) -> anyhow::Result<toml::Value> {
    let probe: Result<Settings, _> =
        serde_ignored::deserialize(tree.clone(), |path| unknown.push(dotted(&path)));
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

/// A key's full path as it is written in the file (`smtp.tls_mode`): an
/// optional section is no step of its own.
fn dotted(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => join(&dotted(parent), &index.to_string()),
        Path::Map { parent, key } => join(&dotted(parent), key),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => dotted(parent),
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
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
    use crate::config::env;

    #[test]
    fn trusted_proxies_come_as_a_list_or_comma_separated_and_a_wrong_one_is_named() {
        let e = env(&[("USLUGI_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7")]);
        let (s, _) = Settings::load(None, &e, &Overrides::default()).unwrap();
        assert_eq!(s.trusted_proxies, ["10.0.0.0/8", "192.168.1.7"]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uslugi.toml");
        std::fs::write(&file, "trusted_proxies = [\"::1\", \"10.0.0.0/33\"]\n").unwrap();
        let (s, _) = Settings::load(Some(&file), &[], &Overrides::default()).unwrap();
        let problems = s.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("trusted_proxies: /33 is longer")),
            "{problems:?}"
        );
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
    fn digits_with_a_leading_zero_from_the_environment_stay_as_written() {
        let e = env(&[
            ("USLUGI_SMTP__HOST", "smtp.example"),
            ("USLUGI_SMTP__FROM", "uslugi@example.org"),
            ("USLUGI_SMTP__PASSWORD", "007123"),
            ("USLUGI_POST__TRACKING_RANGE_START", "00041"),
            ("USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR", "0"),
        ]);
        let (s, _) = Settings::load(None, &e, &Overrides::default()).unwrap();
        assert_eq!(s.smtp.unwrap().password.as_deref(), Some("007123"));
        assert_eq!(s.post.tracking_range_start.as_deref(), Some("00041"));
        assert_eq!(s.limits.sends_per_ip_per_hour, 0, "a lone 0 is a number");
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
        // A key inside an optional section is named by its whole path, and
        // dropped: the section's own keys still load.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uslugi.toml");
        std::fs::write(
            &file,
            "[smtp]\nhost = \"relay\"\nfrom = \"a@b.ru\"\nfoo = 1\n",
        )
        .unwrap();
        let (s, unknown) = Settings::load(Some(&file), &[], &Overrides::default()).unwrap();
        assert_eq!(unknown, ["smtp.foo"]);
        assert_eq!(s.smtp.unwrap().host, "relay");
        let bad = Settings::load(
            None,
            &env(&[("USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR", "many")]),
            &Overrides::default(),
        );
        assert!(bad.is_err());
    }
}
