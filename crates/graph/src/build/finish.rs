//! Building a graph from rows: the finishing half. Applies AfterGlow's omit thresholds and
//! fan-out limits in AfterGlow's order (source→event edges first, then event→target edges
//! whose event survived), picks the role each node is drawn as (source, then event, then
//! target), folds all but the top k nodes of a role into one "other" node, and resolves
//! every style through the rules. Output order is first appearance, so it is deterministic.

use std::collections::{BTreeMap, HashMap};

use super::scope::{RowScope, Stats};
use super::style::{Styler, first_value};
use super::{EdgeData, GraphBuilder, role_slot};
use crate::color::{Color, Rgb};
use crate::model::{Counts, Edge, Graph, Node, Settings};
use crate::rules::{DEFAULT_RARE, Measure, Prop, Role};

/// Reserved for limits on what `finish` accepts; building cannot fail today.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {}

/// A node chosen to be drawn, before styling.
struct Kept {
    id: u32,
    role: Role,
    /// For nodes that stand for several: what they hold.
    folded: Option<Fold>,
}

/// Why nodes were folded into one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FoldKind {
    /// All but the top k of a role (`source.top`): one "other" node.
    Top,
    /// Rare nodes of one group (`source.group`): one node per network, port class, ...
    Group,
}

/// A node standing for several.
struct Fold {
    kind: FoldKind,
    members: u64,
    /// Its id and label.
    name: String,
    label: String,
    /// Rows of its members, in its role.
    rows: u64,
    /// The mean of its members' size values, before scaling (group nodes are sized like a
    /// typical member, so a group of a thousand rare ports never outweighs the one port
    /// that matters).
    mean_size: f64,
}

/// Minimum AfterGlow node size, in inches.
const MIN_NODE_SIZE: f64 = 0.1;
/// The smallest node of native rules, as a share of the largest: small enough that a hub
/// stands out among hundreds of small nodes (AfterGlow's 0.1 inch is half its default
/// largest size, so everything looked alike).
const MIN_NATIVE_SHARE: f64 = 0.2;

impl GraphBuilder {
    /// Applies thresholds, folding and styles, and returns the graph.
    pub fn finish(self) -> Graph {
        let two = self.opts.two_node;
        let omit = self.opts.omit.max(self.rules.thresholds.all);
        let th = self.rules.thresholds;
        let n = self.nodes.len();
        let count = |id: u32, r: Role| {
            self.nodes[id as usize].roles[role_slot(r)]
                .as_ref()
                .map_or(0, |d| d.count)
        };
        // Fan-out: distinct out-neighbours in the role's edge map.
        let mut out_first = vec![0u64; n];
        for (s, _) in sorted_keys(&self.first) {
            out_first[s as usize] += 1;
        }
        let mut out_second = vec![0u64; n];
        for (e, _) in sorted_keys(&self.second) {
            out_second[e as usize] += 1;
        }
        let src_fan = |id: u32| {
            if self.opts.source_fanout > 0 {
                out_first[id as usize]
            } else {
                1
            }
        };
        let ev_fan = |id: u32| {
            if self.opts.event_fanout > 0 {
                out_second[id as usize]
            } else {
                1
            }
        };
        let src_ok = |id: u32| {
            let c = count(id, Role::Source);
            c > omit && c > th.source && src_fan(id) > self.opts.source_fanout
        };
        let ev_ok = |id: u32| {
            let c = count(id, Role::Event);
            c > omit && c > th.event && ev_fan(id) > self.opts.event_fanout
        };
        let tgt_ok = |id: u32| {
            let c = count(id, Role::Target);
            c > omit && c > th.target
        };

        let mut print = vec![false; n];
        let mut kept_edges: Vec<(u32, u32, &EdgeData)> = Vec::new();
        let mut omitted_edges = 0u64;
        for (s, x) in sorted_keys(&self.first) {
            let ok = if two {
                src_ok(s) && tgt_ok(x)
            } else {
                src_ok(s) && ev_ok(x)
            };
            if ok {
                print[s as usize] = true;
                print[x as usize] = true;
                kept_edges.push((s, x, &self.first[&(s, x)]));
            } else {
                omitted_edges += 1;
            }
        }
        for (e, t) in sorted_keys(&self.second) {
            if print[e as usize] && ev_ok(e) && tgt_ok(t) {
                print[t as usize] = true;
                kept_edges.push((e, t, &self.second[&(e, t)]));
            } else {
                omitted_edges += 1;
            }
        }

        // The role each node is drawn as.
        let mut kept: Vec<Kept> = Vec::new();
        let mut index: Vec<Option<usize>> = vec![None; n];
        for id in 0..n as u32 {
            let node = &self.nodes[id as usize];
            if !print[id as usize] {
                continue;
            }
            let role = if node.roles[0].is_some() && src_ok(id) {
                Role::Source
            } else if !two && node.roles[1].is_some() && ev_ok(id) {
                Role::Event
            } else if node.roles[2].is_some() && tgt_ok(id) {
                Role::Target
            } else {
                continue;
            };
            index[id as usize] = Some(kept.len());
            kept.push(Kept {
                id,
                role,
                folded: None,
            });
        }
        let nodes_omitted = (n - kept.len()) as u64;
        let mut edges: Vec<(usize, usize, &EdgeData)> = kept_edges
            .iter()
            .filter_map(|(a, b, d)| Some((index[*a as usize]?, index[*b as usize]?, *d)))
            .collect();

        let mut notes = Vec::new();
        self.fold_groups(&mut kept, &mut edges, &mut notes);
        self.fold_top_k(&mut kept, &mut edges, &mut notes);
        self.style(kept, edges, notes, omitted_edges, nodes_omitted)
    }

