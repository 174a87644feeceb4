//! Folding many nodes into one, so a graph reads at any size: all but the top k of a role
//! into one "other" node (`source.top`), and the rare values of a role into one node per
//! group its rule names (`source.group`, `source.rare`), each labelled with what it holds.
//! The folded node takes the first member's place, so output order stays first appearance.

use std::collections::BTreeMap;

use super::scope::{RowScope, Stats};
use super::style::first_value;
use super::{EdgeData, GraphBuilder, role_slot};
use crate::numbers::thousands;
use crate::rules::{DEFAULT_RARE, Measure, Prop, Role};

/// A node chosen to be drawn, before styling.
pub(super) struct Kept {
    pub(super) id: u32,
    pub(super) role: Role,
    /// For nodes that stand for several: what they hold.
    pub(super) folded: Option<Fold>,
}

/// Why nodes were folded into one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FoldKind {
    /// All but the top k of a role (`source.top`): one "other" node.
    Top,
    /// Rare nodes of one group (`source.group`): one node per network, port class, ...
    Group,
}

/// A node standing for several.
pub(super) struct Fold {
    pub(super) kind: FoldKind,
    pub(super) members: u64,
    /// Its id and label.
    pub(super) name: String,
    pub(super) label: String,
    /// Rows of its members, in its role.
    pub(super) rows: u64,
    /// The mean of its members' size values, before scaling (group nodes are sized like a
    /// typical member, so a group of a thousand rare ports never outweighs the one port
    /// that matters).
    pub(super) mean_size: f64,
}

impl GraphBuilder {
    /// Keeps the `k` largest nodes of a role and merges the rest into one "other" node.
    pub(super) fn fold_top_k(
        &self,
        kept: &mut Vec<Kept>,
        edges: &mut Vec<(usize, usize, &EdgeData)>,
        notes: &mut Vec<String>,
    ) {
        for top in &self.rules.top {
            let mut degree = vec![0u64; kept.len()];
            for (a, b, _) in edges.iter() {
                degree[*a] += 1;
                degree[*b] += 1;
            }
            let measure = |i: usize| match top.by {
                Measure::Count => self.nodes[kept[i].id as usize].roles[role_slot(top.role)]
                    .as_ref()
                    .map_or(0, |d| d.count),
                Measure::Degree => degree[i],
            };
            let mut of_role: Vec<usize> = (0..kept.len())
                .filter(|i| kept[*i].role == top.role && kept[*i].folded.is_none())
                .collect();
            if of_role.len() <= top.k {
                continue;
            }
            // Largest first; ties keep first appearance, so the fold is deterministic.
            of_role.sort_by(|a, b| measure(*b).cmp(&measure(*a)).then(a.cmp(b)));
            let folded: Vec<usize> = of_role[top.k..].to_vec();
            let by = if top.by == Measure::Count {
                "count"
            } else {
                "degree"
            };
            let name = format!("other {}s ({})", top.role.name(), folded.len());
            notes.push(format!(
                "kept the top {} {} nodes by {by}; folded {} others into \"{name}\"",
                top.k,
                top.role.name(),
                folded.len()
            ));
            let rows = folded.iter().map(|&i| measure_rows(self, &kept[i])).sum();
            let fold = Fold {
                kind: FoldKind::Top,
                members: folded.len() as u64,
                label: name.clone(),
                name,
                rows,
                mean_size: 0.0,
            };
            merge_folds(kept, edges, vec![(folded, fold)]);
        }
    }

