//! The server-drawn picture of a recipe: the link graph (graph and linked views) or the
//! chart, as SVG, drawn by the one function of secviz-views (`picture::draw`) that `secviz
//! chart --spec` and the viewer's `graph.svg` call too (light theme). Pictures are kept in
//! `<data>/pictures/<dataset>/` under a hash of (dataset, dataset version, view), so a
//! preview, the post's thumbnail and later visits draw once; one folder per dataset, so a
//! withdrawn dataset's pictures go with it ([`Pictures::forget`]) and are drawn again on
//! demand if it comes back. The thumbnail is a PNG (resvg) stored like
//! an uploaded image, which is what the gallery shows.

use std::path::{Path, PathBuf};

use secviz_lake::{DatasetName, Lake};
use secviz_render::Theme;
use secviz_views::picture::{self, Look};
use secviz_views::{Limits, ViewError, ViewSpec};
use sha2::{Digest, Sha256};

/// Limits of drawing a picture (a member's recipe over their data): the job's, in the
/// sandbox.
pub fn limits(job: &secviz_sandbox::JobLimits) -> Limits {
    Limits {
        time: job.time,
        memory: job.memory,
        sandbox: true,
    }
}

pub use secviz_views::picture::is_graph;

/// Draws the picture of `spec` over `dataset` (light theme), as the post shows it and
/// `secviz chart --spec` draws it. Member work: call it in a job of the query executor.
pub async fn render(
    lake: &Lake,
    dataset: &DatasetName,
    spec: &ViewSpec,
    limits: Limits,
) -> Result<String, ViewError> {
    let mut drawn =
        picture::draw(lake, dataset, spec, limits, &[Look::picture(Theme::LIGHT)]).await?;
    Ok(drawn.pop().unwrap_or_default())
}

/// A post's picture and its gallery thumbnails, for a light and a dark page.
pub struct PostPictures {
    pub picture: String,
    pub thumb_light: String,
    pub thumb_dark: String,
}

/// Draws what publishing `spec` over `dataset` shows, from one build and layout of its
/// graph: the picture (as [`render`]), and the thumbnails: a link graph without its
/// legend, labelled only at its hubs and groups (at thumbnail size the rest would be
/// specks), charts as drawn, each in the light and the dark theme, so the page can let the
/// browser choose (`<picture>` with `prefers-color-scheme`) and cached pages stay right for
/// both. Member work: call it in a job of the query executor.
pub async fn post_pictures(
    lake: &Lake,
    dataset: &DatasetName,
    spec: &ViewSpec,
    limits: Limits,
) -> Result<PostPictures, ViewError> {
    let looks = [
        Look::picture(Theme::LIGHT),
        Look::thumbnail(Theme::LIGHT),
        Look::thumbnail(Theme::DARK),
    ];
    let mut drawn = picture::draw(lake, dataset, spec, limits, &looks)
        .await?
        .into_iter();
    let mut next = || drawn.next().unwrap_or_default();
    Ok(PostPictures {
        picture: next(),
        thumb_light: next(),
        thumb_dark: next(),
    })
}

/// The picture cache.
#[derive(Debug, Clone)]
pub struct Pictures {
    dir: PathBuf,
}

impl Pictures {
    pub fn new(data_dir: &Path) -> Pictures {
        Pictures {
            dir: data_dir.join("pictures"),
        }
    }

    pub fn ensure(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // Pictures of the flat layout before one folder per dataset: no dataset can be told
        // from their names, so they could outlive a withdrawal. They are only a cache.
        for e in std::fs::read_dir(&self.dir)?.flatten() {
            if e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }

    fn dir_of(&self, dataset: &DatasetName) -> PathBuf {
        // A lake name is letters, digits and underscores: one path component.
        self.dir.join(dataset.as_str())
    }

    /// Removes every picture of `dataset` (its data was withdrawn).
    pub async fn forget(&self, dataset: &DatasetName) {
        match tokio::fs::remove_dir_all(self.dir_of(dataset)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(dataset = %dataset.as_str(), error = %e, "removing pictures failed")
            }
        }
    }

    fn path(&self, dataset: &DatasetName, version: u64, spec: &ViewSpec) -> PathBuf {
        let mut h = Sha256::new();
        h.update(dataset.as_str().as_bytes());
        h.update(version.to_le_bytes());
        h.update(serde_json::to_vec(spec).unwrap_or_default());
        self.dir_of(dataset)
            .join(format!("{}.svg", hex::encode(&h.finalize()[..16])))
    }

    /// The picture, drawn now or read from the cache. Member work: call it in a job of the
    /// query executor.
    pub async fn svg(
        &self,
        lake: &Lake,
        dataset: &DatasetName,
        spec: &ViewSpec,
        limits: Limits,
    ) -> Result<String, ViewError> {
        let manifest = lake.require(dataset).await?;
        let path = self.path(dataset, manifest.version, spec);
        if let Ok(svg) = tokio::fs::read_to_string(&path).await {
            return Ok(svg);
        }
        let svg = render(lake, dataset, spec, limits).await?;
        self.write(dataset, &path, &svg).await;
        Ok(svg)
    }

    /// Keeps `svg`, drawn elsewhere ([`post_pictures`]), as the picture of `spec`.
    pub async fn keep(
        &self,
        lake: &Lake,
        dataset: &DatasetName,
        spec: &ViewSpec,
        svg: &str,
    ) -> Result<(), ViewError> {
        let manifest = lake.require(dataset).await?;
        let path = self.path(dataset, manifest.version, spec);
        self.write(dataset, &path, svg).await;
        Ok(())
    }

    /// Written aside and renamed, so a reader never sees half a file; a cache that cannot
    /// be written is only a cache.
    async fn write(&self, dataset: &DatasetName, path: &Path, svg: &str) {
        let tmp = path.with_extension(format!("tmp{}", hex::encode(rand::random::<[u8; 4]>())));
        let _ = tokio::fs::create_dir_all(self.dir_of(dataset)).await;
        if tokio::fs::write(&tmp, svg.as_bytes()).await.is_ok() {
            let _ = tokio::fs::rename(&tmp, path).await;
        }
    }
}

/// Longest side of the thumbnail's source PNG: twice the gallery's thumbnail width, so the
/// downscale stays sharp, without rasterising a large graph at full size.
const THUMB_SOURCE_SIDE: u32 = 1200;

/// The PNG of a picture (for the thumbnail). CPU-bound: call it in the job that drew it.
pub fn png(svg: &str) -> Result<Vec<u8>, ViewError> {
    secviz_render::svg_to_png_fit(svg, THUMB_SOURCE_SIDE)
        .map_err(|e| ViewError::Internal(e.to_string()))
}
