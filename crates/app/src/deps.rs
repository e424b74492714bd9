//! What every service is built from: the ports and the keys, passed as one
//! value instead of the same six arguments to each constructor.
use std::sync::Arc;

use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::crypto::Crypto;
use crate::jobs::{JobMetrics, JobRunner, NoMetrics};
use crate::password_hasher::PasswordHasher;
use crate::ports::{Messenger, Store};

/// The ports and keys the services share. Cloning it clones `Arc`s.
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn Store>,
    /// The transport of SMS and e-mail.
    pub messenger: Arc<dyn Messenger>,
    /// The pool that hashes and checks passwords off the runtime.
    pub hasher: Arc<PasswordHasher>,
    pub crypto: Crypto,
    pub clock: Arc<dyn Clock>,
    pub audit: AuditLog,
    /// Where the background jobs report their outcomes.
    pub job_metrics: Arc<dyn JobMetrics>,
}

impl Deps {
    /// The services' ports and keys; the audit log's chain is keyed with
    /// `crypto`.
    pub fn new(
        store: Arc<dyn Store>,
        messenger: Arc<dyn Messenger>,
        hasher: Arc<PasswordHasher>,
        crypto: Crypto,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            audit: AuditLog::new(Arc::new(crypto.clone())),
            job_metrics: Arc::new(NoMetrics),
            store,
            messenger,
            hasher,
            crypto,
            clock,
        }
    }

    /// The runner of the background jobs, on this clock and these metrics.
    pub fn job_runner(&self) -> JobRunner {
        JobRunner::new(Arc::clone(&self.clock), Arc::clone(&self.job_metrics))
    }
}
