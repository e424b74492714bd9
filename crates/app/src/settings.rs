//! The rules of the identity system that an operator may tune.
use time::{Duration, UtcOffset};

#[derive(Debug, Clone)]
pub struct Policy {
    /// Public address of the portal, without a trailing slash. Links in
    /// messages are built from it, never from a request's Host header.
    pub base_url: String,
    pub sms_code_ttl: Duration,
    pub email_link_ttl: Duration,
    pub code_max_attempts: u32,
    pub resend_interval: Duration,
    pub sends_per_contact_per_hour: u32,
    pub sends_per_ip_per_hour: u32,
    /// How long a person has to finish registration after starting it.
    pub registration_ttl: Duration,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// «Запомнить меня»: the absolute lifetime of a remembered session.
    pub session_remember: Duration,
    /// «Запомнить меня»: how long a remembered session lives unused. Shorter
    /// than its lifetime, so a device left behind (or a copied cookie) stops
    /// working within a week, while a device in use keeps its login.
    pub session_remember_idle: Duration,
    /// Wrong passwords in a row after which each try must wait longer.
    pub throttle_after_failures: u32,
    /// Wrong passwords in a row after which the account is locked.
    pub lock_after_failures: u32,
    /// The longest wait between tries of a throttled account.
    pub max_throttle: Duration,
    /// Offset in which times are shown to people (Moscow time by default).
    pub display_offset: UtcOffset,
}

impl Policy {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            sms_code_ttl: Duration::seconds(300),
            email_link_ttl: Duration::days(3),
            code_max_attempts: 3,
            resend_interval: Duration::seconds(60),
            sends_per_contact_per_hour: 5,
            sends_per_ip_per_hour: 30,
            registration_ttl: Duration::days(3),
            session_idle: Duration::minutes(30),
            session_absolute: Duration::hours(12),
            session_remember: Duration::days(30),
            session_remember_idle: Duration::days(7),
            throttle_after_failures: 5,
            lock_after_failures: 100,
            max_throttle: Duration::minutes(30),
            display_offset: UtcOffset::from_hms(3, 0, 0).expect("+03:00 is a valid offset"),
        }
    }

    /// How long a throttled account waits after `failures` wrong passwords in
    /// a row: nothing up to the threshold, then 2, 4, 8… seconds, capped.
    pub fn throttle_delay(&self, failures: u32) -> Option<Duration> {
        throttle(failures, self.throttle_after_failures, self.max_throttle)
    }
}

/// `first`, doubled for each try after the first, at most `max`: the wait
/// of every retry and throttle of the system.
pub fn doubling(first: Duration, tries: u32, max: Duration) -> Duration {
    let doublings = tries.saturating_sub(1).min(20);
    (first * (1i32 << doublings)).min(max)
}

/// Nothing for fewer than `after` failures in a row, then 2, 4, 8… seconds
/// up to `max`.
pub fn throttle(failures: u32, after: u32, max: Duration) -> Option<Duration> {
    (failures >= after).then(|| doubling(Duration::seconds(2), failures - after + 1, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_grows_from_the_fifth_failure_and_is_capped() {
        let p = Policy::new("http://127.0.0.1:8080/");
        assert_eq!(p.base_url, "http://127.0.0.1:8080");
        assert_eq!(p.throttle_delay(4), None);
        assert_eq!(p.throttle_delay(5), Some(Duration::seconds(2)));
        assert_eq!(p.throttle_delay(6), Some(Duration::seconds(4)));
        assert!(p.throttle_delay(7) > p.throttle_delay(6));
        assert_eq!(p.throttle_delay(99), Some(Duration::minutes(30)));
    }

    #[test]
    fn waits_double_from_the_first_up_to_the_cap() {
        let five = Duration::seconds(5);
        assert_eq!(doubling(five, 0, Duration::HOUR), five);
        assert_eq!(doubling(five, 1, Duration::HOUR), five);
        assert_eq!(doubling(five, 3, Duration::HOUR), Duration::seconds(20));
        assert_eq!(doubling(five, 40, Duration::HOUR), Duration::HOUR);
        assert_eq!(throttle(2, 3, Duration::HOUR), None);
        assert_eq!(throttle(3, 3, Duration::HOUR), Some(Duration::seconds(2)));
    }
}
