//! The keys outside the database: a keyed-hash key and the encryption keys
//! (with ids, so old values stay readable after a rotation).
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use uslugi_app::crypto::{Key, Secrets};

#[derive(Serialize, Deserialize)]
struct SecretsFile {
    hmac_key: String,
    current_encryption_key: u8,
    encryption_keys: Vec<EncryptionKey>,
}

#[derive(Serialize, Deserialize)]
struct EncryptionKey {
    id: u8,
    key: String,
}

pub fn generate() -> String {
    let file = SecretsFile {
        hmac_key: Key::generate().to_base64(),
        current_encryption_key: 1,
        encryption_keys: vec![EncryptionKey {
            id: 1,
            key: Key::generate().to_base64(),
        }],
    };
    format!(
        "# uslugi secrets: keep this file private and backed up apart from the database.\n\
         # Every node of one deployment needs the same file.\n{}",
        toml::to_string(&file).expect("secrets serialise")
    )
}

pub fn write_new(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot create the secrets file {}", path.display()))?;
    f.write_all(generate().as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Loads the secrets; in the embedded default (`generate_if_missing`) the
/// file is made on first start.
pub fn load(path: &Path, generate_if_missing: bool) -> anyhow::Result<Secrets> {
    if !path.exists() {
        if !generate_if_missing {
            bail!(
                "the secrets file {} does not exist. Copy it from the first node of this deployment, \
                 or create a new one with `uslugi admin secrets generate --out {}`",
                path.display(),
                path.display()
            );
        }
        write_new(path)?;
        tracing::info!(path = %path.display(), "generated new secrets");
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).with_context(|| format!("the secrets file {} is invalid", path.display()))
}

pub fn parse(text: &str) -> anyhow::Result<Secrets> {
    let file: SecretsFile = toml::from_str(text)?;
    let hmac_key =
        Key::from_base64(&file.hmac_key).context("hmac_key is not 32 bytes of base64")?;
    let mut keys = Vec::new();
    for k in file.encryption_keys {
        let key = Key::from_base64(&k.key)
            .with_context(|| format!("encryption key {} is not 32 bytes of base64", k.id))?;
        keys.push((k.id, key));
    }
    if !keys
        .iter()
        .any(|(id, _)| *id == file.current_encryption_key)
    {
        bail!(
            "current_encryption_key {} is not among encryption_keys",
            file.current_encryption_key
        );
    }
    Ok(Secrets {
        hmac_key,
        encryption_keys: keys,
        current_encryption_key: file.current_encryption_key,
    })
}

/// Replaces the file's contents atomically (a crash leaves the old file or
/// the new one, never half of one), keeping it private.
fn replace(path: &Path, file: &SecretsFile) -> anyhow::Result<()> {
    use std::io::Write;
    let text = format!(
        "# uslugi secrets: keep this file private and backed up apart from the database.\n\
         # Every node of one deployment needs the same file.\n{}",
        toml::to_string(file).context("secrets serialise")?
    );
    let tmp = path.with_extension("toml.new");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

fn read_file(path: &Path) -> anyhow::Result<SecretsFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).with_context(|| format!("the secrets file {} is invalid", path.display()))?;
    Ok(toml::from_str(&text)?)
}

/// Adds a new encryption key and makes it current; the old ones stay so
/// values sealed under them can still be opened. Returns the new key's id.
pub fn add_key(path: &Path) -> anyhow::Result<u8> {
    let mut file = read_file(path)?;
    let next = file
        .encryption_keys
        .iter()
        .map(|k| k.id)
        .max()
        .unwrap_or(0)
        .checked_add(1)
        .context("all 255 key ids are used: retire old keys first (--retire)")?;
    file.encryption_keys.push(EncryptionKey {
        id: next,
        key: Key::generate().to_base64(),
    });
    file.current_encryption_key = next;
    replace(path, &file)?;
    Ok(next)
}

/// Removes every encryption key but the current one; returns their ids.
pub fn retire_old_keys(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut file = read_file(path)?;
    let current = file.current_encryption_key;
    let retired = file
        .encryption_keys
        .iter()
        .map(|k| k.id)
        .filter(|id| *id != current)
        .collect();
    file.encryption_keys.retain(|k| k.id == current);
    replace(path, &file)?;
    Ok(retired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_load_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        assert!(load(&path, false).is_err(), "not generated unless asked");
        let a = load(&path, true).unwrap();
        let b = load(&path, true).unwrap();
        assert_eq!(a.hmac_key.0, b.hmac_key.0, "generated once, then kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(
            parse("hmac_key = \"x\"\ncurrent_encryption_key = 1\nencryption_keys = []").is_err()
        );
    }

    #[test]
    fn a_new_key_becomes_current_and_the_old_ones_stay_until_retired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        let first = load(&path, true).unwrap();
        assert_eq!(add_key(&path).unwrap(), 2);
        let second = load(&path, false).unwrap();
        assert_eq!(second.current_encryption_key, 2);
        assert_eq!(second.encryption_keys.len(), 2);
        assert_eq!(
            second.hmac_key.0, first.hmac_key.0,
            "the keyed hashes stay valid"
        );
        assert_eq!(retire_old_keys(&path).unwrap(), vec![1]);
        let third = load(&path, false).unwrap();
        assert_eq!(third.encryption_keys.len(), 1);
        assert_eq!(third.encryption_keys[0].1.0, second.encryption_keys[1].1.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
