//! The recipe of a data post: which dataset, how it was parsed, the view (a
//! [`secviz_views::ViewSpec`]: kind, filter, fields, graph columns, rules, layout seed) and,
//! optionally, a built-in analysis. The same recipe over the same data gives the same
//! picture, in the portal and with `secviz chart` / `secviz analyze`.
//!
//! Members describe a view in a form ([`ViewForm`]); the form's choices for the link graph
//! (colour, size, clustering, thresholds, folding) become rules of the rule language
//! (docs/rules.md), followed by any rules the member typed.

use std::collections::BTreeMap;

use secviz_views::{Field, GraphSpec, ViewKind, ViewSpec, readable};
use serde::{Deserialize, Serialize};

/// How the data was parsed, for the record and for reproducing the dataset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParserRecipe {
    /// The format the member asked for (`None`: detected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_format: Option<String>,
    /// The format parsed (known once the ingest ran).
    #[serde(default)]
    pub format: String,
    /// Year for formats that print none (`--year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Microseconds since the epoch the year and day rules count from (the upload time).
    #[serde(default)]
    pub reference_time_us: i64,
    pub anonymized: bool,
    /// The inside networks the member gave, as the dataset stores addresses (mapped with the
    /// site key when anonymized); `None`: the private ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<secviz_lake::inside::InsideNetworks>,
    /// The site key's fingerprint when anonymized (the key itself never leaves the site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    /// SHA-256 of the uploaded bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default)]
    pub rows: u64,
}

/// A built-in analysis of the lake (`secviz analyze NAME --param k=v`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisRecipe {
    pub name: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// A post's recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub version: u32,
    /// The dataset (its id in the portal, its name in the lake).
    pub dataset: String,
    pub parser: ParserRecipe,
    pub view: ViewSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisRecipe>,
    /// The form the view was made with, so the draft shows the same choices again.
    #[serde(default)]
    pub form: ViewForm,
}

impl Recipe {
    pub fn from_json(s: &str) -> Option<Recipe> {
        serde_json::from_str(s).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a recipe serializes")
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a recipe serializes")
    }
}

/// The view form on a draft page, as typed (strings, kept whole when invalid).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewForm {
    /// `graph`, `linked`, `bar`, ..., or `analysis`.
    pub kind: String,
    /// Fields of bars and axes, comma-separated.
    pub fields: String,
    pub source: String,
    /// Empty for a two-node graph.
    pub event: String,
    pub target: String,
    /// `role`, `protocol`, `action`, `severity`.
    pub color: String,
    /// `none`, `degree`, `count`.
    pub size: String,
    /// `none`, `24`, `16`.
    pub cluster_source: String,
    pub cluster_target: String,
    /// `none`, `port_class`.
    pub cluster_event: String,
    /// Fold node values under this percentage of the rows into groups (ports by class,
    /// addresses by network): `1`, `2`, `5`, or `none`.
    pub group: String,
    /// Omit nodes seen this many times or fewer (empty: keep all).
    pub threshold: String,
    /// Keep this many sources by degree, fold the rest (empty: keep all).
    pub top_sources: String,
    /// Rules typed in the rule language, applied after the choices above.
    pub rules: String,
    /// A SQL boolean expression over the columns.
    pub filter: String,
    pub top_k: String,
    pub seed: String,
    pub title: String,
    /// The analysis for kind `analysis`.
    pub analysis: String,
    /// `limit=10 min=5`.
    pub params: String,
}

impl Default for ViewForm {
    fn default() -> Self {
        ViewForm {
            kind: "linked".into(),
            fields: "src_ip, dst_port, dst_ip".into(),
            source: "src_ip".into(),
            event: "dst_port".into(),
            target: "dst_ip".into(),
            color: "role".into(),
            size: "none".into(),
            cluster_source: "none".into(),
            cluster_target: "none".into(),
            cluster_event: "none".into(),
            group: "1".into(),
            threshold: String::new(),
            top_sources: String::new(),
            rules: String::new(),
            filter: String::new(),
            top_k: "10".into(),
            seed: "1".into(),
            title: String::new(),
            analysis: "top-talkers".into(),
            params: String::new(),
        }
    }
}

/// Kinds offered in the form, with their labels.
pub const KINDS: &[(&str, &str)] = &[
    (
        "linked",
        "Linked views: link graph, bar charts, time line, parallel coordinates",
    ),
    ("graph", "Link graph"),
    ("bar", "Bar chart of the top values"),
    ("timeline", "Time line"),
    ("histogram", "Histogram of an amount"),
    ("parallel", "Parallel coordinates"),
    ("treemap", "Treemap"),
    ("heatmap", "Heatmap"),
    ("scatter", "Scatter plot"),
    ("analysis", "A built-in analysis"),
];

