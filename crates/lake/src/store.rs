//! [`Store`]: where the lake's bytes live, a local directory or an object store.
//!
//! Everything goes through `object_store` so that S3-compatible storage works the same
//! way, with one exception that makes local commits durable: `LocalFileSystem` renames
//! its staging files into place but never fsyncs them, so on a local lake we write and
//! rename ourselves, fsyncing the file and then its directory. On an object store a
//! `put` is atomic by itself (an object is either there whole or not at all).
//!
//! Paths given to the store are *relative* to the lake root and built only from safe
//! segments (validated dataset names, `day=YYYY-MM-DD`, generated file names).
//!
//! Writers of one dataset are serialized by a lock file on a local lake. An object store
//! has no locks, so a manifest is replaced with a conditional write ([`Store::put_if`]:
//! `If-None-Match: *` for a new one, `If-Match: <etag>` for an update): of two writers that
//! read the same version, exactly one replaces it, and the other reads again.
//!
//! S3 (the `s3` feature): `s3://bucket/prefix`, configured from the usual `AWS_*`
//! environment variables (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ALLOW_HTTP`, ...) or options given to [`Store::open_with`], which win.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use datafusion::execution::object_store::ObjectStoreUrl;
use futures::TryStreamExt;
use object_store::path::Path as ObjPath;
use object_store::{
    ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion, WriteMultipart,
};

use crate::error::{LakeError, Result};

/// The lake's area of a data location (`<data>/lake`).
const LAKE_AREA: &str = "lake";

/// A file or object found by [`Store::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Path relative to the lake root, `/`-separated.
    pub rel: String,
    pub size: u64,
    /// Last modification, seconds since the Unix epoch.
    pub modified: i64,
}

/// The version of an object as it was read, for a conditional write ([`Store::put_if`]).
#[derive(Clone, Debug, Default)]
pub struct ObjectVersion(Option<UpdateVersion>);

/// The lake's storage: an object store, the lake's prefix in it, and (for a local
/// lake) the directory, for durable writes and staging on the same file system.
#[derive(Clone, Debug)]
pub struct Store {
    objects: Arc<dyn ObjectStore>,
    url: ObjectStoreUrl,
    root: ObjPath,
    local: Option<PathBuf>,
}

impl Store {
    /// Opens the lake under a data location: `<data>/lake`. `data` is a local path or a
    /// URL (`file:///srv/secviz`, `s3://bucket/prefix` with the `s3` feature,
    /// `memory:///` for tests of the object-store path).
    pub fn open(data: &str) -> Result<Store> {
        Store::open_with(data, &[])
    }

    /// [`Store::open`] with object-store options (`aws_endpoint`, `aws_access_key_id`,
    /// ...), which win over the environment's. Tests give every option, so nothing is
    /// looked up elsewhere (no cloud metadata address is ever asked for credentials).
    pub fn open_with(data: &str, options: &[(&str, &str)]) -> Result<Store> {
        let store = Store::open_area(data, options, LAKE_AREA)?;
        if let Some(dir) = &store.local {
            let datasets = dir.join("datasets");
            fs::create_dir_all(&datasets)
                .map_err(|e| LakeError::io(format!("creating {}", datasets.display()), e))?;
        }
        Ok(store)
    }

