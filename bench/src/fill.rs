//! The generator: fills the database directly through the storage layer
//! (`Maintenance::import_accounts` / `import_sessions`) with records exactly
//! as the product would write them — names and phone sealed under the same
//! secrets file the server loads, the phone's blind index, and a real
//! Argon2id hash of [`PASSWORD`] with the product's parameters, computed once
//! and shared by every account.
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use time::OffsetDateTime;
use uslugi_app::crypto::{Crypto, HashPurpose, SealedField, random_token};
use uslugi_app::password_hasher::{HashParams, PasswordHasher};
use uslugi_app::ports::{AccountRecord, SessionRecord};
use uslugi_domain::{AccountId, AccountLevel};
use uslugi_storage::Backend;

/// The password of every generated account (and of registrations).
pub const PASSWORD: &str = "зелёный слон танцует";
pub const SURNAME: &str = "Тестов";
pub const GIVEN_NAME: &str = "Иван";

/// Accounts per import call (one transaction each).
const BATCH: usize = 10_000;

/// The phone of generated account `i`: `+79000000000 + i`.
pub fn account_phone(i: usize) -> String {
    format!("+79{i:09}")
}

pub struct Filler {
    crypto: Arc<Crypto>,
    phc: Arc<str>,
    /// Ids of the accounts made so far; account `i` has [`account_phone`]`(i)`.
    pub ids: Vec<AccountId>,
}

impl Filler {
    pub async fn new(crypto: Crypto) -> anyhow::Result<Self> {
        let hasher = PasswordHasher::start(HashParams::OWASP, 1)?;
        let phc = hasher.hash(PASSWORD).await?;
        Ok(Self {
            crypto: Arc::new(crypto),
            phc: phc.into(),
            ids: Vec::new(),
        })
    }

    /// Adds accounts until there are `target`; returns the time it took.
    /// Records are made on a thread of their own while the previous batch
    /// is written.
    pub async fn fill_to(
        &mut self,
        store: &Arc<dyn Backend>,
        target: usize,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let from = self.ids.len();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<AccountRecord>>(2);
        let crypto = Arc::clone(&self.crypto);
        let phc = Arc::clone(&self.phc);
        let maker = std::thread::spawn(move || {
            let now = OffsetDateTime::now_utc();
            let mut i = from;
            while i < target {
                let end = (i + BATCH).min(target);
                let batch = (i..end)
                    .map(|n| make_account(&crypto, &phc, n, now))
                    .collect();
                if tx.blocking_send(batch).is_err() {
                    return;
                }
                i = end;
            }
        });
        while let Some(batch) = rx.recv().await {
            store
                .import_accounts(&batch)
                .await
                .context("importing accounts")?;
            self.ids.extend(batch.iter().map(|a| a.id));
        }
        maker
            .join()
            .map_err(|_| anyhow::anyhow!("account generator panicked"))?;
        anyhow::ensure!(self.ids.len() == target, "generator stopped early");
        // The values are sealed as the product seals them now: the server
        // has no older values to bind to their rows at its start.
        store
            .set_sealing_format(uslugi_app::crypto::SEAL_FORMAT)
            .await
            .context("noting the format of sealed values")?;
        Ok(start.elapsed())
    }

    /// Inserts `count` live sessions spread over the accounts; returns their
    /// tokens (what a client would hold) and the time it took.
    pub async fn add_sessions(
        &self,
        store: &Arc<dyn Backend>,
        count: usize,
    ) -> anyhow::Result<(Vec<String>, Duration)> {
        let start = Instant::now();
        let now = OffsetDateTime::now_utc();
        let mut tokens = Vec::with_capacity(count);
        let mut done = 0;
        while done < count {
            let end = (done + BATCH).min(count);
            let mut batch = Vec::with_capacity(end - done);
            for n in done..end {
                let token = random_token();
                batch.push(SessionRecord {
                    token_hash: self
                        .crypto
                        .keyed_hash(HashPurpose::SessionToken, token.as_bytes()),
                    // A stride that is coprime with most account counts
                    // spreads the sessions over the accounts.
                    account_id: self.ids[(n * 7919) % self.ids.len()],
                    created_at: now,
                    last_seen_at: now,
                    expires_at: now + time::Duration::hours(12),
                    idle_timeout: time::Duration::minutes(30),
                    remember: false,
                    must_change_password: false,
                    device_hash: None,
                    user_agent: None,
                    network: None,
                });
                tokens.push(token);
            }
            store
                .import_sessions(&batch)
                .await
                .context("importing sessions")?;
            done = end;
        }
        Ok((tokens, start.elapsed()))
    }
}

fn make_account(crypto: &Crypto, phc: &str, i: usize, now: OffsetDateTime) -> AccountRecord {
    let phone = account_phone(i);
    let id = AccountId::random();
    AccountRecord {
        id,
        level: AccountLevel::Simplified,
        surname: crypto.seal(SealedField::Surname, id, SURNAME),
        given_name: crypto.seal(SealedField::GivenName, id, GIVEN_NAME),
        phone: Some(crypto.seal(SealedField::Phone, id, &phone)),
        phone_index: Some(crypto.keyed_hash(HashPurpose::PhoneIndex, phone.as_bytes())),
        email: None,
        email_index: None,
        snils_index: None,
        passport_index: None,
        password_hash: phc.to_owned(),
        must_change_password: false,
        password_expires_at: None,
        failed_logins: 0,
        throttled_until: None,
        locked: false,
        confirmed_at: None,
        confirmed_via: None,
        created_at: now,
    }
}
