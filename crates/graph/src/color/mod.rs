//! Colours: parsing the names and `#rrggbb` values rules produce, the AfterGlow fallback
//! palette for values that are not colours, and the built-in palettes (categorical and
//! severity ramp) that rules and the renderer share.
//!
//! Every exporter needs concrete RGB values (GDF, GEXF, SVG), so a node's colour is
//! resolved here once, with the name kept for DOT, which understands X11 names itself.

mod x11;

use std::fmt;

/// An opaque sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Relative luminance (WCAG), to pick readable text over a fill.
    pub fn luminance(self) -> f64 {
        fn lin(c: u8) -> f64 {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * lin(self.0) + 0.7152 * lin(self.1) + 0.0722 * lin(self.2)
    }

    /// Linear interpolation between two colours, `t` in `0..=1`.
    pub fn mix(self, other: Rgb, t: f64) -> Rgb {
        let t = t.clamp(0.0, 1.0);
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// A resolved colour: the spelling a rule gave (kept for DOT) and its RGB value.
/// `rgb` is `None` for `invisible`/`transparent`/`none`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Color {
    /// The name as written (`gray70`) or `#rrggbb`.
    pub name: String,
    /// `None` when the colour is invisible.
    pub rgb: Option<Rgb>,
}

impl Color {
    /// A colour from an RGB value; its name is the hex spelling.
    pub fn from_rgb(rgb: Rgb) -> Color {
        Color {
            name: rgb.hex(),
            rgb: Some(rgb),
        }
    }

    /// Parses an X11 colour name (case and spaces ignored, as Graphviz does) or
    /// `#rgb`/`#rrggbb`/`#rrggbbaa`. Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Color> {
        let t = text.trim();
        if let Some(hex) = t.strip_prefix('#') {
            return parse_hex(hex).map(|rgb| Color {
                name: rgb.hex(),
                rgb: Some(rgb),
            });
        }
        let key: String = t
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        if matches!(key.as_str(), "invisible" | "transparent" | "none") {
            return Some(Color {
                name: key,
                rgb: None,
            });
        }
        x11_rgb(&key).map(|rgb| Color {
            name: key,
            rgb: Some(rgb),
        })
    }

    /// Whether this colour hides what it colours (AfterGlow drops such lines).
    pub fn is_invisible(&self) -> bool {
        self.rgb.is_none()
    }
}

fn parse_hex(hex: &str) -> Option<Rgb> {
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        3 => {
            let d = |i: usize| byte(&hex[i..i + 1]).map(|v| v * 17);
            Some(Rgb(d(0)?, d(1)?, d(2)?))
        }
        6 | 8 => Some(Rgb(byte(&hex[0..2])?, byte(&hex[2..4])?, byte(&hex[4..6])?)),
        _ => None,
    }
}

/// The RGB value of an X11 colour name (lower case, no spaces).
pub fn x11_rgb(name: &str) -> Option<Rgb> {
    x11::X11
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| {
            let [r, g, b] = x11::X11[i].1;
            Rgb(r, g, b)
        })
}

/// AfterGlow's fallback list: a rule value that is not a colour (say a protocol name) is
/// given the next colour of this list, so equal values share a colour. AfterGlow starts at
/// the second entry; we keep its order so DOT output matches it.
const AFTERGLOW_FALLBACK: &[&str] = &[
    "antiquewhite",
    "antiquewhite1",
    "antiquewhite2",
    "antiquewhite3",
    "antiquewhite4",
    "aquamarine",
    "aquamarine1",
    "aquamarine2",
    "aquamarine3",
    "aquamarine4",
    "azure",
    "azure1",
    "azure2",
    "azure3",
    "azure4",
    "beige",
    "bisque",
    "bisque1",
    "bisque2",
    "bisque3",
    "bisque4",
    "blanchedalmond",
    "blue",
    "blue1",
    "blue2",
    "blue3",
    "blue4",
    "blueviolet",
    "brown",
    "brown1",
    "brown2",
    "brown3",
    "brown4",
    "burlywood",
];

/// Assigns fallback colours to non-colour values in order of first appearance.
#[derive(Debug, Default, Clone)]
pub struct FallbackPalette {
    seen: Vec<String>,
}

impl FallbackPalette {
    /// The colour for `value`, giving it the next unused one the first time.
    pub fn color_for(&mut self, value: &str) -> Color {
        let i = match self.seen.iter().position(|s| s == value) {
            Some(i) => i,
            None => {
                self.seen.push(value.to_string());
                self.seen.len() - 1
            }
        };
        if i < AFTERGLOW_FALLBACK.len() {
            Color::parse(AFTERGLOW_FALLBACK[i]).expect("fallback names are X11 colours")
        } else {
            Color::from_rgb(categorical(i))
        }
    }
}

