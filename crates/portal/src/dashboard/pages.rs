//! The dashboard pages' templates: the list, a dashboard, the big screen, one panel (the
//! refresh sends panels one by one) and the events behind a panel.

use askama::Template;
use secviz_views::dashboard::drill::EventRows;

use super::panels::{BodyView, PanelView};
use crate::views::Chrome;

pub struct DashboardCard {
    pub id: String,
    pub title: String,
    pub dataset: String,
    pub owner: String,
    pub public: bool,
}

#[derive(Template)]
#[template(path = "dashboards.html")]
pub struct DashboardsPage {
    pub chrome: Chrome,
    pub errors: Vec<String>,
    pub mine: Vec<DashboardCard>,
    pub public: Vec<DashboardCard>,
    /// The member's ready datasets, `(id, label)`.
    pub datasets: Vec<(String, String)>,
    /// What the form held, kept when it failed.
    pub form_dataset: String,
    pub form_title: String,
    pub form_json: String,
}

pub struct ShareView {
    pub id: String,
    pub label: String,
    pub created: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub id: String,
    pub base: String,
    pub title: String,
    pub owner: String,
    pub dataset: String,
    pub public: bool,
    pub remixed_from: Option<String>,
    pub refresh_seconds: u32,
    pub frame_line: String,
    pub etag: String,
    pub panels: Vec<PanelView>,
    pub is_owner: bool,
    pub can_remix: bool,
    pub notice: Option<String>,
    pub errors: Vec<String>,
    pub shares: Vec<ShareView>,
    /// A share link just made: shown this once.
    pub new_share: Option<String>,
    pub share_label: String,
    /// The spec in the edit form (the member's text when a save failed).
    pub spec_json: String,
    pub kinds: String,
    /// The panels' titles, in order (for removing one).
    pub panel_names: Vec<String>,
    /// `(value, label)` of the panel kinds the add form offers, and of the analyses.
    pub kind_choices: Vec<(String, String)>,
    pub analysis_choices: Vec<(String, String)>,
    /// What the add form held (kept when it failed).
    pub add: AddPanelForm,
}

/// The add-a-panel form's fields.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AddPanelForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub analysis: String,
    #[serde(default)]
    pub window: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub question: String,
}

/// One dashboard of a big screen's rotation.
pub struct Board {
    pub base: String,
    pub title: String,
    pub refresh_seconds: u32,
    pub frame_line: String,
    pub etag: String,
    pub panels: Vec<PanelView>,
}

#[derive(Template)]
#[template(path = "screen.html")]
pub struct ScreenPage {
    /// At least one.
    pub boards: Vec<Board>,
    /// Seconds each board of a rotation shows (0: no rotation).
    pub every: u32,
}

#[derive(Template)]
#[template(path = "_panel.html")]
pub struct PanelFragment<'a> {
    pub panel: &'a PanelView,
}

#[derive(Template)]
#[template(path = "dashboard_events.html")]
pub struct EventsPage {
    pub chrome: Chrome,
    pub title: String,
    pub back: String,
    pub described: String,
    pub rows: EventRows,
}
