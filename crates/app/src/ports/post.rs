//! Letters the portal prints itself (`[post] mode = "print"`): the post
//! allocated a range of tracking numbers, each letter takes the next free
//! one, and the post's status files move the letters along.
use async_trait::async_trait;
use time::OffsetDateTime;
use uslugi_domain::{PostStatus, TrackingNumber, TrackingRange};

use super::StoreResult;

/// What a status from the post's file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRecorded {
    Applied,
    /// The letter already has a status as new or newer: files may come
    /// out of order, and a letter never moves back.
    Stale,
    /// No letter of ours has this number.
    Unknown,
}

#[async_trait]
pub trait PostNumberStore: Send + Sync {
    /// The number of the letter `key`: the one it took before, or the next
    /// serial of `range` after the highest taken, recorded as accepted at
    /// `at`. One at a time per range across every node, so no number is
    /// given twice. `None` when the range is used up.
    async fn take_post_number(
        &self,
        key: &str,
        range: &TrackingRange,
        at: OffsetDateTime,
    ) -> StoreResult<Option<TrackingNumber>>;
    /// How many numbers of `range` are not yet taken.
    async fn post_numbers_left(&self, range: &TrackingRange) -> StoreResult<u32>;
    /// What the post last said of the letter with `number`; `None` for a
    /// number no letter took.
    async fn post_status(&self, number: &TrackingNumber) -> StoreResult<Option<PostStatus>>;
    /// Keeps `status` at `at` for the letter with `number` if it is newer
    /// than what is held.
    async fn record_post_status(
        &self,
        number: &TrackingNumber,
        status: PostStatus,
        at: OffsetDateTime,
    ) -> StoreResult<StatusRecorded>;
}
