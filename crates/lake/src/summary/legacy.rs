//! Summary files of format 1 (written before each table had a section of its own): one
//! zstd-compressed bincode body, the tables keyed by source held in one per-source sum.
//! Read and split into format 2's tables, so lakes written before keep their summaries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::codec::{inflate, read};
use super::{
    Calls, DestinationSum, Distinct, DnsSum, Gaps, HashMap, Protocols, SourceSum, Summary,
};
use crate::inside::InsideNetworks;

/// Format 1's summary, field for field (bincode reads fields in order).
#[derive(Default, Serialize, Deserialize)]
pub(super) struct V1 {
    pub rows: u64,
    pub time_min_us: Option<i64>,
    pub time_max_us: Option<i64>,
    pub facts: BTreeMap<String, u64>,
    pub minutes: Option<BTreeMap<i64, u64>>,
    pub sources: Option<HashMap<String, V1Source>>,
    pub ports: Option<HashMap<i32, Protocols>>,
    pub destinations: Option<HashMap<String, DestinationSum>>,
    pub calls_inside: Option<InsideNetworks>,
    pub calls: Option<HashMap<String, HashMap<i32, Calls>>>,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct V1Source {
    pub events: u64,
    pub bytes: Option<i64>,
    pub destinations: Distinct,
    pub ports: Distinct,
    pub networks: HashMap<String, Distinct>,
    pub dns_queries: u64,
    pub dns_ports: Distinct,
    pub dns_port_min: Option<i32>,
    pub peers: HashMap<String, Gaps>,
}

/// Reads a format-1 body (what follows the magic and the version).
pub(super) fn decode(packed: &[u8]) -> Result<Summary, String> {
    let body = inflate(packed)?;
    let v1: V1 = read(&body)?;
    Ok(split(v1))
}

fn split(v1: V1) -> Summary {
    let mut s = Summary {
        rows: v1.rows,
        time_min_us: v1.time_min_us,
        time_max_us: v1.time_max_us,
        facts: v1.facts,
        calls_inside: v1.calls_inside,
        minutes: v1.minutes,
        ports: v1.ports,
        destinations: v1.destinations,
        calls: v1.calls,
        ..Summary::default()
    };
    if let Some(map) = v1.sources {
        let (mut sources, mut networks, mut dns, mut peers) = (
            HashMap::default(),
            HashMap::default(),
            HashMap::default(),
            HashMap::default(),
        );
        for (ip, v) in map {
            if !v.networks.is_empty() {
                networks.insert(ip.clone(), v.networks);
            }
            if v.dns_queries > 0 {
                dns.insert(
                    ip.clone(),
                    DnsSum {
                        queries: v.dns_queries,
                        ports: v.dns_ports,
                        port_min: v.dns_port_min,
                    },
                );
            }
            if !v.peers.is_empty() {
                peers.insert(ip.clone(), v.peers);
            }
            sources.insert(
                ip,
                SourceSum {
                    events: v.events,
                    bytes: v.bytes,
                    destinations: v.destinations,
                    ports: v.ports,
                },
            );
        }
        s.sources = Some(sources);
        s.networks = Some(networks);
        s.dns = Some(dns);
        s.peers = Some(peers);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{Tables, decode as decode_any, distinct};

    /// A format-1 file as the previous release wrote it.
    fn v1_file(v1: &V1) -> Vec<u8> {
        let mut out = super::super::codec::MAGIC.to_vec();
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend(zstd::encode_all(&bincode::serialize(v1).unwrap()[..], 3).unwrap());
        out
    }

    #[test]
    fn format_1_files_are_read_into_the_tables_of_format_2() {
        let mut src = V1Source {
            events: 5,
            bytes: Some(900),
            dns_queries: 2,
            dns_port_min: Some(1030),
            ..Default::default()
        };
        src.destinations.insert(distinct::hash_str("192.0.2.1"));
        src.dns_ports.insert(distinct::hash_int(1030));
        src.networks
            .entry("192.0.2".into())
            .or_default()
            .insert(distinct::hash_str("192.0.2.1"));
        src.peers.insert(
            "192.0.2.1".into(),
            Gaps {
                events: 5,
                first_us: 0,
                last_us: 40,
                sum_sq: 400,
                in_order: true,
            },
        );
        let mut sources = HashMap::default();
        sources.insert("10.0.0.1".to_string(), src);
        sources.insert(
            "10.0.0.2".to_string(),
            V1Source {
                events: 1,
                ..Default::default()
            },
        );
        let v1 = V1 {
            rows: 6,
            facts: [("src_ip".to_string(), 6)].into(),
            minutes: Some([(7, 6)].into()),
            sources: Some(sources),
            ports: Some(HashMap::default()),
            destinations: Some(HashMap::default()),
            ..Default::default()
        };
        let s = decode_any(&v1_file(&v1), Tables::ALL).unwrap().unwrap();
        assert_eq!((s.rows, s.facts["src_ip"]), (6, 6));
        assert_eq!(s.minutes.as_ref().unwrap()[&7], 6);
        let sources = s.sources.as_ref().unwrap();
        assert_eq!(sources.len(), 2);
        assert_eq!(sources["10.0.0.1"].events, 5);
        assert_eq!(sources["10.0.0.1"].bytes, Some(900));
        assert_eq!(sources["10.0.0.1"].destinations.count(), 1);
        let dns = &s.dns.as_ref().unwrap()["10.0.0.1"];
        assert_eq!(
            (dns.queries, dns.port_min, dns.ports.count()),
            (2, Some(1030), 1)
        );
        assert!(!s.dns.as_ref().unwrap().contains_key("10.0.0.2"));
        assert_eq!(
            s.networks.as_ref().unwrap()["10.0.0.1"]["192.0.2"].count(),
            1
        );
        assert_eq!(
            s.peers.as_ref().unwrap()["10.0.0.1"]["192.0.2.1"].mean_sd_us(),
            Some((10.0, 0.0))
        );
        // A reader that asks for one table gets only that one.
        let only = decode_any(&v1_file(&v1), Tables::of(&[super::super::Table::Dns]))
            .unwrap()
            .unwrap();
        assert!(only.sources.is_none() && only.peers.is_none() && only.dns.is_some());
        assert_eq!(only.rows, 6);
    }
}
