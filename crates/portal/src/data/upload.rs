//! Uploads of log data: a multipart file field streamed to a staging file chunk by chunk
//! (never held whole in memory), or text pasted into the form's data box. Staged uploads are
//! named by random ids; the client's file name is only ever a label, cut to its last path
//! component and cleaned, never part of a path.
//!
//! Where they wait for their ingest: `<data>/staging/`, or, when the lake lives on an object
//! store (`--lake s3://bucket/prefix`), `prefix/staging/` beside it, so that whichever
//! instance claims the job can read the upload. A file arrives in `<data>/receiving/` first
//! and is published whole once synced (a rename, or an upload that becomes visible only when
//! complete), so a staged upload is never a partial one.
//!
//! Every byte is counted against the cap; a field that passes it is drained and its partial
//! file removed, so the member gets a clear 413 and nothing is kept.

use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::extract::multipart::Field;
use secviz_lake::Store;
use tokio::io::AsyncWriteExt;

/// Where uploads wait for their ingest.
#[derive(Debug, Clone)]
pub struct Staging {
    store: Store,
    /// Local folder where uploads arrive before they are published to `store`.
    receiving: PathBuf,
}

/// A staged upload.
#[derive(Debug, Clone)]
pub struct Received {
    pub staging_id: String,
    pub bytes: u64,
    /// The label to show for it (the client's file name, cleaned), before anonymization.
    pub label: String,
}

/// A staged upload as a local file, for the parser: the staged file itself on a local store,
/// or a copy downloaded from the object store, removed when this is dropped.
#[derive(Debug)]
pub struct Fetched {
    pub path: PathBuf,
    copy: bool,
}

