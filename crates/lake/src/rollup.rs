//! Rollups: one merged summary for many data files of a dataset.
//!
//! Every data file has its own summary ([`crate::summary`]), and an analysis over a
//! dataset of many files fetches, decodes and merges all of them, every time, in every
//! process: at 100 M events that merging, not the analysis, was most of the work. A
//! rollup is that merge, done once and kept: `rollup-<id>.summary` in the dataset
//! directory, in the summary file format, named by the manifest with the files it covers.
//! An analysis then reads the rollup and the summaries of the files it does not cover
//! (appended since), and merges those few.
//!
//! A rollup is derived data, so it is not part of the data's commits:
//! - it is written after a commit (an ingest's, a compaction's), from the rollup before
//!   it and the summaries of the files that rollup did not cover, and committed on its
//!   own, without a new dataset version, only if every file it covers is still there;
//! - it is used only while every file it covers is still a file of the dataset (a
//!   compaction that replaces some makes it unusable until the next rollup);
//! - the one it replaces is deleted at once: a reader that read the older manifest and
//!   finds its rollup gone, or damaged, reads the files' own summaries instead. So no
//!   reader ever needs an old rollup, and none is ever wrong for lack of one.
//!
//! A rollup is only written when the merge keeps every table the files' summaries hold
//! (within [`ROLLUP_BUDGET`]): a table missing from a rollup is then exactly a table some
//! file lacks, and reading the files would not answer more.

use crate::analyze::summaries::{MERGED_BUDGET, merge, store_paths};
use crate::error::{LakeError, Result};
use crate::lake::{DatasetLock, Lake};
use crate::manifest::{Manifest, Rollup};
use crate::name::DatasetName;
use crate::summary::{SUMMARY_FORMAT, Summary, Tables, encode};

/// The most a rollup may hold in memory while it is merged: the analyses' own bound on
/// a merged summary, so any rollup written is one they could have merged themselves.
pub const ROLLUP_BUDGET: usize = MERGED_BUDGET;

/// What [`Lake::roll_up`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RollUp {
    /// A new rollup covers every file of the dataset.
    Written { files: usize, bytes: u64 },
    /// The rollup already covered every file, or there is nothing to merge (fewer than
    /// two summaries).
    Current,
    /// No rollup: why, in words for people.
    Skipped(&'static str),
    /// Writing it failed (the store's error, in words for people).
    Failed(String),
}

impl Lake {
    /// Writes a rollup covering every file of `name` (see the module's doc), unless the
    /// one it has covers them. Takes the dataset's lock for the commit.
    pub async fn roll_up(&self, name: &DatasetName) -> Result<RollUp> {
        let Some(m) = self.manifest(name).await? else {
            return Ok(RollUp::Skipped("the dataset does not exist"));
        };
        self.roll_up_from(name, &m, true).await
    }

