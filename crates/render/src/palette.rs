//! Colours for drawings: light and dark themes, and re-exports of the palettes rules use
//! (categorical, severity ramp), so charts and graphs share one colour language.

pub use secviz_graph::color::{CATEGORICAL, Color, Rgb, categorical, categorical_for, severity};

/// Background, text and line colours of a drawing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub background: Rgb,
    pub text: Rgb,
    /// Secondary text (notes, axis labels).
    pub muted: Rgb,
    pub edge: Rgb,
    /// Outline around node fills, so pale fills stay visible.
    pub outline: Rgb,
    pub panel: Rgb,
}

impl Theme {
    /// Dark text on white.
    pub const LIGHT: Theme = Theme {
        background: Rgb(0xff, 0xff, 0xff),
        text: Rgb(0x1f, 0x23, 0x28),
        muted: Rgb(0x57, 0x60, 0x6a),
        edge: Rgb(0x8c, 0x95, 0x9f),
        outline: Rgb(0x44, 0x4c, 0x56),
        panel: Rgb(0xf6, 0xf8, 0xfa),
    };

    /// Light text on near-black.
    pub const DARK: Theme = Theme {
        background: Rgb(0x0d, 0x11, 0x17),
        text: Rgb(0xe6, 0xed, 0xf3),
        muted: Rgb(0x9d, 0xa7, 0xb3),
        edge: Rgb(0x6e, 0x76, 0x81),
        outline: Rgb(0xc9, 0xd1, 0xd9),
        panel: Rgb(0x16, 0x1b, 0x22),
    };

    /// Text colour readable over `fill` (for labels drawn inside shapes).
    pub fn text_on(fill: Rgb) -> Rgb {
        if fill.luminance() > 0.35 {
            Rgb(0x1f, 0x23, 0x28)
        } else {
            Rgb(0xff, 0xff, 0xff)
        }
    }
}
