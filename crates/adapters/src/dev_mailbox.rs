//! The development mailbox: in development mode it stands in for SMS, e-mail
//! and the post's letters. Every message is appended to a file in the data
//! directory and printed on the console, where a developer or a demo reads
//! it "as from a phone"; `/dev/outbox.json` and `uslugi outbox` show it.
//!
//! Not to be confused with the transactional outbox (the `outbox` table of
//! `uslugi-app` and `uslugi-storage`), which holds the messages written with
//! a change until a worker hands them to a [`Messenger`] — in development,
//! to this one.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use uslugi_app::Clock;
use uslugi_app::ports::{DeliveryError, Message, Messenger};
use uslugi_domain::Token as _;

/// The mailbox's file in the data directory. Older than the mailbox's
/// name, and read by the browser suite, the bench and developers' scripts:
/// it keeps its name.
pub const FILE_NAME: &str = "outbox.jsonl";

/// One message as the mailbox keeps it, a line of its file, and as
/// `/dev/outbox.json` and `uslugi outbox --json` show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MailboxEntry {
    pub id: String,
    /// `sms`, `email`, or `post` for a letter's copy.
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
}

/// The development mailbox, a [`Messenger`] that keeps every message in one
/// file (one JSON line each).
pub struct DevMailbox {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    echo: bool,
    /// Appends and the check for a message already held are one step: two
    /// deliveries of the same message must not both find it missing.
    lock: Mutex<()>,
}

impl DevMailbox {
    /// A mailbox kept in `path`; with `echo`, each message is also printed
    /// on standard output.
    pub fn new(path: PathBuf, clock: Arc<dyn Clock>, echo: bool) -> Self {
        Self {
            path,
            clock,
            echo,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All messages, newest first.
    pub async fn list(&self) -> std::io::Result<Vec<MailboxEntry>> {
        read(&self.path).await
    }

    /// Appends one entry; the caller holds the lock.
    async fn write_line(&self, entry: &MailboxEntry) -> Result<(), DeliveryError> {
        let fail = |e: std::io::Error| DeliveryError {
            reason: format!("development mailbox: {e}"),
        };
        let mut line = serde_json::to_string(entry).map_err(|e| DeliveryError {
            reason: e.to_string(),
        })?;
        line.push('\n');
        let mut options = tokio::fs::OpenOptions::new();
        options.create(true).append(true);
        // Codes and temporary passwords: readable by the operator alone.
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&self.path).await.map_err(fail)?;
        file.write_all(line.as_bytes()).await.map_err(fail)?;
        file.flush().await.map_err(fail)
    }

    async fn append(&self, entry: &MailboxEntry) -> Result<(), DeliveryError> {
        let _guard = self.lock.lock().await;
        self.write_line(entry).await
    }

    async fn holds(&self, id: &str) -> bool {
        let Ok(text) = tokio::fs::read_to_string(&self.path).await else {
            return false;
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<MailboxEntry>(l).ok())
            .any(|e| e.id == id)
    }
}

/// The messages of the mailbox kept in `path`, newest first; none when the
/// file does not exist yet. A line that is not an entry (a write cut short)
/// is skipped.
pub async fn read(path: &Path) -> std::io::Result<Vec<MailboxEntry>> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries: Vec<MailboxEntry> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    entries.reverse();
    Ok(entries)
}

#[async_trait]
impl Messenger for DevMailbox {
    async fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        let entry = MailboxEntry {
            id: m
                .idempotency_key
                .clone()
                .unwrap_or_else(|| uslugi_app::crypto::random_token()[..16].to_owned()),
            channel: m.channel.as_str().to_owned(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            created_at: self.clock.now().format(&Rfc3339).unwrap_or_default(),
        };
        let _guard = self.lock.lock().await;
        // A message handed over again after a crash carries the same key:
        // the phone already has it.
        if m.idempotency_key.is_some() && self.holds(&entry.id).await {
            return Ok(());
        }
        self.write_line(&entry).await?;
        if self.echo {
            // The console is the developer's phone here; this is the
            // development mailbox by design, never the application log.
            println!(
                "[mailbox] {} to {}: {} {}",
                entry.channel, entry.to, entry.subject, entry.body
            );
        }
        Ok(())
    }
}