/// Columns offered for graph nodes and chart fields.
pub const FIELD_CHOICES: &[&str] = &[
    "src_ip",
    "src_ip/24",
    "src_port",
    "dst_ip",
    "dst_ip/24",
    "dst_port",
    "protocol",
    "action",
    "direction",
    "interface",
    "rule",
    "dns_qname",
    "dns_qtype",
    "dns_rcode",
    "http_host",
    "http_method",
    "http_status",
    "http_uri",
    "user_agent",
    "user",
    "auth_result",
    "host",
    "app",
    "bytes",
    "packets",
    "duration",
    "event_class",
    "tcp_flags",
];

fn field(name: &str, what: &str, errors: &mut Vec<String>) -> Option<Field> {
    match Field::parse(name) {
        Ok(f) => Some(f),
        Err(e) => {
            errors.push(format!("{what}: {e}"));
            None
        }
    }
}

fn number(raw: &str, what: &str, min: u64, max: u64, errors: &mut Vec<String>) -> Option<u64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            errors.push(format!(
                "{what} must be a whole number from {min} to {max}."
            ));
            None
        }
    }
}

impl ViewForm {
    /// The rules the form's choices stand for, then the typed rules.
    pub fn rules(&self, errors: &mut Vec<String>) -> String {
        let mut r: Vec<String> = Vec::new();
        for (role, choice) in [
            ("source", &self.cluster_source),
            ("target", &self.cluster_target),
        ] {
            match choice.as_str() {
                "24" | "16" => r.push(format!("{role}.cluster = cidr(value, {choice})")),
                "" | "none" => {}
                other => errors.push(format!("Unknown clustering {other:?}.")),
            }
        }
        match self.cluster_event.as_str() {
            "port_class" => r.push("event.cluster = port_class(value)".into()),
            "" | "none" => {}
            other => errors.push(format!("Unknown clustering {other:?}.")),
        }
        match self.color.as_str() {
            "" | "role" => {}
            "protocol" => {
                r.push("edge.color = palette(protocol)".into());
                r.push("target.color = palette(protocol)".into());
            }
            "action" => r.push("edge.color = palette(action)".into()),
            "severity" => r.push("node.color = severity(count, 1000)".into()),
            other => errors.push(format!("Unknown colouring {other:?}.")),
        }
        match self.size.as_str() {
            "" | "none" => {}
            "degree" => r.push("node.size = degree".into()),
            "count" => r.push("node.size = count".into()),
            other => errors.push(format!("Unknown sizing {other:?}.")),
        }
        if let Some(n) = number(&self.threshold, "The threshold", 0, 1_000_000, errors) {
            r.push(format!("node.threshold = {n}"));
        }
        if let Some(n) = number(
            &self.top_sources,
            "The number of sources kept",
            1,
            100_000,
            errors,
        ) {
            r.push(format!("source.top = {n} by degree"));
        }
        let mut text = r.join("\n");
        let typed = self.rules.trim();
        if !typed.is_empty() {
            if !text.is_empty() {
                text.push_str("\n# typed rules\n");
            }
            text.push_str(typed);
        }
        text
    }

    /// The grouping rules of the form's "Group rare nodes" choice, unless the typed rules
    /// group nodes themselves.
    fn grouping(
        &self,
        source: Field,
        event: Option<Field>,
        target: Field,
        errors: &mut Vec<String>,
    ) -> String {
        let typed = self.rules.contains(".group") || self.rules.contains(".rare");
        match self.group.trim() {
            "" | "none" => String::new(),
            p @ ("1" | "2" | "5") if !typed => {
                readable::grouping_rules(source, event, target, &format!("{p}%"))
            }
            "1" | "2" | "5" => String::new(),
            other => {
                errors.push(format!("Unknown grouping {other:?}."));
                String::new()
            }
        }
    }

