//! The server under test: a real `uslugi serve` child process, and what the
//! kernel says about it (resident memory, CPU time).
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::client::Http;

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    pub async fn start(
        bin: &Path,
        data_dir: &Path,
        database_url: &str,
        secrets_file: &Path,
    ) -> anyhow::Result<Self> {
        let addr = free_port()?;
        let log = data_dir.join("server.log");
        let out = std::fs::File::create(&log)?;
        let mut command = Command::new(bin);
        // The server's own settings only; nothing from the caller's USLUGI_….
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("USLUGI_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--database-url")
            .arg(database_url)
            .env("USLUGI_SECRETS_FILE", secrets_file)
            .env("USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR", "100000000")
            .env("USLUGI_LIMITS__SENDS_PER_CONTACT_PER_HOUR", "1000")
            .env("USLUGI_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut server = Self { child, addr, log };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was ready:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(mut http) = Http::connect(self.addr).await
                && let Ok((200, _)) = http.get("/health", None).await
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the server did not get ready in 60 s:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory (VmRSS) in MiB.
    pub fn rss_mb(&self) -> anyhow::Result<f64> {
        rss_mb(self.pid())
    }

    /// The anonymous part of resident memory (RssAnon: heap and stacks, not
    /// file pages such as a memory-mapped database) in MiB.
    pub fn rss_anon_mb(&self) -> anyhow::Result<f64> {
        status_mib(self.pid(), "RssAnon:")
    }

    /// CPU time (user + system, all threads) spent so far, in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds(&format!("/proc/{}/stat", self.pid()))
    }

    /// CPU seconds by kind of thread: the async runtime's workers, SQLite's
    /// connection threads, the hashing workers, the rest.
    pub fn cpu_seconds_by_thread(&self) -> [f64; 4] {
        let mut out = [0.0; 4];
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) else {
            return out;
        };
        for task in tasks.flatten() {
            let path = task.path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            let Ok(secs) = cpu_seconds(&path.join("stat").display().to_string()) else {
                continue;
            };
            let kind = match comm.trim() {
                c if c.starts_with("tokio-rt") => 0,
                c if c.starts_with("sqlx-sqlite") => 1,
                c if c.starts_with("argon2") => 2,
                _ => 3,
            };
            out[kind] += secs;
        }
        out
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Checks the server is still up; a crash mid-run is a result too.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the server exited ({status}):\n{}", self.log_tail());
        }
        Ok(())
    }

    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SIGTERM for a graceful stop; it has five seconds.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

pub fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    status_mib(pid, "VmRSS:")
}

fn status_mib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(kib / 1024.0)
}

/// User + system CPU seconds of a process, from its `/proc/…/stat`.
pub fn cpu_seconds(stat_path: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(stat_path)?;
    // The command name may hold spaces; the fields start after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After ')': state is field 3 of the man page, utime 14 and stime 15.
    let tick = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i - 3)
            .context("short /proc/…/stat")?
            .parse::<f64>()?)
    };
    Ok((tick(14)? + tick(15)?) / clock_ticks_per_second())
}

pub fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}
