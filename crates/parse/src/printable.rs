//! Text from a log shown to a person: control characters (ESC, CR, NUL, ...) become escapes,
//! so a log line cannot move the cursor or recolour a terminal, or hide what it says.

/// `s` with every control character shown as an escape (`\u{1b}`, `\r`, `\t`); other text
/// as it is.
pub fn escape_control(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `s` between quotation marks, control characters escaped: how a value from a log is
/// quoted in a message (never Rust's `{:?}`, which shows escapes of its own).
pub fn quoted(s: &str) -> String {
    format!("“{}”", escape_control(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_once_and_text_kept() {
        assert_eq!(escape_control("plain ü"), "plain ü");
        assert_eq!(escape_control("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(quoted("1.2.3.x\r"), "“1.2.3.x\\r”");
        // A log's invalid bytes arrive already shown as `\xNN` text: kept as they are.
        assert_eq!(quoted("\\xbb"), "“\\xbb”");
    }
}
