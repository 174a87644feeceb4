//! Writes the golden SVGs that `tests/it/chart_golden.rs` compares against: the one,
//! deliberate way to accept a change in how charts are drawn. Tests never write them.
//!
//!     cargo run -p secviz-render --example bless_golden
//!
//! then review `git diff crates/render/tests/golden` before committing.

#[path = "../tests/it/chart_common/mod.rs"]
mod chart_common;

use std::path::PathBuf;

use chart_common::{all_charts, options};
use secviz_render::Theme;
use secviz_render::chart::chart_svg;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    std::fs::create_dir_all(&dir)?;
    let mut written = 0;
    for (name, chart) in all_charts() {
        for (suffix, theme) in [("", Theme::LIGHT), ("-dark", Theme::DARK)] {
            let path = dir.join(format!("{name}{suffix}.svg"));
            std::fs::write(&path, chart_svg(&chart, &options(name, theme)))?;
            written += 1;
        }
    }
    println!("wrote {written} golden SVGs to {}", dir.display());
    Ok(())
}
