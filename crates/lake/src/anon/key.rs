//! The anonymization key file: 32 random bytes, stored as 64 hex digits, mode 0600.
//!
//! Whoever holds the key can undo the anonymization, so the file is created with
//! owner-only permissions and refused when others may read it (as ssh does).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::anon::cryptopan::KEY_LEN;
use crate::error::{LakeError, Result};

/// A Crypto-PAn key loaded from (or created in) a key file.
#[derive(Clone)]
pub struct AnonKey {
    bytes: [u8; KEY_LEN],
}

impl std::fmt::Debug for AnonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnonKey({})", self.fingerprint())
    }
}

impl AnonKey {
    /// A key from raw bytes (tests, or a key kept elsewhere than a file).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> AnonKey {
        AnonKey { bytes }
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// Loads the key at `path`, or creates it with fresh random bytes when the file does
    /// not exist. Returns the key and whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(AnonKey, bool)> {
        let err = |why: String| LakeError::Key {
            path: path.to_path_buf(),
            why,
        };
        match fs::metadata(path) {
            Ok(meta) => {
                check_permissions(&meta).map_err(err)?;
                let text = fs::read(path).map_err(|e| err(e.to_string()))?;
                Ok((AnonKey::decode(&text).map_err(err)?, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; KEY_LEN];
                getrandom::fill(&mut bytes).map_err(|e| err(format!("no randomness: {e}")))?;
                let mut opts = OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts
                    .open(path)
                    .map_err(|e| err(format!("cannot create: {e}")))?;
                f.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| err(e.to_string()))?;
                Ok((AnonKey { bytes }, true))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// The key as its file holds it (64 hex digits and a line end), for keeping it
    /// elsewhere than a local file (an object store shared by several instances).
    pub fn encode(&self) -> String {
        format!("{}\n", hex::encode(self.bytes))
    }

    /// A fresh random key.
    pub fn generate() -> std::result::Result<AnonKey, String> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
        Ok(AnonKey { bytes })
    }

    /// 64 hex digits (surrounding white space ignored), or the 32 raw bytes other
    /// Crypto-PAn tools use.
    pub fn decode(data: &[u8]) -> std::result::Result<AnonKey, String> {
        let text = std::str::from_utf8(data).map(str::trim).unwrap_or("");
        let mut bytes = [0u8; KEY_LEN];
        if text.len() == 2 * KEY_LEN && hex::decode_to_slice(text, &mut bytes).is_ok() {
            return Ok(AnonKey { bytes });
        }
        if data.len() == KEY_LEN {
            bytes.copy_from_slice(data);
            return Ok(AnonKey { bytes });
        }
        Err(format!(
            "expected 64 hex digits (32 bytes), found {} bytes",
            data.len()
        ))
    }

    /// A stable fingerprint recorded in manifests to recognise the key, from which the
    /// key cannot be derived.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"secviz cryptopan key fingerprint v1\0");
        h.update(self.bytes);
        format!("sha256:{}", &hex::encode(h.finalize())[..32])
    }
}

#[cfg(unix)]
fn check_permissions(meta: &fs::Metadata) -> std::result::Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "is readable or writable by others (mode {mode:03o}); run chmod 600 on it"
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_meta: &fs::Metadata) -> std::result::Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_an_owner_only_key_once_and_loads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anon.key");
        let (k1, created) = AnonKey::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        let (k2, created) = AnonKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(k1.bytes, k2.bytes);
        assert_eq!(k1.fingerprint(), k2.fingerprint());
        assert!(!k1.fingerprint().contains(&hex::encode(k1.bytes)[..16]));
        assert!(!format!("{k1:?}").contains(&hex::encode(k1.bytes)));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_key_others_can_read_and_a_malformed_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, "00".repeat(32)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = AnonKey::load_or_create(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(AnonKey::load_or_create(&path).is_ok());
        fs::write(&path, "abc").unwrap();
        assert!(
            AnonKey::load_or_create(&path)
                .unwrap_err()
                .to_string()
                .contains("64 hex digits")
        );
    }
}
