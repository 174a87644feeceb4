//! The datasets' summaries, merged for the analyses ([`crate::summary`]).
//!
//! An analysis reads the summaries when every file of the datasets it looks at has one
//! that answers its question; otherwise it reads the rows. Summaries are fetched
//! concurrently (they are separate objects on an object store), decoded and merged off the
//! async threads, and the merge is bounded: a merged table larger than [`MERGED_BUDGET`]
//! is given up, and the analyses that need it read the rows, under the query's limits.

use futures::{StreamExt, TryStreamExt};

use crate::error::LakeError;
use crate::lake::Lake;
use crate::manifest::Manifest;
use crate::summary::{Summary, decode};

/// The most a merged summary may hold in memory, about (the rows' path is limited by the
/// query's own memory limit instead).
const MERGED_BUDGET: usize = 512 << 20;

/// Summaries fetched at once.
const FETCHES: usize = 8;

/// The merged summary of every file of `manifests`; `None` when a file has none that can
/// be read (written before summaries existed, of another format, or damaged).
pub(crate) async fn load(
    lake: &Lake,
    manifests: &[Manifest],
) -> Result<Option<Summary>, LakeError> {
    let mut paths = Vec::new();
    for m in manifests {
        let dir = Lake::dataset_dir(&m.name);
        for f in &m.files {
            match f.summary_path() {
                Some(p) => paths.push(format!("{dir}/{p}")),
                None => return Ok(None),
            }
        }
    }
    if paths.is_empty() {
        return Ok(None);
    }
    let store = lake.store().clone();
    let fetched: Vec<Option<bytes::Bytes>> = futures::stream::iter(paths)
        .map(|p| {
            let store = store.clone();
            async move { store.get(&p).await }
        })
        .buffered(FETCHES)
        .try_collect()
        .await?;
    tokio::task::spawn_blocking(move || {
        let mut merged: Option<Summary> = None;
        for bytes in fetched {
            let Some(Ok(Some(s))) = bytes.map(|b| decode(&b)) else {
                return None;
            };
            match &mut merged {
                Some(m) => m.merge(&s),
                None => merged = Some(s),
            }
            if let Some(m) = &mut merged {
                m.keep_within(MERGED_BUDGET);
            }
        }
        merged
    })
    .await
    .map_err(|e| LakeError::Internal(format!("merging summaries: {e}")))
}
