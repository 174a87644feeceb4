//! Datasets members uploaded (issue 7). A row names a dataset of the lake (its `id` is the
//! lake's dataset name) and says whose it is, how it was parsed and how its ingest went.
//!
//! Who may read one is decided here, in SQL, in one place ([`may_read`]): its owner always;
//! anyone else only while a visible post *of its owner* publishes it (moderators also through
//! the owner's hidden posts). A remix by another member carries the dataset but never
//! publishes it on its own: when the owner deletes their post, or a moderator hides it, the
//! data leaves the public everywhere, remixes included (issue 14, [`Withdrawal`]).
//! Everything else answers as if the dataset did not exist.

use sqlx::FromRow;

use super::ids::{PostId, UserId};
use super::states::{DatasetStatus, ready_sql};
use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct DatasetRow {
    pub id: String,
    pub owner_id: UserId,
    /// The file name shown (a label, never a path; anonymized when the data is).
    pub label: String,
    /// The format parsed (`pf`, `zeek`, ...), empty until known.
    pub format: String,
    pub anonymized: i64,
    #[sqlx(try_from = "String")]
    pub status: DatasetStatus,
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
    pub owner_id: UserId,
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
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(d.id)
    .bind(d.owner_id)
    .bind(d.label)
    .bind(i64::from(d.anonymized))
    .bind(DatasetStatus::Queued.as_str())
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
    owner_id: UserId,
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
pub async fn of_owner(db: &Db, owner_id: UserId) -> Result<Vec<DatasetRow>, sqlx::Error> {
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
    pub user: Option<UserId>,
    pub moderator: bool,
}

/// SQL: whether a post of the dataset's owner carries the dataset named by `$ds` (an SQL
/// expression), the dataset being ready, among the owner's posts that are not hidden, or also
/// hidden ones when `$also_hidden` (an SQL condition) holds. The one definition of
/// "published" that [`may_read`], [`is_public`] and the gallery's thumbnails share.
macro_rules! carried_by_owner {
    ($ds:literal, $also_hidden:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM post_data cb_pd JOIN posts cb_p ON cb_p.id = cb_pd.post_id \
             JOIN datasets cb_d ON cb_d.id = cb_pd.dataset_id \
             WHERE cb_pd.dataset_id = ",
            $ds,
            " AND cb_d.status = ",
            $crate::db::states::ready_sql!(),
            " AND cb_p.author_id = cb_d.owner_id \
             AND (cb_p.hidden_reason IS NULL OR ",
            $also_hidden,
            "))"
        )
    };
}
pub(crate) use carried_by_owner;

/// Whether `reader` may read dataset `id`: its owner, or anyone while a post of its owner
/// that is not hidden publishes it (moderators see through the owner's hidden posts too). A
/// ready dataset only: one still ingesting or failed has nothing to read.
pub async fn may_read(db: &Db, id: &str, reader: Reader) -> Result<bool, sqlx::Error> {
    let n = sqlx::query_scalar::<_, i64>(concat!(
        "SELECT COUNT(*) FROM datasets d WHERE d.id = $1 AND d.status = ",
        ready_sql!(),
        " AND (d.owner_id = $2 OR ",
        carried_by_owner!("d.id", "$3 = 1"),
        ")"
    ))
    .bind(id)
    .bind(reader.user.unwrap_or(UserId(-1)))
    .bind(i64::from(reader.moderator))
    .fetch_one(&db.pool)
    .await?;
    Ok(n > 0)
}

/// Whether anyone at all may read dataset `id` (a visible post of its owner publishes it).
pub async fn is_public(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let n = sqlx::query_scalar::<_, i64>(concat!(
        "SELECT COUNT(*) FROM datasets d WHERE d.id = $1 AND ",
        carried_by_owner!("d.id", "1 = 0")
    ))
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    Ok(n > 0)
}

