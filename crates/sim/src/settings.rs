//! How the simulator behaves: whose records it holds, how long it takes to
//! answer and how often it fails.
use std::path::PathBuf;
use std::time::Duration;

/// 2–5 s, the order of a real interagency answer that comes back quickly.
pub const DEFAULT_DELAY_MS: (u64, u64) = (2_000, 5_000);

/// One call in twenty fails, so that a product run against the simulator
/// meets retries as a matter of course rather than in theory.
pub const DEFAULT_FAILURE_RATE: f64 = 0.05;

/// Longer than `uslugi_adapters::DEFAULT_CLIENT_TIMEOUT`, so a simulated timeout is
/// seen as one by a client with default settings.
pub const DEFAULT_TIMEOUT_HOLD: Duration = Duration::from_secs(30);

/// A day: longer delays are surely a typo, and the bound keeps the delay
/// within what `time::Duration` adds to an instant without overflow.
pub const MAX_DELAY_MS: u64 = 86_400_000;

#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    /// The citizens the registries know; `None` for the built-in demo set.
    pub citizens_file: Option<PathBuf>,
    /// The answer is ready after a delay drawn uniformly from
    /// `delay_ms.0..=delay_ms.1` milliseconds after submission.
    pub delay_ms: (u64, u64),
    /// The share of HTTP calls, 0 to 1, that fail: half with a 503, half
    /// with a timeout.
    pub failure_rate: f64,
    /// How long a simulated timeout holds the response back.
    pub timeout_hold: Duration,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            citizens_file: None,
            delay_ms: DEFAULT_DELAY_MS,
            failure_rate: DEFAULT_FAILURE_RATE,
            timeout_hold: DEFAULT_TIMEOUT_HOLD,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "`{input}` is not a delay: expected MIN or MIN-MAX in whole milliseconds, e.g. 2000-5000 or 0"
    )]
    MalformedDelay { input: String },
    #[error("the delay's minimum {min} ms is greater than its maximum {max} ms")]
    ReversedDelay { min: u64, max: u64 },
    #[error("a delay of {value} ms is longer than the limit of {MAX_DELAY_MS} ms (a day)")]
    DelayTooLong { value: String },
    #[error("the failure rate `{input}` is not a number from 0 to 1, e.g. 0.05")]
    FailureRate { input: String },
}

impl SimSettings {
    /// The settings as configuration gives them: each part the user left
    /// out keeps its default. `delay_ms` is `MIN[-MAX]` (see
    /// [`parse_delay_ms`]).
    pub fn from_parts(
        citizens_file: Option<PathBuf>,
        delay_ms: Option<&str>,
        failure_rate: Option<f64>,
    ) -> Result<Self, SettingsError> {
        let defaults = Self::default();
        Ok(Self {
            citizens_file,
            delay_ms: delay_ms.map_or(Ok(defaults.delay_ms), parse_delay_ms)?,
            failure_rate: failure_rate.map_or(Ok(defaults.failure_rate), check_failure_rate)?,
            timeout_hold: defaults.timeout_hold,
        })
    }

    /// Checks settings built field by field, as [`from_parts`](Self::from_parts)
    /// checks them.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let (min, max) = self.delay_ms;
        check_delay(min, max)?;
        check_failure_rate(self.failure_rate)?;
        Ok(())
    }
}

/// Parses `MIN-MAX` or `MIN` (meaning `MIN-MIN`), whole milliseconds, e.g.
/// `2000-5000` or `0`; spaces around the numbers are allowed.
pub fn parse_delay_ms(input: &str) -> Result<(u64, u64), SettingsError> {
    let malformed = || SettingsError::MalformedDelay {
        input: input.to_owned(),
    };
    let (min, max) = match input.split_once('-') {
        Some((min, max)) => (min, max),
        None => (input, input),
    };
    let min = milliseconds(min).ok_or_else(malformed)??;
    let max = milliseconds(max).ok_or_else(malformed)??;
    check_delay(min, max)?;
    Ok((min, max))
}

/// `None` unless `part` is digits; a number too large for `u64` is still
/// digits, and is reported as too long rather than as malformed.
fn milliseconds(part: &str) -> Option<Result<u64, SettingsError>> {
    let part = part.trim();
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(part.parse().map_err(|_| SettingsError::DelayTooLong {
        value: part.to_owned(),
    }))
}

fn check_delay(min: u64, max: u64) -> Result<(), SettingsError> {
    if min > max {
        return Err(SettingsError::ReversedDelay { min, max });
    }
    if max > MAX_DELAY_MS {
        return Err(SettingsError::DelayTooLong {
            value: max.to_string(),
        });
    }
    Ok(())
}

