//! A summary on disk: `part-<ingest>-<n>.summary` beside `part-<ingest>-<n>.parquet`.
//!
//! Format 5 (and 4, the same with every DNS name and its exact count, 3, also without the
//! tables of logins, web requests, connections and DNS names, and 2, also without sparse
//! sketches): a magic, the format version, the
//! head (its length in eight bytes, then bincode), then one section per table kept: its
//! [`Table`] index (one byte), its length (eight bytes, little-endian) and the table,
//! bincode compressed with zstd. A reader
//! decompresses only the sections it asks for. Formats 1 (one compressed body holding
//! everything) to 4 are still read.

use super::codec::{MAGIC, inflate, read};
use super::{
    Answers, DnsNames, HashMap, Head, SUMMARY_FORMAT, Summary, Table, Tables, TopNames, legacy,
};
use crate::error::{LakeError, Result};

/// Where the summary of a data file is: the same name with `.summary`.
pub(crate) fn summary_path(data_path: &str) -> String {
    let stem = data_path.strip_suffix(".parquet").unwrap_or(data_path);
    format!("{stem}.summary")
}

pub(crate) fn encode(s: &Summary) -> Result<Vec<u8>> {
    let bin = |e: bincode::Error| LakeError::Internal(format!("encoding a summary: {e}"));
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SUMMARY_FORMAT.to_le_bytes());
    let head = bincode::serialize(&s.head()).map_err(bin)?;
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    for t in Table::ALL {
        let body = match t {
            Table::Minutes => s.minutes.as_ref().map(bincode::serialize),
            Table::Sources => s.sources.as_ref().map(bincode::serialize),
            Table::Networks => s.networks.as_ref().map(bincode::serialize),
            Table::Dns => s.dns.as_ref().map(bincode::serialize),
            Table::Peers => s.peers.as_ref().map(bincode::serialize),
            Table::Ports => s.ports.as_ref().map(bincode::serialize),
            Table::Destinations => s.destinations.as_ref().map(bincode::serialize),
            Table::Calls => s.calls.as_ref().map(bincode::serialize),
            Table::Logins => s.logins.as_ref().map(bincode::serialize),
            Table::Web => s.web.as_ref().map(bincode::serialize),
            Table::Conns => s.conns.as_ref().map(bincode::serialize),
            Table::Domains => s.domains.as_ref().map(bincode::serialize),
            Table::Names => s.names.as_ref().map(bincode::serialize),
        };
        let Some(body) = body.transpose().map_err(bin)? else {
            continue;
        };
        let packed = zstd::encode_all(&body[..], 3)
            .map_err(|e| LakeError::io("compressing a summary", e))?;
        out.push(t.index() as u8);
        out.extend_from_slice(&(packed.len() as u64).to_le_bytes());
        out.extend_from_slice(&packed);
    }
    Ok(out)
}

/// Reads the head and the tables in `wanted` of a summary: `Ok(None)` when it is of
/// another format version, `Err(why)` when it is damaged. Either way the analyses read the
/// raw rows instead: a summary only ever saves time, and the data file it describes is
/// what the dataset is.
pub(crate) fn decode(bytes: &[u8], wanted: Tables) -> std::result::Result<Option<Summary>, String> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err("is not a secviz summary".into());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("four bytes"));
    let mut s = match version {
        1 => legacy::decode(&bytes[12..])?,
        // Formats 2 to 4 differ only in holding fewer kinds of sketch and table, and in how
        // 4 keeps DNS names.
        2..=SUMMARY_FORMAT => decode_sections(&bytes[12..], wanted, version)?,
        _ => return Ok(None),
    };
    s.keep_only(wanted);
    if !s.is_well_formed() {
        return Err("holds a damaged distinct-count sketch".into());
    }
    Ok(Some(s))
}

/// Format 4's DNS names: every name with its exact count.
#[derive(serde::Serialize, serde::Deserialize)]
struct DnsNames4 {
    names: HashMap<String, u64>,
    types: HashMap<String, u64>,
    clients: HashMap<String, Answers>,
}

