//! The data directory and what is in it are the operator's alone: the
//! database, the keys, the development mailbox (codes and temporary passwords in
//! development) and the audit head. The directory is 0700 and the files
//! 0600, whatever the umask, and files made by an earlier version with
//! wider modes are narrowed at start.
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::Settings;

/// Files of the data directory that are narrowed at start when present.
const DATA_FILES: &[&str] = &[
    "uslugi.db",
    "uslugi.db-wal",
    "uslugi.db-shm",
    uslugi_adapters::dev_mailbox::FILE_NAME,
    "post.jsonl",
    "secrets.toml",
    "audit-head",
];

/// Creates the data directory (0700) and narrows the files already in it;
/// a SQLite database elsewhere is narrowed too, and made 0600 before
/// SQLite creates it (its WAL and shared-memory files take its mode).
pub fn prepare(settings: &Settings) -> anyhow::Result<()> {
    let dir = &settings.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    restrict(dir, 0o700)?;
    let mut files: Vec<PathBuf> = DATA_FILES.iter().map(|f| dir.join(f)).collect();
    if let Some(db) = sqlite_file(&settings.database_url()) {
        if !db.exists() {
            create_private(&db)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            files.push(PathBuf::from(name));
        }
    }
    files.push(settings.audit_head_path());
    for file in files {
        if file.exists() {
            restrict(&file, 0o600)?;
        }
    }
    Ok(())
}

/// The file of a `sqlite://PATH[?options]` URL; none for memory databases
/// and other engines.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

fn create_private(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode();
    if current & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot make {} private", path.display()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> anyhow::Result<()> {
    Ok(())
}

/// Replaces `path` with `contents` so that a reader, or a crash, sees the
/// old file or the new one, never half of one; the file is 0600.
pub fn replace_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    // A name of this process and this call: several processes of the node
    // (the server, `admin` commands beside it) may replace the same file at
    // once, and one must never rename, or remove, another's half-written
    // file.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".new.{}.{call}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename itself must reach the disk, or a power cut could bring
    // back the old head after a newer one was relied on.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A new file that only the operator may read (0600), refusing to replace
/// one that exists: for copies of the database and the keys.
pub fn create_new_private(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).with_context(|| {
        format!(
            "cannot create {} (an existing file is never replaced)",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://./d/uslugi.db"),
            Some(PathBuf::from("./d/uslugi.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///srv/u.db?mode=rwc"),
            Some(PathBuf::from("/srv/u.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_and_its_files_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let outbox = dir.join("outbox.jsonl");
        std::fs::write(&outbox, "{}\n").unwrap();
        std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o644)).unwrap();
        let settings = Settings {
            data_dir: dir.clone(),
            ..Settings::default()
        };
        prepare(&settings).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&outbox), 0o600, "an existing file is narrowed");
        assert_eq!(mode(&dir.join("uslugi.db")), 0o600, "made private first");

        let head = dir.join("head");
        replace_atomically(&head, b"one").unwrap();
        replace_atomically(&head, b"two").unwrap();
        assert_eq!(std::fs::read(&head).unwrap(), b"two");
        assert_eq!(mode(&head), 0o600);
    }
}
