//! Datasets members uploaded (issue 7). A row names a dataset of the lake (its `id` is the
//! lake's dataset name) and says whose it is, how it was parsed and how its ingest went.
//!
//! Who may read one is decided here, in SQL, in one place ([`may_read`]): its owner always;
//! anyone else only while a visible post publishes it (moderators also through hidden posts).
//! Everything else answers as if the dataset did not exist.

use sqlx::FromRow;

use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct DatasetRow {
    pub id: String,
    pub owner_id: i64,
    /// The file name shown (a label, never a path; anonymized when the data is).
    pub label: String,
    /// The format parsed (`pf`, `zeek`, ...), empty until known.
    pub format: String,
    pub anonymized: i64,
    /// `queued`, `running`, `ready` or `failed`.
    pub status: String,
    /// Why the ingest failed, for the member (anonymized when the data is).
    pub error: String,
    pub upload_bytes: i64,
    pub row_count: i64,
    /// JSON: the parse summary with the first rejects (see `data::summary`).
    pub summary: String,
    /// JSON: the parser options used (see `data::recipe::ParserRecipe`).
    pub parse: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DatasetRow {
    pub fn is_anonymized(&self) -> bool {
        self.anonymized != 0
    }
}

macro_rules! dataset_select {
    () => {
        "SELECT id, owner_id, label, format, anonymized, status, error, upload_bytes, row_count, summary, parse, created_at, updated_at FROM datasets "
    };
}

/// A new dataset, queued for ingest.
pub struct NewDataset<'a> {
    pub id: &'a str,
    pub owner_id: i64,
    pub label: &'a str,
    pub anonymized: bool,
    pub upload_bytes: i64,
    pub parse: &'a str,
}

pub async fn insert(
    tx: &mut sqlx::AnyConnection,
    d: &NewDataset<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO datasets (id, owner_id, label, anonymized, status, upload_bytes, parse, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8)",
    )
    .bind(d.id)
    .bind(d.owner_id)
    .bind(d.label)
    .bind(i64::from(d.anonymized))
    .bind(d.upload_bytes)
    .bind(d.parse)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<DatasetRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, DatasetRow>(concat!(dataset_select!(), "WHERE id = $1"))
            .bind(id)
            .fetch_one(&db.pool)
            .await,
    )
}

/// A dataset of `owner_id`, or `None` (missing or someone else's).
pub async fn get_owned(
    db: &Db,
    id: &str,
    owner_id: i64,
) -> Result<Option<DatasetRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, DatasetRow>(concat!(
            dataset_select!(),
            "WHERE id = $1 AND owner_id = $2"
        ))
        .bind(id)
        .bind(owner_id)
        .fetch_one(&db.pool)
        .await,
    )
}

/// The datasets of a member, newest first.
pub async fn of_owner(db: &Db, owner_id: i64) -> Result<Vec<DatasetRow>, sqlx::Error> {
    sqlx::query_as::<_, DatasetRow>(concat!(
        dataset_select!(),
        "WHERE owner_id = $1 ORDER BY created_at DESC, id LIMIT 200"
    ))
    .bind(owner_id)
    .fetch_all(&db.pool)
    .await
}

/// Who is asking, for [`may_read`].
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub user: Option<i64>,
    pub moderator: bool,
}

/// Whether `reader` may read dataset `id`: its owner, or anyone while a post that is not
/// hidden publishes it (moderators see through hidden posts too). A ready dataset only:
/// one still ingesting or failed has nothing to read.
pub async fn may_read(db: &Db, id: &str, reader: Reader) -> Result<bool, sqlx::Error> {
    let n = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM datasets d WHERE d.id = $1 AND d.status = 'ready' AND (d.owner_id = $2 \
         OR EXISTS (SELECT 1 FROM post_data pd JOIN posts p ON p.id = pd.post_id \
                    WHERE pd.dataset_id = d.id AND (p.hidden_reason IS NULL OR $3 = 1)))",
    )
    .bind(id)
    .bind(reader.user.unwrap_or(-1))
    .bind(i64::from(reader.moderator))
    .fetch_one(&db.pool)
    .await?;
    Ok(n > 0)
}

/// Marks the ingest's state (`running`, `queued`, `failed`) with the member-facing error.
pub async fn set_status(
    db: &Db,
    id: &str,
    status: &str,
    error: &str,
    summary: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE datasets SET status = $1, error = $2, summary = COALESCE($3, summary), updated_at = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(error)
    .bind(summary)
    .bind(now)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records a committed ingest: the dataset is ready.
pub async fn set_ready(
    db: &Db,
    id: &str,
    format: &str,
    rows: i64,
    summary: &str,
    parse: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE datasets SET status = 'ready', error = '', format = $1, row_count = $2, summary = $3, parse = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(format)
    .bind(rows)
    .bind(summary)
    .bind(parse)
    .bind(now)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Whether any post or draft still uses the dataset.
pub async fn in_use(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let n = sqlx::query_scalar::<_, i64>(
        "SELECT (SELECT COUNT(*) FROM post_data WHERE dataset_id = $1) + (SELECT COUNT(*) FROM drafts WHERE dataset_id = $2)",
    )
    .bind(id)
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    Ok(n > 0)
}

/// Deletes the row of a dataset of `owner_id` that nothing uses any more; true if deleted.
pub async fn delete_unused(db: &Db, id: &str, owner_id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM datasets WHERE id = $1 AND owner_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM post_data WHERE dataset_id = $3) \
         AND NOT EXISTS (SELECT 1 FROM drafts WHERE dataset_id = $4)",
    )
    .bind(id)
    .bind(owner_id)
    .bind(id)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}
