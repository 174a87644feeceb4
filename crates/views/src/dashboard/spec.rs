//! What a dashboard is, as members write, export and import it: a title, how often it is
//! recomputed, how far back "usual" and "not seen before" look, and a grid of panels. Each
//! panel answers one stated question over a moving time window.
//!
//! The JSON form is the export format (`"format": "secviz-dashboard/1"`): unknown fields are
//! refused, so a typo is an error instead of a panel that silently shows something else.
//! [`DashboardSpec::check`] holds every bound a member could stretch (panels, text, limits,
//! analysis parameters), so the work a dashboard asks of the server is bounded by its spec.

use std::collections::BTreeMap;

use secviz_lake::analyze::{self, Params};
use serde::{Deserialize, Serialize};

/// The export format's name and version.
pub const FORMAT: &str = "secviz-dashboard/1";
/// Most panels on one dashboard.
pub const MAX_PANELS: usize = 12;
/// Refresh interval bounds, seconds. The floor is what keeps a shared screen cheap: every
/// viewer of a dashboard gets the one computation of its interval.
pub const MIN_REFRESH: u32 = 2;
pub const MAX_REFRESH: u32 = 3600;
pub const MAX_LOOKBACK_DAYS: u32 = 30;
/// Most rows a panel lists.
pub const MAX_LIMIT: u32 = 20;
/// Longest export accepted on import, bytes.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
const MAX_TITLE: usize = 120;
const MAX_QUESTION: usize = 300;

/// A dashboard: a titled grid of panels over one dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSpec {
    #[serde(default = "format")]
    pub format: String,
    pub title: String,
    /// Seconds between computations; every viewer sees the same one.
    #[serde(default = "refresh")]
    pub refresh_seconds: u32,
    /// Days of history behind "usual" and "not seen before".
    #[serde(default = "lookback")]
    pub lookback_days: u32,
    pub panels: Vec<PanelSpec>,
}

fn format() -> String {
    FORMAT.to_string()
}
fn refresh() -> u32 {
    30
}
fn lookback() -> u32 {
    7
}
fn limit() -> u32 {
    8
}

/// One panel: what it shows, over which window, and the question it answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    pub kind: PanelKind,
    /// Shown above the panel; the kind's own title when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The question the panel answers; the kind's own when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub question: String,
    #[serde(default)]
    pub window: Window,
    /// Rows listed at most.
    #[serde(default = "limit")]
    pub limit: u32,
    /// For `kind: "analysis"`: which built-in analysis (`secviz analyze --list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<String>,
    /// For `kind: "analysis"`: its parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// For `kind: "view"`: the saved view (a post's recipe view, `/p/ID/view.json`), drawn
    /// over the window as the post draws it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<crate::spec::ViewSpec>,
}

/// What a panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PanelKind {
    /// Every analysis over the window, ranked; new when not found in the window before.
    Findings,
    /// Events per bucket, against the same hours of the days before.
    EventRate,
    /// Source addresses in the window not seen in the lookback before it.
    NewSources,
    /// Destination addresses in the window not seen in the lookback before it.
    NewDestinations,
    /// Failed logins by source, against the window before.
    FailedLogins,
    /// The top sources now and in the window before, and how they moved.
    TalkerChanges,
    /// One built-in analysis with parameters.
    Analysis,
    /// A saved view (chart or link graph) drawn over the window.
    View,
}

impl PanelKind {
    pub const ALL: [PanelKind; 8] = [
        PanelKind::Findings,
        PanelKind::EventRate,
        PanelKind::NewSources,
        PanelKind::NewDestinations,
        PanelKind::FailedLogins,
        PanelKind::TalkerChanges,
        PanelKind::Analysis,
        PanelKind::View,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PanelKind::Findings => "findings",
            PanelKind::EventRate => "event-rate",
            PanelKind::NewSources => "new-sources",
            PanelKind::NewDestinations => "new-destinations",
            PanelKind::FailedLogins => "failed-logins",
            PanelKind::TalkerChanges => "talker-changes",
            PanelKind::Analysis => "analysis",
            PanelKind::View => "view",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            PanelKind::Findings => "New findings",
            PanelKind::EventRate => "Event rate",
            PanelKind::NewSources => "New sources",
            PanelKind::NewDestinations => "New destinations",
            PanelKind::FailedLogins => "Failed logins",
            PanelKind::TalkerChanges => "Top talkers' changes",
            PanelKind::Analysis => "Analysis",
            PanelKind::View => "View",
        }
    }

    pub fn question(self) -> &'static str {
        match self {
            PanelKind::Findings => "What is unusual right now, and is it new?",
            PanelKind::EventRate => "Is the volume of events normal for this time of day?",
            PanelKind::NewSources => "Which sources have we never seen before?",
            PanelKind::NewDestinations => "Which destinations were never contacted before?",
            PanelKind::FailedLogins => "Who is failing to log in, and is it more than before?",
            PanelKind::TalkerChanges => "Which sources suddenly talk much more, or stopped?",
            PanelKind::Analysis => "What does this analysis find in the window?",
            PanelKind::View => "What does this view show of the window?",
        }
    }
}

