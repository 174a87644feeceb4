//! A summary on disk: `part-<ingest>-<n>.summary` beside `part-<ingest>-<n>.parquet`,
//! bincode compressed with zstd, headed by a magic and the format version.

use super::{SUMMARY_FORMAT, Summary};
use crate::error::{LakeError, Result};

const MAGIC: &[u8; 8] = b"SVZSUMM\0";

/// The largest summary accepted when read: a file's summary stays under the writer's
/// budget, so a larger one is damaged (or not ours) and is refused before it is inflated.
const MAX_DECODED: u64 = 1 << 30;

/// Where the summary of a data file is: the same name with `.summary`.
pub(crate) fn summary_path(data_path: &str) -> String {
    let stem = data_path.strip_suffix(".parquet").unwrap_or(data_path);
    format!("{stem}.summary")
}

pub(crate) fn encode(s: &Summary) -> Result<Vec<u8>> {
    let body = bincode::serialize(s)
        .map_err(|e| LakeError::Internal(format!("encoding a summary: {e}")))?;
    let mut out = Vec::with_capacity(body.len() / 4 + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SUMMARY_FORMAT.to_le_bytes());
    out.extend(
        zstd::encode_all(&body[..], 3).map_err(|e| LakeError::io("compressing a summary", e))?,
    );
    Ok(out)
}

/// Reads a summary: `Ok(None)` when it is of another format version, `Err(why)` when it is
/// damaged. Either way the analyses read the raw rows instead: a summary only ever saves
/// time, and the data file it describes is what the dataset is.
pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<Option<Summary>, String> {
    let damaged = |why: String| why;
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(damaged("is not a secviz summary".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("four bytes"));
    if version != SUMMARY_FORMAT {
        return Ok(None);
    }
    let mut body = Vec::new();
    let mut z = zstd::Decoder::new(&bytes[12..]).map_err(|e| damaged(e.to_string()))?;
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut z, MAX_DECODED + 1), &mut body)
        .map_err(|e| damaged(format!("cannot be decompressed: {e}")))?;
    if body.len() as u64 > MAX_DECODED {
        return Err(damaged("is larger than any summary secviz writes".into()));
    }
    use bincode::Options;
    let s: Summary = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(MAX_DECODED)
        .deserialize(&body)
        .map_err(|e| damaged(format!("cannot be read: {e}")))?;
    if !s.is_well_formed() {
        return Err(damaged("holds a damaged distinct-count sketch".into()));
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut s = Summary::empty(None);
        s.rows = 3;
        s.facts.insert("src_ip".into(), 2);
        s.sources.as_mut().unwrap().insert(
            "10.0.0.1".into(),
            super::super::SourceSum {
                events: 2,
                bytes: Some(7),
                ..Default::default()
            },
        );
        let bytes = encode(&s).unwrap();
        assert_eq!(decode(&bytes).unwrap(), Some(s));
        let mut cut = bytes.clone();
        cut.truncate(bytes.len() - 3);
        assert!(decode(&cut).is_err());
        assert!(decode(b"PAR1....").is_err());
        let mut newer = bytes.clone();
        newer[8] = 99;
        assert_eq!(decode(&newer).unwrap(), None);
        assert_eq!(
            summary_path("day=2011-10-11/part-a-00000.parquet"),
            "day=2011-10-11/part-a-00000.summary"
        );
    }
}
