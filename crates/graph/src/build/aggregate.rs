//! Automatic aggregation: a graph with more edges than the caller's limit (`max_edges`, the
//! CLI's `--max-edges`) is folded until it reads. Ten million edges are not a picture, and
//! no layout makes them one; what an analyst needs from them is which values carry the
//! traffic and where the rest comes from.
//!
//! So, in each role with more than [`ROLE_BUDGET`] nodes: the values that carry at least
//! [`COMMON_SHARE`] of the role's rows stay themselves (the hubs the picture is about); the
//! rest are grouped by what they are: addresses by network, ports by service class,
//! address:port endpoints by network and class, names by domain. The grouping takes the
//! finest level whose groups fit the budget (a /24 before a /16 before a /8); when even
//! the coarsest does not fit, or it leaves only a handful of groups where a finer level
//! had many, the largest groups are kept and the smallest folded into one "other" node,
//! together with the values that have no natural group. Every step is written into the
//! graph's notes, so the picture says how it was made.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::fold::{Fold, FoldKind, Kept, measure_rows, merge_folds, node_stats};
use super::{EdgeData, GraphBuilder, role_slot};
use crate::numbers::thousands;
use crate::rules::{Prop, Role, port_number_class};

/// Most nodes a role keeps after aggregation: common values, groups and "other" together.
/// Three roles of 200 nodes still read on a screen; labels go to the largest.
pub const ROLE_BUDGET: usize = 200;

/// A value carrying at least this share of its role's rows stays itself: at most 100 such
/// values per role, whatever the data's size.
pub const COMMON_SHARE: f64 = 0.01;

/// Groupings that leave fewer groups than this, where the finer level had too many, lose
/// the picture's structure: the finer level's largest groups are kept instead.
const FEW_GROUPS: usize = 8;

/// How many levels each kind of value can be grouped at (finest first).
const LEVELS: usize = 4;
const V4_PREFIX: [u8; LEVELS] = [24, 16, 8, 0];
const V6_PREFIX: [u8; LEVELS] = [64, 48, 32, 0];

/// What a value is, which decides how it groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind<'a> {
    Address(IpAddr),
    Port(u16),
    /// `10.1.2.3:443`, `[2001:db8::1]:443`.
    Endpoint(IpAddr, u16),
    /// A DNS name (or the domain of `user@domain`), without a trailing dot.
    Name(&'a str),
    Other,
}

fn classify(value: &str) -> Kind<'_> {
    let v = value.trim();
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Kind::Address(ip);
    }
    if let Ok(port) = v.parse::<u16>() {
        return Kind::Port(port);
    }
    if let Ok(sock) = v.parse::<std::net::SocketAddr>() {
        return Kind::Endpoint(sock.ip(), sock.port());
    }
    let name = v
        .rsplit_once('@')
        .map_or(v, |(_, d)| d)
        .trim_end_matches('.');
    let labels_ok = name.split('.').count() >= 2
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && name.bytes().any(|b| b.is_ascii_alphabetic());
    if labels_ok {
        Kind::Name(name)
    } else {
        Kind::Other
    }
}

/// The network of an address at a level: `10.1.0.0/16`.
fn network(ip: IpAddr, level: usize) -> IpNet {
    let len = match ip {
        IpAddr::V4(_) => V4_PREFIX[level],
        IpAddr::V6(_) => V6_PREFIX[level],
    };
    IpNet::new(ip, len).map_or(IpNet::from(ip), |n| n.trunc())
}

