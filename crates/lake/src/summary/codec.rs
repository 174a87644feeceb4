//! The bytes of summary files, both formats: the magic, and the bounded inflating and
//! decoding every section goes through.

pub(super) const MAGIC: &[u8; 8] = b"SVZSUMM\0";

/// The largest summary (or table) accepted when read: a file's summary stays under the
/// writer's budget, so a larger one is damaged (or not ours) and is refused before it is
/// inflated.
pub(super) const MAX_DECODED: u64 = 1 << 30;

/// Decompresses zstd, refusing more than [`MAX_DECODED`] bytes.
pub(super) fn inflate(packed: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut z = zstd::Decoder::new(packed).map_err(|e| e.to_string())?;
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut z, MAX_DECODED + 1), &mut body)
        .map_err(|e| format!("cannot be decompressed: {e}"))?;
    if body.len() as u64 > MAX_DECODED {
        return Err("is larger than any summary secviz writes".into());
    }
    Ok(body)
}

/// Decodes bincode within [`MAX_DECODED`] (a length inside cannot make it allocate more).
pub(crate) fn read<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, String> {
    use bincode::Options;
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(MAX_DECODED)
        .deserialize(b)
        .map_err(|e| format!("cannot be read: {e}"))
}
