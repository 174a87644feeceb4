//! Tag slugs: 1–32 characters of `a-z 0-9 -`, no leading, trailing or doubled `-`; safe in
//! URLs, HTML and feeds without escaping (they are escaped anyway).

use super::{Invalid, invalid};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagSlug(String);

impl TagSlug {
    pub fn parse(raw: &str) -> Result<TagSlug, Invalid> {
        let s = raw.trim().to_ascii_lowercase();
        if s.is_empty() || s.len() > 32 {
            return invalid("A tag has 1 to 32 characters.");
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || s.starts_with('-')
            || s.ends_with('-')
            || s.contains("--")
        {
            return invalid(
                "A tag uses letters a–z, digits and single '-' inside, like 'pcap' or 'web-logs'.",
            );
        }
        Ok(TagSlug(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_refuses() {
        assert_eq!(TagSlug::parse("Zeek").unwrap().as_str(), "zeek");
        assert!(TagSlug::parse("web-logs").is_ok());
        for bad in [
            "\"><x>",
            "",
            "-a",
            "a-",
            "a--b",
            "a b",
            "x".repeat(33).as_str(),
        ] {
            assert!(TagSlug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn slugs_are_plain(s in "\\PC{0,40}") {
            if let Ok(t) = TagSlug::parse(&s) {
                prop_assert!(t.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
        }
    }
}
