//! A small SVG writer that escapes everything it is given. Element and attribute names are
//! `&'static str` (chosen by our code); attribute values and text are escaped, so labels from
//! logs cannot close a tag, add an attribute or start a script.

use std::fmt::Write;

use secviz_graph::export::xml_escape;

/// An attribute value: text (escaped) or a number (formatted compactly).
#[derive(Clone, Debug)]
pub enum Val<'a> {
    Text(&'a str),
    Owned(String),
    Num(f64),
}

impl From<f64> for Val<'_> {
    fn from(v: f64) -> Self {
        Val::Num(v)
    }
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Text(v)
    }
}

impl From<String> for Val<'_> {
    fn from(v: String) -> Self {
        Val::Owned(v)
    }
}

/// Formats a coordinate with at most two decimals and no trailing zeros.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Builds an SVG document.
pub struct SvgWriter {
    out: String,
    open: Vec<&'static str>,
}

impl SvgWriter {
    /// Starts a document of `width` × `height` user units.
    pub fn new(width: f64, height: f64) -> Self {
        let mut w = SvgWriter {
            out: String::with_capacity(4096),
            open: Vec::new(),
        };
        w.out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        w.out.push('\n');
        w.start(
            "svg",
            &[
                ("xmlns", "http://www.w3.org/2000/svg".into()),
                ("width", width.into()),
                ("height", height.into()),
                (
                    "viewBox",
                    format!("0 0 {} {}", fmt_num(width), fmt_num(height)).into(),
                ),
            ],
        );
        w
    }

    fn attrs(&mut self, attrs: &[(&'static str, Val<'_>)]) {
        for (k, v) in attrs {
            let _ = match v {
                Val::Text(t) => write!(self.out, r#" {k}="{}""#, xml_escape(t)),
                Val::Owned(t) => write!(self.out, r#" {k}="{}""#, xml_escape(t)),
                Val::Num(n) => write!(self.out, r#" {k}="{}""#, fmt_num(*n)),
            };
        }
    }

    /// Opens `<tag ...>`; close it with [`SvgWriter::end`].
    pub fn start(&mut self, tag: &'static str, attrs: &[(&'static str, Val<'_>)]) {
        self.out.push('<');
        self.out.push_str(tag);
        self.attrs(attrs);
        self.out.push('>');
        self.open.push(tag);
    }

    /// Closes the innermost open element.
    pub fn end(&mut self) {
        if let Some(tag) = self.open.pop() {
            let _ = write!(self.out, "</{tag}>");
        }
    }

    /// Writes an empty element `<tag .../>`.
    pub fn empty(&mut self, tag: &'static str, attrs: &[(&'static str, Val<'_>)]) {
        self.out.push('<');
        self.out.push_str(tag);
        self.attrs(attrs);
        self.out.push_str("/>");
    }

    /// Writes `<tag ...>text</tag>` with the text escaped.
    pub fn text_element(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, Val<'_>)],
        text: &str,
    ) {
        self.start(tag, attrs);
        self.out.push_str(&xml_escape(text));
        self.end();
    }

    /// Adds a newline (readability of the output only).
    pub fn newline(&mut self) {
        self.out.push('\n');
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.end();
        }
        self.out.push('\n');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut w = SvgWriter::new(10.0, 10.0);
        w.text_element(
            "text",
            &[("data-x", r#""><script>"#.into())],
            "</text><script>alert(1)</script>",
        );
        let s = w.finish();
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;/text&gt;&lt;script&gt;"));
        assert!(s.contains(r#"data-x="&quot;&gt;&lt;script&gt;""#));
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(1.256), "1.26");
        assert_eq!(fmt_num(-0.001), "0");
        assert_eq!(fmt_num(f64::NAN), "0");
    }
}