/// A moving time window ending now (or at the data's newest event, for data that ended).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Window {
    #[serde(rename = "15m")]
    Minutes15,
    #[default]
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
}

impl Window {
    pub fn micros(self) -> i64 {
        match self {
            Window::Minutes15 => 15 * 60_000_000,
            Window::Hour => 3_600_000_000,
            Window::Day => 86_400_000_000,
        }
    }

    /// "last 15 min", "last hour", "last 24 h".
    pub fn label(self) -> &'static str {
        match self {
            Window::Minutes15 => "last 15 min",
            Window::Hour => "last hour",
            Window::Day => "last 24 h",
        }
    }

    /// Buckets of the rate panel: (count, width in microseconds).
    pub fn buckets(self) -> (i64, i64) {
        match self {
            Window::Minutes15 => (15, 60_000_000),
            Window::Hour => (12, 300_000_000),
            Window::Day => (24, 3_600_000_000),
        }
    }
}

/// A dashboard that cannot be used, and where (`panels[2].window: ...`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct SpecError(pub String);

impl PanelSpec {
    /// A panel of `kind` over `window` with its own title and question.
    pub fn of(kind: PanelKind, window: Window) -> PanelSpec {
        PanelSpec {
            kind,
            title: String::new(),
            question: String::new(),
            window,
            limit: limit(),
            analysis: None,
            params: BTreeMap::new(),
            view: None,
        }
    }

    /// The title shown: the member's, or the kind's (the analysis's for an analysis).
    pub fn shown_title(&self) -> String {
        if !self.title.trim().is_empty() {
            return self.title.trim().to_string();
        }
        match (&self.kind, self.analysis.as_deref().and_then(analyze::spec)) {
            (PanelKind::Analysis, Some(a)) => a.title.to_string(),
            _ => self.kind.title().to_string(),
        }
    }

    /// The question shown: the member's, or the kind's (the analysis's description).
    pub fn shown_question(&self) -> String {
        if !self.question.trim().is_empty() {
            return self.question.trim().to_string();
        }
        match (&self.kind, self.analysis.as_deref().and_then(analyze::spec)) {
            (PanelKind::Analysis, Some(a)) => a.description.to_string(),
            _ => self.kind.question().to_string(),
        }
    }

    /// The analysis's parameters, checked (kind `analysis` only).
    pub fn analysis_params(&self) -> Result<(&'static analyze::AnalysisSpec, Params), SpecError> {
        let name = self.analysis.as_deref().unwrap_or_default();
        let spec = analyze::spec(name).ok_or_else(|| {
            let known: Vec<&str> = analyze::ANALYSES.iter().map(|a| a.name).collect();
            SpecError(format!(
                "\"analysis\" must name one of: {}",
                known.join(", ")
            ))
        })?;
        let params = Params(self.params.clone());
        params.check(spec).map_err(|e| SpecError(e.to_string()))?;
        for (k, v) in &self.params {
            let n: f64 = v
                .trim()
                .parse()
                .map_err(|_| SpecError(format!("parameter {k:?} must be a number")))?;
            let max = if k == "limit" { MAX_LIMIT as f64 } else { 1e12 };
            if !n.is_finite() || !(0.0..=max).contains(&n) {
                return Err(SpecError(format!(
                    "parameter {k:?} must be between 0 and {max}"
                )));
            }
        }
        Ok((spec, params))
    }

