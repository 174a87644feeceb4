//! [`Lake`]: open a lake, list, create and remove datasets, commit staged files.
//!
//! Layout under `<data>/lake/`:
//!
//! ```text
//! datasets/<name>/manifest.json                    the commit point
//! datasets/<name>/day=YYYY-MM-DD/part-<id>-N.parquet
//! tmp/<name>/<ingest id>/                          staging (local lakes)
//! locks/<name>.lock                                one writer per dataset (local lakes)
//! ```
//!
//! A commit publishes the staged files (rename + fsync), then replaces the manifest
//! atomically. A crash before the manifest is replaced leaves the old manifest, which
//! does not name the new files: readers never see them, and the next writer of the
//! dataset deletes them ([`Lake::gc`]).
//!
//! On an object store there is no lock: the manifest is replaced with a conditional write
//! against the version the commit read. A commit that loses the race to another writer
//! reads the new manifest and adds its files to it again (its files are already in place
//! under unique names), so concurrent ingests all land, one version each, and none is lost.
//! Unnamed files there are only collected once they are [`GC_GRACE_SECS`] old: younger ones
//! may be another writer's, published and not yet committed.

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::PathBuf;

use bytes::Bytes;

use crate::error::{LakeError, Result};
use crate::manifest::{AnonymizationInfo, DataFile, IngestRecord, Manifest, SummaryInfo};
use crate::name::DatasetName;
use crate::store::{ObjectVersion, Store};
use crate::time::{format_micros, now_micros};
use crate::write::StagedFile;

const MANIFEST: &str = "manifest.json";

/// How often a commit on an object store reads again and retries after losing the race for
/// the manifest to another writer.
const COMMIT_ATTEMPTS: usize = 16;

/// On an object store, unnamed files younger than this may belong to a commit in progress
/// elsewhere, and [`Lake::gc`] leaves them.
pub const GC_GRACE_SECS: i64 = 3600;

/// A lake of datasets under one data location.
#[derive(Clone, Debug)]
pub struct Lake {
    store: Store,
    /// Workers that run queries' stages ([`Lake::with_cluster`]); `None`: in this process.
    cluster: Option<std::sync::Arc<crate::cluster::Cluster>>,
    /// Whether analyses may answer from the files' summaries ([`Lake::reading_rows`]).
    pub(crate) summaries: bool,
    /// The last merged summaries (shared by the clones of this lake).
    pub(crate) summary_cache: std::sync::Arc<crate::summary::SummaryCache>,
}

/// What [`Lake::gc`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    pub files: u64,
    pub bytes: u64,
}

/// Holds a dataset's write lock until dropped (local lakes; a no-op elsewhere).
#[derive(Debug)]
pub struct DatasetLock {
    _file: Option<File>,
}

/// What a commit adds to a dataset.
pub(crate) struct Commit {
    pub files: Vec<StagedFile>,
    pub record: IngestRecord,
    pub anonymization: Option<AnonymizationInfo>,
    /// The inside networks as stored (already mapped when anonymized); `None` keeps the
    /// dataset's.
    pub inside: Option<crate::inside::InsideNetworks>,
    /// Commit even when a source's SHA-256 is already in the dataset (`--force`).
    pub force: bool,
}

impl Lake {
    /// Opens (creating if needed) the lake under a data directory or URL.
    pub fn open(data: &str) -> Result<Lake> {
        Ok(Lake {
            store: Store::open(data)?,
            cluster: None,
            summaries: true,
            summary_cache: Default::default(),
        })
    }

    /// [`Lake::open`] with object-store options ([`Store::open_with`]).
    pub fn open_with(data: &str, options: &[(&str, &str)]) -> Result<Lake> {
        Ok(Lake {
            store: Store::open_with(data, options)?,
            cluster: None,
            summaries: true,
            summary_cache: Default::default(),
        })
    }

