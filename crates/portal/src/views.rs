//! Template structs (askama, auto-escaping) and the small view models they show. Rows from
//! the database become view models here, with dates formatted once.

use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderName, HeaderValue, header};
use secviz_viewer::page::encode;
use secviz_views::{ViewKind, ViewSpec};

use crate::db::ids::{CommentId, DraftId, PostId};
use crate::db::tags::TagRow;
use crate::web::Visitor;

mod cards;

pub use cards::{CardList, Cards, Paging, PostCard, Rendered};

pub fn html_headers() -> [(HeaderName, HeaderValue); 1] {
    [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    )]
}

/// The page frame: who is logged in and the CSRF token for forms.
pub struct Chrome {
    pub user: Option<ChromeUser>,
    pub csrf: String,
}

pub struct ChromeUser {
    pub name: String,
    pub is_admin: bool,
}

impl Chrome {
    /// For pages whose only form is the header's log-out button.
    pub fn new(v: &Visitor) -> Chrome {
        Chrome {
            user: v.user.as_ref().map(|u| ChromeUser {
                name: u.username.clone(),
                is_admin: u.role.can_administer(),
            }),
            csrf: v.user.as_ref().map(|u| u.csrf.clone()).unwrap_or_default(),
        }
    }

    /// For pages with forms: hands out a CSRF token to anonymous visitors too.
    pub fn with_forms(v: &Visitor) -> Chrome {
        let mut c = Chrome::new(v);
        c.csrf = v.csrf_token();
        c
    }

