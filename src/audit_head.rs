//! The audit chain's head kept in a file of the node, outside the database:
//! someone who can delete rows from the database cannot also move this file
//! back unless they hold the node itself. Written atomically, 0600.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uslugi_app::audit::{AuditHeadKeeper, ChainHead, HeadError};

pub struct FileHead {
    path: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct HeadFile {
    seq: i64,
    /// The record's link, hex.
    hash: String,
}

impl FileHead {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An exclusive lock on `<head>.lock`, held until the file is dropped.
    fn lock(&self) -> std::io::Result<std::fs::File> {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(PathBuf::from(name))?;
        file.lock()?;
        Ok(file)
    }
}

fn fail(path: &Path, what: impl std::fmt::Display) -> HeadError {
    HeadError::Keeper(format!("{}: {what}", path.display()))
}

impl AuditHeadKeeper for FileHead {
    fn read(&self) -> Result<Option<ChainHead>, HeadError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(&self.path, e)),
        };
        let file: HeadFile = toml::from_str(&text).map_err(|e| fail(&self.path, e))?;
        let hash = hex_decode(&file.hash).ok_or_else(|| fail(&self.path, "hash is not hex"))?;
        Ok(Some(ChainHead {
            seq: file.seq,
            hash,
        }))
    }

    fn write(&self, head: &ChainHead) -> Result<(), HeadError> {
        let file = HeadFile {
            seq: head.seq,
            hash: head.hash.iter().map(|b| format!("{b:02x}")).collect(),
        };
        let text = format!(
            "# The last record of uslugi's audit log as this node saw it written;\n\
             # `uslugi admin audit verify` checks that the database still holds it.\n{}",
            toml::to_string(&file).map_err(|e| fail(&self.path, e))?
        );
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(&self.path, e))?;
        }
        // Read, compare and replace under one lock of the node: the server
        // and `admin` commands beside it note heads at once, and a head
        // noted later must not be overwritten by an older one.
        let _held = self.lock().map_err(|e| fail(&self.path, e))?;
        if self.read()?.is_some_and(|kept| kept.seq >= head.seq) {
            return Ok(());
        }
        crate::private_files::replace_atomically(&self.path, text.as_bytes())
            .map_err(|e| fail(&self.path, e))
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_read_back_as_written_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let keeper = FileHead::new(dir.path().join("audit-head"));
        assert_eq!(keeper.read().unwrap(), None, "none written yet");
        let head = ChainHead {
            seq: 42,
            hash: vec![0, 1, 0xab, 0xff],
        };
        keeper.write(&head).unwrap();
        assert_eq!(keeper.read().unwrap(), Some(head));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(keeper.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        keeper
            .write(&ChainHead {
                seq: 41,
                hash: vec![1],
            })
            .unwrap();
        assert_eq!(
            keeper.read().unwrap().map(|h| h.seq),
            Some(42),
            "an older head noted late does not move the kept head back"
        );
        std::fs::write(keeper.path(), "seq = 1\nhash = \"xyz\"\n").unwrap();
        assert!(
            keeper.read().is_err(),
            "a damaged file is an error, not none"
        );
    }

    #[test]
    fn heads_noted_at_once_all_succeed_and_the_newest_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head");
        let writers: Vec<_> = (1..=16)
            .map(|seq| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let keeper = FileHead::new(path);
                    for round in 0..20 {
                        keeper.write(&ChainHead {
                            seq: seq * 100 + round,
                            hash: vec![1, 2, 3],
                        })?;
                    }
                    Ok::<_, HeadError>(())
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap().expect("every writer notes its head");
        }
        assert_eq!(
            FileHead::new(path).read().unwrap().map(|h| h.seq),
            Some(16 * 100 + 19)
        );
    }
}
