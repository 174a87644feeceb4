//! Prefix-preserving anonymization of event batches, applied while ingesting.
//!
//! Address columns ([`secviz_parse::schema::IP_COLUMNS`]) are mapped with Crypto-PAn;
//! a value there that is not an address becomes a keyed token. Every other text column
//! that can quote an address (`raw`, `message`, `extra`, host names, URIs, ...) has the
//! addresses inside it rewritten with the same mapping, so the original address
//! appears nowhere in the dataset.

pub mod cryptopan;
pub mod key;
pub mod text;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use secviz_parse::schema::{IP_COLUMNS, col};

pub use cryptopan::CryptoPan;
pub use key::AnonKey;

use crate::manifest::AnonymizationInfo;

/// Name of the scheme recorded in manifests.
pub const SCHEME: &str = "cryptopan-aes128";

/// Text columns that hold closed vocabularies and never an address: left as they are.
const NEVER_ADDRESSES: &[&str] = &[
    col::EVENT_CLASS,
    col::PROTOCOL,
    col::ACTION,
    col::DIRECTION,
    col::DNS_QTYPE,
    col::DNS_RCODE,
    col::HTTP_METHOD,
    col::AUTH_RESULT,
    col::FORMAT,
    col::TCP_FLAGS,
];

/// Most addresses remembered; real logs repeat a small set of hosts, so a cache saves
/// the 32 (or 128) AES operations per address. Cleared when full to stay bounded.
const CACHE_MAX: usize = 1 << 20;

/// Anonymizes batches with one key. Keeps a bounded cache of mapped addresses.
pub struct Anonymizer {
    pan: CryptoPan,
    fingerprint: String,
    cache: HashMap<IpAddr, IpAddr>,
}

impl Anonymizer {
    pub fn new(key: &AnonKey) -> Anonymizer {
        Anonymizer {
            pan: CryptoPan::new(key.bytes()),
            fingerprint: key.fingerprint(),
            cache: HashMap::new(),
        }
    }

    /// What the manifest records about this anonymizer.
    pub fn info(&self) -> AnonymizationInfo {
        AnonymizationInfo {
            scheme: SCHEME.to_string(),
            key_fingerprint: self.fingerprint.clone(),
        }
    }

    /// Maps one address (cached).
    pub fn map_ip(&mut self, ip: IpAddr) -> IpAddr {
        cached(&self.pan, &mut self.cache, ip)
    }

    /// Rewrites the addresses inside a piece of text (reject samples, messages).
    pub fn text(&mut self, s: &str) -> String {
        let (pan, cache) = (&self.pan, &mut self.cache);
        let mut map = |ip| cached(pan, cache, ip);
        text::replace_addresses(s, &mut map).unwrap_or_else(|| s.to_string())
    }

