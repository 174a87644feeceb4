//! A post's analysis findings as a table for people: each row says what was found in one
//! sentence, how unusual it is for the dataset, and links to the post's view with the
//! events it is about selected (the link carries the selection, like a comment's).
//!
//! Findings are stored with the post as the analysis returned them (JSON); rows stored
//! before findings named their events simply have no link.

use secviz_lake::analyze::Focus;
use secviz_lake::analyze::baseline::NOTABLE;
use serde::Deserialize;

use crate::db::ids::PostId;

/// The table of a post's findings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingsTable {
    pub title: String,
    pub rows: Vec<FindingRow>,
    /// Why the analysis could not run on this data.
    pub not_run: Option<String>,
}

/// One finding.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingRow {
    /// Two decimals.
    pub score: String,
    pub notable: bool,
    pub headline: String,
    /// `/p/ID?sel=…#data-view-h`: the view with the finding's events selected.
    pub link: Option<String>,
}

#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    title: String,
    #[serde(default)]
    findings: Vec<StoredFinding>,
    #[serde(default)]
    not_run: Option<String>,
}

#[derive(Deserialize)]
struct StoredFinding {
    score: f64,
    headline: String,
    #[serde(default)]
    focus: Option<Focus>,
}

/// The table of the findings stored with post `post`; `None` when there are none stored or
/// they cannot be read.
pub fn table(post: PostId, stored: &str) -> Option<FindingsTable> {
    if stored.trim().is_empty() {
        return None;
    }
    let s: Stored = serde_json::from_str(stored).ok()?;
    let rows = s
        .findings
        .into_iter()
        .map(|f| FindingRow {
            score: format!("{:.2}", f.score),
            notable: f.score >= NOTABLE,
            headline: f.headline,
            link: f.focus.and_then(|focus| link(post, &focus)),
        })
        .collect();
    Some(FindingsTable {
        title: s.title,
        rows,
        not_run: s.not_run,
    })
}

/// The post's page with the viewer opened on the finding's events.
fn link(post: PostId, focus: &Focus) -> Option<String> {
    let sel = focus.selection_json()?;
    let encoded: String = form_urlencoded::byte_serialize(sel.as_bytes()).collect();
    Some(format!("/p/{post}?sel={encoded}#data-view-h"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn rows_link_to_the_view_with_the_events_selected() {
        let stored = r#"{"name":"dns-fixed-port","title":"DNS","findings":[
            {"analysis":"dns-fixed-port","score":0.81,"headline":"10.1.0.3 sent all <b>",
             "detail":{},"focus":{"values":{"src_ip":"10.1.0.3","src_port":"1030"}}},
            {"analysis":"dns-fixed-port","score":0.2,"headline":"old","detail":{}}]}"#;
        let t = table(PostId(7), stored).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert!(t.rows[0].notable && !t.rows[1].notable);
        let link = t.rows[0].link.as_deref().unwrap();
        let q = link.strip_prefix("/p/7?sel=").unwrap();
        let q = q.strip_suffix("#data-view-h").unwrap();
        let sel: String = form_urlencoded::parse(format!("s={q}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let v: Value = serde_json::from_str(&sel).unwrap();
        assert_eq!(v["values"]["src_port"][0], 1030);
        assert_eq!(v["values"]["src_ip"][0], "10.1.0.3");
        assert_eq!(t.rows[1].link, None);
        assert_eq!(table(PostId(7), ""), None);
        assert_eq!(table(PostId(7), "not json"), None);
    }
}