impl Drop for Fetched {
    fn drop(&mut self) {
        if self.copy {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("The file is larger than the limit of {}.", human_bytes(*max))]
    TooLarge { max: u64 },
    #[error("The upload could not be read: {0}")]
    Broken(String),
    /// A file was chosen, and it holds nothing (no file chosen is `Ok(None)`).
    #[error("The file {} is empty: there is nothing in it to read.", secviz_parse::quoted(.0))]
    Empty(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Staging {
    /// Staging in the storage area `staging` of `location` (the data folder, or the lake's
    /// object store), receiving in `<data>/receiving`.
    pub fn open(location: &str, data_dir: &Path) -> anyhow::Result<Staging> {
        let store = Store::open_area(location, &[], "staging")
            .with_context(|| format!("opening the staging area of {location}"))?;
        let receiving = data_dir.join("receiving");
        std::fs::create_dir_all(&receiving)
            .with_context(|| format!("creating {}", receiving.display()))?;
        Ok(Staging { store, receiving })
    }

    /// The name of a staging id in the store, if the id has the shape [`Staging::new_id`]
    /// makes (anything else never reaches the store).
    fn rel(id: &str) -> Option<String> {
        valid_id(id).then(|| format!("{id}.upload"))
    }

    /// A new random staging id (128 bits).
    pub fn new_id() -> String {
        hex::encode(rand::random::<[u8; 16]>())
    }

    pub async fn remove(&self, id: &str) {
        if let Some(rel) = Staging::rel(id)
            && let Err(e) = self.store.delete(&rel).await
        {
            tracing::warn!(staging = %id, error = %e, "could not remove a staged upload");
        }
    }

    /// Whether an upload is staged under `id`.
    #[cfg(test)]
    async fn exists(&self, id: &str) -> anyhow::Result<bool> {
        let Some(rel) = Staging::rel(id) else {
            return Ok(false);
        };
        Ok(self.store.exists(&rel).await?)
    }

    /// Staged uploads with their last modification (seconds since the Unix epoch), for the
    /// sweep of those no job knows.
    pub async fn ids(&self) -> anyhow::Result<Vec<(String, i64)>> {
        Ok(self
            .store
            .list("")
            .await?
            .into_iter()
            .filter_map(|l| {
                let id = l.rel.strip_suffix(".upload")?;
                valid_id(id).then(|| (id.to_string(), l.modified))
            })
            .collect())
    }

    /// Removes files of the receiving folder last written before `before` (seconds since the
    /// Unix epoch): uploads a crash cut off mid-way, or copies an ingest did not get to
    /// remove. Returns how many.
    pub fn remove_abandoned(&self, before: i64) -> usize {
        let Ok(rd) = std::fs::read_dir(&self.receiving) else {
            return 0;
        };
        let mut n = 0;
        for e in rd.flatten() {
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64);
            if modified.is_some_and(|m| m < before) && std::fs::remove_file(e.path()).is_ok() {
                n += 1;
            }
        }
        n
    }

    /// The staged upload as a local file for the parser; `None` when it is not staged (any
    /// more).
    pub async fn fetch(&self, id: &str) -> anyhow::Result<Option<Fetched>> {
        let rel = Staging::rel(id).context("bad staging id")?;
        if let Some(dir) = self.store.local_dir() {
            let path = dir.join(&rel);
            return Ok(path.exists().then_some(Fetched { path, copy: false }));
        }
        let path = self.receiving.join(format!("{id}.ingest"));
        let got = self
            .store
            .download(&rel, &path)
            .await
            .with_context(|| format!("fetching the upload from {}", self.store.describe()))?;
        Ok(got.map(|_| Fetched { path, copy: true }))
    }

    /// Publishes a complete, synced file of the receiving folder under `id`.
    async fn publish(&self, id: &str, received: &Path) -> anyhow::Result<()> {
        let rel = Staging::rel(id).context("bad staging id")?;
        let published = self.store.publish_file(received, &rel).await;
        if published.is_err() {
            let _ = tokio::fs::remove_file(received).await;
        }
        published.with_context(|| format!("staging an upload in {}", self.store.describe()))
    }

    /// Streams a file field into a new staging file. `Ok(None)` when no file was chosen
    /// (browsers send an empty part without a name); a chosen file of 0 bytes is
    /// [`UploadError::Empty`], so an empty log never turns the post into one without data.
    pub async fn receive_field(
        &self,
        field: &mut Field<'_>,
        max: u64,
    ) -> Result<Option<Received>, UploadError> {
        let chosen = field.file_name().unwrap_or("").to_string();
        let label = clean_label(&chosen, "upload");
        let id = Staging::new_id();
        let path = self.receiving.join(format!("{id}.upload"));
        let mut file = tokio::fs::File::create(&path)
            .await
            .with_context(|| format!("creating {}", path.display()))?;
        let mut n: u64 = 0;
        let mut too_big = false;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    drop(file);
                    let _ = tokio::fs::remove_file(&path).await;
                    // The body limit cuts a request well past the cap: still "too large".
                    if too_big || n + 1 > max {
                        return Err(UploadError::TooLarge { max });
                    }
                    return Err(UploadError::Broken(e.body_text()));
                }
            };
            n += chunk.len() as u64;
            if too_big {
                continue;
            }
            if n > max {
                too_big = true;
                continue;
            }
            if let Err(e) = file.write_all(&chunk).await {
                drop(file);
                let _ = tokio::fs::remove_file(&path).await;
                return Err(anyhow::Error::new(e)
                    .context(format!("writing {}", path.display()))
                    .into());
            }
        }
        if too_big || n == 0 {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
            if too_big {
                return Err(UploadError::TooLarge { max });
            }
            if chosen.is_empty() {
                return Ok(None);
            }
            return Err(UploadError::Empty(label));
        }
        if let Err(e) = file.sync_all().await {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
            return Err(anyhow::Error::new(e)
                .context(format!("syncing {}", path.display()))
                .into());
        }
        drop(file);
        self.publish(&id, &path).await?;
        Ok(Some(Received {
            staging_id: id,
            bytes: n,
            label,
        }))
    }

    /// Stages pasted text (line ends made `\n`, a last one added).
    pub async fn receive_text(&self, text: &str) -> Result<Received, UploadError> {
        let mut body = text.replace("\r\n", "\n");
        if !body.ends_with('\n') {
            body.push('\n');
        }
        let bytes = body.len() as u64;
        let staging_id = self.stage_bytes(body.into_bytes()).await?;
        Ok(Received {
            staging_id,
            bytes,
            label: "pasted lines".to_string(),
        })
    }

    /// Stages bytes already in memory (pasted text, the demo's logs) as they are; returns
    /// the new staging id.
    pub async fn stage_bytes(&self, bytes: Vec<u8>) -> anyhow::Result<String> {
        let id = Staging::new_id();
        let rel = Staging::rel(&id).context("bad staging id")?;
        self.store
            .put_atomic(&rel, bytes.into())
            .await
            .with_context(|| format!("staging an upload in {}", self.store.describe()))?;
        Ok(id)
    }
}

