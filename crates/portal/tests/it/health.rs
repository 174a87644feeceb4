//! `/healthz`, what load balancers and the hostile suite poll: a plain `ok`, for anyone,
//! with no session made and nothing cached, on SQLite and PostgreSQL.

use crate::common;

use common::*;
use reqwest::StatusCode;

async fn healthz_answers_ok_without_a_session(backend: Backend) {
    let app = spawn(backend).await;
    let member = app.member("ana").await;
    let sessions = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    let before = sessions().await;
    for (who, c) in [("anonymous", app.client()), ("member", member)] {
        let r = c.get("/healthz").await;
        assert_eq!(r.status, StatusCode::OK, "{who}");
        assert_eq!(r.body, "ok", "{who}");
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain"),
            "{who}: {:?}",
            r.headers
        );
        // A probe every second must not fill the sessions table.
        assert!(
            !r.headers.contains_key("set-cookie"),
            "{who}: {:?}",
            r.headers
        );
    }
    let head = app
        .client()
        .http
        .head(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(sessions().await, before, "the probes made no session");
    assert_eq!(
        app.pages.stats().entries,
        0,
        "the probe is not a page to cache"
    );
}

on_both!(healthz_answers_ok_without_a_session);