/// Why the public may not read the data of a post that had some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// Its owner deleted the post that published it (the dataset is gone, or kept only in
    /// the owner's own drafts).
    ByAuthor,
    /// A moderator hid the owner's post that published it; unhiding brings it back.
    ByModerator,
}

/// Why dataset `id` (`None`: deleted) is not public. Only meaningful when [`is_public`] is
/// false: a hidden post of the owner still carrying it means a moderator withdrew it.
pub async fn withdrawal(db: &Db, id: Option<&str>) -> Result<Withdrawal, sqlx::Error> {
    let Some(id) = id else {
        return Ok(Withdrawal::ByAuthor);
    };
    let n = sqlx::query_scalar::<_, i64>(concat!(
        "SELECT COUNT(*) FROM datasets d WHERE d.id = $1 AND ",
        carried_by_owner!("d.id", "1 = 1")
    ))
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    Ok(if n > 0 {
        Withdrawal::ByModerator
    } else {
        Withdrawal::ByAuthor
    })
}

/// Marks the ingest's state (running, queued, failed; [`set_ready`] for ready) with the
/// member-facing error.
pub async fn set_status(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    status: DatasetStatus,
    error: &str,
    summary: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE datasets SET status = $1, error = $2, summary = COALESCE($3, summary), updated_at = $4 WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(summary)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a committed ingest: the dataset is ready. Both updates run on the caller's
/// connection, in the transaction that ends the job (see `jobs::finish`).
pub async fn set_ready(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    format: &str,
    rows: i64,
    summary: &str,
    parse: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE datasets SET status = $1, error = '', format = $2, row_count = $3, summary = $4, parse = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(DatasetStatus::Ready.as_str())
    .bind(format)
    .bind(rows)
    .bind(summary)
    .bind(parse)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the rows a dataset holds after live appends (issue 18): the count only grows, so
/// two appends whose commits are recorded out of order leave the larger.
pub async fn grow_rows(db: &Db, id: &str, rows: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE datasets SET row_count = $1, updated_at = $2 WHERE id = $3 AND row_count < $4",
    )
    .bind(rows)
    .bind(now)
    .bind(id)
    .bind(rows)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Deletes dataset `id` of `owner_id` once nothing of its owner uses it any more (no post,
/// no draft of theirs), with every trace of it in other members' posts and drafts: remixes
/// keep their post but lose the dataset, the thumbnail drawn from it and the analysis
/// findings computed from it; drafts lose the dataset. Returns the removed thumbnails' image
/// ids (their files are the caller's to remove), or `None` when the dataset is not the
/// owner's or the owner still uses it.
pub async fn purge(
    db: &Db,
    id: &str,
    owner_id: UserId,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    // Checks and claims the row in one write, so the decision holds until the commit.
    let claimed = sqlx::query(
        "UPDATE datasets SET updated_at = updated_at WHERE id = $1 AND owner_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM post_data pd JOIN posts p ON p.id = pd.post_id \
                         WHERE pd.dataset_id = $3 AND p.author_id = $4) \
         AND NOT EXISTS (SELECT 1 FROM drafts WHERE dataset_id = $5 AND owner_id = $6)",
    )
    .bind(id)
    .bind(owner_id)
    .bind(id)
    .bind(owner_id)
    .bind(id)
    .bind(owner_id)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    let thumbs = sqlx::query_as::<_, (PostId, String)>(
        "SELECT post_id, thumb_image FROM post_data WHERE dataset_id = $1 AND thumb_image IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE post_data SET dataset_id = NULL, thumb_image = NULL, analysis = '' WHERE dataset_id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    for (post, image) in &thumbs {
        sqlx::query("DELETE FROM images WHERE id = $1 AND post_id = $2")
            .bind(image)
            .bind(post)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE drafts SET dataset_id = NULL WHERE dataset_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM datasets WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(thumbs.into_iter().map(|(_, image)| image).collect()))
}