/// The categorical palette (Okabe–Ito, then Tableau 10): distinguishable for colour-blind
/// readers and on light and dark backgrounds. Indices past the end cycle with a shift in
/// lightness so that neighbours stay apart.
pub const CATEGORICAL: &[Rgb] = &[
    Rgb(0x00, 0x72, 0xb2), // blue
    Rgb(0xe6, 0x9f, 0x00), // orange
    Rgb(0x00, 0x9e, 0x73), // bluish green
    Rgb(0xd5, 0x5e, 0x00), // vermillion
    Rgb(0xcc, 0x79, 0xa7), // reddish purple
    Rgb(0x56, 0xb4, 0xe9), // sky blue
    Rgb(0xf0, 0xe4, 0x42), // yellow
    Rgb(0x8c, 0x56, 0x4b), // brown
    Rgb(0x7f, 0x7f, 0x7f), // gray
    Rgb(0xbc, 0xbd, 0x22), // olive
    Rgb(0x17, 0xbe, 0xcf), // cyan
    Rgb(0x94, 0x67, 0xbd), // purple
];

/// The `i`-th categorical colour.
pub fn categorical(i: usize) -> Rgb {
    let base = CATEGORICAL[i % CATEGORICAL.len()];
    match (i / CATEGORICAL.len()) % 3 {
        0 => base,
        1 => base.mix(Rgb(255, 255, 255), 0.35),
        _ => base.mix(Rgb(0, 0, 0), 0.3),
    }
}

/// A stable categorical colour for a value: the same value gets the same colour in every
/// graph (FNV-1a of the text picks the slot), so a protocol keeps its colour across posts.
pub fn categorical_for(value: &str) -> Rgb {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in value.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    categorical((h % (CATEGORICAL.len() as u64 * 3)) as usize)
}

/// Severity ramp stops: green (low) through yellow and orange to red (high). Mid-tone
/// stops so that the fill stays readable on white and on near-black backgrounds.
const SEVERITY_STOPS: &[Rgb] = &[
    Rgb(0x1a, 0x98, 0x50),
    Rgb(0x91, 0xcf, 0x60),
    Rgb(0xfe, 0xe0, 0x8b),
    Rgb(0xfc, 0x8d, 0x59),
    Rgb(0xd7, 0x30, 0x27),
];

/// The severity colour for `value` on a scale of `0..=max` (values outside are clamped).
pub fn severity(value: f64, max: f64) -> Rgb {
    let max = if max > 0.0 { max } else { 10.0 };
    let t = if value.is_finite() {
        (value / max).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let segs = (SEVERITY_STOPS.len() - 1) as f64;
    let pos = t * segs;
    let i = (pos.floor() as usize).min(SEVERITY_STOPS.len() - 2);
    SEVERITY_STOPS[i].mix(SEVERITY_STOPS[i + 1], pos - i as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_hex() {
        assert_eq!(
            Color::parse("Gray70").unwrap().rgb,
            Some(Rgb(179, 179, 179))
        );
        assert_eq!(Color::parse("light blue").unwrap().name, "lightblue");
        assert_eq!(Color::parse("#FF0000").unwrap().rgb, Some(Rgb(255, 0, 0)));
        assert_eq!(Color::parse("#f00").unwrap().rgb, Some(Rgb(255, 0, 0)));
        assert!(Color::parse("invisible").unwrap().is_invisible());
        assert!(Color::parse("tcp").is_none());
        assert!(Color::parse("#12345").is_none());
    }

    #[test]
    fn fallback_palette_is_by_first_appearance() {
        let mut p = FallbackPalette::default();
        assert_eq!(p.color_for("").name, "antiquewhite");
        assert_eq!(p.color_for("tcp").name, "antiquewhite1");
        assert_eq!(p.color_for("").name, "antiquewhite");
    }

    #[test]
    fn severity_ramp_ends() {
        assert_eq!(severity(0.0, 10.0), SEVERITY_STOPS[0]);
        assert_eq!(severity(10.0, 10.0), SEVERITY_STOPS[4]);
        assert_eq!(severity(99.0, 10.0), SEVERITY_STOPS[4]);
        assert_eq!(categorical_for("tcp"), categorical_for("tcp"));
    }
}