    /// The view the form describes, or every problem with it.
    pub fn to_spec(
        &self,
        dataset: &str,
    ) -> Result<(ViewSpec, Option<AnalysisRecipe>), Vec<String>> {
        let mut errors = Vec::new();
        if self.kind == "analysis" {
            let analysis = self.analysis_recipe(&mut errors);
            let spec = analysis.as_ref().map(|a| analysis_view(&a.name, dataset));
            return match (spec, errors.is_empty()) {
                (Some(s), true) => Ok((s, analysis)),
                _ => Err(errors),
            };
        }
        let kind = match ViewKind::parse(&self.kind) {
            Ok(k) => Some(k),
            Err(e) => {
                errors.push(e.to_string());
                None
            }
        };
        let fields: Vec<Field> = self
            .fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .filter_map(|f| field(f, "Field", &mut errors))
            .collect();
        let wants_graph = matches!(kind, Some(ViewKind::Graph | ViewKind::Linked));
        let graph = if wants_graph {
            let source = field(&self.source, "Graph source", &mut errors);
            let event = match self.event.trim() {
                "" | "none" => None,
                e => field(e, "Graph event", &mut errors),
            };
            let target = field(&self.target, "Graph target", &mut errors);
            let mut rules = self.rules(&mut errors);
            if let (Some(s), Some(t)) = (source, target) {
                let grouping = self.grouping(s, event, t, &mut errors);
                if !grouping.is_empty() {
                    rules = if rules.is_empty() {
                        grouping
                    } else {
                        format!("{grouping}\n{rules}")
                    };
                }
            }
            let seed = number(
                &self.seed,
                "The layout seed",
                0,
                u64::from(u32::MAX),
                &mut errors,
            )
            .unwrap_or(1);
            match (source, target) {
                (Some(source), Some(target)) => Some(GraphSpec {
                    source,
                    event,
                    target,
                    rules,
                    seed,
                }),
                _ => None,
            }
        } else {
            None
        };
        let top_k = number(
            &self.top_k,
            "Top k",
            1,
            secviz_views::spec::MAX_TOP_K as u64,
            &mut errors,
        )
        .unwrap_or(10) as usize;
        let filter = Some(self.filter.trim().to_string()).filter(|f| !f.is_empty());
        let title = Some(self.title.trim().to_string()).filter(|t| !t.is_empty());
        let Some(kind) = kind else {
            return Err(errors);
        };
        let spec = ViewSpec {
            version: 1,
            dataset: Some(dataset.to_string()),
            kind,
            filter,
            fields,
            graph,
            top_k,
            size: None,
            series: None,
            title,
        };
        if let Err(e) = spec.validate() {
            errors.push(e.to_string());
        }
        if errors.is_empty() {
            Ok((spec, None))
        } else {
            Err(errors)
        }
    }

