//! [`DatasetName`]: the one validated form of a dataset name.
//!
//! A name becomes a directory, an object-store prefix and a SQL table name, so it is
//! parsed at the edge into a shape that is safe as all three: lower-case ASCII letters,
//! digits and `_`, starting with a letter, at most 64 bytes, and not a reserved word.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Name of the table that is the union of all readable datasets.
pub const EVENTS_TABLE: &str = "events";

/// Names a dataset may not take: the union table, and SQL words that would need quoting
/// everywhere (`select * from select` helps nobody).
const RESERVED: &[&str] = &[
    EVENTS_TABLE,
    "select",
    "from",
    "where",
    "table",
    "information_schema",
    "datafusion",
    "public",
];

/// Why a text is not a dataset name (becomes [`crate::LakeError::BadName`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid dataset name {}: {why}", secviz_parse::quoted(name))]
pub struct BadDatasetName {
    pub name: String,
    pub why: String,
}

/// A validated dataset name (`pf_2005`, `zeek_conn`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatasetName(String);

impl DatasetName {
    /// Longest name accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses a name; the error says which rule it broke.
    pub fn parse(s: &str) -> Result<DatasetName, BadDatasetName> {
        let bad = |why: &str| BadDatasetName {
            name: s.to_string(),
            why: why.to_string(),
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(bad("it is longer than 64 characters"));
        }
        if !s.as_bytes()[0].is_ascii_lowercase() {
            return Err(bad("it must start with a lower-case letter a-z"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(bad(&format!("{c:?} is not allowed (use a-z, 0-9 and _)")));
        }
        if RESERVED.contains(&s) {
            return Err(bad("it is a reserved name"));
        }
        Ok(DatasetName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DatasetName {
    type Err = BadDatasetName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatasetName::parse(s)
    }
}

impl TryFrom<String> for DatasetName {
    type Error = BadDatasetName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DatasetName::parse(&s)
    }
}

impl From<DatasetName> for String {
    fn from(n: DatasetName) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_simple_names_and_rejects_the_rest() {
        for ok in ["pf", "zeek_conn", "a1", "flows_2011_10"] {
            assert_eq!(DatasetName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "", "Pf", "1pf", "_x", "a-b", "a b", "../etc", "a/b", "events", "select", "é",
        ] {
            assert!(DatasetName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(DatasetName::parse(&"a".repeat(65)).is_err());
        assert!(DatasetName::parse(&"a".repeat(64)).is_ok());
    }

    proptest! {
        #[test]
        fn every_accepted_name_is_a_safe_path_segment_and_identifier(s in "\\PC{0,80}") {
            if let Ok(n) = DatasetName::parse(&s) {
                prop_assert!(n.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
                prop_assert!(!n.as_str().contains(".."));
                prop_assert!(n.as_str().len() <= 64);
            }
        }
    }
}
