//! The post simulator: accepts registered letters, gives each a tracking
//! number (ШПИ) and moves it along on a schedule — accepted, in transit,
//! arrived at the post office, handed over — measured on its clock. Like
//! the real post it refuses a share of hand-overs (the portal retries), and
//! a letter handed over twice under one key is one letter. Its records are
//! its own (a JSON-lines file), so a restart of the portal does not move
//! letters back.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rand::Rng;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uslugi_app::Clock;
use uslugi_app::post::{LetterCopy, Post, PostError, PostLetter};
use uslugi_domain::{PostStatus, TrackingNumber};

/// About two weeks from acceptance to handing over.
pub const DEFAULT_DELIVERY: Duration = Duration::days(14);
/// The office that accepts the portal's letters (Moscow mailing center).
pub const SENDING_OFFICE: &str = "102000";

#[derive(Serialize, Deserialize)]
struct Record {
    #[serde(default)]
    key: String,
    tracking: String,
    #[serde(with = "time::serde::rfc3339")]
    accepted_at: OffsetDateTime,
}

#[derive(Default)]
struct Records {
    /// Tracking number → when the post accepted the letter.
    accepted: HashMap<String, OffsetDateTime>,
    /// The sender's key → the tracking number it got.
    by_key: HashMap<String, String>,
}

pub struct SimPost {
    clock: Arc<dyn Clock>,
    delivery: Duration,
    failure_rate: f64,
    file: Option<PathBuf>,
    records: Mutex<Records>,
    copy: Option<Arc<dyn LetterCopy>>,
}

impl SimPost {
    /// `file` keeps the records across restarts (read now, appended to on
    /// every letter).
    pub fn new(
        clock: Arc<dyn Clock>,
        delivery: Duration,
        file: Option<PathBuf>,
        copy: Option<Arc<dyn LetterCopy>>,
    ) -> std::io::Result<Self> {
        let mut records = Records::default();
        if let Some(path) = &file
            && path.exists()
        {
            for line in std::fs::read_to_string(path)?.lines() {
                if let Ok(r) = serde_json::from_str::<Record>(line) {
                    records.by_key.insert(r.key, r.tracking.clone());
                    records.accepted.insert(r.tracking, r.accepted_at);
                }
            }
        }
        Ok(Self {
            clock,
            delivery,
            failure_rate: 0.0,
            file,
            records: Mutex::new(records),
            copy,
        })
    }

    /// Refuses this share of hand-overs (0.0–1.0), as a busy post office does.
    #[must_use]
    pub fn with_failure_rate(mut self, rate: f64) -> Self {
        self.failure_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Where a letter accepted `elapsed` ago is: in transit after a tenth of
    /// the delivery time, at the post office after seven tenths, handed over
    /// at the end.
    pub fn status_after(&self, elapsed: Duration) -> PostStatus {
        let d = self.delivery;
        if elapsed >= d {
            PostStatus::HandedOver
        } else if elapsed >= d * 0.7 {
            PostStatus::Arrived
        } else if elapsed >= d * 0.1 {
            PostStatus::InTransit
        } else {
            PostStatus::Accepted
        }
    }
}

#[async_trait]
impl Post for SimPost {
    async fn send(&self, key: &str, letter: &PostLetter) -> Result<TrackingNumber, PostError> {
        if self.failure_rate > 0.0 && rand::thread_rng().gen_bool(self.failure_rate) {
            return Err(PostError(
                "the post office did not accept the letter (simulated)".into(),
            ));
        }
        let now = self.clock.now();
        let tracking = {
            let mut records = self.records.lock().expect("post records");
            if let Some(known) = records.by_key.get(key) {
                // Handed over again after a crash: the same letter.
                return TrackingNumber::parse(known)
                    .map_err(|_| PostError("a stored tracking number is corrupt".into()));
            }
            let mut rng = rand::thread_rng();
            let tracking = loop {
                let t = TrackingNumber::assign(
                    SENDING_OFFICE,
                    u8::from(now.month()),
                    rng.gen_range(0..100_000),
                )
                .expect("a valid office and month");
                if !records.accepted.contains_key(t.as_str()) {
                    break t;
                }
            };
            records.accepted.insert(tracking.as_str().to_owned(), now);
            records
                .by_key
                .insert(key.to_owned(), tracking.as_str().to_owned());
            tracking
        };
        if let Some(path) = &self.file {
            use std::io::Write;
            let line = serde_json::to_string(&Record {
                key: key.to_owned(),
                tracking: tracking.as_str().to_owned(),
                accepted_at: now,
            })
            .expect("a record serialises");
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            {
                // Whose letter went where is the operator's business alone.
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options
                .open(path)
                .map_err(|e| PostError(format!("post records: {e}")))?;
            writeln!(f, "{line}").map_err(|e| PostError(format!("post records: {e}")))?;
        }
        if let Some(copy) = &self.copy {
            copy.copy(&tracking, letter).await;
        }
        Ok(tracking)
    }

    async fn status(&self, tracking: &TrackingNumber) -> Result<Option<PostStatus>, PostError> {
        let accepted = self
            .records
            .lock()
            .expect("post records")
            .accepted
            .get(tracking.as_str())
            .copied();
        Ok(accepted.map(|at| self.status_after(self.clock.now() - at)))
    }
}

#[cfg(test)]
mod tests {
    use uslugi_app::FakeClock;