    /// The default data location: `$SECVIZ_DATA`, else `./secviz-data`.
    pub fn default_location() -> String {
        std::env::var("SECVIZ_DATA")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "./secviz-data".to_string())
    }

    /// This lake with its queries run across `cluster`'s workers, which must read the same
    /// lake (the object store, or a path they share).
    pub fn with_cluster(mut self, cluster: crate::cluster::Cluster) -> Lake {
        self.cluster = Some(std::sync::Arc::new(cluster));
        self
    }

    /// This lake with every analysis reading the raw rows, never the files' summaries: exact
    /// distinct counts at the price of reading everything (`secviz analyze --rows`), and
    /// the reference the summaries are tested against.
    pub fn reading_rows(mut self) -> Lake {
        self.summaries = false;
        self
    }

    /// The workers queries run on, if any.
    pub fn cluster(&self) -> Option<&crate::cluster::Cluster> {
        self.cluster.as_deref()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn dataset_dir(name: &DatasetName) -> String {
        format!("datasets/{name}")
    }

    fn manifest_path(name: &DatasetName) -> String {
        format!("datasets/{name}/{MANIFEST}")
    }

    /// The manifest of a dataset, `None` when it does not exist.
    pub async fn manifest(&self, name: &DatasetName) -> Result<Option<Manifest>> {
        Ok(self.manifest_versioned(name).await?.map(|(m, _)| m))
    }

    /// The manifest and the version of its object, for a conditional replacement.
    async fn manifest_versioned(
        &self,
        name: &DatasetName,
    ) -> Result<Option<(Manifest, ObjectVersion)>> {
        let path = Self::manifest_path(name);
        match self.store.get_versioned(&path).await? {
            None => Ok(None),
            Some((bytes, version)) => {
                let m = Manifest::from_json(&bytes, &path)?;
                if &m.name != name {
                    return Err(LakeError::Manifest {
                        path,
                        why: format!("names dataset {}", m.name),
                    });
                }
                Ok(Some((m, version)))
            }
        }
    }

    /// The manifest of a dataset that must exist.
    pub async fn require(&self, name: &DatasetName) -> Result<Manifest> {
        self.manifest(name)
            .await?
            .ok_or_else(|| LakeError::NotFound(name.clone()))
    }

    /// Every dataset, by name. A directory without a manifest (an ingest that never
    /// committed) is not a dataset.
    pub async fn datasets(&self) -> Result<Vec<Manifest>> {
        let names = self.dataset_names().await?;
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(m) = self.manifest(&n).await? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Creates an empty dataset; an error if it exists.
    pub async fn create(&self, name: &DatasetName) -> Result<Manifest> {
        let _lock = self.lock(name).await?;
        if self.manifest(name).await?.is_some() {
            return Err(LakeError::Manifest {
                path: Self::manifest_path(name),
                why: "the dataset already exists".into(),
            });
        }
        let m = Manifest::new(name.clone(), now_micros());
        let created = self
            .store
            .put_if(&Self::manifest_path(name), Bytes::from(m.to_json()), None)
            .await?;
        if !created {
            return Err(LakeError::Manifest {
                path: Self::manifest_path(name),
                why: "the dataset already exists".into(),
            });
        }
        Ok(m)
    }

    /// Removes a dataset: its manifest first (from then on it does not exist), then its
    /// files. Returns the manifest it had.
    pub async fn remove(&self, name: &DatasetName) -> Result<Manifest> {
        let _lock = self.lock(name).await?;
        let m = self.require(name).await?;
        self.store.delete(&Self::manifest_path(name)).await?;
        for f in self.store.list(&Self::dataset_dir(name)).await? {
            self.store.delete(&f.rel).await?;
        }
        self.store.prune_empty_dirs(&Self::dataset_dir(name));
        self.clean_staging(name, None);
        Ok(m)
    }

    /// Deletes the files of a dataset that its manifest does not name (left by an
    /// ingest that was killed before committing), and stale staging directories.
    pub async fn gc(&self, name: &DatasetName) -> Result<GcReport> {
        let _lock = self.lock(name).await?;
        self.gc_locked(name, None).await
    }

    pub(crate) async fn gc_locked(
        &self,
        name: &DatasetName,
        keep_staging: Option<&str>,
    ) -> Result<GcReport> {
        let swept = self.sweep_retired(name).await?;
        let dir = Self::dataset_dir(name);
        let manifest = self.manifest(name).await?;
        let named: HashSet<String> = manifest
            .iter()
            .flat_map(|m| m.named_paths().map(|p| format!("{dir}/{p}")))
            .chain(std::iter::once(Self::manifest_path(name)))
            .collect();
        let mut report = GcReport::default();
        // Without a lock, a young unnamed file may be another writer's commit in progress.
        let young = match self.store.local_dir() {
            Some(_) => i64::MAX,
            None => now_micros() / 1_000_000 - GC_GRACE_SECS,
        };
        for f in self.store.list(&dir).await? {
            if !named.contains(&f.rel) && f.modified < young {
                self.store.delete(&f.rel).await?;
                report.files += 1;
                report.bytes += f.size;
            }
        }
        if manifest.is_none() {
            self.store.prune_empty_dirs(&dir);
        }
        self.clean_staging(name, keep_staging);
        report.files += swept.files;
        report.bytes += swept.bytes;
        Ok(report)
    }

    /// The staging directory of one ingest into `name`.
    pub(crate) fn staging_dir(&self, name: &DatasetName, ingest_id: &str) -> PathBuf {
        self.store
            .staging_root()
            .join(name.as_str())
            .join(ingest_id)
    }

    fn clean_staging(&self, name: &DatasetName, keep: Option<&str>) {
        let root = self.store.staging_root().join(name.as_str());
        let Ok(entries) = fs::read_dir(&root) else {
            return;
        };
        // Without the lock (an object-store lake), another ingest of this dataset in this
        // machine may be staging right now: only old staging directories are abandoned.
        let unlocked = self.store.local_dir().is_none();
        let grace = std::time::Duration::from_secs(GC_GRACE_SECS as u64);
        for e in entries.flatten() {
            if keep.is_some_and(|k| e.file_name().to_str() == Some(k)) {
                continue;
            }
            let young = || {
                e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_none_or(|age| age < grace)
            };
            // Live appends and compactions stage without the lock (only their commits take
            // it): theirs are left alone while young, on any lake.
            let live = e
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("live-"));
            if (unlocked || live) && young() {
                continue;
            }
            let _ = fs::remove_dir_all(e.path());
        }
    }

    /// Takes the dataset's write lock, waiting for another writer to finish. Only one
    /// ingest, removal or collection runs per dataset at a time (local lakes).
    pub async fn lock(&self, name: &DatasetName) -> Result<DatasetLock> {
        let Some(dir) = self.store.local_dir() else {
            return Ok(DatasetLock { _file: None });
        };
        let path = dir.join("locks").join(format!("{name}.lock"));
        let file = tokio::task::spawn_blocking(move || -> Result<File> {
            let ctx = |e| LakeError::io(format!("locking {}", path.display()), e);
            fs::create_dir_all(path.parent().expect("has a parent")).map_err(ctx)?;
            let f = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(ctx)?;
            f.lock().map_err(ctx)?;
            Ok(f)
        })
        .await
        .map_err(|e| LakeError::Internal(e.to_string()))??;
        Ok(DatasetLock { _file: Some(file) })
    }

    /// Publishes staged files and commits a new manifest. The caller holds the lock.
    pub(crate) async fn commit(&self, name: &DatasetName, commit: Commit) -> Result<Manifest> {
        let Commit {
            files,
            record,
            anonymization,
            inside,
            force,
        } = commit;
        self.commit_with(name, &files, &record.id, |m| {
            check_anonymization(m, anonymization.as_ref())?;
            // Checked again here, against the version this commit replaces: two writers that
            // ingest the same file at once (a job taken over from an instance that was only
            // slow) both passed the check before parsing, and only the first may commit.
            for s in record.sources.iter().filter(|s| !s.sha256.is_empty()) {
                Manifest::check_duplicate(Some(m), &s.name, &s.sha256, force)?;
            }
            if m.anonymization.is_none() && m.files.is_empty() {
                m.anonymization = anonymization.clone();
            }
            if let Some(inside) = &inside {
                m.inside = Some(inside.clone());
            }
            m.ingests.push(record.clone());
            Ok(())
        })
        .await
    }

    /// Publishes staged files, then commits the manifest read at that moment as changed by
    /// `edit` with the files added (named as written by `writer`): the one commit protocol
    /// of ingests, live appends and compactions. On an object store, a commit that loses
    /// the race for the manifest reads it again and calls `edit` again on the new one; an
    /// error from `edit` abandons the commit (its published files stay unnamed, and are
    /// collected).
    pub(crate) async fn commit_with(
        &self,
        name: &DatasetName,
        files: &[StagedFile],
        writer: &str,
        mut edit: impl FnMut(&mut Manifest) -> Result<()>,
    ) -> Result<Manifest> {
        let dir = Self::dataset_dir(name);
        // Summaries first: a file is never named without its summary in place.
        for f in files {
            if f.summary_bytes.is_some() {
                self.store
                    .publish_file(
                        &crate::write::summary_path_of(&f.local),
                        &format!("{dir}/{}", crate::summary::summary_path(&f.rel)),
                    )
                    .await?;
            }
            self.store
                .publish_file(&f.local, &format!("{dir}/{}", f.rel))
                .await?;
        }
        // An object store's client retries a PUT whose answer was lost; the retry of a
        // commit that had landed then finds its own version in the way and reads again. The
        // ingest is in the manifest it reads: it is committed, not a duplicate of itself.
        let landed = |m: &Manifest| m.ingests.iter().any(|i| i.id == writer);
        self.update_manifest_unless(name, landed, |m, now| {
            edit(m)?;
            for f in files {
                m.files.push(DataFile {
                    path: f.rel.clone(),
                    day: f.day.clone(),
                    rows: f.rows,
                    bytes: f.bytes,
                    time_min_us: f.time_min_us,
                    time_max_us: f.time_max_us,
                    ingest: writer.to_string(),
                    summary: f.summary_bytes.map(|bytes| SummaryInfo {
                        bytes,
                        format: crate::summary::SUMMARY_FORMAT,
                    }),
                });
            }
            m.files.sort_by(|a, b| a.path.cmp(&b.path));
            m.version += 1;
            m.updated = format_micros(now);
            m.recompute_totals();
            Ok(())
        })
        .await
    }

    /// Commits the manifest read at that moment as changed by `edit` (given the time of
    /// the commit, µs), only over the version read: on an object store, a commit that
    /// loses the race for the manifest reads it again and calls `edit` again on the new
    /// one. An error from `edit` abandons the commit.
    pub(crate) async fn update_manifest(
        &self,
        name: &DatasetName,
        edit: impl FnMut(&mut Manifest, i64) -> Result<()>,
    ) -> Result<Manifest> {
        self.update_manifest_unless(name, |_| false, edit).await
    }

    /// [`Lake::update_manifest`], which instead returns the manifest read when `done` says
    /// it already holds the change (a commit that landed although its writer was told
    /// otherwise).
    async fn update_manifest_unless(
        &self,
        name: &DatasetName,
        done: impl Fn(&Manifest) -> bool,
        mut edit: impl FnMut(&mut Manifest, i64) -> Result<()>,
    ) -> Result<Manifest> {
        for _ in 0..COMMIT_ATTEMPTS {
            let now = now_micros();
            let (mut m, version) = match self.manifest_versioned(name).await? {
                Some((m, v)) => (m, Some(v)),
                None => (Manifest::new(name.clone(), now), None),
            };
            if done(&m) {
                return Ok(m);
            }
            edit(&mut m, now)?;
            // The commit point: only over the version read (another writer's commit in
            // between makes this one read again).
            let json = Bytes::from(m.to_json());
            if self
                .store
                .put_if(&Self::manifest_path(name), json, version.as_ref())
                .await?
            {
                return Ok(m);
            }
        }
        Err(LakeError::Internal(format!(
            "dataset {name}: {COMMIT_ATTEMPTS} other commits came first; the change was not committed"
        )))
    }

    /// The manifests of `names` (those that exist), each read under a read lease that the
    /// caller holds for as long as it reads their files ([`crate::lease`]).
    pub(crate) async fn manifests_leased(
        &self,
        names: &[DatasetName],
    ) -> Result<(Vec<Manifest>, Vec<crate::lease::ReadLease>)> {
        let mut manifests = Vec::with_capacity(names.len());
        let mut leases = Vec::new();
        for n in names {
            let lease = match self.store.local_dir() {
                Some(root) => {
                    let root = root.to_path_buf();
                    let n = n.clone();
                    Some(
                        tokio::task::spawn_blocking(move || {
                            crate::lease::ReadLease::take(&root, &n)
                        })
                        .await
                        .map_err(|e| LakeError::Internal(e.to_string()))??,
                    )
                }
                None => None,
            };
            if let Some(m) = self.manifest(n).await? {
                if let Some(mut l) = lease {
                    l.set_version(m.version);
                    leases.push(l);
                }
                manifests.push(m);
            }
        }
        Ok((manifests, leases))
    }

    /// Names of every dataset directory that may hold a dataset.
    pub(crate) async fn dataset_names(&self) -> Result<Vec<DatasetName>> {
        let mut names: Vec<DatasetName> = self
            .store
            .list_dirs("datasets")
            .await?
            .into_iter()
            .filter_map(|d| DatasetName::parse(&d).ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Deletes the retired files of `name` that no reader can still be reading, and drops
    /// them from the manifest. The caller holds the lock. Returns what was deleted.
    pub(crate) async fn sweep_retired(&self, name: &DatasetName) -> Result<GcReport> {
        // Looking at the leases also clears those of readers that died.
        let oldest = self
            .store
            .local_dir()
            .map(|root| crate::lease::oldest_read(root, name));
        let Some(m) = self.manifest(name).await? else {
            return Ok(GcReport::default());
        };
        if m.retired.is_empty() {
            return Ok(GcReport::default());
        }
        // A file retired in version V is read only by readers of versions before V.
        let deletable: Box<dyn Fn(&crate::manifest::RetiredFile) -> bool + Send> = match oldest {
            Some(oldest) => Box::new(move |r| oldest.is_none_or(|o| o >= r.version)),
            None => {
                let before = now_micros() - GC_GRACE_SECS * 1_000_000;
                Box::new(move |r| r.at_us < before)
            }
        };
        let gone: Vec<crate::manifest::RetiredFile> =
            m.retired.iter().filter(|r| deletable(r)).cloned().collect();
        if gone.is_empty() {
            return Ok(GcReport::default());
        }
        let paths: HashSet<String> = gone.iter().map(|r| r.path.clone()).collect();
        // Out of the manifest first: a crash after this commit leaves unnamed files, which
        // gc collects; the other way round would name files that are gone.
        self.commit_with(name, &[], "sweep", |m| {
            m.retired.retain(|r| !paths.contains(&r.path));
            Ok(())
        })
        .await?;
        let dir = Self::dataset_dir(name);
        let mut report = GcReport::default();
        for r in &gone {
            for p in std::iter::once(r.path.clone()).chain(r.summary_path()) {
                self.store.delete(&format!("{dir}/{p}")).await?;
                report.files += 1;
            }
            report.bytes += r.bytes + r.summary.as_ref().map_or(0, |s| s.bytes);
        }
        Ok(report)
    }
}

/// A dataset is anonymized with one key or not at all: mixing would put one host under
/// two names, or real addresses next to pseudonyms.
pub(crate) fn check_anonymization(m: &Manifest, new: Option<&AnonymizationInfo>) -> Result<()> {
    if m.files.is_empty() && m.anonymization.is_none() {
        return Ok(());
    }
    match (&m.anonymization, new) {
        (None, None) => Ok(()),
        (Some(a), Some(b)) if a == b => Ok(()),
        (Some(a), Some(_)) => Err(LakeError::Anonymization(format!(
            "dataset {} is anonymized with another key ({}); use that key file or another dataset",
            m.name, a.key_fingerprint
        ))),
        (Some(a), None) => Err(LakeError::Anonymization(format!(
            "dataset {} is anonymized (key {}); ingest into it with --anonymize and the same key",
            m.name, a.key_fingerprint
        ))),
        (None, Some(_)) => Err(LakeError::Anonymization(format!(
            "dataset {} holds real addresses; anonymized data must go to a new dataset",
            m.name
        ))),
    }
}
