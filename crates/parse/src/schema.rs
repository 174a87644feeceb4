//! The one event schema every parser writes and the lake stores.
//!
//! Names follow OCSF where it has one (Network Activity, DNS Activity, HTTP Activity,
//! Authentication), flattened into columns so SQL stays simple. The column order is
//! part of the on-disk format: append new columns at the end and bump
//! [`SCHEMA_VERSION`]. `docs/schema.md` documents every column.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Version of the column layout. Stored in every dataset manifest.
pub const SCHEMA_VERSION: u32 = 1;

/// Column names, so no crate spells a column by hand.
pub mod col {
    pub const TIME: &str = "time";
    pub const EVENT_CLASS: &str = "event_class";
    pub const SRC_IP: &str = "src_ip";
    pub const SRC_PORT: &str = "src_port";
    pub const DST_IP: &str = "dst_ip";
    pub const DST_PORT: &str = "dst_port";
    pub const PROTOCOL: &str = "protocol";
    pub const ACTION: &str = "action";
    pub const DIRECTION: &str = "direction";
    pub const INTERFACE: &str = "interface";
    pub const RULE: &str = "rule";
    pub const BYTES: &str = "bytes";
    pub const PACKETS: &str = "packets";
    pub const SRC_BYTES: &str = "src_bytes";
    pub const DST_BYTES: &str = "dst_bytes";
    pub const SRC_PACKETS: &str = "src_packets";
    pub const DST_PACKETS: &str = "dst_packets";
    pub const DURATION: &str = "duration";
    pub const TCP_FLAGS: &str = "tcp_flags";
    pub const DNS_ID: &str = "dns_id";
    pub const DNS_QTYPE: &str = "dns_qtype";
    pub const DNS_QNAME: &str = "dns_qname";
    pub const DNS_RCODE: &str = "dns_rcode";
    pub const HTTP_METHOD: &str = "http_method";
    pub const HTTP_HOST: &str = "http_host";
    pub const HTTP_URI: &str = "http_uri";
    pub const HTTP_STATUS: &str = "http_status";
    pub const USER_AGENT: &str = "user_agent";
    pub const USER: &str = "user";
    pub const AUTH_RESULT: &str = "auth_result";
    pub const HOST: &str = "host";
    pub const APP: &str = "app";
    pub const MESSAGE: &str = "message";
    pub const EXTRA: &str = "extra";
    pub const FORMAT: &str = "format";
    pub const SOURCE: &str = "source";
    pub const LINE: &str = "line";
    pub const RAW: &str = "raw";
}

/// Columns that hold IP addresses: what anonymization rewrites.
pub const IP_COLUMNS: &[&str] = &[col::SRC_IP, col::DST_IP];

/// The Arrow schema of an event batch. Built once and shared.
pub fn event_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            use DataType::*;
            let s = |name: &str| Field::new(name, Utf8, true);
            let i32f = |name: &str| Field::new(name, Int32, true);
            let i64f = |name: &str| Field::new(name, Int64, true);
            Arc::new(Schema::new(vec![
                // Every event.
                Field::new(
                    col::TIME,
                    Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    true,
                ),
                s(col::EVENT_CLASS),
                s(col::SRC_IP),
                i32f(col::SRC_PORT),
                s(col::DST_IP),
                i32f(col::DST_PORT),
                s(col::PROTOCOL),
                s(col::ACTION),
                s(col::DIRECTION),
                s(col::INTERFACE),
                s(col::RULE),
                i64f(col::BYTES),
                i64f(col::PACKETS),
                i64f(col::SRC_BYTES),
                i64f(col::DST_BYTES),
                i64f(col::SRC_PACKETS),
                i64f(col::DST_PACKETS),
                Field::new(col::DURATION, Float64, true),
                s(col::TCP_FLAGS),
                // DNS Activity.
                i32f(col::DNS_ID),
                s(col::DNS_QTYPE),
                s(col::DNS_QNAME),
                s(col::DNS_RCODE),
                // HTTP Activity.
                s(col::HTTP_METHOD),
                s(col::HTTP_HOST),
                s(col::HTTP_URI),
                i32f(col::HTTP_STATUS),
                s(col::USER_AGENT),
                // Authentication.
                s(col::USER),
                s(col::AUTH_RESULT),
                // Where the event was logged and what it said.
                s(col::HOST),
                s(col::APP),
                s(col::MESSAGE),
                // Fields of the source with no column of their own, as a JSON object.
                s(col::EXTRA),
                // Provenance.
                Field::new(col::FORMAT, Utf8, false),
                Field::new(col::SOURCE, Utf8, false),
                Field::new(col::LINE, Int64, false),
                Field::new(col::RAW, Utf8, true),
            ]))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique_and_ip_columns_exist() {
        let schema = event_schema();
        let mut names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate column name");
        for c in IP_COLUMNS {
            assert_eq!(
                schema.field_with_name(c).unwrap().data_type(),
                &DataType::Utf8
            );
        }
    }
}
