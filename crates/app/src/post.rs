//! The post: registered letters with a tracking number. Where a real
//! adapter to Russian Post's business API would plug in; `uslugi_sim::SimPost`
//! stands in for it.
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{PostStatus, TrackingNumber, TrackingRange};

use crate::clock::Clock;
use crate::ports::{PostNumberStore, StatusRecorded, StoreError};

/// A letter to send: the address block as it is printed, and the text.
#[derive(Clone, PartialEq, Eq)]
pub struct PostLetter {
    pub recipient: String,
    /// Lines of the address, the postal code first.
    pub address_lines: Vec<String>,
    pub body: String,
}

impl std::fmt::Debug for PostLetter {
    // Addresses are personal data and the body holds a code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostLetter(***)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the post is unavailable: {0}")]
pub struct PostError(pub String);

#[async_trait]
pub trait Post: Send + Sync {
    /// Hands the letter to the post; its tracking number (ШПИ). Handing the
    /// same `key` over again (after a crash, say) gives the same number and
    /// no second letter.
    async fn send(&self, key: &str, letter: &PostLetter) -> Result<TrackingNumber, PostError>;
    /// Where the letter is; `None` for a number the post does not know.
    async fn status(&self, tracking: &TrackingNumber) -> Result<Option<PostStatus>, PostError>;
}

/// Where the simulated post leaves a copy of each letter for the developer
/// (the development mailbox, channel `post`), as the phone and mailbox get theirs.
#[async_trait]
pub trait LetterCopy: Send + Sync {
    async fn copy(&self, tracking: &TrackingNumber, letter: &PostLetter);
}

/// The post when the portal prints its own letters (`[post] mode =
/// "print"`): a letter handed over takes the next number of the range the
/// post allocated (the day's batch, `admin letters export`, is printed with
/// it), and the post's status files (`admin letters import-tracking`) say
/// where the letter is.
pub struct PrintedPost {
    store: Arc<dyn PostNumberStore>,
    range: TrackingRange,
    clock: Arc<dyn Clock>,
}

/// One line of the post's status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingUpdate {
    /// The line in the file, for the report.
    pub line: usize,
    pub number: TrackingNumber,
    pub status: PostStatus,
    pub at: OffsetDateTime,
}

/// What an import did, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub applied: usize,
    /// Lines older than what a letter already has: files can come out of
    /// order; a letter never moves back.
    pub stale: usize,
    /// Lines whose number no letter of ours took.
    pub unknown: Vec<usize>,
}

impl PrintedPost {
    pub fn new(
        store: Arc<dyn PostNumberStore>,
        range: TrackingRange,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            range,
            clock,
        }
    }

    /// Numbers of the range not yet taken.
    pub async fn numbers_left(&self) -> Result<u32, StoreError> {
        self.store.post_numbers_left(&self.range).await
    }

    /// Whether so few numbers are left that the post must be asked for a
    /// new range now.
    pub fn running_low(&self, left: u32) -> bool {
        running_low(&self.range, left)
    }

    /// Moves the letters along, each line by itself: a status newer than
    /// the one held is kept.
    pub async fn import(&self, updates: &[TrackingUpdate]) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        for u in updates {
            match self
                .store
                .record_post_status(&u.number, u.status, u.at)
                .await?
            {
                StatusRecorded::Applied => report.applied += 1,
                StatusRecorded::Stale => report.stale += 1,
                StatusRecorded::Unknown => report.unknown.push(u.line),
            }
        }
        Ok(report)
    }
}

/// Under a tenth of the range, or under 100 numbers, whichever is fewer (at
/// least the last one): a day's letters of a small region, or two hours'
/// of a large one, while the post allocates the next range.
fn running_low(range: &TrackingRange, left: u32) -> bool {
    left < (range.count() / 10).clamp(1, 100)
}

#[async_trait]
impl Post for PrintedPost {
    async fn send(&self, key: &str, _letter: &PostLetter) -> Result<TrackingNumber, PostError> {
        let taken = self
            .store
            .take_post_number(key, &self.range, self.clock.now())
            .await
            .map_err(|e| PostError(format!("cannot take a tracking number: {e}")))?;
        let Some(number) = taken else {
            tracing::error!(
                prefix = self.range.prefix(),
                "the tracking range is used up: letters wait until the post allocates a new one \
                 (tracking_prefix, tracking_range_start, tracking_range_end)"
            );
            return Err(PostError("the tracking range is used up".into()));
        };
        if let Ok(left) = self.numbers_left().await
            && self.running_low(left)
        {
            tracing::warn!(
                left,
                prefix = self.range.prefix(),
                "few tracking numbers are left: ask the post for the next range"
            );
        }
        Ok(number)
    }

    async fn status(&self, tracking: &TrackingNumber) -> Result<Option<PostStatus>, PostError> {
        self.store
            .post_status(tracking)
            .await
            .map_err(|e| PostError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_runs_low_under_a_tenth_or_a_hundred() {
        let range = |end: &str| TrackingRange::parse("10100012", "00001", end).unwrap();
        assert!(running_low(&range("00010"), 0));
        assert!(!running_low(&range("00010"), 1));
        assert!(running_low(&range("99999"), 99));
        assert!(!running_low(&range("99999"), 100));
        assert!(running_low(&range("00500"), 49));
        assert!(!running_low(&range("00500"), 50));
    }
}
