//! The reads every visitor shares, through [`crate::web::cache::shared`]: a page of post
//! cards, the tag list, and a post with its comments, tags, images and data. Handlers call
//! these instead of the queries so that a member's page waits on no database; whether the
//! visitor may see what was read is still decided by the handler, per request.

use std::sync::Arc;

use crate::db::comments::{self, CommentRow};
use crate::db::ids::PostId;
use crate::db::images::{self, ImageRow};
use crate::db::post_data::{self, PostDataRow};
use crate::db::posts::{self, Listing, PostRow};
use crate::db::tags::{self, TagRow};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{CardList, Cards, PostCard, Rendered};
use crate::web::cache::shared::Weigh;

/// A post with everything its page shows, as stored.
pub struct PostBundle {
    pub post: PostRow,
    pub comments: Vec<CommentRow>,
    pub tags: Vec<String>,
    pub images: Vec<ImageRow>,
    pub data: Option<PostDataRow>,
}

/// Page `page` of `which` (newest first), `per_page` cards to a page.
pub async fn cards(
    state: &AppState,
    which: Listing<'_>,
    page: i64,
    per_page: i64,
) -> Result<Arc<Cards>, AppError> {
    let key = format!("cards {} {page} {per_page}", listing_key(&which));
    let read = state.reads.get_or_load(&key, state.now(), || async {
        let mut rows = posts::list(&state.db, which, per_page + 1, (page - 1) * per_page).await?;
        let has_next = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        let posts: Vec<PostCard> = rows.into_iter().map(PostCard::from).collect();
        let html = Rendered::of(&CardList { posts: &posts })?;
        Ok::<_, AppError>(Cards {
            posts,
            has_next,
            html,
        })
    });
    read.await
}

/// The tag slugs (the front page's list).
pub async fn tag_slugs(state: &AppState) -> Result<Arc<Vec<TagRow>>, AppError> {
    let read = state
        .reads
        .get_or_load("tag-slugs", state.now(), || tags::slugs(&state.db));
    Ok(read.await?)
}

/// Post `id` with its comments, tags, images and data, hidden or not; `None` if there is none.
pub async fn post(state: &AppState, id: PostId) -> Result<Arc<Option<PostBundle>>, AppError> {
    let key = format!("post {id}");
    let read = state.reads.get_or_load(&key, state.now(), || async {
        let db = &state.db;
        let Some(post) = posts::get(db, id).await? else {
            return Ok::<_, sqlx::Error>(None);
        };
        Ok(Some(PostBundle {
            post,
            comments: comments::for_post(db, id).await?,
            tags: tags::of_post(db, id).await?,
            images: images::for_post(db, id).await?,
            data: post_data::get(db, id).await?,
        }))
    });
    Ok(read.await?)
}

/// A listing's part of a key: its kind and what it is filtered by.
fn listing_key(which: &Listing<'_>) -> String {
    match which {
        Listing::All => "all".into(),
        Listing::Gallery => "gallery".into(),
        Listing::GalleryTag(t) => format!("gallery-tag {t}"),
        Listing::Tag(t) => format!("tag {t}"),
        Listing::Author(id) => format!("author {id}"),
    }
}

/// Weigh by the strings a type holds (its fixed-size fields are counted by its size).
macro_rules! weigh_strings {
    ($t:ty: $($field:ident),*) => {
        impl Weigh for $t {
            fn weigh(&self) -> usize {
                0 $(+ self.$field.weigh())*
            }
        }
    };
}

weigh_strings!(PostCard: title, teaser, author, date, datetime, tags, thumb);
weigh_strings!(Cards: posts, has_next, html);

impl Weigh for Rendered {
    fn weigh(&self) -> usize {
        self.bytes()
    }
}
weigh_strings!(TagRow: slug, description);
weigh_strings!(PostRow: author, kind, title, body, body_html, teaser, tool, data_source, hidden_reason);
weigh_strings!(CommentRow: author, body, body_html, hidden_reason);
weigh_strings!(ImageRow: id, alt, mime);
weigh_strings!(PostDataRow: dataset_id, recipe, analysis, thumb_image);
weigh_strings!(PostBundle: post, comments, tags, images, data);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_have_distinct_keys() {
        let keys = [
            listing_key(&Listing::All),
            listing_key(&Listing::Gallery),
            listing_key(&Listing::GalleryTag("dns")),
            listing_key(&Listing::Tag("dns")),
            listing_key(&Listing::Author(crate::db::ids::UserId::from(7))),
        ];
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    }
}
