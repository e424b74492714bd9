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
}
