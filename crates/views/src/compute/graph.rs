//! The view's link graph: rows streamed from the lake into secviz-graph's builder (rules,
//! thresholds, top-k folding), laid out with the spec's seed, and written as the viewer's
//! graph JSON (docs/graph-json.md) with positions. Also which nodes a selection touches, so
//! the viewer can highlight them without receiving the records.

use std::collections::HashMap;

use futures::TryStreamExt;
use secviz_graph::layout::{LayoutOptions, layout};
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, Graph, GraphBuilder};
use secviz_parse::schema::event_schema;

use super::strings;
use crate::error::ViewError;
use crate::field::Field;
use crate::selection::Selection;
use crate::source::Source;
use crate::spec::{GraphSpec, MAX_GRAPH_EDGES, MAX_GRAPH_NODES};
use crate::sql::Sql;

/// Most distinct values a selection's highlight looks up per node field.
const MAX_HIGHLIGHT: usize = 200_000;

/// A built, laid-out graph and the index to find its nodes by value.
pub struct GraphData {
    pub graph: Graph,
    pub positions: Vec<[f64; 2]>,
    /// The viewer's JSON (positions included).
    pub json: String,
    index: HashMap<String, u32>,
}

impl GraphData {
    /// Indices of the nodes named by `values`.
    pub fn nodes_named<'a>(&self, values: impl Iterator<Item = &'a str>) -> Vec<u32> {
        let mut out: Vec<u32> = values.filter_map(|v| self.index.get(v).copied()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The node fields of a graph spec: source, event (if any), target.
pub fn node_fields(g: &GraphSpec) -> Vec<Field> {
    [Some(g.source), g.event, Some(g.target)]
        .into_iter()
        .flatten()
        .collect()
}

/// Words that name a role in the rule language (`source.color = ...`), never a column:
/// the schema's provenance column `source` must not be read because a rule says `source`.
const ROLE_WORDS: &[&str] = &["source", "event", "target", "edge", "node", "sourcetarget"];

/// Schema columns the rules mention by name, so rules like `color = protocol == "udp"`
/// see them (a word match: a column named in a comment is merely read too).
fn rule_columns(rules: &str, nodes: &[Field]) -> Vec<&'static str> {
    let words: std::collections::HashSet<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !ROLE_WORDS.contains(w))
        .collect();
    event_schema()
        .fields()
        .iter()
        .filter_map(|f| Field::parse(f.name()).ok())
        .filter(|f| words.contains(f.column()) && !nodes.contains(f))
        .map(|f| f.column())
        .collect()
}

/// Whether the job laying out a graph must stop (always `false` outside jobs).
fn out_of_budget() -> bool {
    secviz_sandbox::budget::check().is_err()
}

