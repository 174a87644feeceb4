//! The explorer: one HTML page over one dataset with the viewer mounted on it, the API under
//! `/api` and the assets under `/assets` (`secviz view`). The page carries the API's URL
//! and the recipe in `data-` attributes (auto-escaped by the template; no data in any
//! `<script>`), and server-rendered SVG pictures for readers without JavaScript.
//! [`mount_attributes`] gives the portal the same attributes for its own pages.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use secviz_lake::{DatasetName, Lake};
use serde::Deserialize;

use crate::api::{AllowAll, ViewsState};
use secviz_views::ViewError;
use secviz_views::selection::Selection;
use secviz_views::spec::{ViewKind, ViewSpec};

/// The page's security headers: scripts and styles only from here, no framing.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A picture for readers without JavaScript.
pub struct StaticImage {
    pub src: String,
    pub alt: String,
}

/// What a page needs to mount the viewer: the attributes of the mount element and the
/// no-JavaScript pictures.
pub struct Mount {
    /// `data-api`: the API base of the dataset (`{api}/datasets/{name}`).
    pub api: String,
    /// `data-spec`: the recipe as JSON.
    pub spec: String,
    /// `data-sel`: an initial selection as JSON (may be empty).
    pub sel: String,
    pub images: Vec<StaticImage>,
}

/// The mount for `dataset` with the API mounted at `api_root`.
pub fn mount_attributes(
    api_root: &str,
    dataset: &DatasetName,
    spec: &ViewSpec,
    sel: &Selection,
) -> Mount {
    let api = format!(
        "{}/datasets/{}",
        api_root.trim_end_matches('/'),
        dataset.as_str()
    );
    let spec_json = serde_json::to_string(spec).unwrap_or_default();
    let sel_json = if sel.is_empty() {
        String::new()
    } else {
        serde_json::to_string(sel).unwrap_or_default()
    };
    let q = |extra: &str| {
        format!(
            "?spec={}&sel={}{extra}",
            encode(&spec_json),
            encode(&sel_json)
        )
    };
    let mut images = Vec::new();
    if spec.graph.is_some() && matches!(spec.kind, ViewKind::Graph | ViewKind::Linked) {
        images.push(StaticImage {
            src: format!("{api}/graph.svg{}", q("")),
            alt: format!("Link graph of dataset {}", dataset.as_str()),
        });
    }
    if matches!(spec.kind, ViewKind::Linked) {
        for f in &spec.fields {
            let one = ViewSpec {
                kind: ViewKind::Bar,
                fields: vec![*f],
                graph: None,
                ..spec.clone()
            };
            let j = serde_json::to_string(&one).unwrap_or_default();
            images.push(StaticImage {
                src: format!(
                    "{api}/chart.svg?spec={}&sel={}",
                    encode(&j),
                    encode(&sel_json)
                ),
                alt: format!("Top values of {f}"),
            });
        }
    } else if spec.kind != ViewKind::Graph {
        images.push(StaticImage {
            src: format!("{api}/chart.svg{}", q("")),
            alt: spec.title.clone().unwrap_or_else(|| "Chart".into()),
        });
    }
    Mount {
        api,
        spec: spec_json,
        sel: sel_json,
        images,
    }
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{{ title }} · secviz</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{ assets }}/viewer.css?v={{ version }}">
</head>
<body>
<main>
<h1>{{ title }}</h1>
<div data-secviz-viewer data-api="{{ mount.api }}" data-spec="{{ mount.spec }}" data-sel="{{ mount.sel }}">
<div class="sv-static">
<p>The interactive views need JavaScript. These pictures are drawn on the server.</p>
{% for img in mount.images %}<p><img src="{{ img.src }}" alt="{{ img.alt }}"></p>
{% endfor %}</div>
</div>
</main>
<script type="module" src="{{ assets }}/viewer.js?v={{ version }}"></script>
</body>
</html>
"#
)]
struct Page<'a> {
    title: &'a str,
    assets: &'a str,
    version: &'a str,
    mount: &'a Mount,
}

#[derive(Clone)]
struct Explorer {
    dataset: DatasetName,
    spec: ViewSpec,
}

#[derive(Deserialize)]
struct PageParams {
    sel: Option<String>,
}

async fn page(
    State(ex): State<Explorer>,
    Query(p): Query<PageParams>,
) -> Result<Response, ViewError> {
    let sel = Selection::from_json(p.sel.as_deref().unwrap_or(""))?;
    let mount = mount_attributes("api", &ex.dataset, &ex.spec, &sel);
    let title = ex
        .spec
        .title
        .clone()
        .unwrap_or_else(|| format!("Dataset {}", ex.dataset.as_str()));
    let html = Page {
        title: &title,
        assets: "assets",
        version: crate::assets::version(),
        mount: &mount,
    }
    .render()
    .map_err(|e| ViewError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response())
}

/// The local explorer over `dataset`: the page at `/`, the API under `/api`, the assets
/// under `/assets`. Every dataset of the lake is readable (the user owns it), with the
/// operator's limits; the work still runs on `executor`, off the server's threads.
pub fn explorer(
    lake: Lake,
    dataset: DatasetName,
    spec: ViewSpec,
    executor: secviz_sandbox::Executor,
) -> Router {
    let api = crate::api::router(
        ViewsState::new(lake, AllowAll, spec.clone(), executor)
            .with_limits(secviz_views::source::Limits::operator()),
    );
    Router::new()
        .route("/", get(page))
        .with_state(Explorer { dataset, spec })
        .nest("/api", api)
        .nest("/assets", crate::assets::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_the_recipe_into_attributes() {
        let ds = DatasetName::parse("demo").unwrap();
        let mut spec = ViewSpec::linked_default();
        spec.title = Some("<script>alert(1)</script>\"'".into());
        let mount = mount_attributes("api", &ds, &spec, &Selection::default());
        let html = Page {
            title: spec.title.as_deref().unwrap(),
            assets: "assets",
            version: "x",
            mount: &mount,
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>alert"));
        // askama writes numeric references (`&#60;`); either spelling is inert.
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        // Only the one external module script, no inline script.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains(r#"<script type="module" src="assets/viewer.js?v=x"></script>"#));
    }
}