    use super::*;

    fn letter() -> PostLetter {
        PostLetter {
            recipient: "Иванов Иван".into(),
            address_lines: vec!["248000".into(), "Калужская обл.".into()],
            body: "Код".into(),
        }
    }

    #[tokio::test]
    async fn letters_move_along_on_schedule_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("post.jsonl");
        let clock = FakeClock::default();
        let post = SimPost::new(
            Arc::new(clock.clone()),
            Duration::days(10),
            Some(file.clone()),
            None,
        )
        .unwrap();
        let t = post.send("letter-1", &letter()).await.unwrap();
        assert_eq!(
            post.send("letter-1", &letter()).await.unwrap(),
            t,
            "one key, one letter"
        );
        assert_ne!(post.send("letter-2", &letter()).await.unwrap(), t);
        assert_eq!(TrackingNumber::parse(t.as_str()).unwrap(), t, "a valid ШПИ");
        assert!(t.as_str().starts_with(SENDING_OFFICE));
        assert_eq!(post.status(&t).await.unwrap(), Some(PostStatus::Accepted));
        clock.advance(Duration::days(1));
        assert_eq!(post.status(&t).await.unwrap(), Some(PostStatus::InTransit));
        clock.advance(Duration::days(6));
        assert_eq!(post.status(&t).await.unwrap(), Some(PostStatus::Arrived));
        let again = SimPost::new(
            Arc::new(clock.clone()),
            Duration::days(10),
            Some(file),
            None,
        )
        .unwrap();
        assert_eq!(
            again.send("letter-1", &letter()).await.unwrap(),
            t,
            "the key outlives the process"
        );
        clock.advance(Duration::days(3));
        assert_eq!(
            again.status(&t).await.unwrap(),
            Some(PostStatus::HandedOver),
            "the records outlive the process"
        );
        let unknown = TrackingNumber::assign("248017", 3, 1).unwrap();
        assert_eq!(again.status(&unknown).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_busy_post_refuses_some_letters() {
        let clock = FakeClock::default();
        let always = SimPost::new(Arc::new(clock.clone()), Duration::days(10), None, None)
            .unwrap()
            .with_failure_rate(1.0);
        assert!(always.send("k", &letter()).await.is_err());
        let never = SimPost::new(Arc::new(clock), Duration::days(10), None, None)
            .unwrap()
            .with_failure_rate(0.0);
        assert!(never.send("k", &letter()).await.is_ok());
    }
}