/// Returns `rate` if it is a share from 0 to 1 (both included).
pub fn check_failure_rate(rate: f64) -> Result<f64, SettingsError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(SettingsError::FailureRate {
            input: rate.to_string(),
        })
    }
}

/// Parses a failure rate as flags and environment variables spell it.
pub fn parse_failure_rate(input: &str) -> Result<f64, SettingsError> {
    let error = || SettingsError::FailureRate {
        input: input.to_owned(),
    };
    let rate: f64 = input.trim().parse().map_err(|_| error())?;
    check_failure_rate(rate).map_err(|_| error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_as_people_write_them() {
        assert_eq!(parse_delay_ms("2000-5000"), Ok((2000, 5000)));
        assert_eq!(parse_delay_ms("0"), Ok((0, 0)));
        assert_eq!(parse_delay_ms("0-0"), Ok((0, 0)));
        assert_eq!(parse_delay_ms("1500"), Ok((1500, 1500)));
        assert_eq!(parse_delay_ms(" 100 - 200 "), Ok((100, 200)));
        assert_eq!(parse_delay_ms("86400000"), Ok((MAX_DELAY_MS, MAX_DELAY_MS)));
    }

    #[test]
    fn delays_refused_with_the_reason() {
        for input in [
            "",
            " ",
            "-",
            "-5",
            "5-",
            "1-2-3",
            "+5",
            "1.5",
            "2s",
            "2000–5000",
            "abc",
        ] {
            assert_eq!(
                parse_delay_ms(input),
                Err(SettingsError::MalformedDelay {
                    input: input.to_owned()
                }),
                "{input:?}"
            );
        }
        assert_eq!(
            parse_delay_ms("5000-2000"),
            Err(SettingsError::ReversedDelay {
                min: 5000,
                max: 2000
            })
        );
        assert_eq!(
            parse_delay_ms("0-86400001"),
            Err(SettingsError::DelayTooLong {
                value: "86400001".into()
            })
        );
        assert_eq!(
            parse_delay_ms("99999999999999999999999"),
            Err(SettingsError::DelayTooLong {
                value: "99999999999999999999999".into()
            })
        );
        let message = parse_delay_ms("2s").unwrap_err().to_string();
        assert!(
            message.contains("`2s`") && message.contains("MIN-MAX"),
            "{message}"
        );
    }

    #[test]
    fn failure_rates() {
        assert_eq!(parse_failure_rate("0"), Ok(0.0));
        assert_eq!(parse_failure_rate("0.05"), Ok(0.05));
        assert_eq!(parse_failure_rate(" 1 "), Ok(1.0));
        for input in ["", "-0.1", "1.01", "NaN", "inf", "5%", "half"] {
            assert_eq!(
                parse_failure_rate(input),
                Err(SettingsError::FailureRate {
                    input: input.to_owned()
                }),
                "{input:?}"
            );
        }
        assert!(check_failure_rate(f64::NAN).is_err());
    }

    #[test]
    fn parts_fall_back_to_defaults() {
        assert_eq!(
            SimSettings::from_parts(None, None, None),
            Ok(SimSettings::default())
        );
        let settings =
            SimSettings::from_parts(Some("people.json".into()), Some("0"), Some(0.0)).unwrap();
        assert_eq!(settings.citizens_file, Some(PathBuf::from("people.json")));
        assert_eq!(settings.delay_ms, (0, 0));
        assert_eq!(settings.failure_rate, 0.0);
        assert!(settings.validate().is_ok());
        assert!(SimSettings::from_parts(None, Some("9-1"), None).is_err());
        assert!(SimSettings::from_parts(None, None, Some(2.0)).is_err());
        let reversed = SimSettings {
            delay_ms: (9, 1),
            ..SimSettings::default()
        };
        assert!(reversed.validate().is_err());
    }

    proptest! {
        #[test]
        fn ranges_parse_back(a in 0..=MAX_DELAY_MS, b in 0..=MAX_DELAY_MS) {
            let (min, max) = (a.min(b), a.max(b));
            prop_assert_eq!(parse_delay_ms(&format!("{min}-{max}")), Ok((min, max)));
            prop_assert_eq!(parse_delay_ms(&format!("{min}")), Ok((min, min)));
            if a != b {
                prop_assert_eq!(
                    parse_delay_ms(&format!("{max}-{min}")),
                    Err(SettingsError::ReversedDelay { min: max, max: min })
                );
            }
        }

        #[test]
        fn whatever_parses_is_a_valid_range(input in "[0-9 -]{0,12}|.*") {
            if let Ok((min, max)) = parse_delay_ms(&input) {
                prop_assert!(min <= max && max <= MAX_DELAY_MS);
            }
        }
    }
}
