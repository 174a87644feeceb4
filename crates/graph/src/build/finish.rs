//! Building a graph from rows: the finishing half. Applies AfterGlow's omit thresholds and
//! fan-out limits in AfterGlow's order (source→event edges first, then event→target edges
//! whose event survived), picks the role each node is drawn as (source, then event, then
//! target), folds nodes (`fold.rs`: top k, groups of rare values; `aggregate.rs`: a graph
//! over its edge limit), and resolves every style through the rules. Output order is first
//! appearance, so it is deterministic.

use std::collections::HashMap;

use super::fold::{FoldKind, Kept, node_stats};
use super::scope::{RowScope, Stats};
use super::style::{Styler, first_value};
use super::{EdgeData, GraphBuilder, role_slot};
use crate::color::{Color, Rgb};
use crate::model::{Counts, Edge, Graph, Node, Settings};
use crate::rules::{Prop, Role};

/// Reserved for limits on what `finish` accepts; building cannot fail today.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {}

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
        let aggregated = self
            .opts
            .max_edges
            .and_then(|max| self.aggregate(&mut kept, &mut edges, &mut notes, max));
        let mut graph = self.style(kept, edges, notes, omitted_edges, nodes_omitted);
        graph.counts.aggregated_from_edges = aggregated;
        graph
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
                aggregated_from_edges: None,
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
            let (color, size, label, weight) = match &d.last {
                // Rules style edges: they see the edge's last row.
                Some(row) => {
                    let st = Stats {
                        count: d.count as f64,
                        ..Stats::default()
                    };
                    let scope = RowScope::with_stats(row, &row[0], self, st);
                    let color = styler.edge_color(&self.rules, &scope);
                    let size = first_value(&self.rules, Prop::Size, Role::Edge, &scope)
                        .map(|v| v.as_num());
                    let label = first_value(&self.rules, Prop::Label, Role::Edge, &scope)
                        .map(|v| v.as_text().into_owned());
                    let weight = if has_weight && !self.sum_edges {
                        first_value(&self.rules, Prop::Weight, Role::Edge, &scope)
                            .map_or(w, |v| v.as_num())
                    } else {
                        w
                    };
                    (color, size, label, weight)
                }
                None => (None, None, None, w),
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

    pub(super) fn size_value(
        &self,
        role: Role,
        data: &super::RoleData,
        scope: &RowScope<'_>,
    ) -> f64 {
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

/// Two decimals as printf rounds them (AfterGlow's sprintf("%.2f")).
fn rounded(s: f64) -> f64 {
    format!("{s:.2}").parse::<f64>().unwrap_or(s)
}

fn sorted_keys<S>(map: &HashMap<(u32, u32), EdgeData, S>) -> Vec<(u32, u32)> {
    let mut keys: Vec<(u32, u32)> = map.keys().copied().collect();
    keys.sort_unstable();
    keys
}
