//! Benchmark server: seeds a data folder with 10,000 posts and 100,000 comments on SQLite
//! (once; re-runs reuse it) and serves it with the real app. Used by `bench/portal/run.sh`.
//!
//! usage: bench_server <data-dir> <addr> [nocache]
//! Prints `ready http://ADDR post=ID` when serving.

use std::time::Instant;

use secviz_portal::db::{comments, posts, tags};
use secviz_portal::domain::TagSlug;
use secviz_portal::{App, Config, RateLimits, Role, markdown, members};

const POSTS: i64 = 10_000;
const COMMENTS_PER_POST: i64 = 10;
const TAGS: [&str; 8] = [
    "firewall", "netflow", "zeek", "pcap", "sshd", "web-logs", "dns", "graphs",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data = args.next().unwrap_or_else(|| "bench-data".into());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18080".into());
    let mut config = Config::new(&data);
    config.addr = addr.parse()?;
    config.limits = RateLimits::generous();
    config.page_cache = args.next().as_deref() != Some("nocache");
    let db = members::open_db(&config).await?;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(&db.pool)
        .await?;
    if have < POSTS {
        seed(&db).await?;
    }
    let post: i64 = sqlx::query_scalar("SELECT MAX(id) FROM posts")
        .fetch_one(&db.pool)
        .await?;
    db.close().await;
    let server = App::build(config).await?.bind().await?;
    println!("ready http://{} post={post}", server.local_addr());
    server.run().await
}

async fn seed(db: &secviz_portal::db::Db) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let mut authors = Vec::new();
    for i in 0..50 {
        let role = if i == 0 { Role::Admin } else { Role::Member };
        authors.push(
            members::create(
                db,
                &format!("analyst{i}"),
                None,
                "bench passphrase long enough",
                role,
                1_700_000_000,
            )
            .await?,
        );
    }
    for t in TAGS {
        tags::upsert(
            db,
            &TagSlug::parse(t).map_err(|e| anyhow::anyhow!("{e}"))?,
            "seeded tag",
            1_700_000_000,
        )
        .await?;
    }
    let mut tx = db.pool.begin().await?;
    for i in 0..POSTS {
        let body = format!(
            "Week {i}: top talkers from the edge firewall.\n\n```\nblock in on em0 proto tcp from 203.0.113.{} to 198.51.100.{} port 22\n```\n\n\
             | source | blocks |\n|---|---|\n| 203.0.113.{} | {} |\n\nThe **link graph** shows [clusters](https://example.org/{i}) of scanners; \
             most are short-lived and hit port 22 and 3389. We colour nodes by country and size them by fan-out.",
            i % 250,
            i % 200,
            i % 250,
            i * 7 % 1000
        );
        let html = markdown::render(&body);
        let teaser = markdown::plain_excerpt(&body, 280);
        let kind = if i % 3 == 0 { "gallery" } else { "discussion" };
        let title = format!("Scanner activity report number {i}");
        let f = posts::PostFields {
            kind,
            title: &title,
            body: &body,
            body_html: &html,
            teaser: &teaser,
            tool: "secviz graph",
            data_source: "pf logs",
        };
        let id = posts::insert(
            &mut tx,
            authors[(i % 50) as usize],
            &f,
            1_700_000_000 + i * 60,
        )
        .await?;
        let slug = TagSlug::parse(TAGS[(i % 8) as usize]).map_err(|e| anyhow::anyhow!("{e}"))?;
        tags::set_for_post(&mut tx, id, &[slug]).await?;
    }
    tx.commit().await?;
    println!("seeded {POSTS} posts in {:.1?}", t0.elapsed());
    let t1 = Instant::now();
    let body = "Did you filter **internal** scanners first? Here is what we saw:\n\n```\nport 22: 1200\nport 3389: 800\n```";
    let html = markdown::render(body);
    for post in 1..=POSTS {
        for c in 0..COMMENTS_PER_POST {
            let author = authors[((post + c) % 50) as usize];
            comments::insert(
                db,
                secviz_portal::db::ids::PostId(post),
                author,
                None,
                body,
                &html,
                1_700_000_000 + post * 60 + c,
            )
            .await?;
        }
    }
    println!(
        "seeded {} comments in {:.1?}",
        POSTS * COMMENTS_PER_POST,
        t1.elapsed()
    );
    Ok(())
}
