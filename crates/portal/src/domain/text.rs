//! Free text fields of posts and comments, bounded so one member cannot fill the disk or
//! the page, and stripped of control characters that would confuse logs and feeds.

use super::{Invalid, invalid};

/// Removes control characters except newline and tab; normalises CRLF to LF.
fn clean(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// One line of text, trimmed, at most `max` characters; control characters removed.
pub fn short_text(raw: &str, max: usize, what: &str) -> Result<String, Invalid> {
    let s: String = clean(raw).replace(['\n', '\t'], " ").trim().to_string();
    if s.chars().count() > max {
        return invalid(format!("{what} has at most {max} characters."));
    }
    Ok(s)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Title, Invalid> {
        let s = short_text(raw, 200, "A title")?;
        if s.is_empty() {
            return invalid("Give the post a title.");
        }
        Ok(Title(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Deepest nesting of quotes and lists (from line starts) and of HTML elements that a post
/// or comment may have. Markdown parsing and HTML sanitising take time that grows with
/// the square of nesting: 100,000 `>` took over a minute of a server thread. No text a
/// person writes nests this deep.
pub const MAX_NESTING: usize = 32;

/// Refuses text that nests deeper than [`MAX_NESTING`]: block quotes and list markers at
/// the start of a line (`> > -`, indentation by fours), and HTML elements left open.
fn check_nesting(s: &str, what: &str) -> Result<(), Invalid> {
    for line in s.lines() {
        let mut depth = 0usize;
        let mut spaces = 0usize;
        let mut rest = line;
        loop {
            let mut chars = rest.chars();
            match chars.next() {
                // Indentation before the first marker nests lists; spaces after one do not.
                Some(' ') if depth == 0 => spaces += 1,
                Some('\t') if depth == 0 => spaces += 4,
                Some(' ' | '\t') => {}
                Some('>') => depth += 1,
                Some('*' | '+' | '-') if matches!(chars.clone().next(), Some(' ' | '\t')) => {
                    depth += 1
                }
                Some(c) if c.is_ascii_digit() => {
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                    let after = &rest[digits..];
                    if after.starts_with(". ") || after.starts_with(") ") {
                        depth += 1;
                        rest = &after[1..];
                        continue;
                    }
                    break;
                }
                _ => break,
            }
            rest = chars.as_str();
        }
        if depth + spaces / 4 > MAX_NESTING {
            return invalid(format!(
                "{what} nests quotes or lists more than {MAX_NESTING} levels deep: nest less deeply."
            ));
        }
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'<' {
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let end = bytes[i..].iter().position(|b| *b == b'>').map(|p| i + p);
                let self_closing = end.is_some_and(|e| e > 0 && bytes[e - 1] == b'/');
                let name: String = bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .map(|c| c.to_ascii_lowercase() as char)
                    .collect();
                let void = matches!(
                    name.as_str(),
                    "br" | "hr"
                        | "img"
                        | "input"
                        | "meta"
                        | "link"
                        | "wbr"
                        | "col"
                        | "area"
                        | "source"
                );
                if !self_closing && !void {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
            }
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return invalid(format!(
            "{what} has HTML elements nested more than {MAX_NESTING} deep: close them, or nest less deeply."
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    pub const MAX: usize = 100_000;
    pub fn parse(raw: &str) -> Result<PostBody, Invalid> {
        let s = clean(raw);
        if s.trim().is_empty() {
            return invalid("Write something in the post.");
        }
        if s.chars().count() > Self::MAX {
            return invalid(format!("A post has at most {} characters.", Self::MAX));
        }
        check_nesting(&s, "The post")?;
        Ok(PostBody(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub const MAX: usize = 20_000;
    pub fn parse(raw: &str) -> Result<CommentBody, Invalid> {
        let s = clean(raw);
        if s.trim().is_empty() {
            return invalid("Write something in the comment.");
        }
        if s.chars().count() > Self::MAX {
            return invalid(format!("A comment has at most {} characters.", Self::MAX));
        }
        check_nesting(&s, "The comment")?;
        Ok(CommentBody(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A post is a discussion or a gallery entry (which needs an image, a tool and a data source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Discussion,
    Gallery,
}

impl PostKind {
    pub fn parse(s: &str) -> PostKind {
        if s == "gallery" {
            PostKind::Gallery
        } else {
            PostKind::Discussion
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Discussion => "discussion",
            PostKind::Gallery => "gallery",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_go_newlines_stay() {
        let b = PostBody::parse("a\r\nb\u{7}c\u{1b}[31m").unwrap();
        assert_eq!(b.as_str(), "a\nbc[31m");
        assert_eq!(Title::parse("  x\ny ").unwrap().as_str(), "x y");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"t".repeat(201)).is_err());
    }

    #[test]
    fn issue_14_deep_nesting_is_refused_and_ordinary_text_passes() {
        for deep in [
            ">".repeat(40) + " x",
            "- ".repeat(40) + "x",
            "1. ".repeat(40) + "x",
            " ".repeat(200) + "- x",
            "<div>".repeat(40),
            "<b><i>".repeat(30),
        ] {
            let e = PostBody::parse(&deep).unwrap_err();
            assert!(e.to_string().contains("more than 32"), "{deep}: {e}");
        }
        for ok in [
            "> quoted\n> > twice\n\n- a\n  - b\n    - c\n\n1. one\n2. two",
            &"-".repeat(300),
            &format!("{}\n", "<p>para</p>".repeat(500)),
            "<br><br><br><img src=\"/img/ab\"><hr>",
            "a < b and c <d",
            "```\n        deeply indented code\n```",
        ] {
            assert!(PostBody::parse(ok).is_ok(), "{ok}");
        }
    }
}