    /// Keeps the `k` largest nodes of a role and merges the rest into one "other" node.
    fn fold_top_k(
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
    fn fold_groups(
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
                    let data = self.nodes[kept[i].id as usize].roles[slot]
                        .as_ref()
                        .expect("kept in this role");
                    rows += data.count;
                    let mut st = stats[i];
                    st.count = data.count as f64;
                    let row = data.last.as_ref().expect("a role has a row");
                    let scope = RowScope::with_stats(row, &data.value, self, st);
                    size_sum += self.size_value(role, data, &scope);
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

    fn style(
        &self,
        kept: Vec<Kept>,
        edges: Vec<(usize, usize, &EdgeData)>,
        mut notes: Vec<String>,
        edges_omitted: u64,
        nodes_omitted: u64,
    ) -> Graph {
        let max_size = self.rules.max_node_size.unwrap_or(self.opts.max_node_size);
        let sized = [Role::Source, Role::Event, Role::Target]
            .iter()
            .any(|r| self.rules.has(Prop::Size, *r));
        let stats = node_stats(kept.len(), &edges);
        let min_size = if self.rules.afterglow {
            MIN_NODE_SIZE
        } else {
            max_size * MIN_NATIVE_SHARE
        };
        let mut max_actual = self.max_actual_sizes(max_size);
        if !self.rules.afterglow {
            // Sizes from statistics (`node.size = degree`) are known only now, over the
            // drawn nodes: scale by their largest too, or a hub of degree 120 would be drawn
            // 120 times the largest size.
            for (i, k) in kept.iter().enumerate() {
                if k.folded.is_some() || !self.rules.has(Prop::Size, k.role) {
                    continue;
                }
                let slot = role_slot(k.role);
                let data = self.nodes[k.id as usize].roles[slot]
                    .as_ref()
                    .expect("kept in this role");
                let mut st = stats[i];
                st.count = data.count as f64;
                let scope = RowScope::with_stats(
                    data.last.as_ref().expect("a role has a row"),
                    &data.value,
                    self,
                    st,
                );
                max_actual[slot] = max_actual[slot].max(self.size_value(k.role, data, &scope));
            }
            // One scale for every role, so a bot of degree 7 is not drawn as large as the
            // server of degree 120 it calls (AfterGlow scales each role by its own largest).
            let all = max_actual.iter().copied().fold(1.0f64, f64::max);
            max_actual = [all; 3];
        }
        let mut styler = Styler::default();
        let mut nodes = Vec::with_capacity(kept.len());
        for (i, k) in kept.iter().enumerate() {
            if let Some(fold) = &k.folded {
                let color = Color::from_rgb(Rgb(0x99, 0x99, 0x99));
                let (what, size, count) = match fold.kind {
                    FoldKind::Top => (format!("folded {}s", k.role.name()), max_size, fold.members),
                    FoldKind::Group => (
                        format!("rare {}s, grouped", k.role.name()),
                        rounded(
                            (max_size / max_actual[role_slot(k.role)] * fold.mean_size)
                                .clamp(min_size, max_size),
                        ),
                        fold.rows,
                    ),
                };
                let legend = styler.entry(k.role.name(), &color, what);
                styler.legend[legend].grouped = true;
                nodes.push(Node {
                    id: fold.name.clone(),
                    label: fold.label.clone(),
                    role: k.role,
                    source_target: false,
                    color,
                    shape: if k.role == Role::Event {
                        "box".into()
                    } else {
                        "ellipse".into()
                    },
                    size: sized.then_some(size),
                    count,
                    folded: fold.members,
                    legend,
                });
                continue;
            }
            let node = &self.nodes[k.id as usize];
            let data = node.roles[role_slot(k.role)]
                .as_ref()
                .expect("kept in this role");
            let row = data.last.as_ref().expect("a role has a row");
            let mut st = stats[i];
            st.count = data.count as f64;
            let scope = RowScope::with_stats(row, &data.value, self, st);
            let source_target = k.role == Role::Source && node.roles[2].is_some();
            let (color, legend) = if source_target {
                // AfterGlow: sourcetarget rules, else source rules, else target rules.
                if self.rules.has(Prop::Color, Role::SourceTarget) {
                    styler.color(&self.rules, Role::SourceTarget, "source+target", &scope)
                } else if self.rules.has(Prop::Color, Role::Source) {
                    styler.color(&self.rules, Role::Source, "source", &scope)
                } else {
                    let t = node.roles[2].as_ref().expect("checked");
                    let tscope =
                        RowScope::with_stats(t.last.as_ref().expect("row"), &t.value, self, st);
                    styler.color(&self.rules, Role::Target, "target", &tscope)
                }
            } else {
                styler.color(&self.rules, k.role, k.role.name(), &scope)
            };
            let shape = first_value(&self.rules, Prop::Shape, k.role, &scope)
                .map(|v| v.as_text().into_owned())
                .unwrap_or_else(|| {
                    if k.role == Role::Event {
                        "box".into()
                    } else {
                        "ellipse".into()
                    }
                });
            let size = self.rules.has(Prop::Size, k.role).then(|| {
                let v = self.size_value(k.role, data, &scope);
                rounded((max_size / max_actual[role_slot(k.role)] * v).max(min_size))
            });
            let mut label = if self.opts.no_labels {
                String::new()
            } else {
                first_value(&self.rules, Prop::Label, k.role, &scope)
                    .map_or_else(|| data.value.to_string(), |v| v.as_text().into_owned())
            };
            if self.opts.count_labels {
                label = format!("{label} : {}", data.count);
            }
            nodes.push(Node {
                id: node.name.to_string(),
                label,
                role: k.role,
                source_target,
                color,
                shape,
                size,
                count: data.count,
                folded: 0,
                legend,
            });
        }
        let graph_edges = self.style_edges(&edges, &mut styler);
        self.add_notes(&mut notes, edges_omitted, nodes_omitted);
        Graph {
            nodes,
            edges: graph_edges,
            legend: styler.legend,
            notes,
            settings: Settings {
                max_node_size: max_size,
                sized,
                edge_len: self.opts.edge_len,
                two_node: self.opts.two_node,
            },
            counts: Counts {
                rows: self.rows,
                rejected: self.rejected,
                hidden: self.hidden,
                nodes_omitted,
                edges_omitted,
            },
        }
    }

    /// Merges parallel edges (after folding) and styles them from their last row.
    fn style_edges(&self, edges: &[(usize, usize, &EdgeData)], styler: &mut Styler) -> Vec<Edge> {
        let has_weight = self.rules.has(Prop::Weight, Role::Edge);
        let mut out: Vec<Edge> = Vec::with_capacity(edges.len());
        let mut at: HashMap<(usize, usize), usize> = HashMap::with_capacity(edges.len());
        for (a, b, d) in edges {
            let w = if self.sum_edges {
                d.weight_sum
            } else {
                d.count as f64
            };
            if let Some(&i) = at.get(&(*a, *b)) {
                out[i].count += d.count;
                out[i].weight += w;
                continue;
            }
            let st = Stats {
                count: d.count as f64,
                ..Stats::default()
            };
            let scope = RowScope::with_stats(&d.last, &d.last[0], self, st);
            let color = styler.edge_color(&self.rules, &scope);
            let size = first_value(&self.rules, Prop::Size, Role::Edge, &scope).map(|v| v.as_num());
            let label = first_value(&self.rules, Prop::Label, Role::Edge, &scope)
                .map(|v| v.as_text().into_owned());
            let weight = if has_weight && !self.sum_edges {
                first_value(&self.rules, Prop::Weight, Role::Edge, &scope).map_or(w, |v| v.as_num())
            } else {
                w
            };
            at.insert((*a, *b), out.len());
            out.push(Edge {
                from: *a,
                to: *b,
                count: d.count,
                weight,
                color,
                size,
                label,
            });
        }
        out
    }

    fn size_value(&self, role: Role, data: &super::RoleData, scope: &RowScope<'_>) -> f64 {
        if self.rules.afterglow || self.rules.sum.contains(&role) {
            data.size_sum
        } else {
            first_value(&self.rules, Prop::Size, role, scope).map_or(0.0, |v| v.as_num())
        }
    }

    /// AfterGlow scales sizes by the largest value of each role, over every node of that
    /// role (omitted ones included), and never below 1.
    fn max_actual_sizes(&self, _max: f64) -> [f64; 3] {
        if self.rules.afterglow {
            // Kept row by row, as AfterGlow keeps it (`afterglow_size`).
            return self.size_max_seen;
        }
        let mut out = [1.0f64; 3];
        for role in [Role::Source, Role::Event, Role::Target] {
            if !self.rules.has(Prop::Size, role) {
                continue;
            }
            let slot = role_slot(role);
            for node in &self.nodes {
                if let Some(d) = &node.roles[slot] {
                    let st = Stats {
                        count: d.count as f64,
                        ..Stats::default()
                    };
                    let scope =
                        RowScope::with_stats(d.last.as_ref().expect("row"), &d.value, self, st);
                    let v = self.size_value(role, d, &scope);
                    if v > out[slot] {
                        out[slot] = v;
                    }
                }
            }
        }
        out
    }

    fn add_notes(&self, notes: &mut Vec<String>, edges_omitted: u64, nodes_omitted: u64) {
        for (slot, name) in ["source", "event", "target"].iter().enumerate() {
            if self.clustered[slot] > 0 {
                notes.push(format!(
                    "cluster rules grouped the {name} value of {} row(s)",
                    self.clustered[slot]
                ));
            }
        }
        if nodes_omitted > 0 || edges_omitted > 0 {
            notes.push(format!(
                "thresholds omitted {nodes_omitted} node(s) and {edges_omitted} edge(s)"
            ));
        }
        if self.hidden > 0 {
            notes.push(format!(
                "{} row(s) hidden by an `invisible` colour",
                self.hidden
            ));
        }
        if self.rejected > 0 {
            notes.push(format!(
                "{} row(s) rejected (too few fields)",
                self.rejected
            ));
        }
    }
}

/// Degrees among drawn nodes, for `degree`/`fanout` in rules (each distinct edge once).
fn node_stats(n: usize, edges: &[(usize, usize, &EdgeData)]) -> Vec<Stats> {
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

/// Rows a kept node stands for in its role.
fn measure_rows(b: &GraphBuilder, k: &Kept) -> u64 {
    match &k.folded {
        Some(f) => f.rows,
        None => b.nodes[k.id as usize].roles[role_slot(k.role)]
            .as_ref()
            .map_or(0, |d| d.count),
    }
}

/// Replaces each set of kept nodes by one node standing for them all (in the first
/// member's place, so order stays first appearance) and merges their edges.
fn merge_folds(
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

/// 1180 -> "1,180".
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

/// Two decimals as printf rounds them (AfterGlow's sprintf("%.2f")).
fn rounded(s: f64) -> f64 {
    format!("{s:.2}").parse::<f64>().unwrap_or(s)
}

fn sorted_keys<S>(map: &HashMap<(u32, u32), EdgeData, S>) -> Vec<(u32, u32)> {
    let mut keys: Vec<(u32, u32)> = map.keys().copied().collect();
    keys.sort_unstable();
    keys
}
