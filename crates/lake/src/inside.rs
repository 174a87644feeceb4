//! Which addresses of a dataset are "inside" (the member's own networks): what the fan-in
//! and exfiltration analyses mean by "an inside host calls an outside server".
//!
//! The member states real networks (default: the private ranges). An anonymized dataset
//! stores no real address, so the networks are mapped with the dataset's key before the
//! data is: Crypto-PAn preserves prefixes, so the anonymized addresses of an inside network
//! are exactly the anonymized network. The manifest keeps the mapped networks; the
//! decision is taken on real addresses, and no real network is stored.
//!
//! The analyses test addresses with the lake's SQL function `ip_in` (IPv4 and IPv6).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A dataset's inside networks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InsideNetworks(Vec<String>);

/// Why a list of networks was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a network (write it like 10.0.0.0/8 or 192.168.1.0/24)")]
pub struct BadNetwork(String);

/// At most this many networks (each is a term of the analyses' SQL).
pub const MAX_NETWORKS: usize = 64;

impl InsideNetworks {
    /// The private ranges: RFC 1918 and IPv6 unique local addresses.
    pub fn private() -> InsideNetworks {
        InsideNetworks(
            ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
                .map(str::to_string)
                .to_vec(),
        )
    }

    /// The networks, parsed.
    pub fn nets(&self) -> Vec<IpNet> {
        self.0.iter().filter_map(|s| s.parse().ok()).collect()
    }

    /// The same networks as an anonymized dataset stores them, given the dataset's
    /// prefix-preserving address mapping (`Anonymizer::map_ip`).
    pub fn anonymized(&self, mut map: impl FnMut(IpAddr) -> IpAddr) -> InsideNetworks {
        InsideNetworks(
            self.nets()
                .into_iter()
                .map(|n| {
                    let mapped: IpAddr = map(n.network());
                    IpNet::new(mapped, n.prefix_len())
                        .expect("same prefix length")
                        .trunc()
                        .to_string()
                })
                .collect(),
        )
    }

    /// Several datasets' networks as one list (an analysis over several datasets).
    pub fn union<'a>(all: impl IntoIterator<Item = &'a InsideNetworks>) -> InsideNetworks {
        let mut out: Vec<String> = all.into_iter().flat_map(|n| n.0.clone()).collect();
        out.sort();
        out.dedup();
        InsideNetworks(out)
    }

    /// `ip` is an address in one of `nets` (parsed once by [`InsideNetworks::nets`]), as
    /// the lake's SQL function `ip_in` decides.
    pub(crate) fn holds(nets: &[IpNet], ip: &str) -> bool {
        ip.parse::<IpAddr>()
            .is_ok_and(|a| nets.iter().any(|n| n.contains(&a)))
    }

    /// A SQL boolean expression: `column` holds an inside address (the lake's `ip_in`).
    /// Built from parsed networks only (never from text a member typed), so it is safe to
    /// splice.
    pub(crate) fn sql_predicate(&self, column: &str) -> String {
        let nets: Vec<String> = self.nets().iter().map(|n| n.to_string()).collect();
        if nets.is_empty() {
            return "FALSE".to_string();
        }
        format!("coalesce(ip_in({column}, '{}'), FALSE)", nets.join(","))
    }
}

impl FromStr for InsideNetworks {
    type Err = BadNetwork;

    /// Networks separated by commas or spaces; a bare address is its own /32 (or /128).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Vec::new();
        for part in s
            .split([',', ' ', '\n', '\t'])
            .filter(|p| !p.trim().is_empty())
        {
            let p = part.trim();
            let net: IpNet = match p.parse::<IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => p
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| BadNetwork(p.chars().take(60).collect()))?,
            };
            out.push(net.to_string());
            if out.len() > MAX_NETWORKS {
                return Err(BadNetwork(format!("more than {MAX_NETWORKS} networks")));
            }
        }
        if out.is_empty() {
            return Err(BadNetwork(s.chars().take(60).collect()));
        }
        Ok(InsideNetworks(out))
    }
}

impl fmt::Display for InsideNetworks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_networks_and_addresses_and_refuses_the_rest() {
        let n: InsideNetworks = "10.1.2.3/16, 192.0.2.7".parse().unwrap();
        assert_eq!(n.to_string(), "10.1.0.0/16, 192.0.2.7/32");
        assert!("10.0.0.0/33".parse::<InsideNetworks>().is_err());
        assert!("corp".parse::<InsideNetworks>().is_err());
        assert!("".parse::<InsideNetworks>().is_err());
    }

    #[test]
    fn anonymized_networks_hold_the_mapped_addresses() {
        // A prefix-preserving mapping (XOR with a constant) stands in for Crypto-PAn here;
        // the demo's test checks the real key end to end.
        let map = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) ^ 0x5a3c_0f99).into()),
            v6 => v6,
        };
        let inside: InsideNetworks = "10.0.0.0/8, 192.168.5.0/24".parse().unwrap();
        let mapped = inside.anonymized(map).nets();
        for (ip, net) in [("10.200.3.4", 0), ("192.168.5.77", 1)] {
            let a = map(ip.parse().unwrap());
            assert!(mapped[net].contains(&a), "{a} not in {}", mapped[net]);
        }
        assert!(!mapped[1].contains(&map("192.168.6.1".parse().unwrap())));
    }
}
