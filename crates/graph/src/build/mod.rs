//! Building a graph from rows: the streaming half.
//!
//! [`GraphBuilder::push`] takes one row at a time and keeps only per-node and per-edge
//! aggregates (counts, the node's last row, summed sizes and weights), so memory follows the
//! graph, not the input. [`GraphBuilder::finish`] (in `finish.rs`) applies AfterGlow's
//! thresholds and fan-out limits, top-k folding and the style rules.
//!
//! AfterGlow semantics kept on purpose: a node's properties come from the last row it
//! appeared in (AfterGlow overwrites them line by line); clustering rules rewrite values
//! before nodes are named; a row any of whose colours is `invisible` is dropped whole.

mod aggregate;
mod finish;
mod fold;
mod scope;
mod style;

use std::borrow::Cow;
use std::collections::HashMap;

use foldhash::fast::RandomState;
use std::sync::Arc;

use crate::rules::{Prop, Role, RuleSet, eval, truthy};

pub use finish::FinishError;
use scope::RowScope;

/// How event nodes are split (AfterGlow `-p`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SplitMode {
    /// One node per event value.
    #[default]
    Shared,
    /// One event node per source and event (`-p 1`).
    PerSource,
    /// One per event and target (`-p 2`).
    PerTarget,
    /// One per source, event and target (`-p 3`).
    PerEdge,
}

impl SplitMode {
    /// From AfterGlow's `-p` number.
    pub fn from_flag(n: u8) -> Option<SplitMode> {
        Some(match n {
            0 => SplitMode::Shared,
            1 => SplitMode::PerSource,
            2 => SplitMode::PerTarget,
            3 => SplitMode::PerEdge,
            _ => return None,
        })
    }
}

/// AfterGlow's command-line options that shape the graph.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// `-t`: source,target rows (also chosen when the first row has two fields).
    pub two_node: bool,
    /// `-p`.
    pub split: SplitMode,
    /// `-s`: a value seen as source and as target gives two nodes.
    pub split_source_target: bool,
    /// `-o`: omit nodes seen this many times or fewer.
    pub omit: u64,
    /// `-f`: omit sources with this fan-out or less.
    pub source_fanout: u64,
    /// `-g`: omit events with this fan-out or less.
    pub event_fanout: u64,
    /// `-n`: no labels.
    pub no_labels: bool,
    /// `-d`: append the count to labels.
    pub count_labels: bool,
    /// `-m`: largest node size in inches (the rule file's `maxnodesize` wins).
    pub max_node_size: f64,
    /// `-e`: edge length hint.
    pub edge_len: f64,
    /// Above this many distinct edges (after thresholds and rules), the graph is aggregated
    /// automatically until it reads (`aggregate.rs`); `None` never aggregates, as AfterGlow.
    pub max_edges: Option<u64>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            two_node: false,
            split: SplitMode::Shared,
            split_source_target: false,
            omit: 0,
            source_fanout: 0,
            event_fanout: 0,
            no_labels: false,
            count_labels: false,
            max_node_size: 0.2,
            edge_len: 1.5,
            max_edges: None,
        }
    }
}

/// A row after clustering, shared by every node and edge that keeps it as its last row.
pub(crate) type Row = Arc<[Box<str>]>;

/// Per node, per role aggregates.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoleData {
    pub count: u64,
    pub last: Option<Row>,
    /// The node's value in this role (the field, without `S:`/`T:` or split prefixes).
    pub value: Box<str>,
    /// Summed size (`sum.*`); in AfterGlow rule files, the node's size as AfterGlow
    /// keeps it: the sum over its rows with `sum.*`, else its last row's.
    pub size_sum: f64,
    /// AfterGlow remembers the size a conditional rule gave a node and gives it again on
    /// every later row of that node, whatever the conditions say then.
    pub cond_size: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct NodeData {
    pub name: Box<str>,
    /// Source, event, target.
    pub roles: [Option<RoleData>; 3],
}

