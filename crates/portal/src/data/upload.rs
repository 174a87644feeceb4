//! Uploads of log data: a multipart file field streamed to a staging file chunk by chunk
//! (never held whole in memory), or text pasted into the form's data box. Staging files live
//! in `<data>/staging/` under random ids; the client's file name is only ever a label, cut
//! to its last path component and cleaned, never part of a path.
//!
//! Every byte is counted against the cap; a field that passes it is drained and its partial
//! file removed, so the member gets a clear 413 and nothing is kept.

use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::extract::multipart::Field;
use tokio::io::AsyncWriteExt;

/// Where uploads wait for their ingest.
#[derive(Debug, Clone)]
pub struct Staging {
    dir: PathBuf,
}

/// A staged upload.
#[derive(Debug, Clone)]
pub struct Received {
    pub staging_id: String,
    pub bytes: u64,
    /// The label to show for it (the client's file name, cleaned), before anonymization.
    pub label: String,
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
    pub fn new(data_dir: &Path) -> Staging {
        Staging {
            dir: data_dir.join("staging"),
        }
    }

    pub fn ensure(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)
    }

    /// The file of a staging id, if the id has the shape [`Staging::new_id`] makes.
    pub fn path(&self, id: &str) -> Option<PathBuf> {
        let ok = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| self.dir.join(format!("{id}.upload")))
    }

    /// A new random staging id (128 bits).
    pub fn new_id() -> String {
        hex::encode(rand::random::<[u8; 16]>())
    }

    pub async fn remove(&self, id: &str) {
        if let Some(p) = self.path(id) {
            let _ = tokio::fs::remove_file(p).await;
        }
    }

    /// Staging ids present on disk (for the sweep of files no job knows).
    pub fn ids(&self) -> Vec<(String, std::time::SystemTime)> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let id = name.strip_suffix(".upload")?.to_string();
                let modified = e.metadata().ok()?.modified().ok()?;
                self.path(&id).map(|_| (id, modified))
            })
            .collect()
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
        let path = self.path(&id).context("staging id")?;
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
            file.write_all(&chunk)
                .await
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if too_big {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
            return Err(UploadError::TooLarge { max });
        }
        if n == 0 {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
            if chosen.is_empty() {
                return Ok(None);
            }
            return Err(UploadError::Empty(label));
        }
        file.sync_all()
            .await
            .with_context(|| format!("syncing {}", path.display()))?;
        Ok(Some(Received {
            staging_id: id,
            bytes: n,
            label,
        }))
    }

    /// Stages pasted text.
    pub async fn receive_text(&self, text: &str) -> Result<Received, UploadError> {
        let id = Staging::new_id();
        let path = self.path(&id).context("staging id")?;
        let mut body = text.replace("\r\n", "\n");
        if !body.ends_with('\n') {
            body.push('\n');
        }
        tokio::fs::write(&path, body.as_bytes())
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Received {
            staging_id: id,
            bytes: body.len() as u64,
            label: "pasted lines".to_string(),
        })
    }
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
        let s = Staging::new(Path::new("/data"));
        let id = Staging::new_id();
        assert!(s.path(&id).unwrap().starts_with("/data/staging"));
        assert!(s.path("../x").is_none());
        assert!(s.path(&"g".repeat(32)).is_none());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(200 * 1024 * 1024), "200 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 bytes");
    }
}
