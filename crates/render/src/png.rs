//! SVG to PNG with resvg. Text is drawn with DejaVu Sans embedded in the binary (from the
//! `dejavu` crate) and no system fonts are loaded, so the same SVG gives the same pixels on
//! every machine.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// Rendering failures.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the SVG could not be read: {0}")]
    Svg(String),
    #[error("the picture is too large to rasterise ({0}×{1} pixels)")]
    TooLarge(u32, u32),
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Largest PNG side in pixels; beyond this the caller must lower the scale.
pub const MAX_SIDE: u32 = 16_384;

/// The family name SVGs should use for text so the PNG matches.
pub const FONT_FAMILY: &str = "DejaVu Sans";

fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(dejavu::sans::regular().to_vec());
        db.load_font_data(dejavu::sans::bold().to_vec());
        db.set_sans_serif_family(FONT_FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Rasterises `svg` at `scale` (1.0 = one pixel per user unit) to PNG bytes.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>, RenderError> {
    render(&parse(svg)?, scale)
}

/// Rasterises `svg` so that its longer side is at most `max_side` pixels (never enlarged).
/// Thumbnails want this: rasterising a big graph at full size costs ten times more and the
/// pixels are thrown away by the downscale anyway.
pub fn svg_to_png_fit(svg: &str, max_side: u32) -> Result<Vec<u8>, RenderError> {
    let tree = parse(svg)?;
    let size = tree.size();
    let longest = size.width().max(size.height()).max(1.0);
    render(&tree, (max_side as f32 / longest).min(1.0))
}

fn parse(svg: &str) -> Result<usvg::Tree, RenderError> {
    let opt = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: fontdb(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &opt).map_err(|e| RenderError::Svg(e.to_string()))
}

fn render(tree: &usvg::Tree, scale: f32) -> Result<Vec<u8>, RenderError> {
    let size = tree.size();
    let w = (size.width() * scale).ceil().max(1.0) as u32;
    let h = (size.height() * scale).ceil().max(1.0) as u32;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(RenderError::TooLarge(w, h));
    }
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or(RenderError::TooLarge(w, h))?;
    resvg::render(
        tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| RenderError::Png(e.to_string()))
}
