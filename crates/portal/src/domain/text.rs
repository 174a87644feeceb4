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
}