    /// Folds the rare nodes of every role that has `group` rules: a node holding less than
    /// the role's `rare` share of the drawn rows joins the group its first matching rule
    /// names (a network, a port class); each group of two or more becomes one node labelled
    /// with what it holds ("120 hosts in 10.20.0.0/16", "1,180 registered ports"). A rule
    /// that yields an empty text keeps the node; a group of one stays the node itself.
    pub(super) fn fold_groups(
        &self,
        kept: &mut Vec<Kept>,
        edges: &mut Vec<(usize, usize, &EdgeData)>,
        notes: &mut Vec<String>,
    ) {
        let roles = [Role::Source, Role::Event, Role::Target];
        if !roles.iter().any(|r| self.rules.has(Prop::Group, *r)) {
            return;
        }
        let stats = node_stats(kept.len(), edges);
        let mut sets: Vec<(Vec<usize>, Fold)> = Vec::new();
        for role in roles {
            if !self.rules.has(Prop::Group, role) {
                continue;
            }
            let slot = role_slot(role);
            let share = self.rules.rare[slot].unwrap_or(DEFAULT_RARE);
            let of_role: Vec<usize> = (0..kept.len())
                .filter(|i| kept[*i].role == role && kept[*i].folded.is_none())
                .collect();
            let total: u64 = of_role.iter().map(|&i| measure_rows(self, &kept[i])).sum();
            let below = total as f64 * share;
            // Group name -> members, in first-appearance order.
            let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            let mut order: Vec<String> = Vec::new();
            // Groups that also hold nodes common enough to stay: theirs are "other" hosts.
            let mut common: std::collections::HashSet<String> = std::collections::HashSet::new();
            for &i in &of_role {
                let data = self.nodes[kept[i].id as usize].roles[slot]
                    .as_ref()
                    .expect("kept in this role");
                let rare = (data.count as f64) < below;
                let mut st = stats[i];
                st.count = data.count as f64;
                let row = data.last.as_ref().expect("a role has a row");
                let scope = RowScope::with_stats(row, &data.value, self, st);
                let Some(group) = first_value(&self.rules, Prop::Group, role, &scope)
                    .map(|v| v.as_text().trim().to_string())
                    .filter(|g| !g.is_empty())
                else {
                    continue;
                };
                if !rare {
                    common.insert(group);
                    continue;
                }
                let members = groups.entry(group.clone()).or_default();
                if members.is_empty() {
                    order.push(group);
                }
                members.push(i);
            }
            let mut grouped = 0usize;
            let mut made = 0usize;
            for group in order {
                let members = groups.remove(&group).expect("listed");
                if members.len() < 2 {
                    continue;
                }
                let values: Vec<&str> = members
                    .iter()
                    .map(|&i| {
                        self.nodes[kept[i].id as usize].roles[slot]
                            .as_ref()
                            .map_or("", |d| &*d.value)
                    })
                    .collect();
                let label = group_label(&group, members.len(), &values, common.contains(&group));
                let mut size_sum = 0.0;
                let mut rows = 0u64;
                for &i in &members {
                    rows += self.nodes[kept[i].id as usize].roles[slot]
                        .as_ref()
                        .map_or(0, |d| d.count);
                    size_sum += self.member_size(role, kept, i, &stats);
                }
                grouped += members.len();
                made += 1;
                let mean = size_sum / members.len() as f64;
                sets.push((
                    members.clone(),
                    Fold {
                        kind: FoldKind::Group,
                        members: members.len() as u64,
                        name: format!("{label} [{}]", role.name()),
                        label,
                        rows,
                        mean_size: mean,
                    },
                ));
            }
            if made > 0 {
                let rule = self
                    .rules
                    .rules_for(Prop::Group, role)
                    .map(|r| r.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                notes.push(format!(
                    "grouped {} rare {} nodes (each under {} of the rows) into {made} group{} by {rule}",
                    thousands(grouped as u64),
                    role.name(),
                    percent(share),
                    if made == 1 { "" } else { "s" },
                ));
            }
        }
        merge_folds(kept, edges, sets);
    }

    /// A kept node's size value, as its rules give it, seeing its drawn degree (a group's
    /// size is the mean of its members').
    pub(super) fn member_size(&self, role: Role, kept: &[Kept], i: usize, stats: &[Stats]) -> f64 {
        let data = self.nodes[kept[i].id as usize].roles[role_slot(role)]
            .as_ref()
            .expect("kept in this role");
        let mut st = stats[i];
        st.count = data.count as f64;
        let row = data.last.as_ref().expect("a role has a row");
        let scope = RowScope::with_stats(row, &data.value, self, st);
        self.size_value(role, data, &scope)
    }
}

/// Rows a kept node stands for in its role.
pub(super) fn measure_rows(b: &GraphBuilder, k: &Kept) -> u64 {
    match &k.folded {
        Some(f) => f.rows,
        None => b.nodes[k.id as usize].roles[role_slot(k.role)]
            .as_ref()
            .map_or(0, |d| d.count),
    }
}

/// Replaces each set of kept nodes by one node standing for them all (in the first
/// member's place, so order stays first appearance) and merges their edges.
pub(super) fn merge_folds(
    kept: &mut Vec<Kept>,
    edges: &mut Vec<(usize, usize, &EdgeData)>,
    sets: Vec<(Vec<usize>, Fold)>,
) {
    if sets.is_empty() {
        return;
    }
    let mut remap: Vec<usize> = (0..kept.len()).collect();
    let mut alive = vec![true; kept.len()];
    for (members, fold) in sets {
        let slot = members[0];
        for &m in &members {
            remap[m] = slot;
        }
        for &m in &members[1..] {
            alive[m] = false;
        }
        kept[slot].folded = Some(fold);
    }
    let mut new_index = vec![usize::MAX; kept.len()];
    let mut next = 0;
    for (i, a) in alive.iter().enumerate() {
        if *a {
            new_index[i] = next;
            next += 1;
        }
    }
    let mut merged: BTreeMap<(usize, usize), Vec<&EdgeData>> = BTreeMap::new();
    for (a, b, d) in edges.drain(..) {
        let (a, b) = (new_index[remap[a]], new_index[remap[b]]);
        merged.entry((a, b)).or_default().push(d);
    }
    // Merged edges keep each edge's data; multiplicity is summed in `style_edges`.
    *edges = merged
        .into_iter()
        .flat_map(|((a, b), ds)| ds.into_iter().map(move |d| (a, b, d)))
        .collect();
    let mut i = 0;
    kept.retain(|_| {
        let keep = alive[i];
        i += 1;
        keep
    });
}

/// What a group node is called: "120 hosts in 10.20.0.0/16" for a network,
/// "1,180 registered ports" when every member is a port number, else "25 in example.com".
/// "other" when some values of the same group were common enough to be drawn themselves.
fn group_label(group: &str, n: usize, values: &[&str], other: bool) -> String {
    let n = thousands(n as u64);
    let other = if other { " other" } else { "" };
    if group.parse::<ipnet::IpNet>().is_ok() {
        format!("{n}{other} hosts in {group}")
    } else if values.iter().all(|v| v.trim().parse::<u16>().is_ok()) {
        format!("{n}{other} {group} ports")
    } else {
        format!("{n}{other} in {group}")
    }
}

/// 0.02 -> "2%", 0.005 -> "0.5%".
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round() as u64)
    } else {
        format!("{}%", (p * 100.0).round() / 100.0)
    }
}

/// Degrees among drawn nodes, for `degree`/`fanout` in rules (each distinct edge once).
pub(super) fn node_stats(n: usize, edges: &[(usize, usize, &EdgeData)]) -> Vec<Stats> {
    let mut stats = vec![Stats::default(); n];
    let mut seen = std::collections::HashSet::new();
    for (a, b, _) in edges {
        if seen.insert((*a, *b)) {
            stats[*a].degree += 1.0;
            stats[*a].fanout += 1.0;
            stats[*b].degree += 1.0;
            stats[*b].fanin += 1.0;
        }
    }
    stats
}
