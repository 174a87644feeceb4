//! The command lines that reproduce a post's picture from its downloads with the `secviz`
//! binary: ingest the exported events (JSON lines) into a local dataset, then draw the
//! recipe's view with `secviz chart --spec`, which calls the function the portal drew the
//! picture with (tested byte for byte on the demo posts, in the CLI's tests).

use crate::db::ids::PostId;

use super::recipe::Recipe;

/// The local dataset name the commands use for post `post`.
pub fn local_name(post: PostId) -> String {
    format!("post{post}")
}

/// The commands, one per line, for post `post` with its `recipe`.
pub fn commands(post: PostId, recipe: &Recipe) -> Vec<String> {
    let name = local_name(post);
    let mut lines = vec![
        format!("curl -o post-{post}.jsonl.gz $SITE/p/{post}/data.jsonl.gz"),
        format!("curl -o post-{post}.recipe.json $SITE/p/{post}/recipe.json"),
        format!("secviz ingest post-{post}.jsonl.gz --format jsonl --dataset {name}"),
    ];
    // The recipe's view, drawn by the function that drew the post's picture (a graph or a
    // chart): the same bytes as the picture on the post.
    lines.push(format!(
        "curl -o post-{post}.view.json $SITE/p/{post}/view.json"
    ));
    lines.push(format!(
        "secviz chart --dataset {name} --spec post-{post}.view.json -w post-{post}.svg"
    ));
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
