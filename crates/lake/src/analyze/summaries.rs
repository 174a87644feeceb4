//! The datasets' summaries, merged for the analyses ([`crate::summary`]).
//!
//! An analysis reads the summaries when every file of the datasets it looks at has one
//! that answers its question; otherwise it reads the rows. Summaries are fetched
//! concurrently (they are separate objects on an object store), decoded on the blocking
//! threads (all cores), and merged; the merge is bounded: a merged table larger than
//! [`MERGED_BUDGET`] is given up, and the analyses that need it read the rows, under the
//! query's limits.
//!
//! Only the tables the analyses about to run read are decoded ([`Tables`]).
//!
//! The merged summary of the last few sets of files is kept
//! ([`crate::summary::SummaryCache`]): files are
//! immutable and named uniquely per ingest, so the list of files is the key, and a commit
//! (a new file list) is never answered from an old merge.

use std::sync::Arc;

use futures::StreamExt;

use crate::error::LakeError;
use crate::lake::Lake;
use crate::manifest::Manifest;
use crate::summary::{Summary, Table, Tables, decode};

/// The most a merged summary may hold in memory, about (the rows' path is limited by the
/// query's own memory limit instead).
pub(crate) const MERGED_BUDGET: usize = 512 << 20;

/// Summaries fetched and decoded at once.
const FETCHES: usize = 8;

/// The tables an analysis reads from the summaries (none: it reads the rows, or only the
/// head's counts).
pub(crate) fn tables_of(analysis: &str) -> Tables {
    match analysis {
        "top-talkers" => Tables::of(&[Table::Sources]),
        "top-ports" => Tables::of(&[Table::Ports]),
        "events-over-time" => Tables::of(&[Table::Minutes]),
        "rare-destinations" => Tables::of(&[Table::Destinations]),
        "fan-out" => Tables::of(&[Table::Sources, Table::Networks]),
        "fan-in" => Tables::of(&[Table::Calls]),
        "dns-fixed-port" => Tables::of(&[Table::Dns]),
        "beacons" => Tables::of(&[Table::Peers]),
        "password-guessing" => Tables::of(&[Table::Logins]),
        "web-probing" => Tables::of(&[Table::Web]),
        "long-connections" | "exfiltration" => Tables::of(&[Table::Conns]),
        "dns-tunnel" => Tables::of(&[Table::Domains]),
        "dns" => Tables::of(&[Table::Names]),
        _ => Tables::NONE,
    }
}

/// The merged summary of every file of `manifests`, with the tables in `wanted` (and the
/// head); `None` when a file has none that can be read (written before summaries existed,
/// of another format, or damaged).
///
/// A dataset's rollup ([`crate::rollup`]) stands for the files it covers; when it cannot
/// be read (replaced by a newer one since the manifest was read, or damaged), the files'
/// own summaries are read instead.
pub(crate) async fn load(
    lake: &Lake,
    manifests: &[Manifest],
    wanted: Tables,
) -> Result<Option<Arc<Summary>>, LakeError> {
    let rolled = manifests.iter().any(|m| m.usable_rollup().is_some());
    if let Some(s) = load_paths(lake, manifests, wanted, true).await? {
        return Ok(Some(s));
    }
    if !rolled {
        return Ok(None);
    }
    load_paths(lake, manifests, wanted, false).await
}

async fn load_paths(
    lake: &Lake,
    manifests: &[Manifest],
    wanted: Tables,
    rollup: bool,
) -> Result<Option<Arc<Summary>>, LakeError> {
    let Some(paths) = store_paths(manifests, rollup) else {
        return Ok(None);
    };
    if paths.is_empty() {
        return Ok(None);
    }
    let wanted = match lake.summary_cache.get(&paths, wanted) {
        Ok(hit) => return Ok(Some(hit)),
        Err(held) => wanted.union(held),
    };
    let Some((merged, _)) = merge(lake, paths.clone(), wanted, MERGED_BUDGET).await? else {
        return Ok(None);
    };
    let merged = Arc::new(merged);
    lake.summary_cache.put(paths, wanted, merged.clone());
    Ok(Some(merged))
}

/// Where the summaries of `manifests` are in the store ([`Manifest::summary_paths`]:
/// with their rollups or without); `None` when a file has no summary.
pub(crate) fn store_paths(manifests: &[Manifest], rollup: bool) -> Option<Vec<String>> {
    let mut paths = Vec::new();
    for m in manifests {
        let dir = Lake::dataset_dir(&m.name);
        let ps = m.summary_paths(rollup)?;
        paths.extend(ps.into_iter().map(|p| format!("{dir}/{p}")));
    }
    Some(paths)
}

/// The summaries at `paths` (in the store) merged, with the tables in `wanted`, and the
/// tables given up to keep the merge within `budget`; `None` when one cannot be read.
pub(crate) async fn merge(
    lake: &Lake,
    paths: Vec<String>,
    wanted: Tables,
    budget: usize,
) -> Result<Option<(Summary, Tables)>, LakeError> {
    let store = lake.store().clone();
    // Each summary is fetched and decoded by a task of its own, at most FETCHES at a
    // time, and merged as it comes (in file order): what is held is the merge and the
    // summaries in flight, not every file's at once.
    let mut decoded = futures::stream::iter(paths)
        .map(|p| {
            let store = store.clone();
            tokio::spawn(async move {
                let Some(bytes) = store.get(&p).await? else {
                    return Ok(None);
                };
                tokio::task::spawn_blocking(move || decode(&bytes, wanted).ok().flatten())
                    .await
                    .map_err(|e| LakeError::Internal(format!("decoding a summary: {e}")))
            })
        })
        .buffered(FETCHES);
    let mut merged: Option<(Summary, Tables)> = None;
    while let Some(next) = decoded.next().await {
        let next = next.map_err(|e| LakeError::Internal(format!("reading a summary: {e}")))??;
        let Some(s) = next else {
            return Ok(None);
        };
        merged = Some(match merged.take() {
            None => (s, Tables::NONE),
            Some((mut m, given_up)) => tokio::task::spawn_blocking(move || {
                m.merge(&s);
                let more = m.keep_within(budget);
                (m, given_up.union(more))
            })
            .await
            .map_err(|e| LakeError::Internal(format!("merging summaries: {e}")))?,
        });
    }
    Ok(merged)
}

impl Lake {
    /// The merged summary of the files of `manifests`, with the tables in `wanted`, as the
    /// analyses read it (the views read it too, for what it counts exactly); `None` when a
    /// file has no summary that can be read, or when this lake reads the rows
    /// ([`Lake::reading_rows`]).
    pub async fn summary(
        &self,
        manifests: &[Manifest],
        wanted: Tables,
    ) -> Result<Option<Arc<Summary>>, LakeError> {
        match self.summaries {
            true => load(self, manifests, wanted).await,
            false => Ok(None),
        }
    }
}