    fn analysis_recipe(&self, errors: &mut Vec<String>) -> Option<AnalysisRecipe> {
        let Some(spec) = secviz_lake::analyze::spec(self.analysis.trim()) else {
            errors.push(format!("Unknown analysis {:?}.", self.analysis));
            return None;
        };
        let mut params = BTreeMap::new();
        for pair in self
            .params
            .split([' ', ',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match pair.split_once('=') {
                Some((k, v)) if spec.params.iter().any(|p| p.name == k.trim()) => {
                    params.insert(k.trim().to_string(), v.trim().to_string());
                }
                _ => errors.push(format!(
                    "Parameter {pair:?}: {} takes {}.",
                    spec.name,
                    spec.params
                        .iter()
                        .map(|p| format!("{}=…", p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        let pairs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Err(e) = secviz_lake::analyze::Params::parse(pairs.iter().map(String::as_str)) {
            errors.push(e.to_string());
        }
        Some(AnalysisRecipe {
            name: spec.name.to_string(),
            params,
        })
    }
}

/// The view shown beside an analysis's findings: the fields the analysis is about.
pub fn analysis_view(name: &str, dataset: &str) -> ViewSpec {
    let f = |n: &str| Field::parse(n).expect("schema column");
    let linked = |fields: &[&str],
                  graph: Option<(&str, Option<&str>, &str, &str)>,
                  filter: Option<&str>| ViewSpec {
        version: 1,
        dataset: Some(dataset.to_string()),
        kind: ViewKind::Linked,
        filter: filter.map(str::to_string),
        fields: fields.iter().map(|n| f(n)).collect(),
        graph: graph.map(|(s, e, t, rules)| {
            let (source, event, target) = (f(s), e.map(f), f(t));
            // Rare values grouped, so the entities the analysis found stand out.
            let grouping = readable::grouping_rules(source, event, target, readable::RARE);
            GraphSpec {
                source,
                event,
                target,
                rules: [grouping.as_str(), rules]
                    .iter()
                    .filter(|r| !r.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n"),
                seed: 1,
            }
        }),
        top_k: 10,
        size: None,
        series: None,
        title: None,
    };
    match name {
        "events-over-time" => ViewSpec {
            kind: ViewKind::Timeline,
            graph: None,
            fields: vec![],
            ..linked(&[], None, None)
        },
        "top-ports" => linked(
            &["dst_port", "protocol", "src_ip"],
            Some(("src_ip", None, "dst_port", "node.size = count")),
            None,
        ),
        "fan-out" => linked(
            &["src_ip", "dst_port", "dst_ip"],
            Some((
                "src_ip",
                Some("dst_port"),
                "dst_ip",
                "source.top = 50 by degree\nnode.size = degree",
            )),
            None,
        ),
        "dns-fixed-port" => linked(
            &["src_ip", "src_port", "dst_ip"],
            Some(("src_ip", Some("src_port"), "dst_ip", "node.size = count")),
            Some("dst_port = 53"),
        ),
        "dns" => linked(
            &["dns_qname", "dns_qtype", "src_ip"],
            Some(("src_ip", None, "dns_qname", "source.top = 50 by degree")),
            Some("dns_qname IS NOT NULL"),
        ),
        "fan-in" => linked(
            &["dst_ip", "dst_port", "src_ip"],
            Some(("src_ip", Some("dst_port"), "dst_ip", "node.size = degree")),
            None,
        ),
        "password-guessing" => linked(
            &["src_ip", "user", "auth_result"],
            Some((
                "src_ip",
                None,
                "user",
                "node.size = count\nsource.top = 50 by degree",
            )),
            Some("auth_result IS NOT NULL"),
        ),
        "web-probing" => linked(
            &["src_ip", "http_status", "http_uri"],
            Some((
                "src_ip",
                None,
                "http_uri",
                "node.size = count\nsource.top = 50 by degree",
            )),
            Some("http_status = 404"),
        ),
        "dns-tunnel" => linked(
            &["src_ip", "dns_qtype", "dns_qname"],
            Some(("src_ip", None, "dns_qname", "source.top = 50 by degree")),
            Some("dns_qname IS NOT NULL"),
        ),
        "long-connections" => linked(
            &["src_ip", "dst_port", "dst_ip"],
            Some(("src_ip", Some("dst_port"), "dst_ip", "node.size = count")),
            Some("duration IS NOT NULL"),
        ),
        "exfiltration" => linked(
            &["src_ip", "dst_ip", "dst_port"],
            Some(("src_ip", None, "dst_ip", "node.size = count")),
            Some("src_bytes IS NOT NULL"),
        ),
        "beacons" | "rare-destinations" => linked(
            &["src_ip", "dst_ip", "dst_port"],
            Some(("src_ip", None, "dst_ip", "node.size = count")),
            None,
        ),
        _ => linked(
            &["src_ip", "dst_ip", "dst_port"],
            Some((
                "src_ip",
                None,
                "dst_ip",
                "node.size = count\nsource.top = 100 by degree",
            )),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_form_is_a_valid_linked_view() {
        let (spec, analysis) = ViewForm::default().to_spec("d1").unwrap();
        assert_eq!(spec.kind, ViewKind::Linked);
        assert!(analysis.is_none());
        assert_eq!(spec.graph.unwrap().seed, 1);
    }

    #[test]
    fn choices_become_rules_before_typed_rules() {
        let form = ViewForm {
            color: "protocol".into(),
            size: "degree".into(),
            cluster_target: "24".into(),
            threshold: "1".into(),
            top_sources: "50".into(),
            rules: "source.color = \"red\" when src_ip in 10.0.0.0/8".into(),
            ..ViewForm::default()
        };
        let mut errors = vec![];
        let rules = form.rules(&mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            rules.starts_with("target.cluster = cidr(value, 24)"),
            "{rules}"
        );
        assert!(rules.contains("edge.color = palette(protocol)"));
        assert!(rules.contains("node.size = degree"));
        assert!(rules.contains("node.threshold = 1"));
        assert!(rules.contains("source.top = 50 by degree"));
        assert!(rules.ends_with("when src_ip in 10.0.0.0/8"));
    }

    #[test]
    fn bad_choices_are_all_reported() {
        let form = ViewForm {
            kind: "parallel".into(),
            fields: "src_ip, nope".into(),
            top_k: "1000".into(),
            ..ViewForm::default()
        };
        let errors = form.to_spec("d1").unwrap_err();
        assert!(errors.iter().any(|e| e.contains("nope")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("Top k")), "{errors:?}");
    }

    #[test]
    fn analyses_have_views_and_checked_params() {
        for a in secviz_lake::analyze::ANALYSES {
            analysis_view(a.name, "d1").validate().unwrap();
        }
        let form = ViewForm {
            kind: "analysis".into(),
            analysis: "fan-out".into(),
            params: "limit=5".into(),
            ..ViewForm::default()
        };
        let (_, a) = form.to_spec("d1").unwrap();
        assert_eq!(a.unwrap().params.get("limit").unwrap(), "5");
        let bad = ViewForm {
            params: "evil=1".into(),
            ..form
        };
        assert!(bad.to_spec("d1").is_err());
    }
}