#[derive(Clone, Debug)]
pub(crate) struct EdgeData {
    pub count: u64,
    pub weight_sum: f64,
    /// The edge's last row, kept only when rules style edges: otherwise each of ten
    /// million distinct edges would pin a row nothing reads (a gigabyte).
    pub last: Option<Row>,
}

pub(crate) fn role_slot(r: Role) -> usize {
    match r {
        Role::Source | Role::SourceTarget => 0,
        Role::Event => 1,
        Role::Target | Role::Edge => 2,
    }
}

/// Streams rows into node and edge aggregates.
pub struct GraphBuilder {
    pub(crate) rules: RuleSet,
    pub(crate) opts: BuildOptions,
    pub(crate) ids: HashMap<Box<str>, u32, RandomState>,
    pub(crate) nodes: Vec<NodeData>,
    /// Source→event edges (source→target in two-node mode).
    pub(crate) first: HashMap<(u32, u32), EdgeData, RandomState>,
    /// Event→target edges.
    pub(crate) second: HashMap<(u32, u32), EdgeData, RandomState>,
    pub(crate) rows: u64,
    pub(crate) rejected: u64,
    pub(crate) hidden: u64,
    /// Rows whose value a cluster rule rewrote, per role.
    pub(crate) clustered: [u64; 3],
    hide: bool,
    pub(crate) sum_edges: bool,
    /// Whether any rule styles edges (so edges keep their last row).
    edge_rows: bool,
    mode_fixed: bool,
    /// AfterGlow rule files: the largest size any node of each role had after any row
    /// (AfterGlow scales by it, and by at least 1).
    pub(crate) size_max_seen: [f64; 3],
}

impl GraphBuilder {
    pub fn new(rules: RuleSet, opts: BuildOptions) -> Self {
        let hide = rules.may_hide();
        let sum_edges = rules.rules_for(Prop::Weight, Role::Edge).any(|r| {
            matches!(
                r.value,
                crate::rules::Expr::Call(crate::rules::Func::Sum, _)
            )
        });
        let edge_rows = [Prop::Color, Prop::Size, Prop::Label, Prop::Weight]
            .iter()
            .any(|p| rules.has(*p, Role::Edge));
        GraphBuilder {
            edge_rows,
            mode_fixed: opts.two_node,
            rules,
            opts,
            ids: HashMap::default(),
            nodes: Vec::new(),
            first: HashMap::default(),
            second: HashMap::default(),
            rows: 0,
            rejected: 0,
            hidden: 0,
            clustered: [0; 3],
            hide,
            sum_edges,
            size_max_seen: [1.0; 3],
        }
    }

    /// Whether the builder is in two-node mode (set by `-t` or by the first row).
    pub fn two_node(&self) -> bool {
        self.opts.two_node
    }

    /// Rows rejected so far.
    pub fn rejected_count(&self) -> u64 {
        self.rejected
    }

