//! Two `secviz serve` instances on one PostgreSQL database and one data folder, as several
//! portal instances behind a load balancer run (issue 20):
//!
//! - sessions: a member logs in on one and posts on the other; logging out on one ends the
//!   session on both; a password change on one ends the member's other sessions on both;
//! - the page cache: a post made on one instance is on the other's cached front page at
//!   once (NOTIFY), not after the cache's time to live, and on a member's front page there,
//!   rendered from the reads every visitor shares;
//! - jobs: uploads through both are each ingested exactly once; a big ingest is killed with
//!   its instance (SIGKILL, mid-parse) and finished by the other; no job runs twice (every
//!   dataset holds its file's lines exactly once; only the killed job has a second attempt);
//! - rate limits: failed log-ins spread over both instances count against one limit.

use crate::common;

use std::time::{Duration, Instant};

use common::portal::{Browser, PASSWORD, Page, Server, Site, csrf_in, percent, pf_lines};
use reqwest::StatusCode;

fn logged_in(page: &Page) -> bool {
    page.body.contains("action=\"/logout\"")
}

/// The lake's row count of dataset `name`, read through the query API.
async fn rows(b: &Browser, name: &str) -> u64 {
    let page = b.count(name).await;
    assert_eq!(page.status, StatusCode::OK, "{name}: {}", page.body);
    let at = page.body.find("\"n\":").expect("a count") + 4;
    page.body[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgresql() {
    let site = Site::new(true);
    let mut servers = vec![
        ("a", site.start_with(&["--instance", "a"])),
        ("b", site.start_with(&["--instance", "b"])),
    ];
    let base = |servers: &[(&str, Server)], name: &str| {
        servers
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
            .base
            .clone()
    };
    let (a, b) = (base(&servers, "a"), base(&servers, "b"));

    // ---- The page cache of A holds the front page.
    let visitor = Browser::anonymous(&servers[0].1);
    visitor.get("/").await;
    let cached = visitor.get("/").await;
    assert_eq!(cached.x_cache, "hit", "A caches its front page");

    // ---- Logged in on A, a member on B: posts there.
    let mut ana = Browser::login(&servers[0].1).await;
    // A's shared reads hold the front page's cards for members.
    for _ in 0..2 {
        assert!(logged_in(&ana.get("/").await));
    }
    ana.base = b.clone();
    assert!(logged_in(&ana.get("/").await), "A's session is known on B");
    let r = ana
        .add_post(
            &[
                ("action", "publish"),
                ("kind", "discussion"),
                ("title", "Posted on B"),
                ("body", "Logged in on A."),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let post = r.location;
    ana.base = a.clone();
    assert!(ana.get(&post).await.body.contains("Logged in on A."));

    // ---- A's cached front page forgets itself when B announces the write.
    let started = Instant::now();
    loop {
        let front = visitor.get("/").await;
        if front.body.contains("Posted on B") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "A still serves its cached front page ({}) without B's post",
            front.x_cache
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The same announcement made A forget the cards its members' pages are drawn from.
    ana.base = a.clone();
    let front = ana.get("/").await;
    assert!(logged_in(&front) && front.body.contains("Posted on B"));

    // ---- Logging out on B ends the session on A too.
    ana.base = b.clone();
    let token = ana.csrf("/").await;
    let r = ana.post_form("/logout", &[("csrf", &token)]).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    ana.base = a.clone();
    assert!(
        !logged_in(&ana.get("/").await),
        "logged out on B, still in on A"
    );

    // ---- A password change on A ends the member's other sessions, on both.
    let mut elsewhere = Browser::login(&servers[1].1).await;
    let here = Browser::login(&servers[0].1).await;
    assert!(logged_in(&elsewhere.get("/").await));
    let token = here.csrf("/account").await;
    let new_password = "harbor quilt ember saddle";
    let r = here
        .post_form(
            "/account/password",
            &[
                ("csrf", &token),
                ("current", PASSWORD),
                ("new", new_password),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Password changed."), "{}", r.body);
    for server in [&a, &b] {
        elsewhere.base = server.clone();
        assert!(
            !logged_in(&elsewhere.get("/").await),
            "the other session still works on {server}"
        );
    }
    let mut ana = here;
    ana.base = b.clone();
    assert!(
        logged_in(&ana.get("/").await),
        "the session that changed the password goes on, on B too"
    );

    // ---- Uploads through both instances, each ingested once.
    let mut drafts = Vec::new();
    for i in 0..6 {
        ana.base = if i % 2 == 0 { a.clone() } else { b.clone() };
        let lines = 2_000 + 100 * i;
        let text = pf_lines(10_000 * i, lines);
        let r = ana
            .add_post(
                &[
                    ("title", &format!("Week {i}")),
                    ("body", "b"),
                    ("data_format", "pf"),
                    ("data_year", "2025"),
                    ("data_text", &text),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        drafts.push(r.location);
    }
    for d in &drafts {
        ana.wait_ready(d).await;
    }
    let small = site.committed();
    let mut counts = Vec::new();
    for name in &small {
        counts.push(rows(&ana, name).await);
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (0..6).map(|i| 2_000 + 100 * i).collect::<Vec<u64>>(),
        "each upload's lines, once"
    );
    let owners = site.sql("SELECT owner FROM ingest_jobs ORDER BY id");
    eprintln!("the small uploads were ingested by: {owners:?}");

    // ---- A big ingest, killed with the instance running it, finished by the other.
    ana.base = a.clone();
    let lines = 300_000;
    let r = ana
        .add_post(
            &[
                ("title", "Big week"),
                ("body", "b"),
                ("data_format", "pf"),
                ("data_year", "2025"),
            ],
            Some(pf_lines(1_000_000, lines).into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location;
    let started = Instant::now();
    let owner = loop {
        let page = ana.get(&draft).await.body;
        let running = site.sql("SELECT owner FROM ingest_jobs WHERE state = 'running'");
        if percent(&page).is_some_and(|p| p >= 5) && running.len() == 1 {
            break running[0].clone();
        }
        assert!(
            !page.contains("data-status=\"ready\""),
            "the ingest ended before it could be killed; make the log larger"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let victim = servers.iter().position(|(n, _)| *n == owner).unwrap();
    let (victim_name, victim_server) = servers.remove(victim);
    victim_server.kill9();
    let (survivor_name, survivor) = (servers[0].0, servers[0].1.base.clone());
    eprintln!("killed {victim_name} mid-ingest; {survivor_name} goes on");
    ana.base = survivor.clone();
    let page = ana.wait_ready(&draft).await;
    assert!(page.contains(&format!("Ready: {lines} events")), "{page}");
    let big: Vec<String> = site
        .committed()
        .into_iter()
        .filter(|n| !small.contains(n))
        .collect();
    assert_eq!(big.len(), 1, "{big:?}");
    assert_eq!(rows(&ana, &big[0]).await, lines as u64, "every line once");

    // No job ran twice: the killed one was attempted twice (and finished by the
    // survivor), every other once.
    let jobs = site.sql("SELECT state, attempts, owner FROM ingest_jobs ORDER BY id");
    assert_eq!(jobs.len(), 7, "{jobs:?}");
    for job in &jobs[..6] {
        assert!(job.starts_with("done|1|"), "{jobs:?}");
    }
    assert_eq!(jobs[6], format!("done|2|{survivor_name}"), "{jobs:?}");

    // ---- Failed log-ins over both instances count against one limit (10 a minute).
    servers.push((victim_name, site.start_with(&["--instance", victim_name])));
    let bases = [base(&servers, "a"), base(&servers, "b")];
    let mut guesser = Browser::anonymous(&servers[0].1);
    for n in 0..10 {
        guesser.base = bases[n % 2].clone();
        let token = csrf_in(&guesser.get("/login").await.body);
        let r = guesser
            .post_form(
                "/login",
                &[
                    ("csrf", &token),
                    ("username", "ana"),
                    ("password", "wrong guess"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "guess {n}: {}", r.body);
    }
    for server in &bases {
        guesser.base = server.clone();
        let token = csrf_in(&guesser.get("/login").await.body);
        let r = guesser
            .post_form(
                "/login",
                &[
                    ("csrf", &token),
                    ("username", "ana"),
                    ("password", new_password),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the 11th try on {server} is refused, whatever instance counted the others"
        );
    }
}
