//! [`ViewSpec`]: the recipe of a view, saved with a post and given to `secviz chart` /
//! `secviz view`: the dataset, an optional SQL filter, the kind of view, its fields, the
//! graph's node fields and rules, the layout seed and the top k. The same recipe over the
//! same data gives the same picture.

use serde::{Deserialize, Serialize};

use crate::error::ViewError;
use crate::field::{Field, FieldKind};

/// Largest top k a view may ask for.
pub const MAX_TOP_K: usize = 100;
/// Longest filter expression and rules text accepted.
pub const MAX_FILTER_LEN: usize = 4000;
pub const MAX_RULES_LEN: usize = 64 * 1024;
/// Largest graph a view draws (nodes beyond are folded by the rules' top-k or omitted).
pub const MAX_GRAPH_NODES: usize = 60_000;
/// Above this many distinct edges a view's graph is aggregated automatically (rare values
/// grouped by network, service class or domain; the notes say how) instead of being drawn
/// whole: the viewer stays fluid, and the picture still reads.
pub const MAX_GRAPH_EDGES: u64 = 150_000;

/// What a view shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    Graph,
    Bar,
    Timeline,
    Histogram,
    Parallel,
    Treemap,
    Heatmap,
    Scatter,
    /// The graph, a bar chart per field, the time line and parallel coordinates, linked.
    #[default]
    Linked,
}

impl ViewKind {
    pub fn parse(s: &str) -> Result<ViewKind, ViewError> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| ViewError::BadRequest(format!("unknown view kind {s:?}: use graph, bar, timeline, histogram, parallel, treemap, heatmap, scatter or linked")))
    }
}

/// The link graph of a view: AfterGlow's source, optional event and target columns, rules
/// in the rule language (docs/rules.md) and the layout seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    pub source: Field,
    #[serde(default)]
    pub event: Option<Field>,
    pub target: Field,
    #[serde(default)]
    pub rules: String,
    #[serde(default = "one")]
    pub seed: u64,
}

fn one() -> u64 {
    1
}

fn default_top_k() -> usize {
    10
}

fn version() -> u32 {
    1
}

/// A view recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewSpec {
    #[serde(default = "version")]
    pub version: u32,
    /// The dataset the recipe was made for (the API takes the dataset from its URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default)]
    pub kind: ViewKind,
    /// A SQL boolean expression over the dataset's columns (`action = 'block'`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Fields of the bar charts and parallel axes; for treemap and heatmap the group and
    /// leaf (x and y), for scatter x and y, for histogram the measure binned.
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphSpec>,
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// What treemap and heatmap cells sum (default: count records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Field>,
    /// Stacks the time line and colours scatter points by this field's top values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl ViewSpec {
    /// The default linked view: source address, destination port and destination address
    /// as bars and axes, and the AfterGlow graph source → port → destination.
    pub fn linked_default() -> ViewSpec {
        let f = |n| Field::parse(n).expect("schema column");
        ViewSpec {
            version: 1,
            dataset: None,
            kind: ViewKind::Linked,
            filter: None,
            fields: vec![f("src_ip"), f("dst_port"), f("dst_ip")],
            graph: Some(GraphSpec {
                source: f("src_ip"),
                event: Some(f("dst_port")),
                target: f("dst_ip"),
                rules: String::new(),
                seed: 1,
            }),
            top_k: default_top_k(),
            size: None,
            series: None,
            title: None,
        }
    }

    /// Parses the `?spec=` JSON.
    pub fn from_json(text: &str) -> Result<ViewSpec, ViewError> {
        let spec: ViewSpec =
            serde_json::from_str(text).map_err(|e| ViewError::BadRequest(format!("view: {e}")))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks the limits and that the kind has the fields it needs.
    pub fn validate(&self) -> Result<(), ViewError> {
        let bad = |m: String| Err(ViewError::BadRequest(m));
        if self.version != 1 {
            return bad(format!("view version {} is not supported", self.version));
        }
        if self.top_k == 0 || self.top_k > MAX_TOP_K {
            return bad(format!("top_k must be between 1 and {MAX_TOP_K}"));
        }
        if self
            .filter
            .as_ref()
            .is_some_and(|f| f.len() > MAX_FILTER_LEN || f.contains(';'))
        {
            return bad(format!(
                "the filter must be one expression of at most {MAX_FILTER_LEN} characters"
            ));
        }
        if self.fields.len() > 6 {
            return bad("a view has at most 6 fields".into());
        }
        if let Some(g) = &self.graph {
            if g.rules.len() > MAX_RULES_LEN {
                return bad(format!("rules longer than {MAX_RULES_LEN} bytes"));
            }
            for f in [Some(g.source), g.event, Some(g.target)]
                .into_iter()
                .flatten()
            {
                if f.kind() == FieldKind::Time {
                    return bad("time cannot be a graph node".into());
                }
            }
        }
        if let Some(s) = self.size
            && s.kind() != FieldKind::Measure
        {
            return bad(format!("size must be an amount such as bytes, not {s}"));
        }
        let n = self.fields.len();
        let need = match self.kind {
            ViewKind::Graph if self.graph.is_none() => {
                Some("a graph view needs graph source and target fields")
            }
            ViewKind::Bar if n == 0 => Some("a bar chart needs a field"),
            ViewKind::Histogram if n != 1 || self.fields[0].kind() != FieldKind::Measure => {
                Some("a histogram needs one amount field (bytes, packets, duration)")
            }
            ViewKind::Parallel if !(2..=6).contains(&n) => {
                Some("parallel coordinates need 2 to 6 fields")
            }
            ViewKind::Treemap | ViewKind::Heatmap | ViewKind::Scatter if n != 2 => {
                Some("treemaps, heatmaps and scatter plots need two fields")
            }
            ViewKind::Scatter
                if self.fields.iter().any(|f| {
                    !matches!(
                        f.kind(),
                        FieldKind::Measure | FieldKind::Code | FieldKind::Time
                    )
                }) =>
            {
                Some("a scatter plot needs numeric or time fields")
            }
            _ => None,
        };
        match need {
            Some(m) => bad(m.into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_and_validate() {
        let spec = ViewSpec::linked_default();
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(ViewSpec::from_json(&json).unwrap(), spec);
        assert!(ViewSpec::from_json(r#"{"kind":"parallel","fields":["src_ip"]}"#).is_err());
        assert!(
            ViewSpec::from_json(r#"{"kind":"bar","fields":["dst_port"],"top_k":1000}"#).is_err()
        );
        assert!(
            ViewSpec::from_json(
                r#"{"kind":"bar","fields":["dst_port"],"filter":"1=1; DROP TABLE x"}"#
            )
            .is_err()
        );
        assert!(ViewSpec::from_json(r#"{"kind":"bar","fields":["dst_port"],"evil":1}"#).is_err());
        assert!(ViewSpec::from_json(r#"{"kind":"histogram","fields":["bytes"]}"#).is_ok());
    }
}
