//! Members' pages are rendered from memory between writes (issue 19.1): the reads every
//! visitor shares (post cards, tags, a post with its comments) and, on SQLite, the member's
//! own session. These tests pin what must never be stale: another member's write, a
//! moderator's decision, an ended session's writes, a demotion.

use reqwest::StatusCode;
use secviz_portal::{REMEMBERED_SESSION_SECS, Role, members};

use crate::common::{self, Backend, spawn};

async fn members_see_every_write_at_once(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let bob = app.member("bob").await;
    let moderator = app.with_role("mod", Role::Moderator).await;
    let id = common::create_post(&bob, "Botnet fan-out", "text", &[], &[]).await;
    let p = format!("/p/{id}");
    // Twice: the second view is the one served from memory.
    for _ in 0..2 {
        assert!(ana.get("/").await.body.contains("Botnet fan-out"));
        assert!(ana.get(&p).await.body.contains("Botnet fan-out"));
    }

    let r = bob
        .submit(&p, &format!("{p}/comments"), &[("body", "Port 1030 again")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        ana.get(&p).await.body.contains("Port 1030 again"),
        "another member's comment, at once"
    );
    assert!(
        ana.get("/").await.body.contains("1 comment<"),
        "and the card's count"
    );

    let fields = [
        ("action", "publish"),
        ("title", "Botnet fan-in"),
        ("body", "text"),
    ];
    let r = bob.submit_post(&format!("{p}/edit"), &fields, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(ana.get(&p).await.body.contains("Botnet fan-in"));
    let front = ana.get("/").await.body;
    assert!(front.contains("Botnet fan-in") && !front.contains("Botnet fan-out"));

    let r = moderator
        .submit(&p, &format!("{p}/hide"), &[("reason", "off topic")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        ana.get(&p).await.status,
        StatusCode::NOT_FOUND,
        "hidden at once"
    );
    assert!(!ana.get("/").await.body.contains("Botnet fan-in"));
    // The same kept rows, decided per visitor: the author and the moderator still see it.
    for who in [&bob, &moderator] {
        let r = who.get(&p).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Botnet fan-in") && r.body.contains("off topic"));
    }
}

async fn an_ended_session_never_writes_and_stops_reading_within_seconds(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    // A second session of hers, for the write (a refused request clears its cookie).
    let writer = app.client();
    let r = writer
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", common::PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = common::create_post(&ana, "Port scans", "text", &[], &[]).await;
    let p = format!("/p/{id}");
    assert_eq!(ana.get("/account").await.status, StatusCode::OK);
    let token = writer.csrf(&p).await;
    // Something other than this instance ends every session in the table.
    sqlx::query("DELETE FROM sessions")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let r = writer
        .post(
            &format!("{p}/comments"),
            &[("csrf", &token), ("body", "written after the end")],
        )
        .await;
    assert!(
        matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
        "a write reads the table: {}",
        r.status
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comments")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing was written");
    match backend {
        Backend::Postgres => {
            assert_eq!(
                ana.get("/account").await.status,
                StatusCode::UNAUTHORIZED,
                "instances share PostgreSQL: every request reads the table"
            );
        }
        Backend::Sqlite => {
            // The one instance remembers the session for a few seconds (that is what spares
            // each page its hop to the database), and no longer.
            app.clock.advance(REMEMBERED_SESSION_SECS - 1);
            assert_eq!(ana.get("/account").await.status, StatusCode::OK);
            app.clock.advance(1);
            assert_eq!(ana.get("/account").await.status, StatusCode::UNAUTHORIZED);
        }
    }
}

async fn privileges_hold_on_the_next_request(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.with_role("root", Role::Admin).await;
    let moderator = app.with_role("mod", Role::Moderator).await;
    let ana = app.member("ana").await;
    let id = common::create_post(&ana, "Firewall puzzle", "text", &[], &[]).await;
    let p = format!("/p/{id}");
    for _ in 0..2 {
        assert_eq!(root.get("/admin").await.status, StatusCode::OK);
        assert!(moderator.get(&p).await.body.contains("/hide\""));
        assert!(!ana.get(&p).await.body.contains("/hide\""));
    }
    // Demoted by another process (`secviz user set-role`): privileged sessions are never
    // remembered, so the next request knows.
    members::set_role(&app.db, "root", Role::Member)
        .await
        .unwrap();
    members::set_role(&app.db, "mod", Role::Member)
        .await
        .unwrap();
    assert_eq!(root.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert!(!moderator.get(&p).await.body.contains("/hide\""));
    // Promoted through the portal: the remembered member's session is forgotten at once.
    let admin = app.with_role("admin2", Role::Admin).await;
    let r = admin
        .submit("/admin", "/admin/users/ana/role", &[("role", "moderator")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        ana.get(&p).await.body.contains("/hide\""),
        "ana moderates from her next page on"
    );
}

on_both!(
    members_see_every_write_at_once,
    an_ended_session_never_writes_and_stops_reading_within_seconds,
    privileges_hold_on_the_next_request,
);