    /// [`Lake::roll_up`] from manifest `m`, taking the lock for the commit when `lock`
    /// (an ingest holds it already).
    pub(crate) async fn roll_up_from(
        &self,
        name: &DatasetName,
        m: &Manifest,
        lock: bool,
    ) -> Result<RollUp> {
        if m.usable_rollup()
            .is_some_and(|r| r.files.len() == m.files.len())
        {
            return Ok(RollUp::Current);
        }
        let Some(paths) = m.summary_paths(true) else {
            return Ok(RollUp::Skipped("a file of the dataset has no summary"));
        };
        if paths.len() < 2 {
            // One file left (a compaction merged the rest): its own summary is the merge,
            // and a rollup over files that are gone is kept no longer.
            if m.rollup.is_some() && m.usable_rollup().is_none() {
                self.forget(name, m, lock).await?;
            }
            return Ok(RollUp::Current);
        }
        let dir = Lake::dataset_dir(name);
        let merged = match merge_from(self, m, true).await? {
            Some(m) => Some(m),
            // The rollup was replaced or damaged since `m` was read: from the files.
            None => merge_from(self, m, false).await?,
        };
        let Some((summary, given_up)) = merged else {
            return Ok(RollUp::Skipped("a summary of the dataset cannot be read"));
        };
        if given_up != Tables::NONE {
            return Ok(RollUp::Skipped(
                "the merged summary would be too large to keep",
            ));
        }
        let bytes = tokio::task::spawn_blocking(move || encode(&summary))
            .await
            .map_err(|e| LakeError::Internal(format!("encoding a rollup: {e}")))??;
        let rollup = Rollup {
            path: format!("rollup-{}.summary", uuid::Uuid::new_v4().simple()),
            files: m.files.iter().map(|f| f.path.clone()).collect(),
            bytes: bytes.len() as u64,
            format: SUMMARY_FORMAT,
        };
        let at = format!("{dir}/{}", rollup.path);
        self.store().put_atomic(&at, bytes.into()).await?;
        let mut replaced = None;
        let committed = {
            let _lock = self.lock_if(name, lock).await?;
            self.update_manifest(name, |current, _| {
                let present: std::collections::HashSet<&str> =
                    current.files.iter().map(|f| f.path.as_str()).collect();
                if !rollup.files.iter().all(|f| present.contains(f.as_str())) {
                    return Err(LakeError::Invalid(
                        "the dataset changed while its summaries were merged".into(),
                    ));
                }
                // A newer rollup that covers more is kept.
                if current
                    .usable_rollup()
                    .is_some_and(|r| r.files.len() >= rollup.files.len())
                {
                    return Err(LakeError::Invalid("a newer rollup was committed".into()));
                }
                replaced = current.rollup.replace(rollup.clone());
                Ok(())
            })
            .await
        };
        match committed {
            Ok(_) => {
                // Nobody needs the one replaced (see the module's doc).
                if let Some(old) = replaced.filter(|o| o.path != rollup.path) {
                    self.store().delete(&format!("{dir}/{}", old.path)).await?;
                }
                Ok(RollUp::Written {
                    files: rollup.files.len(),
                    bytes: rollup.bytes,
                })
            }
            Err(LakeError::Invalid(_)) => {
                self.store().delete(&at).await?;
                Ok(RollUp::Skipped(
                    "the dataset changed while its summaries were merged",
                ))
            }
            Err(e) => {
                let _ = self.store().delete(&at).await;
                Err(e)
            }
        }
    }

    /// The dataset's lock when `take` (not when the caller holds it already: an ingest).
    async fn lock_if(&self, name: &DatasetName, take: bool) -> Result<Option<DatasetLock>> {
        Ok(match take {
            true => Some(self.lock(name).await?),
            false => None,
        })
    }

    /// Takes `m`'s rollup out of the dataset (if it is still the dataset's) and deletes it.
    async fn forget(&self, name: &DatasetName, m: &Manifest, lock: bool) -> Result<()> {
        let Some(old) = &m.rollup else {
            return Ok(());
        };
        let _lock = self.lock_if(name, lock).await?;
        let forgotten = self
            .update_manifest(name, |current, _| match &current.rollup {
                Some(r) if r == old => {
                    current.rollup = None;
                    Ok(())
                }
                _ => Err(LakeError::Invalid("the rollup was replaced".into())),
            })
            .await;
        match forgotten {
            Ok(_) => {
                let dir = Lake::dataset_dir(name);
                self.store().delete(&format!("{dir}/{}", old.path)).await
            }
            Err(LakeError::Invalid(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Every table of `m`'s summaries merged within the rollup's budget, from its rollup and
/// the files it does not cover (`rollup`) or from every file's own; `None` when one
/// cannot be read or a file has none.
async fn merge_from(lake: &Lake, m: &Manifest, rollup: bool) -> Result<Option<(Summary, Tables)>> {
    let Some(paths) = store_paths(std::slice::from_ref(m), rollup) else {
        return Ok(None);
    };
    merge(lake, paths, Tables::ALL, ROLLUP_BUDGET).await
}
