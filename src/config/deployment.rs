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
        // Codes and temporary passwords in clear text may only cross this
        // machine (a local relay or a sidecar that encrypts onwards).
        if self
            .smtp
            .as_ref()
            .is_some_and(|s| s.tls == uslugi_adapters::SmtpTls::None && !is_loopback_host(&s.host))
        {
            missing.push(
                "smtp.tls = \"starttls\" or \"wrapper\": \"none\" only to a relay on this machine (localhost)",
            );
        }
        if self
            .sms_gateway
            .as_ref()
            .is_some_and(|g| g.url.trim().starts_with("http://") && !is_loopback_url(g.url.trim()))
        {
            missing.push(
                "sms_gateway.url with https://: plain http:// only to a gateway on this machine (localhost)",
            );
        }
        // The simulated post would "deliver" codes nobody ever receives.
        if self.post.mode != "print" {
            missing.push(
                "post.mode = \"print\" (USLUGI_POST__MODE=print) with tracking_prefix, \
                 tracking_range_start and tracking_range_end: the range of tracking numbers the post allocated",
            );
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
    is_loopback_host(host)
}

/// Whether a host name or address is this machine's.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
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
            ("USLUGI_POST__MODE", "print"),
            ("USLUGI_POST__TRACKING_PREFIX", "10100012"),
            ("USLUGI_POST__TRACKING_RANGE_START", "00001"),
            ("USLUGI_POST__TRACKING_RANGE_END", "50000"),
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
                "post.mode = \"print\"",
                "USLUGI_POST__MODE=print",
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
    fn production_sends_in_clear_text_only_on_this_machine() {
        let refused = |extra: &[(&str, &str)]| {
            let mut e = production_env();
            e.extend(env(extra));
            let (s, _) = Settings::load(None, &e, &Overrides::default()).unwrap();
            s.deployment()
                .err()
                .and_then(|e| e.downcast::<ProductionNotConfigured>().ok())
                .map(|r| r.missing)
                .unwrap_or_default()
        };
        assert!(refused(&[]).is_empty());
        let plain_smtp = refused(&[("USLUGI_SMTP__TLS", "none")]);
        assert_eq!(plain_smtp.len(), 1);
        assert!(plain_smtp[0].starts_with("smtp.tls"), "{plain_smtp:?}");
        assert!(
            refused(&[
                ("USLUGI_SMTP__TLS", "none"),
                ("USLUGI_SMTP__HOST", "127.0.0.1")
            ])
            .is_empty()
        );
        assert!(
            refused(&[
                ("USLUGI_SMTP__TLS", "none"),
                ("USLUGI_SMTP__HOST", "localhost")
            ])
            .is_empty()
        );
        let plain_sms = refused(&[("USLUGI_SMS_GATEWAY__URL", "http://sms.example/send")]);
        assert_eq!(plain_sms.len(), 1);
        assert!(plain_sms[0].starts_with("sms_gateway.url"), "{plain_sms:?}");
        assert!(refused(&[("USLUGI_SMS_GATEWAY__URL", "http://127.0.0.1:9000/send")]).is_empty());
    }

    #[test]
    fn the_post_prints_only_with_a_whole_range() {
        let load = |extra: &[(&str, &str)]| {
            let mut e = production_env();
            e.extend(env(extra));
            Settings::load(None, &e, &Overrides::default()).unwrap().0
        };
        let s = load(&[]);
        let range = s.post.range().unwrap().unwrap();
        assert_eq!(
            (range.prefix(), range.start(), range.end()),
            ("10100012", 1, 50000)
        );
        assert!(s.problems().is_empty(), "{:?}", s.problems());
        for (key, value, named) in [
            ("USLUGI_POST__TRACKING_PREFIX", "1010001", "tracking_prefix"),
            ("USLUGI_POST__TRACKING_RANGE_END", "100000", "5 digits"),
            ("USLUGI_POST__TRACKING_RANGE_END", "0005x", "5 digits"),
            (
                "USLUGI_POST__TRACKING_RANGE_START",
                "60000",
                "must not be above",
            ),
            ("USLUGI_POST__MODE", "pigeon", "post.mode"),
        ] {
            let problems = load(&[(key, value)]).problems();
            assert!(
                problems.iter().any(|p| p.contains(named)),
                "{key}: {problems:?}"
            );
        }
        let mut e = production_env();
        e.retain(|(k, _)| k != "USLUGI_POST__TRACKING_RANGE_END");
        let (s, _) = Settings::load(None, &e, &Overrides::default()).unwrap();
        assert!(
            s.problems()
                .iter()
                .any(|p| p.contains("tracking_range_end"))
        );
        // In a file, a serial may be a number.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uslugi.toml");
        std::fs::write(
            &file,
            "[post]\nmode = \"print\"\ntracking_prefix = \"10100012\"\ntracking_range_start = 1\ntracking_range_end = \"00100\"\n",
        )
        .unwrap();
        let (s, unknown) = Settings::load(Some(&file), &[], &Overrides::default()).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(s.post.range().unwrap().unwrap().count(), 100);
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
