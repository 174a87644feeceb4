//! GET /p/{id} — a post, its images and its comments (one level of replies). A hidden post is
//! shown only to its author and moderators; to everyone else it does not exist (404). A data
//! post shows its viewer, or why its data was withdrawn.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::db::ids::{PostId, UserId};

use super::data_post::{PostData, withdrawn_sentence};
use super::{Visit, render};
use crate::clock::{day, rfc3339};
use crate::db::comments::CommentRow;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, CommentForm, CommentView, ImageView, PostPage};
use crate::web::Visitor;

/// `?sel=`: a selection to open the viewer with (a comment's link to a node or a time range).
#[derive(serde::Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    sel: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let id = super::id(&id)?;
    page_with(
        &state,
        &visit,
        id,
        CommentForm::default(),
        StatusCode::OK,
        q.sel.as_deref(),
    )
    .await
}

/// Renders the post page; the comment form shows `form` (kept text and error after a failed comment).
pub async fn page(
    state: &AppState,
    v: &Visitor,
    id: PostId,
    form: CommentForm,
    status: StatusCode,
) -> Result<Response, AppError> {
    page_with(state, v, id, form, status, None).await
}

/// [`page`] with the viewer opened on a selection.
pub async fn page_with(
    state: &AppState,
    v: &Visitor,
    id: PostId,
    form: CommentForm,
    status: StatusCode,
    sel: Option<&str>,
) -> Result<Response, AppError> {
    // What every visitor shares comes from memory between writes (`reads`); who may see it
    // is decided here, for this visitor.
    let bundle = crate::reads::post(state, id).await?;
    let Some(b) = bundle.as_ref() else {
        return Err(AppError::NotFound);
    };
    let post = &b.post;
    let me = v.user.as_ref().map(|u| u.id);
    let mine = me == Some(post.author_id);
    let can_moderate = v.can_moderate();
    if post.hidden_reason.is_some() && !mine && !can_moderate {
        return Err(AppError::NotFound);
    }
    let rows = &b.comments;
    let comment_count = rows
        .iter()
        .filter(|c| c.deleted == 0 && c.hidden_reason.is_none())
        .count();
    let (data, withdrawn, thumb) =
        match super::data_post::view(state, v, id, b.data.as_ref(), sel).await? {
            Some((PostData::Shown(d), t)) => (Some(*d), None, t),
            Some((PostData::Withdrawn(w), t)) => (None, Some(withdrawn_sentence(w)), t),
            None => (None, None, None),
        };
    let tpl = PostPage {
        chrome: Chrome::new(v),
        id,
        title: post.title.clone(),
        author: post.author.clone(),
        date: day(post.created_at),
        datetime: rfc3339(post.created_at),
        edited: post.updated_at > post.created_at,
        gallery: post.kind == "gallery",
        tool: post.tool.clone(),
        data_source: post.data_source.clone(),
        body_html: post.body_html.clone(),
        tags: b.tags.clone(),
        images: b
            .images
            .iter()
            // A data post's thumbnail is for the gallery; the page shows the live view (or
            // that the data was withdrawn, and then never a picture of it).
            .filter(|i| thumb.as_deref() != Some(i.id.as_str()))
            .map(|i| ImageView {
                id: i.id.clone(),
                alt: i.alt.clone(),
                width: i.width,
                height: i.height,
            })
            .collect(),
        comments: threads(rows, me),
        comment_count,
        mine,
        can_moderate,
        hidden_reason: post.hidden_reason.clone(),
        form,
        data,
        withdrawn,
    };
    render(status, &tpl)
}

/// Top-level comments in order, each with its replies.
fn threads(rows: &[CommentRow], me: Option<UserId>) -> Vec<CommentView> {
    let view = |c: &CommentRow| CommentView {
        id: c.id,
        author: c.author.clone(),
        date: day(c.created_at),
        datetime: rfc3339(c.created_at),
        edited: c.updated_at > c.created_at && c.deleted == 0,
        body_html: c.body_html.clone(),
        deleted: c.deleted != 0,
        hidden_reason: c.hidden_reason.clone(),
        mine: me == Some(c.author_id),
        replies: Vec::new(),
    };
    let mut tops: Vec<CommentView> = rows
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(view)
        .collect();
    for r in rows.iter().filter(|c| c.parent_id.is_some()) {
        if let Some(t) = tops.iter_mut().find(|t| Some(t.id) == r.parent_id) {
            t.replies.push(view(r));
        }
    }
    tops
}