fn decode_sections(
    bytes: &[u8],
    wanted: Tables,
    version: u32,
) -> std::result::Result<Summary, String> {
    let mut rest = Cursor(bytes);
    let head_len = rest.len()?;
    let head: Head = read(rest.take(head_len)?)?;
    let mut s = Summary::from_head(head);
    let mut seen = Tables::NONE;
    while !rest.0.is_empty() {
        let tag = rest.take(1)?[0];
        let size = rest.len()?;
        let packed = rest.take(size)?;
        let t = Table::from_index(usize::from(tag))
            .ok_or_else(|| format!("holds an unknown table ({tag})"))?;
        if seen.has(t) {
            return Err("holds a table twice".into());
        }
        seen = seen.union(Tables::of(&[t]));
        if !wanted.has(t) {
            continue;
        }
        let body = inflate(packed)?;
        match t {
            Table::Minutes => s.minutes = Some(read(&body)?),
            Table::Sources => s.sources = Some(read(&body)?),
            Table::Networks => s.networks = Some(read::<HashMap<_, _>>(&body)?),
            Table::Dns => s.dns = Some(read(&body)?),
            Table::Peers => s.peers = Some(read::<HashMap<_, _>>(&body)?),
            Table::Ports => s.ports = Some(read(&body)?),
            Table::Destinations => s.destinations = Some(read(&body)?),
            Table::Calls => s.calls = Some(read::<HashMap<_, _>>(&body)?),
            Table::Logins => s.logins = Some(read(&body)?),
            Table::Web => s.web = Some(read(&body)?),
            Table::Conns => s.conns = Some(read::<HashMap<_, _>>(&body)?),
            Table::Domains => s.domains = Some(read(&body)?),
            Table::Names if version == 4 => {
                let old: DnsNames4 = read(&body)?;
                s.names = Some(DnsNames {
                    names: TopNames::from_exact(old.names),
                    types: old.types,
                    clients: old.clients,
                });
            }
            Table::Names => s.names = Some(read(&body)?),
        }
    }
    Ok(s)
}

/// The unread part of a summary file.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64) -> std::result::Result<&'a [u8], String> {
        if n > self.0.len() as u64 {
            return Err("is cut short".into());
        }
        let (a, b) = self.0.split_at(n as usize);
        self.0 = b;
        Ok(a)
    }

    /// A length: eight bytes, little-endian.
    fn len(&mut self) -> std::result::Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("eight bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_4_names_are_read_and_reduced() {
        let mut names = HashMap::default();
        for i in 0..10_000u64 {
            names.insert(format!("n{i}.example"), 1 + i % 3);
        }
        names.insert("busy.example".to_string(), 100_000);
        let total: u64 = names.values().sum();
        let old = DnsNames4 {
            names,
            types: [("A".to_string(), total)].into_iter().collect(),
            clients: HashMap::default(),
        };
        let mut s = Summary::empty(None);
        s.rows = total;
        s.names = None;
        let mut bytes = encode(&s).unwrap();
        bytes[8..12].copy_from_slice(&4u32.to_le_bytes());
        let packed = zstd::encode_all(&bincode::serialize(&old).unwrap()[..], 3).unwrap();
        bytes.push(Table::Names.index() as u8);
        bytes.extend_from_slice(&(packed.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&packed);
        let read = decode(&bytes, Tables::ALL).unwrap().unwrap();
        let n = read.names.expect("the names of format 4");
        assert_eq!(n.types, old.types);
        assert!(n.names.len() <= 2 * super::super::TOP_NAMES);
        assert!(n.names.absent_at_most() <= total / (super::super::TOP_NAMES as u64 + 1));
        let busy = n.names.get("busy.example").unwrap();
        assert_eq!((busy.queries, busy.missed), (100_000, 0));
        for (name, c) in n.names.iter() {
            assert_eq!((c.queries, c.missed), (old.names[name], 0), "{name}");
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut s = Summary::empty(None);
        s.rows = 3;
        s.facts.insert("src_ip".into(), 2);
        s.sources.as_mut().unwrap().insert(
            "10.0.0.1".into(),
            super::super::SourceSum {
                events: 2,
                bytes: Some(7),
                ..Default::default()
            },
        );
        // A scanner's destinations: dense registers, as format 2 wrote them.
        let mut dense = super::super::Distinct::default();
        for i in 0..5_000 {
            dense.insert(super::super::distinct::hash_int(i));
        }
        assert!(matches!(dense, super::super::Distinct::Estimated(_)));
        s.sources.as_mut().unwrap().insert(
            "10.0.0.2".into(),
            super::super::SourceSum {
                events: 5_000,
                destinations: dense,
                ..Default::default()
            },
        );
        let bytes = encode(&s).unwrap();
        assert_eq!(decode(&bytes, Tables::ALL).unwrap(), Some(s.clone()));
        let mut cut = bytes.clone();
        cut.truncate(bytes.len() - 3);
        assert!(decode(&cut, Tables::ALL).is_err());
        assert!(decode(b"PAR1....", Tables::ALL).is_err());
        // Format 2, as the previous release wrote it (no sparse sketch), still reads.
        let mut two = bytes.clone();
        two[8..12].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(decode(&two, Tables::ALL).unwrap(), Some(s.clone()));
        let mut newer = bytes.clone();
        newer[8] = 99;
        assert_eq!(decode(&newer, Tables::ALL).unwrap(), None);
        assert_eq!(
            summary_path("day=2011-10-11/part-a-00000.parquet"),
            "day=2011-10-11/part-a-00000.summary"
        );
    }
}
