//! Can the time of one answer tell a known account from an unknown one?
//!
//! For login (a wrong password), registration and recovery, known and
//! unknown logins are sent in interleaved pairs (the order within each pair
//! drawn at random) on one connection, one at a time, so that both see the
//! same machine. Two figures per flow:
//! - the median difference, known against unknown, in per cent;
//! - the single-sample classification rate of an attacker who picks the
//!   best threshold on the first half of the samples and is scored on the
//!   second half (50 % is a coin; the target is at most 60 %).
use std::net::SocketAddr;
use std::time::Instant;

use anyhow::bail;

use crate::client::Http;
use crate::fill::account_phone;
use crate::load::Rng;

/// Known and unknown latencies of one flow, in microseconds.
#[derive(Default)]
pub struct Samples {
    pub known: Vec<f64>,
    pub unknown: Vec<f64>,
}

#[derive(Clone, Copy)]
pub enum Flow {
    Login,
    Registration,
    Recovery,
}

impl Flow {
    pub const ALL: [Self; 3] = [Self::Login, Self::Registration, Self::Recovery];

    pub fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Registration => "registration",
            Self::Recovery => "recovery",
        }
    }

    fn request(self, phone: &str) -> (&'static str, String) {
        match self {
            Self::Login => (
                "/api/v1/sessions",
                serde_json::json!({"login": phone, "password": "не тот пароль вовсе"}).to_string(),
            ),
            Self::Registration => (
                "/api/v1/registrations",
                serde_json::json!({
                    "surname": "Тестов", "given_name": "Иван",
                    "phone": phone, "accept_terms": true,
                })
                .to_string(),
            ),
            Self::Recovery => (
                "/api/v1/recovery",
                serde_json::json!({"login": phone}).to_string(),
            ),
        }
    }

    /// The status both kinds must get: the same for known and unknown.
    fn expected(self) -> u16 {
        match self {
            Self::Login => 401,
            Self::Registration | Self::Recovery => 202,
        }
    }
}

/// A mobile phone no generated account has: theirs are `+790…` (account
/// *i* is `+79000000000 + i`, at most a million), these `+799…`. A `+78…`
/// number is no mobile, and registration refuses it before any work.
fn unknown_phone(rng: &mut Rng) -> String {
    format!("+799{:08}", rng.below(100_000_000))
}

/// `pairs` interleaved known/unknown pairs of `flow`. Known logins are
/// drawn from the `accounts` generated ones, each used at most once per
/// flow (so no account is throttled by its own samples).
pub async fn sample(
    addr: SocketAddr,
    flow: Flow,
    accounts: usize,
    pairs: usize,
    seed: u64,
) -> anyhow::Result<Samples> {
    anyhow::ensure!(accounts >= pairs, "need an account per pair");
    let mut http = Http::connect(addr).await?;
    let mut rng = Rng::new(seed as usize);
    let mut samples = Samples::default();
    // Spread over the accounts, offset per flow.
    let step = accounts / pairs;
    for i in 0..pairs {
        let known = account_phone(i * step + (seed as usize % step.max(1)));
        let unknown = unknown_phone(&mut rng);
        let known_first = rng.below(2) == 0;
        for is_known in [known_first, !known_first] {
            let phone = if is_known { &known } else { &unknown };
            let (path, body) = flow.request(phone);
            let t0 = Instant::now();
            let (status, answer) = http.post_json(path, body).await?;
            let us = t0.elapsed().as_secs_f64() * 1e6;
            if status != flow.expected() {
                bail!(
                    "{} ({}): {status} {}",
                    flow.name(),
                    if is_known { "known" } else { "unknown" },
                    String::from_utf8_lossy(&answer)
                );
            }
            if is_known {
                samples.known.push(us);
            } else {
                samples.unknown.push(us);
            }
        }
    }
    Ok(samples)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Samples {
    /// (median known − median unknown) / median unknown, in per cent.
    pub fn median_difference_pct(&self) -> f64 {
        let unknown = median(&self.unknown);
        (median(&self.known) - unknown) / unknown * 100.0
    }

    /// The share of single samples an attacker classifies right: the
    /// threshold (and its direction) that does best on the first half,
    /// scored on the second half. In per cent.
    pub fn classification_pct(&self) -> f64 {
        let half = self.known.len().min(self.unknown.len()) / 2;
        if half == 0 {
            return f64::NAN;
        }
        let (train_k, test_k) = self.known.split_at(half);
        let (train_u, test_u) = self.unknown.split_at(half);
        let accuracy = |k: &[f64], u: &[f64], t: f64, slower: bool| {
            let right = k.iter().filter(|&&x| (x > t) == slower).count()
                + u.iter().filter(|&&x| (x > t) != slower).count();
            right as f64 / (k.len() + u.len()) as f64
        };
        let mut best = (0.0, 0.0, true);
        for &t in train_k.iter().chain(train_u) {
            for slower in [true, false] {
                let a = accuracy(train_k, train_u, t, slower);
                if a > best.0 {
                    best = (a, t, slower);
                }
            }
        }
        accuracy(test_k, test_u, best.1, best.2) * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alike_samples_classify_at_chance_and_apart_ones_do_not() {
        let mut rng = Rng::new(7);
        let noise = |rng: &mut Rng| 1000.0 + rng.below(100) as f64;
        let alike = Samples {
            known: (0..1000).map(|_| noise(&mut rng)).collect(),
            unknown: (0..1000).map(|_| noise(&mut rng)).collect(),
        };
        assert!(alike.classification_pct() < 56.0);
        assert!(alike.median_difference_pct().abs() < 2.0);
        let apart = Samples {
            known: (0..1000).map(|_| noise(&mut rng) + 200.0).collect(),
            unknown: (0..1000).map(|_| noise(&mut rng)).collect(),
        };
        assert!(apart.classification_pct() > 99.0);
        assert!(apart.median_difference_pct() > 15.0);
    }
}
