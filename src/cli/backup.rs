//! `uslugi admin backup --out FILE`: a consistent copy of a SQLite database,
//! taken beside a running server, and the keys without which its sealed
//! values cannot be read. Restoring is putting the two back as `uslugi.db`
//! and `secrets.toml` (docs/operations.md).
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use uslugi_storage::Backup;

use crate::config::Settings;

/// Where the keys go beside the database's copy.
pub fn secrets_beside(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".secrets.toml");
    PathBuf::from(name)
}

pub async fn run(settings: &Settings, out: &Path) -> anyhow::Result<ExitCode> {
    let secrets_out = secrets_beside(out);
    for path in [out, secrets_out.as_path()] {
        if path.exists() {
            eprintln!(
                "{} exists: a backup never replaces a file; choose another name",
                path.display()
            );
            return Ok(ExitCode::from(2));
        }
    }
    // A copy is taken as the database is: no migration first (a backup
    // before an upgrade must be of the older schema).
    let url = settings.database_url();
    let store = uslugi_storage::connect(&url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            uslugi_storage::redact_url(&url)
        )
    })?;
    let (secrets_path, _) = settings.secrets_path();
    let secrets = std::fs::read(&secrets_path)
        .with_context(|| format!("cannot read the keys in {}", secrets_path.display()))?;
    crate::private_files::create_new_private(out)?;
    match store.backup_to(out).await {
        Ok(Backup::Written) => {}
        Ok(Backup::ByTool(tool)) => {
            std::fs::remove_file(out).ok();
            eprintln!(
                "a PostgreSQL database is backed up with {tool} (e.g. `{tool} --format=custom \
                 --file=FILE DATABASE_URL`), and {} is copied beside it; see docs/operations.md",
                secrets_path.display()
            );
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            std::fs::remove_file(out).ok();
            return Err(e).context("the backup failed; nothing was kept");
        }
    }
    let mut keys = crate::private_files::create_new_private(&secrets_out)?;
    keys.write_all(&secrets)
        .and_then(|()| keys.sync_all())
        .with_context(|| format!("cannot write {}", secrets_out.display()))?;
    println!(
        "backed up to {} and its keys to {} (both readable by this user only; keep the keys \
         as safe as the data)",
        out.display(),
        secrets_out.display()
    );
    Ok(ExitCode::SUCCESS)
}