    /// Nodes so far (for progress reports).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Adds one row. Returns `Err` with a reason when the row has too few fields; the
    /// caller reports it with its line number (the row is counted as rejected).
    pub fn push<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), String> {
        self.rows += 1;
        if !self.mode_fixed {
            // AfterGlow: a first row of two columns means two-node mode.
            self.mode_fixed = true;
            if fields.len() == 2 {
                self.opts.two_node = true;
            }
        }
        let need = if self.opts.two_node { 2 } else { 3 };
        if fields.len() < need {
            self.rejected += 1;
            return Err(format!(
                "{} field(s), {need} needed ({})",
                fields.len(),
                if self.opts.two_node {
                    "source,target"
                } else {
                    "source,event,target"
                }
            ));
        }
        let mut row: Vec<Box<str>> = fields.iter().map(|f| Box::from(f.as_ref())).collect();
        self.cluster(&mut row);
        let row: Row = Arc::from(row);
        if self.hide && self.hidden_by_color(&row) {
            self.hidden += 1;
            return Ok(());
        }
        let two = self.opts.two_node;
        let (s, e, t) = if two {
            (&*row[0], "", &*row[1])
        } else {
            (&*row[0], &*row[1], &*row[2])
        };
        let names = node_names(s, e, t, &self.opts);
        let src = self.touch(&names.0, Role::Source, s, &row);
        let tgt = self.touch(&names.2, Role::Target, t, &row);
        let weight = if self.sum_edges {
            self.edge_weight(&row)
        } else {
            0.0
        };
        let last = self.edge_rows.then_some(&row);
        if two {
            bump_edge(&mut self.first, (src, tgt), last, weight);
        } else {
            let ev = self.touch(&names.1, Role::Event, e, &row);
            bump_edge(&mut self.first, (src, ev), last, weight);
            bump_edge(&mut self.second, (ev, tgt), last, weight);
        }
        Ok(())
    }

    fn touch(&mut self, name: &str, role: Role, value: &str, row: &Row) -> u32 {
        let id = match self.ids.get(name) {
            Some(id) => *id,
            None => {
                let id = self.nodes.len() as u32;
                self.ids.insert(Box::from(name), id);
                self.nodes.push(NodeData {
                    name: Box::from(name),
                    roles: Default::default(),
                });
                id
            }
        };
        let slot = role_slot(role);
        let sized = self.rules.has(Prop::Size, role);
        let sum = self.rules.sum.contains(&role) && sized;
        let add = if sum && !self.rules.afterglow {
            let scope = RowScope::new(row, value, self.opts.two_node, role);
            style::first_value(&self.rules, Prop::Size, role, &scope).map_or(0.0, |v| v.as_num())
        } else {
            0.0
        };
        let data = self.nodes[id as usize].roles[slot].get_or_insert_with(|| RoleData {
            value: Box::from(value),
            ..RoleData::default()
        });
        data.count += 1;
        data.last = Some(row.clone());
        data.size_sum += add;
        if sized && self.rules.afterglow {
            self.afterglow_size(id, role, value, row, sum);
        }
        id
    }

    /// Sizes a node as AfterGlow does, on each of its rows: the first size rule whose value
    /// is true (not 0), seeing the counts so far (`$sourceCount{$sourceName}` is the
    /// running count); a conditional rule's size is remembered for the node; with `sum.*`
    /// the sizes add up, else the last one stands. The largest size seen scales them all.
    fn afterglow_size(&mut self, id: u32, role: Role, value: &str, row: &Row, sum: bool) {
        let slot = role_slot(role);
        let (count, remembered) = {
            let d = self.nodes[id as usize].roles[slot]
                .as_ref()
                .expect("the node was just touched");
            (d.count, d.cond_size)
        };
        let (size, remember) = match remembered {
            Some(s) => (s, None),
            None => {
                let stats = scope::Stats {
                    count: count as f64,
                    ..scope::Stats::default()
                };
                let scope = RowScope::with_stats(row, value, self, stats);
                match matching(&self.rules, Prop::Size, role, &scope) {
                    Some((rule, v)) => {
                        let n = v.as_num();
                        (n, rule.cond.is_some().then_some(n))
                    }
                    None => (0.0, None),
                }
            }
        };
        let d = self.nodes[id as usize].roles[slot]
            .as_mut()
            .expect("the node was just touched");
        if remember.is_some() {
            d.cond_size = remember;
        }
        d.size_sum = if sum { d.size_sum + size } else { size };
        if d.size_sum > self.size_max_seen[slot] {
            self.size_max_seen[slot] = d.size_sum;
        }
    }

    fn edge_weight(&self, row: &Row) -> f64 {
        let scope = RowScope::new(row, &row[0], self.opts.two_node, Role::Edge);
        style::first_value(&self.rules, Prop::Weight, Role::Edge, &scope)
            .map_or(0.0, |v| v.as_num())
    }

    /// Applies cluster rules to the node columns, in place.
    fn cluster(&mut self, row: &mut [Box<str>]) {
        let two = self.opts.two_node;
        let cols: &[(Role, usize)] = if two {
            &[(Role::Source, 0), (Role::Target, 1)]
        } else {
            &[(Role::Source, 0), (Role::Event, 1), (Role::Target, 2)]
        };
        if !self.rules.rules.iter().any(|r| r.prop == Prop::Cluster) {
            return;
        }
        // Conditions see the row as read (AfterGlow evaluates them before rewriting).
        let original: Row = Arc::from(row.to_vec());
        for &(role, i) in cols {
            let scope = RowScope::new(&original, &original[i], two, role);
            if let Some(v) = style::first_value(&self.rules, Prop::Cluster, role, &scope) {
                let text = v.as_text();
                if *text != *row[i] {
                    row[i] = Box::from(&*text);
                    self.clustered[role_slot(role)] += 1;
                }
            }
        }
    }

    fn hidden_by_color(&self, row: &Row) -> bool {
        let two = self.opts.two_node;
        let checks: &[(Role, usize)] = if two {
            &[
                (Role::SourceTarget, 0),
                (Role::Source, 0),
                (Role::Target, 1),
            ]
        } else {
            &[
                (Role::SourceTarget, 0),
                (Role::Source, 0),
                (Role::Event, 1),
                (Role::Target, 2),
            ]
        };
        checks.iter().any(|&(role, i)| {
            let scope = RowScope::new(row, &row[i], two, role);
            style::first_value(&self.rules, Prop::Color, role, &scope)
                .is_some_and(|v| v.as_text().eq_ignore_ascii_case("invisible"))
        })
    }
}

