//! What a visitor typed, made fit for one log line (SECURITY.md row 27).
//!
//! Text from a request (a user name on the log-in form, a path, an `Origin` header, an error
//! that quotes them) reaches the log only through [`typed`]: at most [`MAX_CHARS`] characters,
//! control and invisible formatting characters escaped (so CR/LF cannot start a forged line and
//! bidi overrides cannot hide text), and a marker saying how much was cut. A visitor who posts
//! a megabyte as their user name therefore adds a hundred bytes to the log, not a megabyte.

use std::fmt;

/// Characters of visitor text kept in a log field; the rest is counted, not written.
pub const MAX_CHARS: usize = 64;

/// Visitor text bounded to [`MAX_CHARS`] characters for a log field.
pub fn typed(text: &str) -> LogText<'_> {
    LogText {
        text,
        max_chars: MAX_CHARS,
    }
}

/// Longer text that is still visitor-influenced (an internal error's chain, which may quote
/// what was typed): bounded to `max_chars`, escaped the same way.
pub fn bounded(text: &str, max_chars: usize) -> LogText<'_> {
    LogText { text, max_chars }
}

/// Displays as a quoted, escaped and bounded string: `"eve\r\nFAKE"`,
/// `"aaaa…" (cut: 1048576 bytes in all)`.
pub struct LogText<'a> {
    text: &'a str,
    max_chars: usize,
}

impl fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        let mut cut = false;
        for (kept, c) in self.text.chars().enumerate() {
            if kept == self.max_chars {
                cut = true;
                break;
            }
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\r' => f.write_str("\\r")?,
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                c if hidden(c) => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")?;
        if cut {
            write!(f, " (cut: {} bytes in all)", self.text.len())?;
        }
        Ok(())
    }
}

impl fmt::Debug for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Characters that would break or disguise a log line: controls (C0, DEL, C1), line and
/// paragraph separators, bidi embeddings and isolates, zero-width characters and the BOM.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_forge_a_line() {
        let s = typed("eve\r\nFAKE-LINE \"x\" \\ \u{202e}gpj.exe\u{85}").to_string();
        assert_eq!(s, r#""eve\r\nFAKE-LINE \"x\" \\ \u{202e}gpj.exe\u{85}""#);
        assert!(!s.contains('\n') && !s.contains('\r'));
    }

    #[test]
    fn keeps_short_text_and_cuts_long_text_with_a_marker() {
        assert_eq!(typed("ana").to_string(), "\"ana\"");
        assert_eq!(
            typed(&"é".repeat(64)).to_string(),
            format!("\"{}\"", "é".repeat(64))
        );
        let long = "a".repeat(1 << 20);
        let s = typed(&long).to_string();
        assert!(s.len() < 120, "{s}");
        assert!(s.starts_with(&format!("\"{}\"", "a".repeat(64))), "{s}");
        assert!(s.ends_with("(cut: 1048576 bytes in all)"), "{s}");
    }

    #[test]
    fn bounded_takes_its_own_length() {
        let s = bounded(&"b".repeat(500), 100).to_string();
        assert!(s.starts_with(&format!("\"{}\"", "b".repeat(100))), "{s}");
        assert!(s.contains("cut: 500 bytes"), "{s}");
    }
}
