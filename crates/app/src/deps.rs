//! What every service is built from: the ports and the keys, passed as one
//! value instead of the same six arguments to each constructor.
use std::sync::Arc;

use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::crypto::Crypto;
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
            store,
            messenger,
            hasher,
            crypto,
            clock,
        }
    }
}