fn bump_edge(
    map: &mut HashMap<(u32, u32), EdgeData, RandomState>,
    key: (u32, u32),
    row: Option<&Row>,
    w: f64,
) {
    map.entry(key)
        .and_modify(|e| {
            e.count += 1;
            e.weight_sum += w;
            if let Some(row) = row {
                e.last = Some(row.clone());
            }
        })
        .or_insert_with(|| EdgeData {
            count: 1,
            weight_sum: w,
            last: row.cloned(),
        });
}

/// AfterGlow's node names for a row: `(source, event, target)`. Borrowed unless a split
/// option prefixes them: allocating three names per row was a fifth of reading time.
pub(crate) fn node_names<'a>(
    s: &'a str,
    e: &'a str,
    t: &'a str,
    o: &BuildOptions,
) -> (Cow<'a, str>, Cow<'a, str>, Cow<'a, str>) {
    let (sn, tn) = if o.split_source_target {
        (Cow::Owned(format!("S:{s}")), Cow::Owned(format!("T:{t}")))
    } else {
        (Cow::Borrowed(s), Cow::Borrowed(t))
    };
    let en = match o.split {
        SplitMode::Shared => Cow::Borrowed(e),
        SplitMode::PerSource => Cow::Owned(format!("{s} {e}")),
        SplitMode::PerTarget => Cow::Owned(format!("{e} {t}")),
        SplitMode::PerEdge => Cow::Owned(format!("{s} {e} {t}")),
    };
    (sn, en, tn)
}

/// Evaluates the first matching rule's value: conditions true and value true, as AfterGlow's
/// `if ($x = eval(...))` loop does.
pub(crate) fn matching<'r>(
    rules: &'r RuleSet,
    prop: Prop,
    role: Role,
    scope: &'r dyn crate::rules::Scope,
) -> Option<(&'r crate::rules::Rule, crate::rules::Value<'r>)> {
    for rule in rules.rules_for(prop, role) {
        if let Some(c) = &rule.cond
            && !truthy(&eval(c, scope))
        {
            continue;
        }
        let v = eval(&rule.value, scope);
        if truthy(&v)
            || (prop == Prop::Label
                && rule.cond.is_none()
                && v == crate::rules::Value::Str("".into()))
        {
            return Some((rule, v));
        }
    }
    None
}
