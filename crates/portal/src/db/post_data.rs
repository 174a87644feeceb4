//! What makes a post a data post (issue 7): its dataset, its recipe, the analysis findings
//! it shows, its server-drawn picture, and the post it was remixed from. A remix whose
//! dataset was withdrawn by its owner keeps its row without a dataset, thumbnail or findings
//! (`db::datasets::purge`).

use sqlx::FromRow;

use super::ids::PostId;
use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct PostDataRow {
    pub post_id: PostId,
    /// `None` once the dataset was withdrawn for good (deleted by its owner).
    pub dataset_id: Option<String>,
    /// The recipe (JSON, `data::recipe::Recipe`).
    pub recipe: String,
    /// Findings of a built-in analysis (JSON), computed when the post was published.
    pub analysis: String,
    pub thumb_image: Option<String>,
    pub remixed_from: Option<PostId>,
}

pub async fn insert(tx: &mut sqlx::AnyConnection, row: &PostDataRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO post_data (post_id, dataset_id, recipe, analysis, thumb_image, remixed_from) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.post_id)
    .bind(&row.dataset_id)
    .bind(&row.recipe)
    .bind(&row.analysis)
    .bind(&row.thumb_image)
    .bind(row.remixed_from)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, post_id: PostId) -> Result<Option<PostDataRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, PostDataRow>(
            "SELECT post_id, dataset_id, recipe, analysis, thumb_image, remixed_from FROM post_data WHERE post_id = $1",
        )
        .bind(post_id)
        .fetch_one(&db.pool)
        .await,
    )
}
