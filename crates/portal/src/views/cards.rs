//! Lists of post cards (the front page, the gallery, a tag's and a member's posts): the
//! cards, their HTML rendered once for every visitor, and the links between pages.

use askama::Template;

use crate::clock::{day, rfc3339};
use crate::db::ids::PostId;
use crate::db::posts::PostSummary;

/// HTML that one of our templates rendered (escaping everything it shows), to be placed into
/// another page as it is. Only rendering a template makes one: a page that shows it with
/// `|safe` shows nothing a visitor typed unescaped.
pub struct Rendered(String);

impl Rendered {
    pub fn of(tpl: &impl Template) -> askama::Result<Rendered> {
        tpl.render().map(Rendered)
    }

    /// Its size in bytes.
    pub fn bytes(&self) -> usize {
        self.0.len()
    }
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A list of post cards, rendered once for every visitor who sees that page of the list
/// (see [`Cards`]).
#[derive(Template)]
#[template(path = "_cards.html")]
pub struct CardList<'a> {
    pub posts: &'a [PostCard],
}

/// One page of a listing: its cards, whether another page follows, and the cards as HTML
/// (`_cards.html`), rendered once for everyone instead of escaped again for every member
/// (kept by `reads::cards`).
pub struct Cards {
    pub posts: Vec<PostCard>,
    pub has_next: bool,
    pub html: Rendered,
}

/// A post in a list.
pub struct PostCard {
    pub id: PostId,
    pub title: String,
    pub teaser: String,
    pub author: String,
    pub date: String,
    pub datetime: String,
    pub tags: Vec<String>,
    pub comments: i64,
    pub thumb: Option<String>,
    pub gallery: bool,
}

impl From<PostSummary> for PostCard {
    fn from(p: PostSummary) -> Self {
        PostCard {
            id: p.id,
            title: p.title,
            teaser: p.teaser,
            author: p.author,
            date: day(p.created_at),
            datetime: rfc3339(p.created_at),
            tags: p.tags,
            comments: p.comments,
            thumb: p.lead_image,
            gallery: p.kind == "gallery",
        }
    }
}

/// Previous/next links of a paged list.
pub struct Paging {
    pub base: String,
    pub page: i64,
    pub has_next: bool,
}

impl Paging {
    pub fn prev_url(&self) -> Option<String> {
        (self.page > 1).then(|| self.url(self.page - 1))
    }
    pub fn next_url(&self) -> Option<String> {
        self.has_next.then(|| self.url(self.page + 1))
    }
    fn url(&self, page: i64) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}page={page}", self.base)
    }
}
