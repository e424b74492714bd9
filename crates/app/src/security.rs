//! The account's security side that the person sees: the devices and
//! sessions they are logged in from, the history of logins and security
//! events (the audit log's records of the account, 90 days), and the
//! notices: a login from a new device, a changed password.
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};
use uslugi_domain::AccountId;

use crate::accounts::{Accounts, InternalError};
use crate::audit::{Actor, action};
use crate::crypto::{Crypto, HashPurpose};
use crate::lang::Lang;
use crate::messages;
use crate::notices::Contacts;
use crate::ports::{AccountRecord, AuditFilter, LoginWrites, OutboxRecord, SessionRecord};

/// How far back the history goes.
pub const HISTORY: Duration = Duration::days(90);

/// Where a request comes from, as far as the person's security goes.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The browser's device cookie, or the app's `device_id`.
    pub device_id: Option<String>,
    pub user_agent: Option<String>,
    pub ip: IpAddr,
    /// The language notices about this client are written in.
    pub lang: Lang,
}

impl ClientInfo {
    /// A device without an id of its own is known by its user agent.
    pub(crate) fn device_hash(&self, crypto: &Crypto) -> Vec<u8> {
        let id = match (&self.device_id, &self.user_agent) {
            (Some(d), _) => format!("id:{d}"),
            (None, Some(ua)) => format!("ua:{ua}"),
            (None, None) => "unknown".to_owned(),
        };
        crypto.keyed_hash(HashPurpose::Device, id.as_bytes())
    }
}

/// The network of an address: IPv4 without its last byte, IPv6 without all
/// but the first three groups — enough to recognise, not to locate.
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// The key of a client address for limits: an IPv4 address whole, an IPv6
/// one by its /64 — one subscriber's whole block, which they can walk.
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// «Chrome, Windows»: the browser and the system a user agent names.
pub fn describe_device(user_agent: Option<&str>, lang: Lang) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else {
        return match lang {
            Lang::Ru => "неизвестное устройство".to_owned(),
            Lang::En => "unknown device".to_owned(),
        };
    };
    let browser = [
        ("YaBrowser", "Яндекс Браузер"),
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b}, {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        // An app or a script: its own name, shortened.
        (None, None) => ua.chars().take(40).collect(),
    }
}

/// A session as the sessions page shows it.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// A short handle of the session (not its token).
    pub id: String,
    pub current: bool,
    pub device: String,
    pub network: Option<String>,
    /// The approximate place of the network, when places are configured.
    pub place: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub remember: bool,
}

/// A line of the security history.
#[derive(Debug, Clone)]
pub struct SecurityEvent {
    pub at: OffsetDateTime,
    pub action: String,
    pub outcome: String,
    /// An operator of a service center did it.
    pub by_operator: bool,
    /// Where a login came from (approximately), when places are configured.
    pub place: Option<String>,
}

