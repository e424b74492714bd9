//! The node is stopping: what long-lived answers (the live checks' event
//! stream) watch so they end at once, with a hint to reconnect, instead of
//! keeping the process alive until the grace period runs out.
use tokio::sync::watch;

/// Told when the node begins to stop.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// Begins the stop: every [`Shutdown`] hears it.
#[derive(Debug)]
pub struct StopNode(watch::Sender<bool>);

pub fn channel() -> (StopNode, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (StopNode(tx), Shutdown(rx))
}

impl StopNode {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    pub fn has_begun(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once the stop has begun (at once if it has).
    pub async fn begun(&mut self) {
        // An error means the sender is gone: the node is going away too.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}
