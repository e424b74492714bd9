//! The post: registered letters with a tracking number. Where a real
//! adapter to Russian Post's business API would plug in; `uslugi_sim::SimPost`
//! stands in for it.
use async_trait::async_trait;
use uslugi_domain::{PostStatus, TrackingNumber};

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