/// Builds and lays out the graph of `g` over the source.
pub async fn build(src: &Source, g: &GraphSpec) -> Result<GraphData, ViewError> {
    let nodes = node_fields(g);
    let extra = rule_columns(&g.rules, &nodes);
    let mut names: Vec<String> = nodes.iter().map(|f| f.to_string()).collect();
    names.extend(extra.iter().map(|c| c.to_string()));
    let two_node = g.event.is_none();
    let rules = RuleSet::parse(&g.rules, &Columns::new(names.clone(), two_node))
        .map_err(|e| ViewError::BadRequest(format!("rules: {e}")))?;
    let opts = BuildOptions {
        two_node,
        max_edges: Some(MAX_GRAPH_EDGES),
        ..BuildOptions::default()
    };
    let mut builder = GraphBuilder::new(rules, opts);
    let mut select: Vec<String> = nodes
        .iter()
        .map(|f| format!("CAST({} AS VARCHAR)", f.sql()))
        .collect();
    select.extend(extra.iter().map(|c| format!("CAST(\"{c}\" AS VARCHAR)")));
    // Distinct output names whatever the fields (the same column may be a node and sort key).
    let select: Vec<String> = select
        .into_iter()
        .enumerate()
        .map(|(i, e)| format!("{e} AS c{i}"))
        .collect();
    let not_null: Vec<String> = nodes
        .iter()
        .map(|f| format!("{} IS NOT NULL", f.sql()))
        .collect();
    let q = Sql::new(format!(
        "SELECT {} FROM events WHERE {} ORDER BY \"time\", \"source\", \"line\"",
        select.join(", "),
        not_null.join(" AND ")
    ));
    let mut stream = src.stream(&q).await?;
    let mut row: Vec<String> = Vec::with_capacity(names.len());
    while let Some(batch) = stream.try_next().await? {
        let cols: Vec<Vec<Option<String>>> = batch
            .columns()
            .iter()
            .map(strings)
            .collect::<Result<_, _>>()?;
        for r in 0..batch.num_rows() {
            row.clear();
            row.extend(cols.iter().map(|c| c[r].clone().unwrap_or_default()));
            // Rows always carry every column here, so the builder cannot reject them.
            let _ = builder.push(&row);
        }
        if builder.node_count() > MAX_GRAPH_NODES * 4 {
            return Err(ViewError::BadRequest(format!(
                "the graph has more than {} nodes: add a filter or a top-k rule (top.source = 1000)",
                MAX_GRAPH_NODES
            )));
        }
    }
    let seed = g.seed;
    tokio::task::spawn_blocking(move || {
        let graph = builder.finish();
        if graph.nodes.len() > MAX_GRAPH_NODES {
            return Err(ViewError::BadRequest(format!("the graph has {} nodes, more than {MAX_GRAPH_NODES}: add a filter or a top-k rule (top.source = 1000)", graph.nodes.len())));
        }
        let positions = layout(
            &graph,
            &LayoutOptions {
                seed,
                stop: Some(out_of_budget),
                ..LayoutOptions::default()
            },
        );
        // A layout cut short by the budget is not cached as if it were whole.
        secviz_sandbox::budget::check().map_err(|e| ViewError::from(secviz_lake::query::SandboxFailure::Exceeded(e)))?;
        let json = secviz_graph::export::to_json(&graph, Some(&positions));
        let index = graph.nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i as u32)).collect();
        Ok(GraphData { graph, positions, json, index })
    })
    .await
    .map_err(|e| ViewError::Internal(format!("graph layout: {e}")))?
}

/// Indices of the nodes whose values occur in the selected records, and whether the
/// lookup was cut at [`MAX_HIGHLIGHT`] values per field.
pub async fn selected_nodes(
    src: &Source,
    g: &GraphSpec,
    data: &GraphData,
    sel: &Selection,
) -> Result<(Vec<u32>, bool), ViewError> {
    let mut values: Vec<String> = Vec::new();
    let mut truncated = false;
    for f in node_fields(g) {
        let e = f.sql();
        let mut q = Sql::new(format!(
            "SELECT DISTINCT CAST({e} AS VARCHAR) FROM events WHERE {e} IS NOT NULL AND "
        ));
        q.append(&sel.predicate()?)
            .push(&format!(" LIMIT {}", MAX_HIGHLIGHT + 1));
        let batches = src.collect(&q).await?;
        let mut n = 0;
        for b in &batches {
            for v in strings(b.column(0))?.into_iter().flatten() {
                n += 1;
                if n <= MAX_HIGHLIGHT {
                    values.push(v);
                }
            }
        }
        truncated |= n > MAX_HIGHLIGHT;
    }
    Ok((
        data.nodes_named(values.iter().map(String::as_str)),
        truncated,
    ))
}

/// Why the graph of `g` over the source drew no node, and what to change: no event passes
/// the filter, a node field has no value in this data, the fields never occur together, or
/// the rules omitted or hid every node. A picture is never empty without saying so.
pub async fn why_empty(src: &Source, g: &GraphSpec, data: &GraphData) -> Result<String, ViewError> {
    let fields = node_fields(g);
    if data.graph.counts.rows > 0 {
        let notes = data.graph.notes.join("; ");
        return Ok(format!(
            "The rules left no node to draw ({notes}): lower the threshold or the rare share, or remove the rule that hides rows."
        ));
    }
    let (events, counts) = super::value_counts(src, &fields).await?;
    if events == 0 {
        return Ok(
            "No event passes the filter: loosen it or clear it to draw the graph.".to_string(),
        );
    }
    let empty: Vec<String> = fields
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n == 0)
        .map(|(f, _)| f.to_string())
        .collect();
    if !empty.is_empty() {
        return Ok(format!(
            "None of the {} events has a value for {}: choose node fields this data holds (its columns are listed with the form), or a preset.",
            events,
            empty.join(" or ")
        ));
    }
    let names: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    Ok(format!(
        "No event has {} at once: they come from different events. Choose fields that occur together, or a preset.",
        names.join(", ")
    ))
}
