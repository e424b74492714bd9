//! Argon2id on a bounded pool of OS threads.
//!
//! A hash takes tens of milliseconds of pure CPU; run on the async runtime it
//! would stall every other request. Each worker keeps its own memory block of
//! `memory_kib` and reuses it, because allocating (and faulting in) 19 MiB for
//! every hash costs measurable time. The queue in front of the workers is
//! bounded so a burst of logins waits its turn instead of eating memory.
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::{RngCore, rngs::OsRng};
use tokio::sync::{Semaphore, oneshot};

/// The product's parameters are OWASP's for Argon2id: m = 19 MiB, t = 2, p = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashParams {
    pub const OWASP: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    fn argon2(self) -> Result<Argon2<'static>, HashError> {
        let params = Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(HASH_LEN),
        )
        .map_err(|e| HashError::Params(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

const HASH_LEN: usize = 32;
const SALT_LEN: usize = 16;
const QUEUE_PER_WORKER: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
    #[error("stored password hash is malformed: {0}")]
    Malformed(String),
    #[error("password hashing workers have stopped")]
    PoolGone,
}

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: String,
        phc: String,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
}

pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    queue: Arc<Semaphore>,
    params: HashParams,
    dummy_phc: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Starts `workers` hashing threads (at least one).
    pub fn start(params: HashParams, workers: usize) -> Result<Self, HashError> {
        let workers = workers.max(1);
        // Fail at start, not at the first login, if the parameters are wrong.
        params.argon2()?;
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || worker(params, &rx))
                .map_err(|e| HashError::Params(format!("cannot start worker: {e}")))?;
        }
        let dummy_phc = hash_with(
            params,
            "dummy password for unknown accounts",
            &mut Vec::new(),
        )?;
        Ok(Self {
            jobs: tx,
            queue: Arc::new(Semaphore::new(workers * QUEUE_PER_WORKER)),
            params,
            dummy_phc,
        })
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        self.run(|reply| Job::Hash {
            password: password.to_owned(),
            reply,
        })
        .await
    }

    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError> {
        self.run(|reply| Job::Verify {
            password: password.to_owned(),
            phc: phc.to_owned(),
            reply,
        })
        .await
    }

    /// Hands a job to the workers once the queue has room for it, and
    /// waits for its answer.
    async fn run<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, HashError>>) -> Job,
    ) -> Result<T, HashError> {
        let _slot = self
            .queue
            .acquire()
            .await
            .map_err(|_| HashError::PoolGone)?;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(job(reply))
            .map_err(|_| HashError::PoolGone)?;
        answer.await.map_err(|_| HashError::PoolGone)?
    }

    /// Spends the same time as a real verification, for logins whose account
    /// does not exist or may not log in now: the reply's timing tells nothing.
    pub async fn verify_dummy(&self, password: &str) {
        // The result is meaningless by design; only the time spent matters.
        let _ = self.verify(password, &self.dummy_phc).await;
    }
}

fn worker(params: HashParams, jobs: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        // The hash's own time, not the wait for a worker: what the
        // parameters cost on this machine.
        let started = std::time::Instant::now();
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_with(params, &password, &mut memory));
            }
            Job::Verify {
                password,
                phc,
                reply,
            } => {
                let _ = reply.send(verify_with(&password, &phc, &mut memory));
            }
        }
        metrics::histogram!("uslugi_password_hash_duration_seconds")
            .record(started.elapsed().as_secs_f64());
    }
}

fn blocks_for(memory: &mut Vec<Block>, count: usize) -> &mut [Block] {
    if memory.len() != count {
        memory.clear();
        memory.resize(count, Block::default());
    }
    memory.as_mut_slice()
}

fn hash_with(
    params: HashParams,
    password: &str,
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let argon2 = params.argon2()?;
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    let mut out = [0u8; HASH_LEN];
    let blocks = blocks_for(memory, argon2.params().block_count());
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|e| HashError::Params(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError::Params(e.to_string()))?;
    let out = Output::new(&out).map_err(|e| HashError::Params(e.to_string()))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        salt.as_str(),
        out
    ))
}

fn verify_with(password: &str, phc: &str, memory: &mut Vec<Block>) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(phc).map_err(|e| HashError::Malformed(e.to_string()))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(HashError::Malformed("not Argon2id".into()));
    }
    let params = Params::try_from(&parsed).map_err(|e| HashError::Malformed(e.to_string()))?;
    let expected = parsed
        .hash
        .ok_or_else(|| HashError::Malformed("no hash".into()))?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed
        .salt
        .ok_or_else(|| HashError::Malformed("no salt".into()))?
        .decode_b64(&mut salt_buf)
        .map_err(|e| HashError::Malformed(e.to_string()))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = vec![0u8; expected.len()];
    let blocks = blocks_for(memory, argon2.params().block_count());
    argon2
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
        .map_err(|e| HashError::Malformed(e.to_string()))?;
    let computed = Output::new(&out).map_err(|e| HashError::Malformed(e.to_string()))?;
    // `Output` compares in constant time.
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hasher = PasswordHasher::start(CHEAP, 2).unwrap();
        let phc = hasher.hash("верный пароль").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(hasher.verify("верный пароль", &phc).await.unwrap());
        assert!(!hasher.verify("неверный пароль", &phc).await.unwrap());
        assert_ne!(hasher.hash("верный пароль").await.unwrap(), phc, "salted");
        assert!(hasher.verify("x", "not a hash").await.is_err());
        hasher.verify_dummy("anything").await;
    }

    #[tokio::test]
    async fn product_parameters_are_owasp_and_interoperate_with_the_reference_crate() {
        use argon2::PasswordVerifier;
        let hasher = PasswordHasher::start(HashParams::OWASP, 1).unwrap();
        let phc = hasher.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // A hash made with other parameters (an older setting) still verifies.
        let cheap = hash_with(CHEAP, "correct horse", &mut Vec::new()).unwrap();
        assert!(hasher.verify("correct horse", &cheap).await.unwrap());
    }
}