/// The group of a value at a level, as a key that also says how to label it; `None` when
/// the value has no natural group.
fn group_key(kind: Kind<'_>, level: usize) -> Option<GroupKey> {
    Some(match kind {
        Kind::Address(ip) => GroupKey::Network(network(ip, level)),
        Kind::Port(p) => GroupKey::Ports(port_number_class(p.into())),
        Kind::Endpoint(ip, p) => {
            GroupKey::Endpoints(network(ip, level), port_number_class(p.into()))
        }
        Kind::Name(name) => {
            // Level 0 keeps three labels (mail.corp.example.com -> corp.example.com), then
            // two, then one, then all names together.
            let keep = 3usize.saturating_sub(level);
            let labels: Vec<&str> = name.split('.').collect();
            let domain = if keep == 0 {
                String::new()
            } else {
                labels[labels.len().saturating_sub(keep)..]
                    .join(".")
                    .to_ascii_lowercase()
            };
            GroupKey::Names(domain)
        }
        Kind::Other => return None,
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum GroupKey {
    Network(IpNet),
    Ports(&'static str),
    Endpoints(IpNet, &'static str),
    /// Names in a domain (empty: every name).
    Names(String),
}

impl GroupKey {
    /// "1,234 hosts in 10.1.0.0/16", "1,180 registered ports", "56 web endpoints in
    /// 74.0.0.0/8", "25 names in example.com"; "other" when values of the same group were
    /// common enough to be drawn themselves.
    fn label(&self, n: u64, other: bool) -> String {
        let n = thousands(n);
        let other = if other { " other" } else { "" };
        let family = |net: &IpNet| match net {
            IpNet::V4(_) => "IPv4",
            IpNet::V6(_) => "IPv6",
        };
        match self {
            GroupKey::Network(net) if net.prefix_len() == 0 => {
                format!("{n}{other} {} hosts", family(net))
            }
            GroupKey::Network(net) => format!("{n}{other} hosts in {net}"),
            GroupKey::Ports(class) => format!("{n}{other} {class} ports"),
            GroupKey::Endpoints(net, class) if net.prefix_len() == 0 => {
                format!("{n}{other} {class} {} endpoints", family(net))
            }
            GroupKey::Endpoints(net, class) => format!("{n}{other} {class} endpoints in {net}"),
            GroupKey::Names(d) if d.is_empty() => format!("{n}{other} names"),
            GroupKey::Names(d) => format!("{n}{other} names in {d}"),
        }
    }
}

/// What grouping one role at one level gives.
struct Level {
    /// Group key -> rare members, in first-appearance order of the groups.
    groups: Vec<(GroupKey, Vec<usize>)>,
    /// Rare values with no natural group.
    loose: Vec<usize>,
}

fn group_at(of: &[(usize, Kind<'_>)], level: usize) -> Level {
    let mut at: HashMap<GroupKey, usize> = HashMap::new();
    let mut groups: Vec<(GroupKey, Vec<usize>)> = Vec::new();
    let mut loose = Vec::new();
    for &(i, kind) in of {
        match group_key(kind, level) {
            Some(key) => {
                let g = *at.entry(key.clone()).or_insert_with(|| {
                    groups.push((key, Vec::new()));
                    groups.len() - 1
                });
                groups[g].1.push(i);
            }
            None => loose.push(i),
        }
    }
    Level { groups, loose }
}

/// Words for a level's grouping, for the notes: "/16 network", "service class".
fn level_words(groups: &[(GroupKey, Vec<usize>)], level: usize) -> String {
    let mut kinds: Vec<String> = Vec::new();
    for (key, _) in groups {
        let words = match key {
            GroupKey::Network(net) => format!("/{} network", net.prefix_len()),
            GroupKey::Endpoints(net, _) => {
                format!("/{} network and service class", net.prefix_len())
            }
            GroupKey::Ports(_) => "service class".into(),
            GroupKey::Names(_) => match 3usize.saturating_sub(level) {
                0 => "name (all together)".into(),
                1 => "top-level domain".into(),
                k => format!("domain (last {k} labels)"),
            },
        };
        if !kinds.contains(&words) {
            kinds.push(words);
        }
    }
    kinds.join(", ")
}

impl GraphBuilder {
    /// Folds the graph until each role has at most [`ROLE_BUDGET`] nodes, when it has more
    /// than `max_edges` distinct edges (see the module's documentation). Returns the
    /// distinct edges it started from when it aggregated.
    pub(super) fn aggregate(
        &self,
        kept: &mut Vec<Kept>,
        edges: &mut Vec<(usize, usize, &EdgeData)>,
        notes: &mut Vec<String>,
        max_edges: u64,
    ) -> Option<u64> {
        let distinct = distinct_edges(edges);
        if distinct <= max_edges {
            return None;
        }
        let nodes_before = kept.len();
        let mut sets: Vec<(Vec<usize>, Fold)> = Vec::new();
        let mut role_notes = Vec::new();
        for role in [Role::Source, Role::Event, Role::Target] {
            let of_role: Vec<usize> = (0..kept.len())
                .filter(|&i| kept[i].role == role && kept[i].folded.is_none())
                .collect();
            if of_role.len() <= ROLE_BUDGET {
                continue;
            }
            role_notes.push(self.aggregate_role(role, &of_role, kept, edges, &mut sets));
        }
        merge_folds(kept, edges, sets);
        notes.push(format!(
            "aggregated automatically: {} edges, more than the {} a picture may draw; \
             rare values grouped: {} nodes became {} ({} edges)",
            thousands(distinct),
            thousands(max_edges),
            thousands(nodes_before as u64),
            thousands(kept.len() as u64),
            thousands(distinct_edges(edges)),
        ));
        notes.extend(role_notes);
        Some(distinct)
    }

    /// Chooses the groups of one role and adds them to `sets`; returns the note saying how.
    fn aggregate_role(
        &self,
        role: Role,
        of_role: &[usize],
        kept: &[Kept],
        edges: &[(usize, usize, &EdgeData)],
        sets: &mut Vec<(Vec<usize>, Fold)>,
    ) -> String {
        let slot = role_slot(role);
        let value = |i: usize| -> &str {
            self.nodes[kept[i].id as usize].roles[slot]
                .as_ref()
                .map_or("", |d| &*d.value)
        };
        let rows = |i: usize| measure_rows(self, &kept[i]);
        let total: u64 = of_role.iter().map(|&i| rows(i)).sum();
        let floor = total as f64 * COMMON_SHARE;
        let (common, rare): (Vec<usize>, Vec<usize>) =
            of_role.iter().partition(|&&i| rows(i) as f64 >= floor);
        let kinds: Vec<(usize, Kind<'_>)> = rare.iter().map(|&i| (i, classify(value(i)))).collect();
        // Room for groups: the budget less the common values and one "other" node.
        let room = ROLE_BUDGET.saturating_sub(common.len() + 1).max(1);
        // The finest level that fits; the one before it when this one says too little.
        let mut chosen = 0;
        let mut level = group_at(&kinds, 0);
        while level.groups.len() > room && chosen + 1 < LEVELS {
            let coarser = group_at(&kinds, chosen + 1);
            if coarser.groups.len() < FEW_GROUPS {
                break;
            }
            level = coarser;
            chosen += 1;
        }
        let Level {
            mut groups,
            mut loose,
        } = level;
        let how = level_words(&groups, chosen);
        // Keys of the common values, so a group beside one of them says "other".
        let common_keys: std::collections::HashSet<GroupKey> = common
            .iter()
            .filter_map(|&i| group_key(classify(value(i)), chosen))
            .collect();
        let stats = self
            .rules
            .has(Prop::Size, role)
            .then(|| node_stats(kept.len(), edges));
        let ungroupable = loose.len();
        let mut dropped_groups = 0usize;
        if groups.len() > room {
            // Largest groups first (ties: first appearance); the rest join "other".
            let mut order: Vec<usize> = (0..groups.len()).collect();
            let group_rows: Vec<u64> = groups
                .iter()
                .map(|(_, m)| m.iter().map(|&i| rows(i)).sum())
                .collect();
            order.sort_by(|a, b| group_rows[*b].cmp(&group_rows[*a]).then(a.cmp(b)));
            let mut keep = vec![false; groups.len()];
            for &g in &order[..room] {
                keep[g] = true;
            }
            let mut k = 0;
            groups.retain(|(_, members)| {
                let kept_group = keep[k];
                k += 1;
                if !kept_group {
                    dropped_groups += 1;
                    loose.extend_from_slice(members);
                }
                kept_group
            });
            loose.sort_unstable();
        }
        // Room the groups leave goes to the largest values with no natural group (a
        // user name, a URL), kept as themselves: top-k where grouping cannot help.
        let mut loose_kept = 0usize;
        let free = room.saturating_sub(groups.len());
        if dropped_groups == 0 && free > 0 && !loose.is_empty() {
            loose.sort_by(|a, b| rows(*b).cmp(&rows(*a)).then(a.cmp(b)));
            // A single value left over would be an "other" of one: keep it too.
            loose_kept = if loose.len() <= free + 1 {
                loose.len()
            } else {
                free
            };
            loose.drain(..loose_kept);
            loose.sort_unstable();
        }
        let plural = |n: usize, one: &str, many: &str| {
            format!(
                "{} {}",
                thousands(n as u64),
                if n == 1 { one } else { many }
            )
        };
        let share = COMMON_SHARE * 100.0;
        let mut clauses = vec![if common.is_empty() {
            format!("{}s: no value has {share}% of the rows", role.name())
        } else {
            format!(
                "{}s: kept the {} with at least {share}% of the rows each",
                role.name(),
                plural(common.len(), "value", "values"),
            )
        }];
        let mut grouped = 0usize;
        let mut made = 0usize;
        for (key, members) in &groups {
            if members.len() < 2 {
                continue;
            }
            let label = key.label(members.len() as u64, common_keys.contains(key));
            let mean_size = match &stats {
                Some(st) => {
                    let sum: f64 = members
                        .iter()
                        .map(|&i| self.member_size(role, kept, i, st))
                        .sum();
                    sum / members.len() as f64
                }
                None => 0.0,
            };
            grouped += members.len();
            made += 1;
            sets.push((
                members.clone(),
                Fold {
                    kind: FoldKind::Group,
                    members: members.len() as u64,
                    name: format!("{label} [{}]", role.name()),
                    label,
                    rows: members.iter().map(|&i| rows(i)).sum(),
                    mean_size,
                },
            ));
        }
        if made > 0 {
            let singles = groups.iter().filter(|(_, m)| m.len() == 1).count();
            let mut c = format!(
                "grouped {} others by {how} into {}",
                thousands(grouped as u64),
                plural(made, "node", "nodes"),
            );
            if singles > 0 {
                c.push_str(&format!(
                    " ({} alone in its group stay{} itself)",
                    plural(singles, "value", "values"),
                    if singles == 1 { "s" } else { "" }
                ));
            }
            clauses.push(c);
        }
        if loose_kept > 0 {
            clauses.push(format!(
                "kept the largest {} of the {} with no natural group",
                thousands(loose_kept as u64),
                plural(ungroupable, "value", "values")
            ));
        }
        if loose.len() >= 2 {
            let name = format!("{} other {}s", thousands(loose.len() as u64), role.name());
            let why = match (dropped_groups, ungroupable) {
                (0, _) => format!("the other {}", plural(loose.len(), "value", "values")),
                (d, 0) => format!("the smallest {}", plural(d, "group", "groups")),
                (d, u) => format!(
                    "the smallest {} and {} with no natural group",
                    plural(d, "group", "groups"),
                    plural(u, "value", "values")
                ),
            };
            clauses.push(format!("folded {why} into \"{name}\""));
            sets.push((
                loose.clone(),
                Fold {
                    kind: FoldKind::Top,
                    members: loose.len() as u64,
                    label: name.clone(),
                    name: format!("{name} [{}]", role.name()),
                    rows: loose.iter().map(|&i| rows(i)).sum(),
                    mean_size: 0.0,
                },
            ));
        }
        clauses.join("; ")
    }
}

/// Distinct `(from, to)` pairs: after rule folds, one pair may list several edges' data.
fn distinct_edges(edges: &[(usize, usize, &EdgeData)]) -> u64 {
    let mut pairs: Vec<(usize, usize)> = edges.iter().map(|(a, b, _)| (*a, *b)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_group_by_what_they_are() {
        let key = |v: &str, l: usize| group_key(classify(v), l);
        assert_eq!(
            key("10.1.2.3", 1),
            Some(GroupKey::Network("10.1.0.0/16".parse().unwrap()))
        );
        assert_eq!(
            key("2001:db8:1:2::9", 0),
            Some(GroupKey::Network("2001:db8:1:2::/64".parse().unwrap()))
        );
        assert_eq!(key("6667", 3), Some(GroupKey::Ports("irc")));
        assert_eq!(
            key("74.21.159.153:443", 2),
            Some(GroupKey::Endpoints("74.0.0.0/8".parse().unwrap(), "web"))
        );
        assert_eq!(
            key("Mail.Corp.Example.com.", 1),
            Some(GroupKey::Names("example.com".into()))
        );
        assert_eq!(
            key("alice@corp.example.com", 2),
            Some(GroupKey::Names("com".into()))
        );
        assert_eq!(key("alice", 0), None);
        assert_eq!(key("GET /index.html", 0), None);
        assert_eq!(key("1.5", 0), None, "a number is not a name");
    }

    #[test]
    fn labels_say_what_a_group_holds() {
        assert_eq!(
            GroupKey::Network("10.1.0.0/16".parse().unwrap()).label(1234, false),
            "1,234 hosts in 10.1.0.0/16"
        );
        assert_eq!(
            GroupKey::Network("0.0.0.0/0".parse().unwrap()).label(3, true),
            "3 other IPv4 hosts"
        );
        assert_eq!(
            GroupKey::Endpoints("74.0.0.0/8".parse().unwrap(), "web").label(56, false),
            "56 web endpoints in 74.0.0.0/8"
        );
        assert_eq!(GroupKey::Names(String::new()).label(2, false), "2 names");
    }
}
