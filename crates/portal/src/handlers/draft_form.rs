//! The draft page's form body: the post's text and the view form's fields, kept as typed so
//! a form that fails validation is shown again unchanged.

use crate::data::recipe::ViewForm;

/// The draft form as submitted.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DraftSubmit {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) action: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) body: String,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(flatten)]
    pub(super) view: ViewFormFields,
}

/// The view form's fields (all strings, kept as typed).
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct ViewFormFields {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    fields: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    cluster_source: Option<String>,
    #[serde(default)]
    cluster_target: Option<String>,
    #[serde(default)]
    cluster_event: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    threshold: Option<String>,
    #[serde(default)]
    top_sources: Option<String>,
    #[serde(default)]
    rules: Option<String>,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    top_k: Option<String>,
    #[serde(default)]
    seed: Option<String>,
    #[serde(default)]
    view_title: Option<String>,
    #[serde(default)]
    analysis: Option<String>,
    #[serde(default)]
    params: Option<String>,
}

impl ViewFormFields {
    pub(super) fn into_form(self) -> ViewForm {
        let d = ViewForm::default();
        let pick = |v: Option<String>, d: String| v.unwrap_or(d);
        ViewForm {
            kind: pick(self.kind, d.kind),
            fields: pick(self.fields, d.fields),
            source: pick(self.source, d.source),
            event: pick(self.event, d.event),
            target: pick(self.target, d.target),
            color: pick(self.color, d.color),
            size: pick(self.size, d.size),
            cluster_source: pick(self.cluster_source, d.cluster_source),
            cluster_target: pick(self.cluster_target, d.cluster_target),
            cluster_event: pick(self.cluster_event, d.cluster_event),
            group: pick(self.group, d.group),
            threshold: pick(self.threshold, d.threshold),
            top_sources: pick(self.top_sources, d.top_sources),
            rules: pick(self.rules, d.rules),
            filter: pick(self.filter, d.filter),
            top_k: pick(self.top_k, d.top_k),
            seed: pick(self.seed, d.seed),
            title: pick(self.view_title, d.title),
            analysis: pick(self.analysis, d.analysis),
            params: pick(self.params, d.params),
        }
    }
}

/// Parses the urlencoded body (repeated `tags`).
pub(super) fn parse_submit(body: &[u8]) -> DraftSubmit {
    let mut s = DraftSubmit::default();
    let mut view = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf" => s.csrf = v,
            "action" => s.action = v,
            "title" => s.title = v,
            "body" => s.body = v,
            "tags" => s.tags.push(v),
            other => {
                view.insert(other.to_string(), serde_json::Value::String(v));
            }
        }
    }
    s.view = serde_json::from_value(serde_json::Value::Object(view)).unwrap_or_default();
    s
}
