//! Whether `serve` runs for development or in production, and what
//! production needs configured.
use std::net::IpAddr;

use anyhow::bail;

use super::Settings;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, env};

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