    /// Opens another area of a data location: `<data>/<area>`, beside the lake and in the
    /// same place (a folder, or a prefix of the same bucket). The portal keeps uploads
    /// waiting for their ingest (`staging`) and members' images (`images`) there, so that
    /// instances sharing an object store share them too. `area` is one plain segment.
    pub fn open_area(data: &str, options: &[(&str, &str)], area: &str) -> Result<Store> {
        if area.is_empty() || !area.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            return Err(LakeError::Internal(format!("bad store area {area:?}")));
        }
        if let Some(url) = as_url(data) {
            if url.scheme() == "file" {
                let path = url
                    .to_file_path()
                    .map_err(|_| LakeError::BadLocation(data.into()))?;
                return Store::open_local(&path.join(area));
            }
            let (objects, prefix) = open_url(&url, options)
                .map_err(|e| LakeError::store(format!("opening {data}"), e))?;
            let base = format!("{}://{}", url.scheme(), url.authority());
            let url = ObjectStoreUrl::parse(&base)?;
            let root = prefix.join(area);
            return Ok(Store {
                objects: Arc::from(objects),
                url,
                root,
                local: None,
            });
        }
        Store::open_local(&FsPath::new(data).join(area))
    }

    /// Whether `data` names an object store rather than a local folder (`s3://…`,
    /// `memory:///`; `file://` is a folder).
    pub fn is_remote(data: &str) -> bool {
        as_url(data).is_some_and(|u| u.scheme() != "file")
    }

    fn open_local(dir: &FsPath) -> Result<Store> {
        fs::create_dir_all(dir)
            .map_err(|e| LakeError::io(format!("creating {}", dir.display()), e))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| LakeError::io(format!("resolving {}", dir.display()), e))?;
        let root = ObjPath::from_filesystem_path(&dir).map_err(|e| {
            LakeError::Internal(format!("{} as an object path: {e}", dir.display()))
        })?;
        let objects = Arc::new(object_store::local::LocalFileSystem::new());
        let url = ObjectStoreUrl::parse("file://")?;
        Ok(Store {
            objects,
            url,
            root,
            local: Some(dir),
        })
    }

    /// The object store, to register with DataFusion under [`Store::url`].
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.objects.clone()
    }

    /// The URL DataFusion knows the object store by (`file://`, `s3://bucket`).
    pub fn url(&self) -> &ObjectStoreUrl {
        &self.url
    }

    /// The local lake directory, when the lake is local.
    pub fn local_dir(&self) -> Option<&FsPath> {
        self.local.as_deref()
    }

    /// A human form of where the lake is.
    pub fn describe(&self) -> String {
        match &self.local {
            Some(p) => p.display().to_string(),
            None => format!("{}{}", self.url.as_str(), self.root),
        }
    }

    /// The object path of a relative path.
    pub fn object_path(&self, rel: &str) -> ObjPath {
        rel.split('/')
            .filter(|s| !s.is_empty())
            .fold(self.root.clone(), |p, seg| p.join(seg))
    }

    fn local_path(&self, rel: &str) -> Option<PathBuf> {
        self.local.as_ref().map(|l| {
            rel.split('/')
                .filter(|s| !s.is_empty())
                .fold(l.clone(), |p, s| p.join(s))
        })
    }

    /// Where ingest stages files before they are committed. On a local lake this is
    /// inside the lake (same file system, so the commit is a rename).
    pub fn staging_root(&self) -> PathBuf {
        match &self.local {
            Some(l) => l.join("tmp"),
            None => std::env::temp_dir().join("secviz-staging"),
        }
    }

    /// Reads a whole (small) object; `None` when it does not exist.
    pub async fn get(&self, rel: &str) -> Result<Option<Bytes>> {
        let path = self.object_path(rel);
        match self.objects.get(&path).await {
            Ok(r) => {
                Ok(Some(r.bytes().await.map_err(|e| {
                    LakeError::store(format!("reading {rel}"), e)
                })?))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(LakeError::store(format!("reading {rel}"), e)),
        }
    }

    /// Whether an object exists (its metadata only is read).
    pub async fn exists(&self, rel: &str) -> Result<bool> {
        match self.objects.head(&self.object_path(rel)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(LakeError::store(format!("reading {rel}"), e)),
        }
    }

    /// Reads a whole (small) object and the version it had, for [`Store::put_if`].
    pub async fn get_versioned(&self, rel: &str) -> Result<Option<(Bytes, ObjectVersion)>> {
        if self.local.is_some() {
            return Ok(self.get(rel).await?.map(|b| (b, ObjectVersion(None))));
        }
        let path = self.object_path(rel);
        match self.objects.get(&path).await {
            Ok(r) => {
                let version = UpdateVersion {
                    e_tag: r.meta.e_tag.clone(),
                    version: r.meta.version.clone(),
                };
                let bytes = r
                    .bytes()
                    .await
                    .map_err(|e| LakeError::store(format!("reading {rel}"), e))?;
                Ok(Some((bytes, ObjectVersion(Some(version)))))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(LakeError::store(format!("reading {rel}"), e)),
        }
    }

    /// Replaces a whole (small) object only if it is still as it was read: `expected` is
    /// its version from [`Store::get_versioned`], or `None` for an object that must not
    /// exist yet. `Ok(false)` when another writer changed it first (nothing was written).
    /// On a local lake the dataset lock already serializes writers: the write is
    /// [`Store::put_atomic`].
    pub async fn put_if(
        &self,
        rel: &str,
        data: Bytes,
        expected: Option<&ObjectVersion>,
    ) -> Result<bool> {
        if self.local.is_some() {
            self.put_atomic(rel, data).await?;
            return Ok(true);
        }
        let mode = match expected {
            None => PutMode::Create,
            Some(ObjectVersion(Some(v))) => PutMode::Update(v.clone()),
            Some(ObjectVersion(None)) => PutMode::Overwrite,
        };
        let opts = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match self
            .objects
            .put_opts(&self.object_path(rel), PutPayload::from_bytes(data), opts)
            .await
        {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(false),
            Err(e) => Err(LakeError::store(format!("writing {rel}"), e)),
        }
    }

    /// Writes a whole (small) object atomically: readers see the old content or the
    /// new, never a part. Locally: temp file, fsync, rename, fsync of the directory.
    pub async fn put_atomic(&self, rel: &str, data: Bytes) -> Result<()> {
        if let Some(path) = self.local_path(rel) {
            return tokio::task::spawn_blocking(move || write_durably(&path, &data))
                .await
                .map_err(|e| LakeError::Internal(e.to_string()))?;
        }
        self.objects
            .put(&self.object_path(rel), PutPayload::from_bytes(data))
            .await
            .map_err(|e| LakeError::store(format!("writing {rel}"), e))?;
        Ok(())
    }

    /// Moves a finished (and fsynced) staged file to `rel`. Locally a rename and an
    /// fsync of the target directory; otherwise a multipart upload from the file, which
    /// becomes visible only when complete.
    pub async fn publish_file(&self, staged: &FsPath, rel: &str) -> Result<()> {
        if let Some(target) = self.local_path(rel) {
            let staged = staged.to_path_buf();
            return tokio::task::spawn_blocking(move || rename_durably(&staged, &target))
                .await
                .map_err(|e| LakeError::Internal(e.to_string()))?;
        }
        let ctx = || format!("uploading {rel}");
        let upload = self
            .objects
            .put_multipart(&self.object_path(rel))
            .await
            .map_err(|e| LakeError::store(ctx(), e))?;
        let mut writer = WriteMultipart::new(upload);
        let mut file = File::open(staged)
            .map_err(|e| LakeError::io(format!("opening {}", staged.display()), e))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| LakeError::io(format!("reading {}", staged.display()), e))?;
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(8)
                .await
                .map_err(|e| LakeError::store(ctx(), e))?;
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .map_err(|e| LakeError::store(ctx(), e))?;
        let _ = fs::remove_file(staged);
        Ok(())
    }

    /// Copies an object to a local file chunk by chunk (never whole in memory), through a
    /// temporary name beside `target` that is renamed when complete. `Ok(None)` when the
    /// object does not exist; otherwise its size.
    pub async fn download(&self, rel: &str, target: &FsPath) -> Result<Option<u64>> {
        use tokio::io::AsyncWriteExt;
        let ctx = || format!("reading {rel}");
        let got = match self.objects.get(&self.object_path(rel)).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(LakeError::store(ctx(), e)),
        };
        let tmp = target.with_file_name(format!(".{}.part", file_name(target)));
        let io = |e: std::io::Error| LakeError::io(format!("writing {}", tmp.display()), e);
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
        let mut stream = got.into_stream();
        let mut n = 0u64;
        let copied: Result<()> = async {
            while let Some(chunk) = stream
                .try_next()
                .await
                .map_err(|e| LakeError::store(ctx(), e))?
            {
                n += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)
        }
        .await;
        drop(file);
        if let Err(e) = copied {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, target).map_err(|e| {
            LakeError::io(
                format!("moving {} to {}", tmp.display(), target.display()),
                e,
            )
        })?;
        Ok(Some(n))
    }

    /// Lists every file under a relative prefix (recursively).
    pub async fn list(&self, rel_prefix: &str) -> Result<Vec<Listed>> {
        let prefix = self.object_path(rel_prefix);
        let metas: Vec<_> = match self.objects.list(Some(&prefix)).try_collect().await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(LakeError::store(format!("listing {rel_prefix}"), e)),
        };
        let mut out: Vec<Listed> = metas
            .into_iter()
            .filter_map(|m| {
                let parts: Vec<String> = m
                    .location
                    .prefix_match(&self.root)?
                    .map(|p| p.as_ref().to_string())
                    .collect();
                Some(Listed {
                    rel: parts.join("/"),
                    size: m.size,
                    modified: m.last_modified.timestamp(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(out)
    }

    /// Names of the directories (common prefixes) directly under a relative prefix.
    pub async fn list_dirs(&self, rel_prefix: &str) -> Result<Vec<String>> {
        let prefix = self.object_path(rel_prefix);
        match self.objects.list_with_delimiter(Some(&prefix)).await {
            Ok(r) => Ok(r
                .common_prefixes
                .iter()
                .filter_map(|p| p.filename().map(str::to_string))
                .collect()),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(LakeError::store(format!("listing {rel_prefix}"), e)),
        }
    }

    /// Deletes one file; a missing file is not an error.
    pub async fn delete(&self, rel: &str) -> Result<()> {
        if let Some(path) = self.local_path(rel) {
            return match fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(LakeError::io(format!("removing {}", path.display()), e)),
            };
        }
        match self.objects.delete(&self.object_path(rel)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(LakeError::store(format!("removing {rel}"), e)),
        }
    }

    /// Removes empty directories left under a relative prefix (local lakes only; object
    /// stores have no directories).
    pub fn prune_empty_dirs(&self, rel_prefix: &str) {
        fn prune(dir: &FsPath) -> bool {
            let Ok(entries) = fs::read_dir(dir) else {
                return false;
            };
            let mut empty = true;
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() && prune(&p) {
                    let _ = fs::remove_dir(&p);
                } else {
                    empty = false;
                }
            }
            empty
        }
        if let Some(dir) = self.local_path(rel_prefix)
            && prune(&dir)
        {
            let _ = fs::remove_dir(&dir);
        }
    }
}

/// The object store of a URL. S3 is configured from the environment (`AWS_*`), then from
/// `options`; conditional writes use `If-Match` on ETags, which S3, MinIO, R2 and moto
/// honour.
fn open_url(
    url: &url::Url,
    options: &[(&str, &str)],
) -> object_store::Result<(Box<dyn ObjectStore>, ObjPath)> {
    #[cfg(feature = "s3")]
    if url.scheme() == "s3" {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
        let mut b = AmazonS3Builder::from_env()
            .with_url(url.as_str())
            .with_conditional_put(S3ConditionalPut::ETagMatch);
        for (k, v) in options {
            let key: AmazonS3ConfigKey = k.parse()?;
            b = b.with_config(key, *v);
        }
        let prefix = ObjPath::from_url_path(url.path())?;
        return Ok((Box::new(b.build()?), prefix));
    }
    object_store::parse_url_opts(url, options.iter().map(|(k, v)| (*k, *v)))
}

/// A data location that is a URL rather than a path (`scheme://...`, scheme of 2+
/// letters so that `C:\data` stays a path).
fn as_url(data: &str) -> Option<url::Url> {
    let (scheme, _) = data.split_once("://")?;
    if scheme.len() < 2
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
    {
        return None;
    }
    url::Url::parse(data).ok()
}

/// Writes `data` to `path` so that a crash leaves either the old file or the new one.
pub(crate) fn write_durably(path: &FsPath, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| LakeError::Internal(format!("{} has no parent", path.display())))?;
    fs::create_dir_all(dir).map_err(|e| LakeError::io(format!("creating {}", dir.display()), e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name(path),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| LakeError::io(format!("writing {}", path.display()), e))
}

/// Renames an already-fsynced file into place and makes the rename durable.
fn rename_durably(from: &FsPath, to: &FsPath) -> Result<()> {
    let dir = to
        .parent()
        .ok_or_else(|| LakeError::Internal(format!("{} has no parent", to.display())))?;
    let ctx = || format!("moving {} to {}", from.display(), to.display());
    fs::create_dir_all(dir).map_err(|e| LakeError::io(ctx(), e))?;
    fs::rename(from, to).map_err(|e| LakeError::io(ctx(), e))?;
    sync_dir(dir).map_err(|e| LakeError::io(ctx(), e))?;
    // The new directory entry itself (day=... may have just been created).
    if let Some(parent) = dir.parent() {
        sync_dir(parent).map_err(|e| LakeError::io(ctx(), e))?;
    }
    Ok(())
}

/// fsync of a directory, so that renames and creations in it survive a crash.
pub(crate) fn sync_dir(dir: &FsPath) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn file_name(path: &FsPath) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_put_get_list_delete_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).unwrap();
        store
            .put_atomic("datasets/a/manifest.json", Bytes::from_static(b"{}"))
            .await
            .unwrap();
        store
            .put_atomic(
                "datasets/a/day=2005-10-21/x.parquet",
                Bytes::from_static(b"123"),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .get("datasets/a/manifest.json")
                .await
                .unwrap()
                .unwrap(),
            Bytes::from_static(b"{}")
        );
        assert!(
            store
                .get("datasets/b/manifest.json")
                .await
                .unwrap()
                .is_none()
        );
        let listed = store.list("datasets/a").await.unwrap();
        let rels: Vec<_> = listed.iter().map(|l| l.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "datasets/a/day=2005-10-21/x.parquet",
                "datasets/a/manifest.json"
            ]
        );
        assert!(
            dir.path()
                .join("lake/datasets/a/day=2005-10-21/x.parquet")
                .is_file()
        );
        store
            .delete("datasets/a/day=2005-10-21/x.parquet")
            .await
            .unwrap();
        store
            .delete("datasets/a/day=2005-10-21/x.parquet")
            .await
            .unwrap();
        store.prune_empty_dirs("datasets/a");
        assert!(!dir.path().join("lake/datasets/a/day=2005-10-21").exists());
        assert!(store.list("datasets/nothing").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn memory_store_publishes_staged_files_by_upload() {
        let store = Store::open("memory:///data").unwrap();
        assert!(store.local_dir().is_none());
        let staged = tempfile::NamedTempFile::new().unwrap();
        fs::write(staged.path(), b"parquet bytes").unwrap();
        store
            .publish_file(staged.path(), "datasets/a/f.parquet")
            .await
            .unwrap();
        assert_eq!(
            store.get("datasets/a/f.parquet").await.unwrap().unwrap(),
            Bytes::from_static(b"parquet bytes")
        );
        let listed = store.list("datasets").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].rel.as_str(), listed[0].size),
            ("datasets/a/f.parquet", 13)
        );
        assert!(listed[0].modified > 1_700_000_000, "{listed:?}");
    }

    /// Of two writers that read the same version, exactly one replaces it.
    #[tokio::test]
    async fn conditional_writes_let_one_writer_win() {
        let store = Store::open("memory:///data").unwrap();
        let rel = "datasets/a/manifest.json";
        assert!(
            store
                .put_if(rel, Bytes::from_static(b"v1"), None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .put_if(rel, Bytes::from_static(b"other v1"), None)
                .await
                .unwrap(),
            "a second create loses"
        );
        let (_, seen) = store.get_versioned(rel).await.unwrap().unwrap();
        assert!(
            store
                .put_if(rel, Bytes::from_static(b"v2"), Some(&seen))
                .await
                .unwrap()
        );
        assert!(
            !store
                .put_if(rel, Bytes::from_static(b"stale v2"), Some(&seen))
                .await
                .unwrap(),
            "a write from a stale read loses"
        );
        assert_eq!(
            store.get(rel).await.unwrap().unwrap(),
            Bytes::from_static(b"v2")
        );
    }

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert!(as_url("s3://bucket/x").is_some());
        assert!(as_url("file:///tmp/x").is_some());
        assert!(as_url("/tmp/x").is_none());
        assert!(as_url("./secviz-data").is_none());
        assert!(as_url("C:\\data").is_none());
    }
}
