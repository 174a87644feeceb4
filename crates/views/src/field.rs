//! [`Field`]: a column of the event schema, or a value derived from one (an IPv4 /24), that
//! a view may group, filter or draw by. Fields are parsed from an allowlist, and their SQL
//! is built only from `&'static str` column names of the schema, so a field name from a
//! request can never inject SQL.

use std::fmt;

use secviz_parse::schema::{col, event_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a field's values behave in charts and selections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// The event time (microseconds, UTC).
    Time,
    /// Text values (addresses, names, actions).
    Text,
    /// Whole numbers that name things (ports, status codes): grouped like text.
    Code,
    /// Amounts (bytes, packets, duration): summed, binned and ranged.
    Measure,
}

/// A groupable, filterable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Column(&'static str),
    /// The /24 of an IPv4 address column (IPv6 addresses are kept whole).
    Subnet24(&'static str),
}

/// Columns no view groups by: free text and provenance whose distinct values are as many
/// as the rows. Rows and CSV exports still carry them.
const NOT_GROUPABLE: &[&str] = &[col::RAW, col::EXTRA, col::MESSAGE];

const MEASURES: &[&str] = &[
    col::BYTES,
    col::PACKETS,
    col::SRC_BYTES,
    col::DST_BYTES,
    col::SRC_PACKETS,
    col::DST_PACKETS,
    col::DURATION,
    col::LINE,
];
const CODES: &[&str] = &[col::SRC_PORT, col::DST_PORT, col::DNS_ID, col::HTTP_STATUS];

/// Errors of [`Field::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown field {0:?}: use a column of the event schema (docs/schema.md) or src_ip/24, dst_ip/24"
)]
pub struct UnknownField(pub String);

impl Field {
    /// Parses `dst_port`, `src_ip/24`, ...
    pub fn parse(name: &str) -> Result<Field, UnknownField> {
        let name = name.trim();
        let column = |n: &str| -> Option<&'static str> {
            event_schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .find(|c| *c == n)
                .and_then(static_name)
        };
        if let Some(base) = name.strip_suffix("/24") {
            return match column(base) {
                Some(c) if secviz_parse::schema::IP_COLUMNS.contains(&c) => Ok(Field::Subnet24(c)),
                _ => Err(UnknownField(name.to_string())),
            };
        }
        match column(name) {
            Some(c) if !NOT_GROUPABLE.contains(&c) => Ok(Field::Column(c)),
            _ => Err(UnknownField(name.to_string())),
        }
    }

    /// The schema column it reads.
    pub fn column(self) -> &'static str {
        match self {
            Field::Column(c) | Field::Subnet24(c) => c,
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::Subnet24(_) => FieldKind::Text,
            Field::Column(c) if c == col::TIME => FieldKind::Time,
            Field::Column(c) if MEASURES.contains(&c) => FieldKind::Measure,
            Field::Column(c) if CODES.contains(&c) => FieldKind::Code,
            Field::Column(_) => FieldKind::Text,
        }
    }

    /// The SQL expression of the field. Only static text: column names come from the schema.
    pub fn sql(self) -> String {
        match self {
            Field::Column(c) => format!("\"{c}\""),
            // The lake's `ip_prefix` (IPv6 addresses stay as they are).
            Field::Subnet24(c) => format!("ip_prefix(\"{c}\", 24)"),
        }
    }

    /// Whether values compare as text in SQL (else as the column's integer or float type).
    pub fn is_text(self) -> bool {
        matches!(self.kind(), FieldKind::Text)
    }
}

/// The `'static` spelling of a schema column name (the schema's names are in `col`).
fn static_name(n: &str) -> Option<&'static str> {
    const ALL: &[&str] = &[
        col::TIME,
        col::EVENT_CLASS,
        col::SRC_IP,
        col::SRC_PORT,
        col::DST_IP,
        col::DST_PORT,
        col::PROTOCOL,
        col::ACTION,
        col::DIRECTION,
        col::INTERFACE,
        col::RULE,
        col::BYTES,
        col::PACKETS,
        col::SRC_BYTES,
        col::DST_BYTES,
        col::SRC_PACKETS,
        col::DST_PACKETS,
        col::DURATION,
        col::TCP_FLAGS,
        col::DNS_ID,
        col::DNS_QTYPE,
        col::DNS_QNAME,
        col::DNS_RCODE,
        col::HTTP_METHOD,
        col::HTTP_HOST,
        col::HTTP_URI,
        col::HTTP_STATUS,
        col::USER_AGENT,
        col::USER,
        col::AUTH_RESULT,
        col::HOST,
        col::APP,
        col::MESSAGE,
        col::EXTRA,
        col::FORMAT,
        col::SOURCE,
        col::LINE,
        col::RAW,
    ];
    ALL.iter().copied().find(|c| *c == n)
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Column(c) => f.write_str(c),
            Field::Subnet24(c) => write!(f, "{c}/24"),
        }
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Field::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_allowlist_only() {
        assert_eq!(Field::parse("dst_port").unwrap().kind(), FieldKind::Code);
        assert_eq!(Field::parse("bytes").unwrap().kind(), FieldKind::Measure);
        assert_eq!(
            Field::parse("src_ip/24").unwrap(),
            Field::Subnet24("src_ip")
        );
        assert_eq!(Field::parse("src_ip/24").unwrap().to_string(), "src_ip/24");
        for bad in [
            "raw",
            "nope",
            "dst_port\"; DROP",
            "protocol/24",
            "src_ip) OR (1=1",
        ] {
            assert!(Field::parse(bad).is_err(), "{bad}");
        }
    }
}
