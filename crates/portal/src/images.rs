//! Image uploads: recognised by content (PNG, JPEG, GIF, WebP; never by name or the client's
//! type), dimensions checked from the header before any decoding (pixel bombs), decoded under
//! allocation limits, then re-encoded from pixels, which drops EXIF/GPS and every other chunk.
//! JPEG stays JPEG; everything else becomes PNG (GIF keeps its first frame). A thumbnail is
//! made at the same time. The store keeps them under random ids in `<data>/images/` (or beside
//! the lake on its object store), a place no route serves directly.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Largest side of a thumbnail, in pixels.
pub const THUMB_SIZE: u32 = 480;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("The file is larger than {max} bytes.")]
    TooLarge { max: usize },
    #[error("Only PNG, JPEG, GIF and WebP images can be uploaded (SVG is not accepted).")]
    Unsupported,
    #[error("The image is {width}×{height} pixels; at most {max} pixels are accepted.")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("The image could not be read: it is damaged or not what it claims to be.")]
    Corrupt,
}

/// Limits applied to every upload.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
}

/// A re-encoded image and its thumbnail, ready to store.
pub struct Processed {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub full: Vec<u8>,
    pub thumb: Vec<u8>,
}

/// Checks, decodes and re-encodes one upload. CPU-bound: call from `spawn_blocking`.
pub fn process(bytes: &[u8], limits: ImageLimits) -> Result<Processed, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge {
            max: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| ImageError::Unsupported)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return Err(ImageError::Unsupported);
    }
    // Header only: refuse decompression bombs before allocating anything for pixels.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| ImageError::Corrupt)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels || width == 0 || height == 0 {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(width);
    decode_limits.max_image_height = Some(height);
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).max(64 << 20));
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(|_| ImageError::Corrupt)?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| ImageError::Corrupt)?;
    if let Some(o) = orientation {
        // Metadata is dropped, so bake the camera's rotation into the pixels first.
        img.apply_orientation(o);
    }
    let thumb_img = img.thumbnail(THUMB_SIZE, THUMB_SIZE);
    let (mime, full, thumb) = if format == ImageFormat::Jpeg {
        ("image/jpeg", encode_jpeg(&img)?, encode_jpeg(&thumb_img)?)
    } else {
        ("image/png", encode_png(&img)?, encode_png(&thumb_img)?)
    };
    Ok(Processed {
        mime,
        width: img.width(),
        height: img.height(),
        full,
        thumb,
    })
}

fn encode_jpeg(img: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 88,
    ))
    .map_err(|_| ImageError::Corrupt)?;
    Ok(out)
}

fn encode_png(img: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    // Normalise to 8-bit RGBA so 16-bit or palette inputs all take the same path.
    let rgba = DynamicImage::ImageRgba8(img.to_rgba8());
    rgba.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out))
        .map_err(|_| ImageError::Corrupt)?;
    Ok(out)
}

/// A new random image id: 128 bits as 32 hex characters (never derived from the file name).
pub fn new_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// True when `id` has the shape [`new_id`] makes; anything else never touches the disk.
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where images live: the storage area `images` of the data folder, or of the lake's object
/// store (`--lake s3://…`), so that every instance serves every image. Each image is two
/// objects, `<id>` and `<id>.thumb`; a data post's thumbnail has a third, `<id>.thumb-dark`,
/// its variant for dark pages.
#[derive(Debug, Clone)]
pub struct ImageStore {
    store: secviz_lake::Store,
}

impl ImageStore {
    pub fn open(location: &str) -> anyhow::Result<ImageStore> {
        use anyhow::Context;
        let store = secviz_lake::Store::open_area(location, &[], "images")
            .with_context(|| format!("opening the image area of {location}"))?;
        Ok(ImageStore { store })
    }

    fn rel(id: &str, thumb: bool) -> Option<String> {
        valid_id(id).then(|| {
            if thumb {
                format!("{id}.thumb")
            } else {
                id.to_string()
            }
        })
    }

    /// Writes both objects of an image, each whole: on a local folder through a synced
    /// temporary file renamed into place, on an object store with one put (an object is
    /// there whole or not at all). A crash (even `kill -9`) never leaves a half-written
    /// object under an image id, and both are whole before the caller records the image.
    pub async fn save(&self, id: &str, p: &Processed) -> anyhow::Result<()> {
        use anyhow::Context;
        for (thumb, bytes) in [(false, &p.full), (true, &p.thumb)] {
            let rel = ImageStore::rel(id, thumb).context("bad image id")?;
            self.store
                .put_atomic(&rel, bytes.clone().into())
                .await
                .with_context(|| format!("writing image {rel} to {}", self.store.describe()))?;
        }
        Ok(())
    }

    /// Removes temporary files older than `age` that a crash left in the middle of a write
    /// (only a local folder has them).
    pub async fn remove_partials(&self, age: std::time::Duration) {
        let Some(dir) = self.store.local_dir() else {
            return;
        };
        let Ok(mut rd) = tokio::fs::read_dir(dir).await else {
            return;
        };
        let before = std::time::SystemTime::now() - age;
        while let Ok(Some(e)) = rd.next_entry().await {
            let name = e.file_name().to_string_lossy().into_owned();
            let partial = name.starts_with('.') && name.contains(".tmp-");
            let old = e
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .is_some_and(|t| t < before);
            if partial && old {
                let _ = tokio::fs::remove_file(e.path()).await;
            }
        }
    }

