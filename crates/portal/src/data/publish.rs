//! Drafts become posts, posts become remixes.
//!
//! Publishing draws the recipe's picture on the server (the thumbnail the gallery shows),
//! runs the recipe's analysis once (its findings are kept with the post), and writes the
//! post, its tags, its picture and its recipe in one transaction that also removes the
//! draft. The post is a gallery entry: tool "secviz", data source the upload's label.

use secviz_lake::query::{Access, QueryLimits};

use super::ids::DatasetId;
use super::picture;
use super::recipe::Recipe;
use crate::db::datasets::{self, Reader};
use crate::db::drafts::{self, DraftRow, NewDraft};
use crate::db::ids::{DraftId, PostId, UserId};
use crate::db::post_data::{self, PostDataRow};
use crate::db::{images as image_rows, posts, tags};
use crate::domain::{PostBody, TagSlug, Title};
use crate::images;
use crate::markdown;
use crate::state::AppState;

/// Why a draft could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Something the member can fix (shown on the draft page).
    #[error("{0}")]
    Member(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PublishError {
    fn from(e: sqlx::Error) -> Self {
        PublishError::Internal(anyhow::Error::new(e).context("database"))
    }
}

/// The text of a post, validated.
pub struct PostText {
    pub title: Title,
    pub body: PostBody,
    pub tags: Vec<TagSlug>,
}

/// A short description of the view for the post's "tool" line.
pub fn tool_line(recipe: &Recipe) -> String {
    let kind = match &recipe.analysis {
        Some(a) => format!("analysis {}", a.name),
        None => serde_json::to_value(recipe.view.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
    };
    match &recipe.view.graph {
        Some(g) if picture::is_graph(&recipe.view) => {
            format!("secviz {kind}, layout seed {}", g.seed)
        }
        _ => format!("secviz {kind}"),
    }
}

/// What publishing draws, in its job.
struct Drawn {
    /// The analysis result as JSON (empty without an analysis).
    analysis: String,
    thumbnail: images::Processed,
    /// The thumbnail for dark pages (PNG).
    thumbnail_dark: Vec<u8>,
    picture_ms: u64,
    thumbnail_ms: u64,
}

/// Draws the picture, runs the analysis and makes the thumbnail: in a job of the query
/// executor, under the member's limits.
async fn draw(
    pictures: &picture::Pictures,
    lake: &secviz_lake::Lake,
    name: &secviz_lake::DatasetName,
    view: &secviz_views::ViewSpec,
    analysis: Option<&super::recipe::AnalysisRecipe>,
    limits: &secviz_sandbox::JobLimits,
) -> Result<Drawn, PublishError> {
    let started = std::time::Instant::now();
    // The picture and both thumbnails from one build of the graph; the picture goes into
    // the cache the post's page reads.
    let drawn = picture::post_pictures(lake, name, view, picture::limits(limits))
        .await
        .map_err(|e| PublishError::Member(format!("The view could not be drawn: {e}")))?;
    pictures
        .keep(lake, name, view, &drawn.picture)
        .await
        .map_err(|e| PublishError::Member(format!("The view could not be drawn: {e}")))?;
    let analysis = match analysis {
        Some(a) => {
            let pairs: Vec<String> = a.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let params = secviz_lake::analyze::Params::parse(pairs.iter().map(String::as_str))
                .map_err(|e| PublishError::Member(e.to_string()))?;
            let result = lake
                .analyze(
                    &Access::Only(vec![name.clone()]),
                    &a.name,
                    &params,
                    &QueryLimits::member_with(limits.time, limits.memory),
                )
                .await
                .map_err(|e| PublishError::Member(format!("The analysis failed: {e}")))?;
            serde_json::to_string(&result).map_err(anyhow::Error::from)?
        }
        None => String::new(),
    };
    let picture_ms = started.elapsed().as_millis() as u64;
    let thumb_started = std::time::Instant::now();
    let image_limits = images::ImageLimits {
        max_bytes: 64 << 20,
        max_pixels: 40_000_000,
    };
    let processed = |svg: &str| -> anyhow::Result<images::Processed> {
        let png = picture::png(svg).map_err(|e| anyhow::anyhow!("drawing the thumbnail: {e}"))?;
        images::process(&png, image_limits).map_err(|e| anyhow::anyhow!("thumbnail: {e}"))
    };
    let thumbnail = processed(&drawn.thumb_light)?;
    let thumbnail_dark = processed(&drawn.thumb_dark)?.thumb;
    Ok(Drawn {
        analysis,
        thumbnail,
        thumbnail_dark,
        picture_ms,
        thumbnail_ms: thumb_started.elapsed().as_millis() as u64,
    })
}

/// Publishes a draft of `owner` with `text` and `recipe`; returns the new post's id.
pub async fn publish(
    state: &AppState,
    owner: UserId,
    draft: &DraftRow,
    text: &PostText,
    recipe: &Recipe,
) -> Result<PostId, PublishError> {
    let member = |m: &str| PublishError::Member(m.to_string());
    let Some(dataset) = draft.dataset_id.as_deref().and_then(DatasetId::parse) else {
        return Err(member(
            "This draft has no data yet: attach a log file or paste lines first.",
        ));
    };
    let row = datasets::get(&state.db, dataset.as_str())
        .await?
        .ok_or_else(|| member("The data of this draft is gone. Attach it again."))?;
    let readable = datasets::may_read(
        &state.db,
        dataset.as_str(),
        Reader {
            user: Some(owner),
            moderator: false,
        },
    )
    .await?;
    if !readable {
        return Err(member(
            "The data is not ready yet (or no longer published by its owner).",
        ));
    }
    let name = dataset.lake_name();
    let started = std::time::Instant::now();
    // Picture, analysis and thumbnail are member work: one job on the query executor.
    let limits = state.publish_limits();
    let (pictures, lake, view, analysis) = (
        state.pictures.clone(),
        state.lake.clone(),
        recipe.view.clone(),
        recipe.analysis.clone(),
    );
    let drawn = state
        .member_job(&format!("publish:{owner}"), limits, move || async move {
            draw(&pictures, &lake, &name, &view, analysis.as_ref(), &limits).await
        })
        .await
        .map_err(|e| PublishError::Member(format!("The view could not be drawn: {e}")))??;
    let Drawn {
        analysis,
        thumbnail: processed,
        thumbnail_dark,
        picture_ms,
        thumbnail_ms,
    } = drawn;
    let image_id = images::new_id();
    state.images.save(&image_id, &processed).await?;
    state
        .images
        .save_dark_thumb(&image_id, thumbnail_dark)
        .await?;
    let alt = format!(
        "{} of {} ({} events{})",
        if picture::is_graph(&recipe.view) {
            "Link graph"
        } else {
            "Chart"
        },
        row.label,
        row.row_count,
        if row.is_anonymized() {
            ", addresses anonymized"
        } else {
            ""
        }
    );
    image_rows::insert(
        &state.db,
        &image_id,
        owner,
        &alt,
        processed.mime,
        processed.width,
        processed.height,
        state.now(),
    )
    .await?;

    let body_html = markdown::render(text.body.as_str());
    let teaser = markdown::plain_excerpt(text.body.as_str(), 280);
    let data_source = format!(
        "{} ({}, {} events{})",
        row.label,
        if row.format.is_empty() {
            "log"
        } else {
            &row.format
        },
        row.row_count,
        if row.is_anonymized() {
            ", addresses anonymized"
        } else {
            ""
        }
    );
    let tool = tool_line(recipe);
    let fields = posts::PostFields {
        kind: "gallery",
        title: text.title.as_str(),
        body: text.body.as_str(),
        body_html: &body_html,
        teaser: &teaser,
        tool: &tool,
        data_source: &data_source,
    };
    let mut tx = state.db.pool.begin().await?;
    let post_id = posts::insert(&mut tx, owner, &fields, state.now()).await?;
    tags::set_for_post(&mut tx, post_id, &text.tags).await?;
    image_rows::attach(&mut tx, &image_id, owner, post_id, 0, &alt).await?;
    post_data::insert(
        &mut tx,
        &PostDataRow {
            post_id,
            dataset_id: Some(dataset.as_str().to_string()),
            recipe: recipe.to_json(),
            analysis,
            thumb_image: Some(image_id),
            remixed_from: draft.remixed_from,
        },
    )
    .await?;
    drafts::delete_in(&mut tx, draft.id, owner).await?;
    tx.commit().await?;
    // Stage times, for the benchmark (BENCHMARKS.md, "Data posts").
    tracing::info!(
        event = "publish_timings",
        post = post_id.0,
        picture_ms,
        thumbnail_ms,
        total_ms = started.elapsed().as_millis() as u64
    );
    Ok(post_id)
}

/// Copies a post's recipe (and, with `with_data`, its dataset) into a new draft of `owner`.
pub async fn remix(
    state: &AppState,
    owner: UserId,
    post_id: PostId,
    title: &str,
    pd: &PostDataRow,
    with_data: bool,
) -> anyhow::Result<DraftId> {
    let mut recipe = Recipe::from_json(&pd.recipe)
        .ok_or_else(|| anyhow::anyhow!("post {post_id} has a bad recipe"))?;
    if !with_data {
        // The recipe waits for the member's own data; the form keeps the view's choices.
        recipe.parser = Default::default();
    }
    let title = crate::markdown::cut(&format!("Remix of {title}"), 200);
    let body = format!("Remixed from [post {post_id}](/p/{post_id}).\n");
    let mut tx = state.db.pool.begin().await?;
    let id = drafts::insert(
        &mut tx,
        &NewDraft {
            owner_id: owner,
            title: &title,
            body: &body,
            tags: "",
            dataset_id: pd.dataset_id.as_deref().filter(|_| with_data),
            recipe: &recipe.to_json(),
            remixed_from: Some(post_id),
            notice: "",
            images: "",
        },
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
