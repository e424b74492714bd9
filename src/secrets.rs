//! The keys outside the database: a keyed-hash key and the encryption keys
//! (with ids, so old values stay readable after a rotation).
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use uslugi_app::crypto::{Key, Secrets};

#[derive(Serialize, Deserialize)]
struct SecretsFile {
    hmac_key: String,
    /// The key of the blind indexes, once the first keyed-hash rotation
    /// set one; until then they are under `hmac_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index_key: Option<String>,
    /// The key a keyed-hash rotation is moving the blind indexes to: while
    /// it is here, no node starts (the indexes are half under each key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_index_key: Option<String>,
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
        index_key: None,
        next_index_key: None,
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
    let invalid = || format!("the secrets file {} is invalid", path.display());
    let file: SecretsFile = toml::from_str(&text).with_context(invalid)?;
    if file.next_index_key.is_some() {
        bail!(
            "a rotation of the keyed-hash key is unfinished in {}: the blind indexes are partly \
             under each key. Run `uslugi admin rotate-keys --keyed-hash` again to finish it",
            path.display()
        );
    }
    secrets_of(&file, file.index_key.as_deref()).with_context(invalid)
}

pub fn parse(text: &str) -> anyhow::Result<Secrets> {
    let file: SecretsFile = toml::from_str(text)?;
    secrets_of(&file, file.index_key.as_deref())
}

fn secrets_of(file: &SecretsFile, index_key: Option<&str>) -> anyhow::Result<Secrets> {
    let hmac_key =
        Key::from_base64(&file.hmac_key).context("hmac_key is not 32 bytes of base64")?;
    let index_key = index_key
        .map(|k| Key::from_base64(k).context("an index key is not 32 bytes of base64"))
        .transpose()?;
    let mut keys = Vec::new();
    for k in &file.encryption_keys {
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
        index_key,
        encryption_keys: keys,
        current_encryption_key: file.current_encryption_key,
    })
}

/// Replaces the file's contents atomically (a crash leaves the old file or
/// the new one, never half of one), keeping it private.
fn replace(path: &Path, file: &SecretsFile) -> anyhow::Result<()> {
    let text = format!(
        "# uslugi secrets: keep this file private and backed up apart from the database.\n\
         # Every node of one deployment needs the same file.\n{}",
        toml::to_string(file).context("secrets serialise")?
    );
    crate::private_files::replace_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot replace {}", path.display()))
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

/// Starts a rotation of the keyed-hash key of the blind indexes: a new key
/// is written as `next_index_key` unless a rotation is unfinished already.
/// Returns the secrets under the key in force and under the next one.
pub fn begin_index_rotation(path: &Path) -> anyhow::Result<(Secrets, Secrets)> {
    let mut file = read_file(path)?;
    if file.next_index_key.is_none() {
        file.next_index_key = Some(Key::generate().to_base64());
        replace(path, &file)?;
    }
    Ok((
        secrets_of(&file, file.index_key.as_deref())?,
        secrets_of(&file, file.next_index_key.as_deref())?,
    ))
}

/// Ends a rotation: the next index key is the one in force.
pub fn finish_index_rotation(path: &Path) -> anyhow::Result<()> {
    let mut file = read_file(path)?;
    let next = file
        .next_index_key
        .take()
        .context("no rotation of the keyed-hash key is under way")?;
    file.index_key = Some(next);
    replace(path, &file)
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
