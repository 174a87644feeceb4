//! Full-text search over visible posts and comments: FTS5 on SQLite, tsvector/GIN on
//! PostgreSQL. Member input never becomes query syntax: on SQLite it is cut into words that
//! are each quoted as FTS5 strings; on PostgreSQL `websearch_to_tsquery` parses it. Both are
//! bound as parameters.

use sqlx::FromRow;

use super::ids::{CommentId, PostId};
use super::{Backend, Db};

#[derive(Debug, Clone, FromRow)]
pub struct Hit {
    pub post_id: PostId,
    pub comment_id: Option<CommentId>,
    pub title: String,
    pub body: String,
    pub author: String,
    pub created_at: i64,
}

/// The FTS5 expression for a member's query: every word quoted, all required. Empty when
/// the query has no words.
pub fn fts5_query(q: &str) -> String {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn posts(db: &Db, q: &str, limit: i64) -> Result<Vec<Hit>, sqlx::Error> {
    match db.backend {
        Backend::Sqlite => {
            let expr = fts5_query(q);
            if expr.is_empty() {
                return Ok(Vec::new());
            }
            sqlx::query_as::<_, Hit>(
                "SELECT p.id AS post_id, NULL AS comment_id, p.title, p.teaser AS body, u.username AS author, p.created_at \
                 FROM posts_fts f JOIN posts p ON p.id = f.rowid JOIN users u ON u.id = p.author_id \
                 WHERE posts_fts MATCH $1 AND p.hidden_reason IS NULL ORDER BY bm25(posts_fts, 4.0, 1.0) LIMIT $2",
            )
            .bind(expr)
            .bind(limit)
            .fetch_all(&db.pool)
            .await
        }
        Backend::Postgres => {
            sqlx::query_as::<_, Hit>(
                "SELECT p.id AS post_id, CAST(NULL AS BIGINT) AS comment_id, p.title, p.teaser AS body, u.username AS author, p.created_at \
                 FROM posts p JOIN users u ON u.id = p.author_id \
                 WHERE p.search @@ websearch_to_tsquery('english', $1) AND p.hidden_reason IS NULL \
                 ORDER BY ts_rank(p.search, websearch_to_tsquery('english', $2)) DESC LIMIT $3",
            )
            .bind(q)
            .bind(q)
            .bind(limit)
            .fetch_all(&db.pool)
            .await
        }
    }
}

pub async fn comments(db: &Db, q: &str, limit: i64) -> Result<Vec<Hit>, sqlx::Error> {
    match db.backend {
        Backend::Sqlite => {
            let expr = fts5_query(q);
            if expr.is_empty() {
                return Ok(Vec::new());
            }
            sqlx::query_as::<_, Hit>(
                "SELECT c.post_id, c.id AS comment_id, p.title, c.body, u.username AS author, c.created_at \
                 FROM comments_fts f JOIN comments c ON c.id = f.rowid JOIN posts p ON p.id = c.post_id JOIN users u ON u.id = c.author_id \
                 WHERE comments_fts MATCH $1 AND c.deleted = 0 AND c.hidden_reason IS NULL AND p.hidden_reason IS NULL \
                 ORDER BY bm25(comments_fts) LIMIT $2",
            )
            .bind(expr)
            .bind(limit)
            .fetch_all(&db.pool)
            .await
        }
        Backend::Postgres => {
            sqlx::query_as::<_, Hit>(
                "SELECT c.post_id, c.id AS comment_id, p.title, c.body, u.username AS author, c.created_at \
                 FROM comments c JOIN posts p ON p.id = c.post_id JOIN users u ON u.id = c.author_id \
                 WHERE c.search @@ websearch_to_tsquery('english', $1) AND c.deleted = 0 AND c.hidden_reason IS NULL AND p.hidden_reason IS NULL \
                 ORDER BY ts_rank(c.search, websearch_to_tsquery('english', $2)) DESC LIMIT $3",
            )
            .bind(q)
            .bind(q)
            .bind(limit)
            .fetch_all(&db.pool)
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fts5_query;

    #[test]
    fn member_input_never_becomes_fts_syntax() {
        assert_eq!(fts5_query("' OR 1=1 --"), "\"OR\" \"1\" \"1\"");
        assert_eq!(
            fts5_query("zeek NEAR(dns) \"x"),
            "\"zeek\" \"NEAR\" \"dns\" \"x\""
        );
        assert_eq!(fts5_query("*^-"), "");
    }
}
