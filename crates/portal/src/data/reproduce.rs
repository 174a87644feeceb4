//! The command lines that reproduce a post's picture from its downloads with the `secviz`
//! binary: ingest the exported events (JSON lines) into a local dataset, then draw the
//! recipe with `secviz graph --sql` (the same rows, in the same order, the same rules and
//! seed as the portal's graph) or `secviz chart --spec` (the same view spec).

use crate::db::ids::PostId;
use secviz_parse::schema::event_schema;
use secviz_views::{Field, GraphSpec};

use super::picture;
use super::recipe::Recipe;

/// The local dataset name the commands use for post `post`.
pub fn local_name(post: PostId) -> String {
    format!("post{post}")
}

/// Schema columns the rules name (the portal's graph reads them too, for the rules).
fn rule_columns(rules: &str, nodes: &[Field]) -> Vec<String> {
    let words: std::collections::HashSet<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    event_schema()
        .fields()
        .iter()
        .filter_map(|f| Field::parse(f.name()).ok())
        .filter(|f| words.contains(f.column()) && !nodes.contains(f))
        // Role words of the rule language, and the columns the rows are ordered by.
        .filter(|f| !matches!(f.column(), "source" | "time" | "line"))
        .map(|f| f.column().to_string())
        .collect()
}

/// The SQL whose rows the portal's graph is built from, over table `table`.
pub fn graph_sql(g: &GraphSpec, filter: Option<&str>, table: &str) -> String {
    let nodes: Vec<Field> = [Some(g.source), g.event, Some(g.target)]
        .into_iter()
        .flatten()
        .collect();
    let mut select: Vec<String> = nodes
        .iter()
        .map(|f| format!("CAST({} AS VARCHAR) AS \"{f}\"", f.sql()))
        .collect();
    select.extend(
        rule_columns(&g.rules, &nodes)
            .iter()
            .map(|c| format!("CAST(\"{c}\" AS VARCHAR) AS \"{c}\"")),
    );
    let mut cond: Vec<String> = nodes
        .iter()
        .map(|f| format!("{} IS NOT NULL", f.sql()))
        .collect();
    if let Some(f) = filter {
        cond.push(format!("({f})"));
    }
    format!(
        "SELECT {} FROM \"{table}\" WHERE {} ORDER BY \"time\", \"source\", \"line\"",
        select.join(", "),
        cond.join(" AND ")
    )
}

/// Quotes a shell word (single quotes).
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The commands, one per line, for post `post` with its `recipe`.
pub fn commands(post: PostId, recipe: &Recipe) -> Vec<String> {
    let name = local_name(post);
    let mut lines = vec![
        format!("curl -o post-{post}.jsonl.gz $SITE/p/{post}/data.jsonl.gz"),
        format!("curl -o post-{post}.recipe.json $SITE/p/{post}/recipe.json"),
        format!("secviz ingest post-{post}.jsonl.gz --format jsonl --dataset {name}"),
    ];
    match (&recipe.view.graph, picture::is_graph(&recipe.view)) {
        (Some(g), true) => {
            lines.push(format!(
                "curl -o post-{post}.rules $SITE/p/{post}/rules.txt"
            ));
            lines.push(format!(
                "secviz graph --sql {} -c post-{post}.rules --seed {} --to svg -w post-{post}.svg",
                shell_quote(&graph_sql(g, recipe.view.filter.as_deref(), &name)),
                g.seed
            ));
        }
        _ => {
            lines.push(format!(
                "curl -o post-{post}.view.json $SITE/p/{post}/view.json"
            ));
            lines.push(format!(
                "secviz chart --dataset {name} --spec post-{post}.view.json -w post-{post}.svg"
            ));
        }
    }
    if let Some(a) = &recipe.analysis {
        let params: String = a
            .params
            .iter()
            .map(|(k, v)| format!(" --param {k}={v}"))
            .collect();
        lines.push(format!(
            "secviz analyze {} --dataset {name}{params}",
            a.name
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_sql_names_its_columns_and_keeps_the_order() {
        let g = GraphSpec {
            source: Field::parse("src_ip").unwrap(),
            event: Some(Field::parse("dst_port").unwrap()),
            target: Field::parse("dst_ip").unwrap(),
            rules: "edge.color = palette(protocol)".into(),
            seed: 7,
        };
        let sql = graph_sql(&g, Some("dst_port = 53"), "post1");
        assert!(
            sql.contains("CAST(\"src_ip\" AS VARCHAR) AS \"src_ip\""),
            "{sql}"
        );
        assert!(sql.contains("AS \"protocol\""), "{sql}");
        assert!(sql.contains("AND (dst_port = 53)"), "{sql}");
        assert!(
            sql.ends_with("ORDER BY \"time\", \"source\", \"line\""),
            "{sql}"
        );
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
    }
}