    /// For error pages rendered outside a handler.
    pub fn plain() -> Chrome {
        Chrome {
            user: None,
            csrf: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
    pub request_id: Option<String>,
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub chrome: Chrome,
    pub cards: Arc<Cards>,
    pub paging: Paging,
    pub tags: Vec<TagRow>,
    pub no_members: bool,
}

#[derive(Template)]
#[template(path = "gallery.html")]
pub struct GalleryPage {
    pub chrome: Chrome,
    pub cards: Arc<Cards>,
    pub paging: Paging,
    pub tags: Vec<TagRow>,
    pub tag: Option<String>,
}

#[derive(Template)]
#[template(path = "tag.html")]
pub struct TagPage {
    pub chrome: Chrome,
    pub slug: String,
    pub description: String,
    pub cards: Arc<Cards>,
    pub paging: Paging,
}

#[derive(Template)]
#[template(path = "tags.html")]
pub struct TagsPage {
    pub chrome: Chrome,
    pub tags: Vec<TagRow>,
}

pub struct ImageView {
    pub id: String,
    pub alt: String,
    pub width: i64,
    pub height: i64,
}

pub struct CommentView {
    pub id: CommentId,
    pub author: String,
    pub date: String,
    pub datetime: String,
    pub edited: bool,
    pub body_html: String,
    pub deleted: bool,
    pub hidden_reason: Option<String>,
    pub mine: bool,
    pub replies: Vec<CommentView>,
}

/// The comment box: what was typed and what was wrong, kept across a failed submit.
#[derive(Default)]
pub struct CommentForm {
    pub body: String,
    pub parent: Option<CommentId>,
    pub error: Option<String>,
}

impl CommentForm {
    /// True when this form was a reply to the thread of comment `id`.
    pub fn replying_to(&self, id: impl std::borrow::Borrow<CommentId>) -> bool {
        self.parent == Some(*id.borrow())
    }
}

#[derive(Template)]
#[template(path = "post.html")]
pub struct PostPage {
    pub chrome: Chrome,
    pub id: PostId,
    pub title: String,
    pub author: String,
    pub date: String,
    pub datetime: String,
    pub edited: bool,
    pub gallery: bool,
    pub tool: String,
    pub data_source: String,
    pub body_html: String,
    pub tags: Vec<String>,
    pub images: Vec<ImageView>,
    pub comments: Vec<CommentView>,
    pub comment_count: usize,
    pub mine: bool,
    pub can_moderate: bool,
    pub hidden_reason: Option<String>,
    pub form: CommentForm,
    /// The data, recipe and viewer of a data post (issue 7).
    pub data: Option<DataView>,
    /// In place of `data`, why a data post's data is gone ("Data withdrawn by its author.").
    pub withdrawn: Option<&'static str>,
}

impl PostPage {
    /// The CSV download of the data post's records.
    pub fn csv_link(&self) -> String {
        self.data
            .as_ref()
            .map(DataView::csv_link)
            .unwrap_or_default()
    }
}

/// The data part of a post page: the viewer island over server-drawn pictures, the
/// downloads and the reproduce commands.
pub struct DataView {
    /// `data-api`, `data-spec`, `data-sel` of the viewer's mount element.
    pub api: String,
    pub spec: String,
    pub sel: String,
    /// Pictures for readers without JavaScript (the script hides them).
    pub images: Vec<DataImage>,
    /// `/assets` with the viewer's version.
    pub assets_version: String,
    pub dataset: String,
    pub label: String,
    pub format: String,
    pub rows: i64,
    pub anonymized: bool,
    /// The recipe, pretty JSON.
    pub recipe: String,
    /// Shell lines that reproduce the picture from the downloads.
    pub reproduce: Vec<String>,
    /// Findings of a built-in analysis, if the recipe ran one.
    pub analysis: Option<crate::data::findings::FindingsTable>,
    pub analysis_name: String,
    pub remixed_from: Option<PostId>,
}

impl DataView {
    /// The CSV link of a post's data (the viewer API's streamed export, formulas
    /// neutralised): the post's view as a bar chart's records.
    pub fn csv_link(&self) -> String {
        let spec = ViewSpec::from_json(&self.spec)
            .map(|s| ViewSpec {
                kind: ViewKind::Bar,
                graph: None,
                ..s
            })
            .ok();
        let spec = spec
            .and_then(|s| serde_json::to_string(&s).ok())
            .unwrap_or_default();
        format!("{}/export.csv?spec={}", self.api, encode(&spec))
    }
}

pub struct DataImage {
    pub src: String,
    pub alt: String,
}

/// One of a member's drafts in the list.
pub struct DraftCard {
    pub id: DraftId,
    pub title: String,
    pub status: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "drafts.html")]
pub struct DraftsPage {
    pub chrome: Chrome,
    pub drafts: Vec<DraftCard>,
}

/// A column of the draft's dataset, as listed beside the view form.
pub struct ColumnView {
    pub name: String,
    pub kind: String,
    pub values: u64,
    /// "about 1,200", or empty for time.
    pub distinct: String,
}

/// A preset view as offered: a link that opens the form on it.
pub struct PresetView {
    pub key: &'static str,
    pub question: String,
    /// Whether the form shows it now.
    pub current: bool,
}

/// A rejected line as shown (to its owner only: it may hold the sender's data): its number
/// in what the source sent, why, and its start as read.
pub struct RejectView {
    pub line: u64,
    pub reason: String,
    pub detail: String,
    pub raw: String,
}

/// The draft page: ingest status, parse summary, view form, preview, text, publish.
#[derive(Template)]
#[template(path = "draft.html")]
pub struct DraftPage {
    pub chrome: Chrome,
    pub id: DraftId,
    pub errors: Vec<String>,
    /// `none`, `queued`, `running`, `ready`, `failed`.
    pub status: String,
    pub refresh: bool,
    pub error: String,
    pub label: String,
    pub format: String,
    pub anonymized: bool,
    pub covered: &'static [&'static str],
    /// Progress while running.
    pub percent: u64,
    pub bytes_read: String,
    pub bytes_total: String,
    pub records: i64,
    pub events: i64,
    pub rejected_now: i64,
    pub phase: String,
    /// The parse report once known.
    pub read: u64,
    pub parsed: u64,
    pub skipped: u64,
    pub rows: i64,
    pub rejected: Vec<(String, u64)>,
    pub damage: Option<String>,
    pub rejects: Vec<RejectView>,
    pub time_span: String,
    /// How a log without years was dated.
    pub year_note: Option<String>,
    /// The view form.
    pub view: crate::data::recipe::ViewForm,
    /// The dataset's columns that hold values (name, kind, values, distinct).
    pub columns: Vec<ColumnView>,
    /// Preset views that fit the data, best first.
    pub presets: Vec<PresetView>,
    pub kinds: &'static [(&'static str, &'static str)],
    pub field_choices: &'static [&'static str],
    pub analyses: Vec<(&'static str, &'static str)>,
    pub preview: Option<String>,
    /// The post text.
    pub title: String,
    pub body: String,
    pub tag_choices: Vec<TagChoice>,
    pub remixed_from: Option<PostId>,
    pub data: DataChoices,
    pub form: PostForm,
}

/// `a == b` for templates (askama compares `String` with `&&str` poorly).
fn same(a: &str, b: &str) -> bool {
    a == b
}

impl DraftPage {
    pub fn same(&self, a: &str, b: &str) -> bool {
        same(a, b)
    }
}

impl PostFormPage {
    pub fn same(&self, a: &str, b: &str) -> bool {
        same(a, b)
    }
}

