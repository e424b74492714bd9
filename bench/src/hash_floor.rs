//! The hash floor: how many Argon2id hashes with the product's parameters
//! this machine computes per second, in-process, on one core and on all.
//! Each thread reuses one memory block, as the product's hashing workers do,
//! so the figure is what a login can cost at best.
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use uslugi_app::password_hasher::HashParams;

/// Hashes per second with `threads` threads hashing for `duration`.
pub fn hashes_per_second(threads: usize, duration: Duration) -> anyhow::Result<f64> {
    let p = HashParams::OWASP;
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
        .map_err(|e| anyhow::anyhow!("Argon2 parameters: {e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let start = Instant::now();
    let deadline = start + duration;
    let counts: Vec<anyhow::Result<u64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|n| {
                let argon2 = &argon2;
                scope.spawn(move || -> anyhow::Result<u64> {
                    let mut memory = vec![Block::default(); argon2.params().block_count()];
                    let salt = [n as u8; 16];
                    let mut out = [0u8; 32];
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        argon2
                            .hash_password_into_with_memory(
                                "зелёный слон танцует".as_bytes(),
                                &salt,
                                &mut out,
                                &mut memory,
                            )
                            .map_err(|e| anyhow::anyhow!("Argon2: {e}"))?;
                        count += 1;
                    }
                    Ok(count)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("hash thread panicked")))
            })
            .collect()
    });
    // Every thread finishes the hash it started before the deadline, so the
    // time runs until the last one is done.
    let elapsed = start.elapsed().as_secs_f64();
    let mut total = 0u64;
    for c in counts {
        total += c?;
    }
    Ok(total as f64 / elapsed)
}