fn handle(token_hash: &[u8]) -> String {
    token_hash
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The attempts of logins no account has, by the keyed hash of the login.
const BUCKET_UNKNOWN_LOGIN: &str = "unknown-logins";

impl Accounts {
    fn login_record(
        &self,
        account: AccountId,
        outcome: &str,
        client: &ClientInfo,
        now: OffsetDateTime,
    ) -> crate::ports::AuditWrite {
        self.audit
            .record(Actor::Citizen(account), action::LOGIN, outcome, now)
            .details(serde_json::json!({ "network": network_of(client.ip) }))
            .write()
    }

    /// A refused login of a known account, for its history.
    pub(crate) async fn audit_login(
        &self,
        account: AccountId,
        outcome: &str,
        client: &ClientInfo,
        now: OffsetDateTime,
    ) -> Result<(), InternalError> {
        let write = self.login_record(account, outcome, client, now);
        self.store.append_audit(&write).await?;
        Ok(())
    }

    /// A login no account has does the writes a wrong password does (a
    /// counted attempt, an audit record), so that neither the answer nor its
    /// timing tells known logins from unknown ones. The record names no
    /// account and keeps no login, only the network.
    pub(crate) async fn refuse_unknown_login(
        &self,
        login: &str,
        client: &ClientInfo,
        now: OffsetDateTime,
    ) -> Result<(), InternalError> {
        let key = self.crypto.keyed_hash(
            HashPurpose::LoginAttempt,
            login.trim().to_lowercase().as_bytes(),
        );
        // Never refuses: the row is the counted attempt, as the account's
        // count is for a known login (and a trace of credential stuffing).
        self.store
            .hit_rate_limit(
                BUCKET_UNKNOWN_LOGIN,
                &key,
                now,
                time::Duration::HOUR,
                u32::MAX,
            )
            .await?;
        let write = self
            .audit
            .record(Actor::System, action::LOGIN, "unknown_login", now)
            .details(serde_json::json!({ "network": network_of(client.ip) }))
            .write();
        self.store.append_audit(&write).await?;
        Ok(())
    }

    /// What a login writes besides its session: the notice when the device
    /// is new to an account that has used others (the device it was made
    /// on is no news), the audit record (with the second factor given, if
    /// one was), and the cancellation of a pending deletion.
    pub(crate) async fn login_writes(
        &self,
        account: &AccountRecord,
        session: &SessionRecord,
        lang: Lang,
        now: OffsetDateTime,
        second_factor: Option<&str>,
    ) -> Result<LoginWrites, InternalError> {
        let device_hash = session.device_hash.clone().unwrap_or_default();
        let seen = self.store.device_seen(account.id, &device_hash).await?;
        let notice = if seen.is_news() {
            let mut device = describe_device(session.user_agent.as_deref(), lang);
            if let Some(place) = session
                .network
                .as_deref()
                .and_then(|n| self.places.of_network(n))
            {
                device = format!("{device} ({place})");
            }
            let when = messages::format_local(now, self.policy.display_offset, lang);
            let letter = messages::new_device_login(lang, &device, &when, &self.policy.base_url);
            Contacts::of(&self.crypto, account)?.first(
                &self.crypto,
                format!("new-device:{}:{}", account.id, handle(&device_hash)),
                &letter,
                now,
            )
        } else {
            None
        };
        let outcome = if seen.is_news() {
            "ok_new_device"
        } else {
            "ok"
        };
        let mut details = serde_json::json!({ "network": session.network });
        if let Some(how) = second_factor {
            details["second_factor"] = serde_json::Value::from(how);
        }
        let audit = self
            .audit
            .record(Actor::Citizen(account.id), action::LOGIN, outcome, now)
            .details(details)
            .write();
        Ok(LoginWrites {
            notices: notice.into_iter().collect(),
            audit,
            if_deletion_cancelled: Some(self.cancelled_deletion(account, lang, now)?),
        })
    }

    /// Writes a login without a second factor: the session with its
    /// device, the notice and the audit record, in one transaction.
    pub(crate) async fn open_session(
        &self,
        account: &AccountRecord,
        session: &SessionRecord,
        client: &ClientInfo,
        now: OffsetDateTime,
    ) -> Result<(), InternalError> {
        let writes = self
            .login_writes(account, session, client.lang, now, None)
            .await?;
        self.store.open_session(session, &writes).await?;
        Ok(())
    }

    /// The account's sessions, the one of `token` marked current.
    pub async fn sessions(
        &self,
        account: AccountId,
        token: &str,
        lang: Lang,
    ) -> Result<Vec<SessionView>, InternalError> {
        let now = self.clock.now();
        let current = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        Ok(self
            .store
            .account_sessions(account)
            .await?
            .into_iter()
            .filter(|s| now < s.expires_at && now < s.last_seen_at + s.idle_timeout)
            .map(|s| SessionView {
                id: handle(&s.token_hash),
                current: s.token_hash == current,
                device: describe_device(s.user_agent.as_deref(), lang),
                place: s
                    .network
                    .as_deref()
                    .and_then(|n| self.places.of_network(n))
                    .map(str::to_owned),
                network: s.network,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                remember: s.remember,
            })
            .collect())
    }

    /// «Завершить»: ends one of the account's sessions by its handle; false
    /// when it has none such.
    pub async fn end_session(&self, account: AccountId, id: &str) -> Result<bool, InternalError> {
        let now = self.clock.now();
        let Some(s) = self
            .store
            .account_sessions(account)
            .await?
            .into_iter()
            .find(|s| handle(&s.token_hash) == id)
        else {
            return Ok(false);
        };
        let ended = self
            .store
            .delete_account_session(account, &s.token_hash)
            .await?;
        if ended {
            let write = self
                .audit
                .record(Actor::Citizen(account), action::SESSION_ENDED, "one", now)
                .write();
            self.store.append_audit(&write).await?;
        }
        Ok(ended)
    }

    /// «Завершить все другие сеансы».
    pub async fn end_other_sessions(
        &self,
        account: AccountId,
        token: &str,
    ) -> Result<u64, InternalError> {
        let keep = self
            .crypto
            .keyed_hash(HashPurpose::SessionToken, token.as_bytes());
        let n = self.store.delete_other_sessions(account, &keep).await?;
        let write = self
            .audit
            .record(
                Actor::Citizen(account),
                action::SESSION_ENDED,
                "all_others",
                self.clock.now(),
            )
            .details(serde_json::json!({ "sessions": n }))
            .write();
        self.store.append_audit(&write).await?;
        Ok(n)
    }

    /// Logins and security events of the last 90 days, newest first.
    pub async fn security_history(
        &self,
        account: AccountId,
    ) -> Result<Vec<SecurityEvent>, InternalError> {
        let since = self.clock.now() - HISTORY;
        let filter = AuditFilter {
            account_id: Some(account),
            ..AuditFilter::default()
        };
        let mut out = Vec::new();
        let mut before = None;
        'pages: loop {
            let page = self.store.audit_records(&filter, before, 200).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            for r in &page {
                if r.entry.at < since {
                    break 'pages;
                }
                // What operators and administrators looked at is for their
                // records, not the person's history; what they did is.
                if [
                    action::CITIZEN_VIEWED,
                    action::ACCOUNT_SEARCHED,
                    action::ACCOUNT_VIEWED,
                ]
                .contains(&r.entry.action.as_str())
                {
                    continue;
                }
                let place = serde_json::from_str::<serde_json::Value>(&r.entry.details)
                    .ok()
                    .and_then(|d| d["network"].as_str().map(str::to_owned))
                    .and_then(|n| self.places.of_network(&n).map(str::to_owned));
                out.push(SecurityEvent {
                    at: r.entry.at,
                    action: r.entry.action.clone(),
                    outcome: r.entry.outcome.clone(),
                    by_operator: r.entry.actor == "operator",
                    place,
                });
            }
            if page.len() < 200 {
                break;
            }
        }
        Ok(out)
    }

    /// The notice that the password was changed, to every confirmed contact.
    pub(crate) fn password_changed_notices(
        &self,
        account: &AccountRecord,
        lang: Lang,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxRecord>, InternalError> {
        let when = messages::format_local(now, self.policy.display_offset, lang);
        let letter = messages::password_changed(lang, &when, &self.policy.base_url);
        let key = format!("password-changed:{}:{}", account.id, now.unix_timestamp());
        Ok(Contacts::of(&self.crypto, account)?.every(&self.crypto, &key, &letter, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_drop_the_last_part() {
        assert_eq!(
            network_of("192.168.17.42".parse().unwrap()),
            "192.168.17.0/24"
        );
        assert_eq!(
            network_of("2001:db8:85a3::8a2e:370:7334".parse().unwrap()),
            "2001:db8:85a3::/48"
        );
    }

    #[test]
    fn devices_are_named_by_browser_and_system() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        assert_eq!(describe_device(Some(chrome), Lang::Ru), "Chrome, Windows");
        let yandex = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120 YaBrowser/24.1 Mobile Safari/537.36";
        assert_eq!(
            describe_device(Some(yandex), Lang::Ru),
            "Яндекс Браузер, Android"
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(Some(iphone), Lang::Ru), "Safari, iOS");
        assert_eq!(
            describe_device(Some("uslugi-kiosk/2.1"), Lang::Ru),
            "uslugi-kiosk/2.1"
        );
        assert_eq!(describe_device(None, Lang::En), "unknown device");
    }
}