    /// Writes the dark variant of an image's thumbnail (data posts), whole, as [`Self::save`].
    pub async fn save_dark_thumb(&self, id: &str, png: Vec<u8>) -> anyhow::Result<()> {
        use anyhow::Context;
        anyhow::ensure!(valid_id(id), "bad image id");
        let rel = format!("{id}.thumb-dark");
        self.store
            .put_atomic(&rel, png.into())
            .await
            .with_context(|| format!("writing image {rel} to {}", self.store.describe()))
    }

    /// The dark variant of a thumbnail, or else the thumbnail itself (uploaded images have
    /// one thumbnail for both); `None` when there is no such image.
    pub async fn read_dark_thumb(&self, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        if !valid_id(id) {
            return Ok(None);
        }
        match self.store.get(&format!("{id}.thumb-dark")).await? {
            Some(b) => Ok(Some(b.to_vec())),
            None => self.read(id, true).await,
        }
    }

    /// The bytes of an image or its thumbnail; `None` when there is no such image.
    pub async fn read(&self, id: &str, thumb: bool) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(rel) = ImageStore::rel(id, thumb) else {
            return Ok(None);
        };
        Ok(self.store.get(&rel).await?.map(|b| b.to_vec()))
    }

    pub async fn remove(&self, id: &str) {
        for thumb in [false, true] {
            if let Some(rel) = ImageStore::rel(id, thumb)
                && let Err(e) = self.store.delete(&rel).await
            {
                tracing::warn!(image = %id, error = %e, "could not remove an image");
            }
        }
        if valid_id(id) {
            // Only data posts' thumbnails have it: a missing one is no error.
            let rel = format!("{id}.thumb-dark");
            if matches!(self.store.get(&rel).await, Ok(Some(_)))
                && let Err(e) = self.store.delete(&rel).await
            {
                tracing::warn!(image = %id, error = %e, "could not remove an image");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ImageLimits = ImageLimits {
        max_bytes: 10 << 20,
        max_pixels: 40_000_000,
    };

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10])));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn reencodes_and_thumbnails() {
        let p = process(&png(1000, 500), LIMITS).unwrap();
        assert_eq!((p.mime, p.width, p.height), ("image/png", 1000, 500));
        let t = image::load_from_memory(&p.thumb).unwrap();
        assert_eq!((t.width(), t.height()), (THUMB_SIZE, THUMB_SIZE / 2));
    }

    #[test]
    fn refuses_by_content_not_name() {
        assert_eq!(
            process(
                b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
                LIMITS
            )
            .err(),
            Some(ImageError::Unsupported)
        );
        assert_eq!(
            process(b"<html><script>alert(1)</script></html>", LIMITS).err(),
            Some(ImageError::Unsupported)
        );
        let mut truncated = png(10, 10);
        truncated.truncate(40);
        assert!(process(&truncated, LIMITS).is_err());
    }

    #[test]
    fn limits_hold() {
        let small = ImageLimits {
            max_bytes: 100,
            max_pixels: 40_000_000,
        };
        assert!(matches!(
            process(&png(50, 50), small),
            Err(ImageError::TooLarge { .. })
        ));
        let few = ImageLimits {
            max_bytes: 10 << 20,
            max_pixels: 100,
        };
        assert!(matches!(
            process(&png(20, 20), few),
            Err(ImageError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn ids_are_random_hex() {
        let a = new_id();
        assert!(valid_id(&a) && a != new_id());
        assert!(!valid_id("../../etc/passwd") && !valid_id("ABCDEF"));
    }

    #[tokio::test]
    async fn saves_whole_files_and_sweeps_partial_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path().to_str().unwrap()).unwrap();
        let p = process(&png(40, 30), LIMITS).unwrap();
        let id = new_id();
        store.save(&id, &p).await.unwrap();
        assert_eq!(store.read(&id, false).await.unwrap().unwrap(), p.full);
        assert_eq!(store.read(&id, true).await.unwrap().unwrap(), p.thumb);
        assert_eq!(store.read(&new_id(), false).await.unwrap(), None);
        assert_eq!(store.read("../../etc/passwd", false).await.unwrap(), None);
        let names = || -> Vec<String> {
            std::fs::read_dir(dir.path().join("images"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let mut saved = names();
        saved.sort();
        assert_eq!(saved, [id.clone(), format!("{id}.thumb")]);

        // What a crash mid-write leaves: never served, swept once old.
        let left = dir
            .path()
            .join("images")
            .join(format!(".{}.tmp-0123456789abcdef", new_id()));
        std::fs::write(&left, b"half").unwrap();
        store
            .remove_partials(std::time::Duration::from_secs(3600))
            .await;
        assert!(left.exists(), "a write in progress is left alone");
        store.remove_partials(std::time::Duration::ZERO).await;
        assert!(!left.exists());
        assert!(
            store.read(&id, false).await.unwrap().is_some(),
            "whole files stay"
        );
        store.remove(&id).await;
        assert!(names().is_empty());
    }
}