    /// The same batch with every address anonymized.
    pub fn batch(
        &mut self,
        batch: &RecordBatch,
    ) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
        let schema = batch.schema();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name().as_str();
            let rewritten =
                if field.data_type() != &DataType::Utf8 || NEVER_ADDRESSES.contains(&name) {
                    None
                } else if IP_COLUMNS.contains(&name) {
                    Some(self.address_column(column))
                } else {
                    self.text_column(column)
                };
            columns.push(rewritten.unwrap_or_else(|| column.clone()));
        }
        RecordBatch::try_new(schema, columns)
    }

    fn address_column(&mut self, column: &ArrayRef) -> ArrayRef {
        let strings = column.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(strings.len(), strings.value_data().len() + 16);
        let mut buf = String::new();
        for v in strings.iter() {
            match v {
                None => out.append_null(),
                Some(s) => match s.trim().parse::<IpAddr>() {
                    Ok(ip) => {
                        use std::fmt::Write;
                        buf.clear();
                        let _ = write!(buf, "{}", self.map_ip(ip));
                        out.append_value(&buf);
                    }
                    Err(_) if s.is_empty() => out.append_value(""),
                    Err(_) => out.append_value(self.pan.token(s)),
                },
            }
        }
        Arc::new(out.finish())
    }

    /// `None` when no value of the column holds an address (the common case for most
    /// columns), so nothing is copied.
    fn text_column(&mut self, column: &ArrayRef) -> Option<ArrayRef> {
        let strings = column.as_string::<i32>();
        let (pan, cache) = (&self.pan, &mut self.cache);
        let mut map = |ip| cached(pan, cache, ip);
        let mut changed: Vec<(usize, String)> = Vec::new();
        for (i, v) in strings.iter().enumerate() {
            if let Some(s) = v
                && let Some(new) = text::replace_addresses(s, &mut map)
            {
                changed.push((i, new));
            }
        }
        if changed.is_empty() {
            return None;
        }
        let mut out = StringBuilder::with_capacity(
            strings.len(),
            strings.value_data().len() + 16 * changed.len(),
        );
        let mut next = changed.into_iter().peekable();
        for (i, v) in strings.iter().enumerate() {
            match next.next_if(|(j, _)| *j == i) {
                Some((_, new)) => out.append_value(new),
                None => out.append_option(v),
            }
        }
        Some(Arc::new(out.finish()))
    }
}

fn cached(pan: &CryptoPan, cache: &mut HashMap<IpAddr, IpAddr>, ip: IpAddr) -> IpAddr {
    if let Some(a) = cache.get(&ip) {
        return *a;
    }
    if cache.len() >= CACHE_MAX {
        cache.clear();
    }
    let a = pan.anonymize(ip);
    cache.insert(ip, a);
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    fn batch_of(src: Vec<Option<&str>>, raw: Vec<Option<&str>>) -> RecordBatch {
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            datafusion::arrow::datatypes::Field::new(col::SRC_IP, DataType::Utf8, true),
            datafusion::arrow::datatypes::Field::new(col::RAW, DataType::Utf8, true),
            datafusion::arrow::datatypes::Field::new(col::PROTOCOL, DataType::Utf8, true),
        ]));
        let n = src.len();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(src)),
                Arc::new(StringArray::from(raw)),
                Arc::new(StringArray::from(vec![Some("1.2.3.4"); n])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn no_original_address_survives_in_any_text_column() {
        let mut anon = Anonymizer::new(&AnonKey::from_bytes([3; 32]));
        let b = batch_of(
            vec![
                Some("10.0.0.1"),
                Some("10.0.0.2"),
                None,
                Some("gateway.local"),
                Some("::ffff:10.0.0.1"),
            ],
            vec![
                Some("10.0.0.1.55 > 10.0.0.2.80"),
                None,
                Some("no address"),
                Some("x"),
                Some("y"),
            ],
        );
        let out = anon.batch(&b).unwrap();
        let src = out.column(0).as_string::<i32>();
        let raw = out.column(1).as_string::<i32>();
        assert!(src.value(0) != "10.0.0.1" && src.is_valid(0));
        assert!(src.is_null(2));
        assert!(src.value(3).starts_with("anon-"));
        // Same address, same pseudonym, in the column and inside the raw line; a shared /24 stays shared.
        let a1: std::net::Ipv4Addr = src.value(0).parse().unwrap();
        let a2: std::net::Ipv4Addr = src.value(1).parse().unwrap();
        assert_eq!(a1.octets()[..3], a2.octets()[..3]);
        assert_eq!(raw.value(0), format!("{a1}.55 > {a2}.80"));
        assert_eq!(src.value(4), format!("::ffff:{a1}"));
        assert_eq!(raw.value(2), "no address");
        // Closed-vocabulary columns are left alone.
        assert_eq!(out.column(2).as_string::<i32>().value(0), "1.2.3.4");
        for i in 0..out.num_rows() {
            for c in [src, raw] {
                if c.is_valid(i) {
                    assert!(!c.value(i).contains("10.0.0."), "{}", c.value(i));
                }
            }
        }
    }
}