    fn check(&self) -> Result<(), SpecError> {
        if self.title.chars().count() > MAX_TITLE {
            return Err(SpecError(format!(
                "\"title\" is longer than {MAX_TITLE} characters"
            )));
        }
        if self.question.chars().count() > MAX_QUESTION {
            return Err(SpecError(format!(
                "\"question\" is longer than {MAX_QUESTION} characters"
            )));
        }
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            return Err(SpecError(format!("\"limit\" must be 1 to {MAX_LIMIT}")));
        }
        if self.kind != PanelKind::Analysis && (self.analysis.is_some() || !self.params.is_empty())
        {
            return Err(SpecError(
                "\"analysis\" and \"params\" belong to panels of kind \"analysis\"".into(),
            ));
        }
        if self.kind != PanelKind::View && self.view.is_some() {
            return Err(SpecError(
                "\"view\" belongs to panels of kind \"view\"".into(),
            ));
        }
        match (self.kind, &self.view) {
            (PanelKind::Analysis, _) => self.analysis_params().map(|_| ()),
            (PanelKind::View, None) => Err(SpecError(
                "a panel of kind \"view\" needs its \"view\" (a post's view.json)".into(),
            )),
            (PanelKind::View, Some(v)) => {
                v.validate().map_err(|e| SpecError(format!("view: {e}")))?;
                match v.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
                    Some(f) => crate::source::check_filter(f)
                        .map_err(|e| SpecError(format!("view: filter: {e}"))),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

impl DashboardSpec {
    /// The default SOC dashboard of a dataset: the questions a watch floor asks first.
    pub fn soc(title: &str) -> DashboardSpec {
        DashboardSpec {
            format: format(),
            title: title.to_string(),
            refresh_seconds: refresh(),
            lookback_days: lookback(),
            panels: vec![
                PanelSpec::of(PanelKind::Findings, Window::Hour),
                PanelSpec::of(PanelKind::EventRate, Window::Hour),
                PanelSpec::of(PanelKind::NewSources, Window::Hour),
                PanelSpec::of(PanelKind::NewDestinations, Window::Hour),
                PanelSpec::of(PanelKind::FailedLogins, Window::Hour),
                PanelSpec::of(PanelKind::TalkerChanges, Window::Hour),
            ],
        }
    }

    /// Reads an export (JSON) and checks it.
    pub fn from_json(text: &str) -> Result<DashboardSpec, SpecError> {
        if text.len() > MAX_JSON_BYTES {
            return Err(SpecError(format!(
                "the dashboard is larger than {} KiB",
                MAX_JSON_BYTES / 1024
            )));
        }
        let spec: DashboardSpec = serde_json::from_str(text)
            .map_err(|e| SpecError(format!("this is not a secviz dashboard: {e}")))?;
        spec.check()?;
        Ok(spec)
    }

    /// The export: pretty JSON, with the format named.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Every bound of a dashboard, with where it is broken.
    pub fn check(&self) -> Result<(), SpecError> {
        if self.format != FORMAT {
            return Err(SpecError(format!(
                "\"format\" must be {FORMAT:?} (this secviz reads that version)"
            )));
        }
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Err(SpecError(format!(
                "\"title\" must be 1 to {MAX_TITLE} characters"
            )));
        }
        if !(MIN_REFRESH..=MAX_REFRESH).contains(&self.refresh_seconds) {
            return Err(SpecError(format!(
                "\"refresh_seconds\" must be {MIN_REFRESH} to {MAX_REFRESH}"
            )));
        }
        if !(1..=MAX_LOOKBACK_DAYS).contains(&self.lookback_days) {
            return Err(SpecError(format!(
                "\"lookback_days\" must be 1 to {MAX_LOOKBACK_DAYS}"
            )));
        }
        if self.panels.is_empty() || self.panels.len() > MAX_PANELS {
            return Err(SpecError(format!(
                "a dashboard has 1 to {MAX_PANELS} panels"
            )));
        }
        for (i, p) in self.panels.iter().enumerate() {
            p.check()
                .map_err(|e| SpecError(format!("panels[{i}]: {}", e.0)))?;
        }
        Ok(())
    }

    /// The longest window of its panels: data older than that has ended.
    pub fn longest_window(&self) -> i64 {
        self.panels
            .iter()
            .map(|p| p.window.micros())
            .max()
            .unwrap_or(Window::Hour.micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soc_dashboard_round_trips_and_checks() {
        let d = DashboardSpec::soc("Firewall");
        d.check().unwrap();
        let back = DashboardSpec::from_json(&d.to_json()).unwrap();
        assert_eq!(back, d);
        assert!(d.to_json().contains("\"format\": \"secviz-dashboard/1\""));
    }

    #[test]
    fn bad_dashboards_say_where() {
        let bad = |json: &str| DashboardSpec::from_json(json).unwrap_err().0;
        assert!(
            bad(r#"{"title":"x","panels":[{"kind":"findings","colour":"red"}]}"#)
                .contains("unknown field `colour`")
        );
        assert!(
            bad(r#"{"title":"x","panels":[{"kind":"findings","window":"2h"}]}"#)
                .contains("unknown variant `2h`")
        );
        assert_eq!(
            bad(r#"{"title":"x","refresh_seconds":1,"panels":[{"kind":"findings"}]}"#),
            "\"refresh_seconds\" must be 2 to 3600"
        );
        assert_eq!(
            bad(r#"{"title":"x","panels":[{"kind":"findings"},{"kind":"analysis","analysis":"nope"}]}"#)
                .split(':')
                .next()
                .unwrap(),
            "panels[1]"
        );
        assert!(bad(
            r#"{"title":"x","panels":[{"kind":"analysis","analysis":"fan-out","params":{"limit":"5000"}}]}"#
        )
        .contains("between 0 and 20"));
        assert!(bad(
            r#"{"title":"x","panels":[{"kind":"analysis","analysis":"fan-out","params":{"colour":"1"}}]}"#
        )
        .contains("takes no parameter"));
        let many = format!(
            r#"{{"title":"x","panels":[{}]}}"#,
            vec![r#"{"kind":"findings"}"#; 13].join(",")
        );
        assert_eq!(bad(&many), "a dashboard has 1 to 12 panels");
        assert!(bad(&"x".repeat(MAX_JSON_BYTES + 1)).contains("larger than"));
        assert!(
            bad(&format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)))
                .starts_with("this is not a secviz dashboard")
        );
    }

    #[test]
    fn an_analysis_panel_takes_its_analysis_title() {
        let mut p = PanelSpec::of(PanelKind::Analysis, Window::Day);
        p.analysis = Some("beacons".into());
        assert_eq!(p.shown_title(), "Beacon candidates");
        p.title = "C2?".into();
        assert_eq!(p.shown_title(), "C2?");
    }
}
