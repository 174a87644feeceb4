//! [`DatasetId`]: the id of a member's dataset, which is also its name in the lake. Random
//! (96 bits), so ids say nothing about how many datasets exist or whose they are.

use std::fmt;

use secviz_lake::DatasetName;

/// `d` followed by 24 lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DatasetId(String);

impl DatasetId {
    pub fn new() -> DatasetId {
        DatasetId(format!("d{}", hex::encode(rand::random::<[u8; 12]>())))
    }

    /// Parses an id from a URL; anything else is `None` (a 404 for the caller).
    pub fn parse(raw: &str) -> Option<DatasetId> {
        let ok = raw.len() == 25
            && raw.starts_with('d')
            && raw[1..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| DatasetId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lake's name for it (always valid: a letter then hex digits).
    pub fn lake_name(&self) -> DatasetName {
        DatasetName::parse(&self.0).expect("dataset ids are valid lake names")
    }
}

impl Default for DatasetId {
    fn default() -> Self {
        DatasetId::new()
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_junk() {
        let id = DatasetId::new();
        assert_eq!(DatasetId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.lake_name().as_str(), id.as_str());
        for bad in [
            "",
            "d",
            "events",
            "d../../etc/passwd",
            "D0123456789abcdef01234567",
            "d0123456789abcdef0123456g",
        ] {
            assert!(DatasetId::parse(bad).is_none(), "{bad}");
        }
    }
}
