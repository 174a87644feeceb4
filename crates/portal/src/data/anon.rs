//! The site's anonymization: one Crypto-PAn key per site, kept in `<data>/anonymization.key`
//! (created with mode 0600 on first start), and what it covers, as members are told on the
//! upload form. The lake applies it while ingesting ([`secviz_lake::anon`]); the portal also
//! passes every text it keeps about an anonymized upload through it (the file name shown,
//! error messages), so no original address is stored anywhere.

use std::path::Path;

use anyhow::Context;
use secviz_lake::anon::{AnonKey, Anonymizer};

/// The key file's name inside the data folder.
pub const KEY_FILE: &str = "anonymization.key";

/// What anonymization rewrites, as shown to the member before they upload.
pub const COVERED: &[&str] = &[
    "source and destination addresses (src_ip, dst_ip), IPv4 and IPv6, prefix-preserving",
    "addresses inside every text column: the raw line, message, extra fields, host names, URIs, DNS names such as 4.3.2.1.in-addr.arpa",
    "addresses in rejected lines and error messages",
    "addresses in the file name shown with the data",
];

/// Loads the site key, creating it on first start.
pub fn load_site_key(data_dir: &Path) -> anyhow::Result<AnonKey> {
    let path = data_dir.join(KEY_FILE);
    let (key, created) = AnonKey::load_or_create(&path)
        .with_context(|| format!("anonymization key {}", path.display()))?;
    if created {
        tracing::info!(path = %path.display(), "created the site's anonymization key");
    }
    Ok(key)
}

/// Loads the site key from an object store shared by several instances (`keys/` beside the
/// lake), so that an address gets the same pseudonym whichever instance ingests it. The first
/// instance creates it with a create-only write: of instances starting at once, one key wins
/// and the others read it. A key already in the local data folder (a site that moved its
/// lake to the object store) becomes the shared key; a local key that differs from the
/// shared one stops the start, since data anonymized with both could not be joined.
pub async fn load_shared_site_key(location: &str, data_dir: &Path) -> anyhow::Result<AnonKey> {
    let store = secviz_lake::Store::open_area(location, &[], "keys")
        .with_context(|| format!("opening the key area of {location}"))?;
    let where_ = || format!("{}/{KEY_FILE}", store.describe());
    let local_path = data_dir.join(KEY_FILE);
    let local = match local_path.exists() {
        true => Some(
            AnonKey::load_or_create(&local_path)
                .with_context(|| format!("anonymization key {}", local_path.display()))?
                .0,
        ),
        false => None,
    };
    for _ in 0..3 {
        if let Some(bytes) = store.get(KEY_FILE).await? {
            let shared = AnonKey::decode(&bytes)
                .map_err(|why| anyhow::anyhow!("anonymization key {}: {why}", where_()))?;
            if let Some(local) = &local
                && local.fingerprint() != shared.fingerprint()
            {
                anyhow::bail!(
                    "the anonymization key {} differs from the shared one in {}; keep one of them \
                     (data anonymized with two keys cannot be compared)",
                    local_path.display(),
                    where_()
                );
            }
            return Ok(shared);
        }
        let key = match &local {
            Some(k) => k.clone(),
            None => AnonKey::generate().map_err(|why| anyhow::anyhow!(why))?,
        };
        if store.put_if(KEY_FILE, key.encode().into(), None).await? {
            tracing::info!(at = %where_(), "stored the site's anonymization key");
            return Ok(key);
        }
    }
    anyhow::bail!(
        "could not read or create the anonymization key {}",
        where_()
    )
}

/// Rewrites the addresses in `text` when `on`, else returns it unchanged.
pub fn scrub(key: &AnonKey, on: bool, text: &str) -> String {
    if on {
        Anonymizer::new(key).text(text)
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_rewrites_addresses_and_keeps_prefixes() {
        let key = AnonKey::from_bytes([7; 32]);
        let a = scrub(&key, true, "fw-10.1.2.3.log");
        let b = scrub(&key, true, "10.1.2.77");
        assert!(!a.contains("10.1.2.3"), "{a}");
        // Prefix-preserving: the two share their first three octets after mapping too.
        let a_ip = a.trim_start_matches("fw-").trim_end_matches(".log");
        let pa: Vec<&str> = a_ip.split('.').collect();
        let pb: Vec<&str> = b.split('.').collect();
        assert_eq!(pa[..3], pb[..3], "{a} {b}");
        assert_eq!(scrub(&key, false, "10.1.2.3"), "10.1.2.3");
    }
}