/// True when `id` has the shape [`Staging::new_id`] makes: 32 lowercase hex digits.
fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The last path component of a client file name, without control characters, at most 120
/// characters; `fallback` when nothing is left.
pub fn clean_label(raw: &str, fallback: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        fallback.to_string()
    } else {
        cleaned
    }
}

/// `1.5 MiB`, `200 MiB`, `512 bytes`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64;
    let mut unit = "";
    for u in UNITS {
        v /= 1024.0;
        unit = u;
        if v < 1024.0 {
            break;
        }
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {unit}")
    } else {
        format!("{v:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_are_labels_never_paths() {
        assert_eq!(clean_label("../../etc/passwd", "x"), "passwd");
        assert_eq!(clean_label("C:\\logs\\fw.log.gz", "x"), "fw.log.gz");
        assert_eq!(clean_label("a\nb\u{202e}c.log", "x"), "abc.log");
        assert_eq!(clean_label("..", "upload"), "upload");
        assert_eq!(clean_label("", "upload"), "upload");
        assert_eq!(clean_label(&"x".repeat(500), "u").len(), 120);
    }

    #[test]
    fn staging_ids_are_checked() {
        let id = Staging::new_id();
        assert_eq!(Staging::rel(&id).unwrap(), format!("{id}.upload"));
        assert!(Staging::rel("../x").is_none());
        assert!(Staging::rel(&"g".repeat(32)).is_none());
        assert!(Staging::rel(&"A".repeat(32)).is_none());
    }

    #[tokio::test]
    async fn staged_bytes_fetch_back_and_leave_no_receiving_files() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let s = Staging::open(data, dir.path()).unwrap();
        let id = s.stage_bytes(b"one\ntwo\n".to_vec()).await.unwrap();
        assert!(s.exists(&id).await.unwrap());
        let f = s.fetch(&id).await.unwrap().unwrap();
        assert_eq!(std::fs::read(&f.path).unwrap(), b"one\ntwo\n");
        assert!(f.path.starts_with(dir.path().join("staging")));
        let ids: Vec<String> = s.ids().await.unwrap().into_iter().map(|(i, _)| i).collect();
        assert_eq!(ids, std::slice::from_ref(&id));
        s.remove(&id).await;
        assert!(!s.exists(&id).await.unwrap());
        assert!(s.fetch(&id).await.unwrap().is_none());
        // A file a crash left half-received is never a staged upload, and goes once old.
        let half = dir
            .path()
            .join("receiving")
            .join(format!("{}.upload", Staging::new_id()));
        std::fs::write(&half, b"half").unwrap();
        assert!(s.ids().await.unwrap().is_empty());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!(s.remove_abandoned(now - 3600), 0);
        assert!(half.exists());
        assert_eq!(s.remove_abandoned(now + 3600), 1);
        assert!(!half.exists());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(200 * 1024 * 1024), "200 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 bytes");
    }
}
