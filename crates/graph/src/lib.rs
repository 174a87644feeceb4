//! secviz-graph builds link graphs from rows under AfterGlow-compatible rules, lays them out
//! and exports them.
//!
//! The flow: [`rules::RuleSet::parse`] reads a rule file; a [`build::GraphBuilder`] takes rows
//! one at a time (bounded by the graph, not the input) and [`build::GraphBuilder::finish`]
//! applies thresholds, top-k folding and the rules to give a [`model::Graph`];
//! [`layout::layout`] places it; [`export`] writes DOT, GDF, GEXF, GraphML or JSON.
//!
//! Not here: where the rows come from (secviz-views and the CLI feed it from the lake or a
//! parse) and drawing (secviz-render). It depends on no other secviz crate.

pub mod build;
pub mod color;
pub mod export;
pub mod layout;
pub mod model;
pub mod numbers;
pub mod rules;

pub use build::{BuildOptions, GraphBuilder, SplitMode};
pub use model::{Edge, Graph, Node};