/// What the post form holds, kept whole when validation fails.
#[derive(Default, Clone)]
pub struct PostForm {
    pub title: String,
    pub body: String,
    pub gallery: bool,
    pub tool: String,
    pub data_source: String,
    pub tags: Vec<String>,
    pub images: Vec<FormImage>,
    /// The data box (pasted log lines).
    pub data_text: String,
    /// `""` (detect) or a format name.
    pub data_format: String,
    pub data_year: String,
    /// The member's own networks, as typed (empty: the private ranges).
    pub data_inside: String,
    /// The member deliberately turned anonymization off...
    pub keep_addresses: bool,
    /// ...and confirmed it.
    pub confirm_keep: bool,
    /// Alt texts typed for new images that were refused, shown again in the empty upload
    /// slots so the member only has to pick the file again.
    pub pending_alts: Vec<String>,
}

impl PostForm {
    /// The alt text to show in upload slot `n` (1-based).
    pub fn pending_alt(&self, n: &usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.pending_alts.get(i))
            .map_or("", String::as_str)
    }
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct FormImage {
    pub id: String,
    pub alt: String,
}

pub struct TagChoice {
    pub slug: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "post_form.html")]
pub struct PostFormPage {
    pub chrome: Chrome,
    pub editing: Option<PostId>,
    pub form: PostForm,
    pub tag_choices: Vec<TagChoice>,
    pub errors: Vec<String>,
    pub preview_html: Option<String>,
    pub max_images: usize,
    pub new_slots: Vec<usize>,
    /// The data section: formats offered, what anonymization covers, the size limit.
    pub data: DataChoices,
}

/// What the data section of a form offers.
pub struct DataChoices {
    pub formats: Vec<&'static str>,
    pub covered: &'static [&'static str],
    pub max_upload: String,
    pub max_paste: String,
}

#[derive(Template)]
#[template(path = "comment_edit.html")]
pub struct CommentEditPage {
    pub chrome: Chrome,
    pub id: CommentId,
    pub post_id: PostId,
    pub body: String,
    pub error: Option<String>,
}

pub struct MemberCommentView {
    pub post_id: PostId,
    pub comment_id: CommentId,
    pub post_title: String,
    pub excerpt: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "member.html")]
pub struct MemberPage {
    pub chrome: Chrome,
    pub name: String,
    pub role: String,
    pub joined: String,
    pub cards: Arc<Cards>,
    pub comments: Vec<MemberCommentView>,
}

pub struct HitView {
    pub url: String,
    pub title: String,
    pub excerpt: String,
    pub author: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub posts: Vec<HitView>,
    pub comments: Vec<HitView>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub chrome: Chrome,
    pub username: String,
    pub email: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "reset_request.html")]
pub struct ResetRequestPage {
    pub chrome: Chrome,
    pub sent: bool,
    pub email: String,
}

#[derive(Template)]
#[template(path = "reset_confirm.html")]
pub struct ResetConfirmPage {
    pub chrome: Chrome,
    pub token: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub email: String,
    pub notice: Option<String>,
    pub errors: Vec<String>,
    /// A token just made: shown this once.
    pub new_token: Option<String>,
    pub tokens: Vec<TokenView>,
    /// The member's ready datasets, `(id, label)`, for a new token.
    pub datasets: Vec<(String, String)>,
    /// What the token form held, kept when it failed.
    pub token_label: String,
    pub token_days: String,
    /// The portal's public URL, for the example.
    pub api_base: String,
}

/// An API token on the account page.
pub struct TokenView {
    pub id: String,
    pub label: String,
    pub dataset: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
    /// What its lines became: "6 read, 5 stored, 1 rejected", or "none yet".
    pub lines: String,
    /// Its latest rejected lines.
    pub rejects: Vec<RejectView>,
}

pub struct ModlogView {
    pub moderator: String,
    pub action: String,
    pub target_url: String,
    pub target: String,
    pub reason: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "modlog.html")]
pub struct ModlogPage {
    pub chrome: Chrome,
    pub entries: Vec<ModlogView>,
}

pub struct UserAdminView {
    pub name: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub chrome: Chrome,
    pub tags: Vec<TagRow>,
    pub users: Vec<UserAdminView>,
    pub errors: Vec<String>,
    pub new_slug: String,
    pub new_description: String,
}

pub struct FeedEntry {
    pub url: String,
    pub title: String,
    pub author: String,
    pub published: String,
    pub updated: String,
    pub summary: String,
    pub content_html: String,
    pub tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "feed.xml")]
pub struct Feed {
    pub title: String,
    pub self_url: String,
    pub page_url: String,
    pub updated: String,
    pub entries: Vec<FeedEntry>,
}