/// The simulated post leaves each letter here too (channel `post`, `to` the
/// address, the tracking number and the code in the body), so a developer
/// reads it like an SMS.
#[async_trait]
impl uslugi_app::post::LetterCopy for DevMailbox {
    async fn copy(
        &self,
        tracking: &uslugi_domain::TrackingNumber,
        letter: &uslugi_app::post::PostLetter,
    ) {
        let entry = MailboxEntry {
            id: uslugi_app::crypto::random_token()[..16].to_owned(),
            channel: "post".into(),
            to: format!("{}, {}", letter.address_lines.join(", "), letter.recipient),
            subject: format!("Заказное письмо {tracking}"),
            body: format!("ШПИ {tracking}\n{}", letter.body),
            created_at: self.clock.now().format(&Rfc3339).unwrap_or_default(),
        };
        if let Err(e) = self.append(&entry).await {
            tracing::warn!(reason = %e.reason, "the development mailbox could not keep a copy of a letter");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uslugi_app::FakeClock;
    use uslugi_domain::Channel;

    fn sms(to: &str, body: &str, key: Option<&str>) -> Message {
        Message {
            channel: Channel::Sms,
            to: to.into(),
            subject: String::new(),
            body: body.into(),
            idempotency_key: key.map(Into::into),
        }
    }

    fn mailbox(dir: &tempfile::TempDir) -> DevMailbox {
        DevMailbox::new(
            dir.path().join(FILE_NAME),
            Arc::new(FakeClock::default()),
            false,
        )
    }

    #[tokio::test]
    async fn keeps_every_message_and_shows_the_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(&dir);
        assert!(mailbox.list().await.unwrap().is_empty(), "no file yet");
        mailbox
            .deliver(&sms("+79250000001", "Код: 111111", None))
            .await
            .unwrap();
        mailbox
            .deliver(&sms("+79250000002", "Код: 222222", None))
            .await
            .unwrap();
        let listed = mailbox.list().await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|e| (e.channel.as_str(), e.to.as_str(), e.body.as_str()))
                .collect::<Vec<_>>(),
            [
                ("sms", "+79250000002", "Код: 222222"),
                ("sms", "+79250000001", "Код: 111111")
            ]
        );
        assert_ne!(listed[0].id, listed[1].id);
        assert_eq!(read(mailbox.path()).await.unwrap(), listed);
    }

    #[tokio::test]
    async fn a_message_handed_over_again_is_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(&dir);
        let message = sms("+79250000003", "Код: 333333", Some("outbox-42"));
        mailbox.deliver(&message).await.unwrap();
        mailbox.deliver(&message).await.unwrap();
        let listed = mailbox.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "outbox-42");
    }

    #[tokio::test]
    async fn a_line_cut_short_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(&dir);
        mailbox
            .deliver(&sms("+79250000004", "first", None))
            .await
            .unwrap();
        let mut file = tokio::fs::OpenOptions::new()
            .append(true)
            .open(mailbox.path())
            .await
            .unwrap();
        file.write_all(b"{\"id\":\"cut").await.unwrap();
        drop(file);
        let listed = mailbox.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].body, "first");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_is_the_operators_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(&dir);
        mailbox
            .deliver(&sms("+79250000005", "Код: 555555", None))
            .await
            .unwrap();
        let mode = std::fs::metadata(mailbox.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[tokio::test]
    async fn a_letter_is_kept_as_a_message_of_the_post() {
        use uslugi_app::post::LetterCopy;
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(&dir);
        let tracking = uslugi_domain::TrackingNumber::assign("101000", 3, 1).unwrap();
        let letter = uslugi_app::post::PostLetter {
            recipient: "Иванов Иван Иванович".into(),
            address_lines: vec!["101000".into(), "Москва, ул. Мясницкая, д. 1".into()],
            body: "Код подтверждения личности: ABCD-EFGH".into(),
        };
        mailbox.copy(&tracking, &letter).await;
        let listed = mailbox.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].channel, "post");
        assert_eq!(
            listed[0].to,
            "101000, Москва, ул. Мясницкая, д. 1, Иванов Иван Иванович"
        );
        assert!(listed[0].body.starts_with(&format!("ШПИ {tracking}\n")));
        assert!(listed[0].body.ends_with("ABCD-EFGH"));
    }
}
