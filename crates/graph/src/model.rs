//! The built graph every exporter and the renderer read: nodes with their resolved style,
//! edges with their multiplicity, the legend the rules produced and the notes that say what
//! was folded, clustered or hidden.

use serde::Serialize;

use crate::color::Color;
use crate::rules::Role;

/// A node as it will be drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Unique name (AfterGlow's node name: the value, `S:`/`T:`-prefixed with `-s`, or
    /// `source event` with `-p 1`).
    pub id: String,
    /// Text shown next to the node (may be empty; with `-d` ends in ` : count`).
    pub label: String,
    /// The role it is drawn as (a node that is both source and target is drawn as source).
    pub role: Role,
    /// Also seen as a target while drawn as a source.
    pub source_target: bool,
    pub color: Color,
    /// Graphviz shape name.
    pub shape: String,
    /// Width and height in inches when size rules apply (else the default size).
    pub size: Option<f64>,
    /// Lines the node appeared in, in its role.
    pub count: u64,
    /// How many original nodes were folded into this one (top-k "other" nodes), else 0.
    pub folded: u64,
    /// Index of the legend entry for its colour.
    pub legend: usize,
}

/// A directed edge between two node indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// Lines that produced this edge.
    pub count: u64,
    /// The multiplicity to draw: `count`, or the sum of a field (`edge.weight = sum(bytes)`).
    pub weight: f64,
    pub color: Option<Color>,
    /// Pen width from `size.edge`.
    pub size: Option<f64>,
    pub label: Option<String>,
}

/// One legend line: a colour, the role it applies to and what it means.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LegendEntry {
    pub role: &'static str,
    /// `#rrggbb`.
    pub color: String,
    /// The rule condition (`$fields[0] =~ /^10\./`), the value for computed colours, or
    /// "otherwise" for a catch-all.
    pub label: String,
    /// Nodes drawn with it.
    pub nodes: u64,
    /// Whether its nodes stand for many (groups of rare values, top-k "other" nodes).
    pub grouped: bool,
}

/// Graph-wide settings that exporters need.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Default and largest node size in inches (AfterGlow `-m` / `maxnodesize`).
    pub max_node_size: f64,
    /// Whether size rules set node sizes (DOT `fixedsize=true`).
    pub sized: bool,
    /// Edge length hint (`-e`).
    pub edge_len: f64,
    pub two_node: bool,
}

/// What the builder read and dropped, so nothing disappears silently.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Rows handed to the builder.
    pub rows: u64,
    /// Rows with too few fields for the mode (rejected, with their line in the reader).
    pub rejected: u64,
    /// Rows hidden by an `invisible` colour.
    pub hidden: u64,
    /// Nodes and edges omitted by thresholds and fan-out limits.
    pub nodes_omitted: u64,
    pub edges_omitted: u64,
    /// Distinct edges before automatic aggregation, when the graph had more than the
    /// builder's `max_edges` and was aggregated (the notes say how).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregated_from_edges: Option<u64>,
}

/// Nodes that may be hubs, at most (drawn with bold labels that are never left out).
pub const HUBS_MAX: usize = 8;

/// A laid-out or not yet laid-out graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub legend: Vec<LegendEntry>,
    /// Human-readable notes on folding, clustering, thresholds and hidden rows.
    pub notes: Vec<String>,
    pub settings: Settings,
    pub counts: Counts,
}

impl Graph {
    /// Degree (in + out, counting each distinct edge once) of every node.
    pub fn degrees(&self) -> Vec<u32> {
        let mut d = vec![0u32; self.nodes.len()];
        for e in &self.edges {
            d[e.from] += 1;
            d[e.to] += 1;
        }
        d
    }

    /// The hubs of a graph: the nodes that join many others, up to [`HUBS_MAX`] of them, each
    /// with at least three times the median degree (and at least 3). Ties go to the node
    /// with more rows. Groups are never hubs: they stand for many small nodes. In a graph
    /// aggregated automatically, the hubs are the values with the most rows.
    pub fn hubs(&self) -> Vec<bool> {
        let n = self.nodes.len();
        let mut out = vec![false; n];
        let mut order: Vec<usize> = (0..n).filter(|i| self.nodes[*i].folded == 0).collect();
        if self.counts.aggregated_from_edges.is_some() {
            // An aggregated graph's values left standing are the ones that carry the rows
            // (the rest is groups): they are what the picture is about, so the busiest of
            // them are its hubs, whatever their degree among the groups.
            order.sort_by(|a, b| {
                self.nodes[*b]
                    .count
                    .cmp(&self.nodes[*a].count)
                    .then(a.cmp(b))
            });
            for &i in order.iter().take(HUBS_MAX) {
                out[i] = true;
            }
            return out;
        }
        if order.len() < 4 {
            return out;
        }
        let degree = self.degrees();
        let mut sorted: Vec<u32> = order.iter().map(|&i| degree[i]).collect();
        sorted.sort_unstable();
        let floor = (sorted[sorted.len() / 2] * 3).max(3);
        order.sort_by(|a, b| {
            (degree[*b], self.nodes[*b].count)
                .cmp(&(degree[*a], self.nodes[*a].count))
                .then(a.cmp(b))
        });
        for &i in order.iter().take(HUBS_MAX) {
            if degree[i] >= floor {
                out[i] = true;
            }
        }
        out
    }

    /// Node radius in the layout's units (points): from the node size in inches, or the
    /// default size.
    pub fn node_radius(&self, i: usize) -> f64 {
        let inches = self.nodes[i].size.unwrap_or(self.settings.max_node_size);
        (inches * 72.0 / 2.0).max(2.0)
    }
}
