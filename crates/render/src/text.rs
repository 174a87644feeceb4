//! Text width estimation without a font engine, for label placement and legends. Widths are
//! DejaVu Sans advance widths grouped into classes (em fractions), which is the font the PNG
//! renderer embeds; browsers using another sans-serif differ by a few percent.

/// Estimated width of `s` in user units at `font_size`.
pub fn text_width(s: &str, font_size: f64) -> f64 {
    s.chars().map(char_em).sum::<f64>() * font_size
}

fn char_em(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.28,
        'f' | 't' | 'r' | 'I' | ' ' | '(' | ')' | '[' | ']' | '/' | '\\' | '-' => 0.36,
        '0'..='9' => 0.64,
        'm' | 'w' | 'M' | 'W' | '%' => 0.92,
        // DejaVu Sans draws operators wide (0.84 em): a URI of `+` signs measured as
        // letters ran past the left edge of a picture.
        '+' | '=' | '<' | '>' | '~' | '#' | '^' => 0.84,
        '&' | '@' => 0.8,
        'a'..='z' => 0.6,
        'A'..='Z' => 0.7,
        c if c.is_ascii() => 0.6,
        // CJK and other wide characters.
        c if (c as u32) >= 0x2E80 => 1.0,
        _ => 0.65,
    }
}

/// Shortens `s` to fit `max_width` at `font_size`, ending with `…` when cut.
pub fn ellipsize(s: &str, max_width: f64, font_size: f64) -> String {
    if text_width(s, font_size) <= max_width {
        return s.to_string();
    }
    let budget = max_width - text_width("…", font_size);
    let mut out = String::new();
    let mut w = 0.0;
    for c in s.chars() {
        let cw = char_em(c) * font_size;
        if w + cw > budget {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` in at most `max_lines` lines of `max_width`, broken between words (a word wider than
/// a line is cut); the last line ends with "…" when text is left over.
pub fn wrap(s: &str, max_width: f64, font_size: f64, max_lines: usize) -> Vec<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut i = 0;
    while i < words.len() {
        let candidate = if line.is_empty() {
            words[i].to_string()
        } else {
            format!("{line} {}", words[i])
        };
        if text_width(&candidate, font_size) <= max_width {
            line = candidate;
            i += 1;
            continue;
        }
        if line.is_empty() {
            // A word wider than a line.
            line = ellipsize(words[i], max_width, font_size);
            i += 1;
        }
        lines.push(std::mem::take(&mut line));
        if lines.len() == max_lines {
            break;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if i < words.len()
        && let Some(last) = lines.last_mut()
    {
        *last = ellipsize(
            &format!("{last} {}", words[i..].join(" ")),
            max_width,
            font_size,
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_wrap_between_words_and_say_when_cut() {
        let s = "aggregated automatically: 24,831 edges are more than the 1,000";
        let lines = wrap(s, 120.0, 10.0, 4);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), s, "nothing lost or cut inside a word");
        assert!(lines.iter().all(|l| text_width(l, 10.0) <= 120.0));
        let short = wrap(s, 120.0, 10.0, 2);
        assert_eq!(short.len(), 2);
        assert!(short[1].ends_with('…'), "{short:?}");
        assert_eq!(wrap("one", 120.0, 10.0, 3), vec!["one"]);
    }

    #[test]
    fn wider_text_is_wider() {
        assert!(text_width("WWW", 10.0) > text_width("iii", 10.0));
        assert_eq!(text_width("", 10.0), 0.0);
        let e = ellipsize("a very long label indeed", 40.0, 10.0);
        assert!(e.ends_with('…'));
        assert!(text_width(&e, 10.0) <= 40.0 + 1e-9);
    }
}
