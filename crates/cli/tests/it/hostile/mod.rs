//! The hostile-input suite (issue 14): the real `secviz serve`, filled by `secviz demo`, on
//! SQLite and on PostgreSQL, attacked over HTTP by every kind of hostile request we know
//! while a steady load of page requests runs beside them.
//!
//! Asserted, for each backend:
//! - the server process stays up;
//! - `/healthz` answers with a p99 under 100 ms during the attack, and a post page with a
//!   p99 under twice its p99 measured just before the attack, under the same page load;
//! - every hostile request ends within its limit (the query time limit plus the
//!   executor's grace and a margin for a debug build) with a clear 4xx or 503 JSON error
//!   (the SQL API, the views API and the live-ingest API), or is cut/closed as its kind requires (a huge
//!   answer is truncated and marked, a slow export or a slow client is cut);
//! - each kind, sent alone first, is evaluated and refused as it should be, and a reader
//!   that stops reading its exports is given one and cut; in the storm that follows (every
//!   kind at once, a flood of queries from one address, the stalled export reader, slow
//!   headers) each is refused likewise or turned away as busy (429 with `Retry-After`);
//! - then floods of log-ins with megabyte user names and of HEAD requests: refused or
//!   answered from the page cache, `/healthz` still under 100 ms, no page failing (the post
//!   page's p99 is printed, not held to twice: these are plain requests, not queries, and
//!   cost what any request costs);
//! - the server's RSS stays under the configured query memory plus 256 MiB;
//! - the syslog receiver beside the portal (issue 18) takes oversized frames, a declared
//!   length of 10 GB, a UDP flood over the sender's rate and more connections than it allows
//!   during the storm, refusing and counting them, while the pages hold the same p99s;
//! - afterwards the posts and the datasets are as they were.
//!
//! Clients are told apart by `X-Forwarded-For` (the server trusts it here), so each kind
//! of attack comes from its own address, and the page load from none of them.
//!
//! The files: [`site`] (the server and its data), [`load`] (the page load and its
//! latencies), [`catalogue`] (the hostile requests), [`slow_clients`] (connections held
//! open), [`limits`] (what the server is started with); this one runs the phases.

mod catalogue;
mod limits;
mod load;
mod site;
mod slow_clients;
mod syslog;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use catalogue::{Outcome, hostile_requests, is_json_error, send};
use limits::{ANSWER_KIB, HEADER_SECONDS, MAX_HOSTILE, QUERY_MEMORY_MIB};
use load::{measure_pages, p99};
use site::{Server, Site, between, count, posts_and_datasets, rss_of};
use slow_clients::{STALL_ALONE, STALL_IN_STORM, StalledExport, slow_headers, stalled_export};

/// How long an attacker waits between its requests.
const PACE: Duration = Duration::from_millis(500);
/// How long the attack lasts (and the calm before it): 30 s gives each p99 about 3,000
/// samples, so that it is the 30th slowest request, not the 20th of 2,000.
const ATTACK: Duration = Duration::from_secs(30);
/// The floods of log-ins and HEAD requests come in this many waves through the attack.
const WAVES: usize = 10;
/// How long the floods of log-ins and HEAD requests last.
const FLOOD: Duration = Duration::from_secs(8);
/// The page load: `/healthz` and a post page, in every phase alike.
const PAGES: [&str; 2] = ["/healthz", "/p/1"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_on_sqlite_under_page_load() {
    the_attack(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_on_postgresql_under_page_load() {
    the_attack(true).await;
}

/// The site under attack, as the tests reach it.
struct Target {
    server: Server,
    base: String,
    http: reqwest::Client,
    /// The largest demo dataset (the botnet, 20,000 events), which serves the attacks.
    dataset: String,
}

async fn the_attack(postgres: bool) {
    // The latencies measured must be the server's, not a neighbour's: alone in the process
    // here, and alone on the machine under nextest (threads-required in .config/nextest.toml).
    secviz_testkit::require_own_process("the hostile-input suite");
    let site = Site::new(postgres);
    let server = site.start();
    let base = server.base();
    // Idle connections are dropped before the server's header timeout would close them.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let posts = posts_and_datasets(&http, &base).await;
    let mut before = Vec::new();
    for (_, _, ds) in &posts {
        before.push(count(&http, &base, ds).await);
    }
    let dataset = posts[0].2.clone();
    let mut t = Target {
        server,
        base,
        http,
        dataset,
    };

    legitimate_heavy_query_runs(&t).await;
    first_dashboard_viewer(&t).await;
    let unloaded = calm(&t).await;
    let peak_rss = PeakRss::start(&t.server);
    eprintln!("RSS before the attack: {} MiB", t.server.rss() >> 20);
    each_kind_alone(&t).await;
    eprintln!(
        "RSS after each kind alone: {} MiB (peak {} MiB)",
        t.server.rss() >> 20,
        peak_rss.peak() >> 20
    );
    let storm = storm(&mut t).await;
    storm.check(unloaded, peak_rss.peak(), postgres);
    syslog_refused_and_counted(&site, &storm.syslog).await;
    drop(peak_rss);
    floods(&mut t).await;
    cut_and_marked(&t).await;

    // Nothing was lost.
    assert_eq!(posts_and_datasets(&t.http, &t.base).await, posts);
    for ((_, _, ds), n) in posts.iter().zip(&before) {
        assert_eq!(&count(&t.http, &t.base, ds).await, n, "{ds}");
    }
    assert!(t.server.alive());
}

/// The syslog receiver refused the storm's hostile frames and counted them: frames over the
/// cap on TCP, datagrams over the sender's rate on UDP (or dropped by the kernel, counted).
async fn syslog_refused_and_counted(site: &Site, sent: &syslog::Sent) {
    eprintln!("syslog senders: {sent:?}");
    assert!(
        sent.oversized_frames > 0 && sent.connections_tried > 16,
        "the senders did not get through: {sent:?}"
    );
    let started = Instant::now();
    loop {
        let tcp = site.syslog_record("syslog-tcp");
        let udp = site.syslog_record("syslog-udp");
        let count = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
        let too_long = count(&tcp["summary"]["rejected"]["line_too_long"]);
        let limited = count(&udp["summary"]["rejected"]["rate_limited"]);
        let dropped = count(&udp["dropped"]);
        if too_long > 0 && limited + dropped > 0 {
            assert!(
                too_long <= sent.oversized_frames,
                "more oversized frames counted than sent: {tcp}"
            );
            assert!(
                count(&udp["summary"]["read"]) + dropped <= sent.udp_datagrams,
                "more datagrams counted than sent: {udp}"
            );
            eprintln!(
                "syslog receiver: {too_long} frames over the cap refused; {limited} datagrams over the rate refused, {dropped} dropped"
            );
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the receiver did not count the hostile frames: tcp {tcp}, udp {udp}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The demo's public SOC dashboard has a first viewer before the attack, who waits for its
/// computation (every five minutes for demo data); the attack's viewers then share it.
async fn first_dashboard_viewer(t: &Target) {
    let started = Instant::now();
    let r = t
        .http
        .get(format!("{}/dash/1/panels", t.base))
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    eprintln!("the demo dashboard computed in {:?}", started.elapsed());
}

/// A legitimate heavy query still runs: a full GROUP BY over the largest dataset.
async fn legitimate_heavy_query_runs(t: &Target) {
    let r = t
        .http
        .post(format!("{}/api/v1/datasets/{}/query", t.base, t.dataset))
        .header("x-forwarded-for", "192.0.2.251")
        .form(&[("sql", "SELECT src_ip, dst_ip, dst_port, count(*) AS n, sum(bytes) AS b FROM events GROUP BY 1, 2, 3 ORDER BY n DESC")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// Unloaded: the post page's p99, over as long as the attack will last and under the same
/// page load as during the attack (`/healthz` beside the post page), so that the attack is
/// the only difference between the two p99s.
async fn calm(t: &Target) -> Duration {
    let addr = t.server.addr.clone();
    let (calm, calm_failed) =
        tokio::task::spawn_blocking(move || measure_pages(&addr, &PAGES, ATTACK.as_secs()))
            .await
            .unwrap();
    assert_eq!(calm_failed, 0, "pages failed before the attack");
    p99(calm[1].clone())
}

/// The server's peak resident memory, sampled every 25 ms from now until dropped.
struct PeakRss {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: Option<std::thread::JoinHandle<()>>,
}

impl PeakRss {
    fn start(server: &Server) -> PeakRss {
        let peak = Arc::new(AtomicU64::new(server.rss()));
        let stop = Arc::new(AtomicBool::new(false));
        let pid = server.child.id();
        let sampler = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_of(pid), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(25));
                }
            })
        };
        PeakRss {
            peak,
            stop,
            sampler: Some(sampler),
        }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for PeakRss {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(s) = self.sampler.take() {
            s.join().unwrap();
        }
    }
}

/// First each kind alone: it must be evaluated and refused as it should, within its limit.
/// Then the stalled export reader alone, where nothing else competes for the executor: it
/// must be given an export, and cut.
async fn each_kind_alone(t: &Target) {
    for (i, h) in hostile_requests().iter().enumerate() {
        let rss = PeakRss::start(&t.server);
        let o = send(
            &t.http,
            &t.base,
            &t.dataset,
            &format!("203.0.113.{}", i + 1),
            h,
        )
        .await;
        eprintln!(
            "alone: {} answered {} in {:?}, server RSS peaked at {} MiB",
            h.name,
            o.status,
            o.took,
            rss.peak() >> 20
        );
        let body = &o.body[..o.body.len().min(300)];
        assert!(
            h.expect.contains(&o.status),
            "{}: {} {body}",
            h.name,
            o.status
        );
        assert!(o.body.contains(h.says), "{}: {body}", h.name);
        assert!(
            !h.json_error || is_json_error(&o.body),
            "{}: not a JSON error: {body}",
            h.name
        );
        assert!(o.took < MAX_HOSTILE, "{}: took {:?}", h.name, o.took);
    }
    eprintln!(
        "RSS after the hostile kinds alone: {} MiB",
        t.server.rss() >> 20
    );
    // A query of the kinds above may still be winding down on the executor (its grace):
    // a busy answer is asked again after the Retry-After, as a client should.
    let mut tries = Vec::new();
    for _ in 0..3 {
        let s = stalled_export(&t.server.addr, &t.dataset, STALL_ALONE).await;
        let busy = s.statuses.iter().all(|s| s == "429");
        tries.push(s);
        if !busy {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let s = tries.last().unwrap();
    assert_eq!(
        s.statuses.first().map(String::as_str),
        Some("200"),
        "the stalled export reader, alone, was not given its export: {tries:?}"
    );
    check_stalled_export(s);
}

/// An export given to a reader that stopped reading was cut within its limits, and every
/// answer that began was an export or a refusal as busy.
fn check_stalled_export(s: &StalledExport) {
    assert!(
        !s.statuses.is_empty() && s.statuses.iter().all(|s| s == "200" || s == "429"),
        "the stalled reader's answers: {:?}",
        s.statuses
    );
    assert!(!s.whole, "a stalled reader was sent all its exports: {s:?}");
    assert!(
        s.took < s.stalled_for + Duration::from_secs(10),
        "a stalled export reader held on for {:?}",
        s.took
    );
}

/// What the storm left to check.
struct Storm {
    died: bool,
    pages: Vec<Vec<Duration>>,
    page_failures: u64,
    outcomes: BTreeMap<&'static str, Vec<Outcome>>,
    flood_statuses: Vec<u16>,
    flood_retry_after: usize,
    stalled: StalledExport,
    header_closes: Vec<Duration>,
    syslog: syslog::Sent,
}

/// Every kind at once, each from its own address and again as soon as answered, with a
/// flood of queries from one address, the stalled export reader and slow headers beside
/// them, and the page load measured from start to end.
async fn storm(t: &mut Target) -> Storm {
    let outcomes: Arc<Mutex<BTreeMap<&'static str, Vec<Outcome>>>> = Arc::default();
    // The attackers would be other machines: here they get threads of their own, in the
    // idle scheduling class and off the core the server keeps for pages, so that what is
    // measured is the server, not the attackers' own work (at nice 10 their wake-ups
    // still delayed the page load's by milliseconds on a 2-core machine).
    let attack_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(|| {
            secviz_sandbox::priority::lower_current(10);
            secviz_sandbox::priority::set_idle(secviz_sandbox::priority::thread_id());
        })
        .build()
        .unwrap();
    let pages = {
        let addr = t.server.addr.clone();
        tokio::task::spawn_blocking(move || measure_pages(&addr, &PAGES, ATTACK.as_secs()))
    };
    let started = Instant::now();
    let mut attackers = Vec::new();
    for (i, h) in hostile_requests().into_iter().enumerate() {
        let (http, base, dataset, outcomes) = (
            t.http.clone(),
            t.base.clone(),
            t.dataset.clone(),
            outcomes.clone(),
        );
        attackers.push(attack_rt.spawn(async move {
            let ip = format!("203.0.113.{}", i + 1);
            while started.elapsed() < ATTACK {
                let o = send(&http, &base, &dataset, &ip, &h).await;
                outcomes.lock().unwrap().entry(h.name).or_default().push(o);
                // Each attacker asks again as soon as it has its answer, with a short
                // pause: the attack is on the sandbox, not a test of raw request rate
                // (the per-address rate limits answer that).
                tokio::time::sleep(PACE).await;
            }
        }));
    }
    // One client floods the SQL API: most are turned away with 429 and Retry-After.
    let flood = {
        let (http, base, dataset) = (t.http.clone(), t.base.clone(), t.dataset.clone());
        attack_rt.spawn(async move {
            let reqs = (0..30).map(|_| {
                http.post(format!("{base}/api/v1/datasets/{dataset}/query"))
                    .header("x-forwarded-for", "198.51.100.9")
                    .form(&[(
                        "sql",
                        "SELECT count(*) FROM events a JOIN events b ON a.protocol = b.protocol",
                    )])
                    .send()
            });
            let answers = futures::future::join_all(reqs).await;
            let mut retry_after = 0;
            let mut statuses = Vec::new();
            for a in answers {
                let a = a.unwrap();
                if a.status() == StatusCode::TOO_MANY_REQUESTS
                    && a.headers().contains_key("retry-after")
                {
                    retry_after += 1;
                }
                statuses.push(a.status().as_u16());
            }
            (statuses, retry_after)
        })
    };
    let stalled = attack_rt.spawn({
        let (addr, dataset) = (t.server.addr.clone(), t.dataset.clone());
        async move { stalled_export(&addr, &dataset, STALL_IN_STORM).await }
    });
    let slow = {
        let addr = t.server.addr.clone();
        attack_rt.spawn_blocking(move || slow_headers(&addr, 20))
    };
    let syslog = {
        let (tcp, udp) = (t.server.syslog_tcp.clone(), t.server.syslog_udp.clone());
        attack_rt.spawn_blocking(move || syslog::senders(&tcp, &udp, ATTACK))
    };
    let mut died = false;
    while started.elapsed() < ATTACK {
        tokio::time::sleep(Duration::from_millis(200)).await;
        died |= !t.server.alive();
    }
    for a in attackers {
        a.await.unwrap();
    }
    let (flood_statuses, flood_retry_after) = flood.await.unwrap();
    let header_closes = slow.await.unwrap();
    let syslog = syslog.await.unwrap();
    let stalled = stalled.await.unwrap();
    attack_rt.shutdown_background();
    let (pages, page_failures) = pages.await.unwrap();
    died |= !t.server.alive();
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    Storm {
        died,
        pages,
        page_failures,
        outcomes,
        flood_statuses,
        flood_retry_after,
        stalled,
        header_closes,
        syslog,
    }
}

impl Storm {
    fn check(&self, unloaded: Duration, peak_rss: u64, postgres: bool) {
        // The server stayed up and fast.
        assert!(!self.died, "the server died during the attack");
        let health_p99 = p99(self.pages[0].clone());
        let page_p99 = p99(self.pages[1].clone());
        eprintln!(
            "backend {}: healthz p99 {health_p99:?}; post page p99 {page_p99:?} (unloaded {unloaded:?}); peak RSS {} MiB; page failures {}",
            if postgres { "postgres" } else { "sqlite" },
            peak_rss >> 20,
            self.page_failures
        );
        assert!(
            health_p99 < Duration::from_millis(100),
            "healthz p99 {health_p99:?}"
        );
        // Twice the unloaded p99, plus 20 ms for the scheduler of a 2-core machine that
        // also runs the attack (a p99 of 2.6 ms once became 5.4 ms with nothing starved); a
        // page starved by the attack waits for whole queries, hundreds of milliseconds.
        assert!(
            page_p99 < unloaded * 2 + Duration::from_millis(20),
            "post page p99 {page_p99:?} under attack, {unloaded:?} before"
        );
        assert_eq!(self.page_failures, 0, "pages failed during the attack");
        let limit = (QUERY_MEMORY_MIB + 256) << 20;
        assert!(
            peak_rss < limit,
            "peak RSS {} MiB, limit {} MiB",
            peak_rss >> 20,
            limit >> 20
        );

        // Every hostile request ended in time with a clear JSON error: refused as its kind
        // should be, or turned away as busy.
        for h in hostile_requests() {
            let seen = self
                .outcomes
                .get(h.name)
                .unwrap_or_else(|| panic!("{} never sent", h.name));
            for o in seen {
                let body = &o.body[..o.body.len().min(300)];
                assert!(o.took < MAX_HOSTILE, "{}: took {:?}", h.name, o.took);
                assert!(
                    o.status == 429 || o.status == 503 || h.expect.contains(&o.status),
                    "{}: {} {body}",
                    h.name,
                    o.status
                );
                assert!(
                    !h.json_error || is_json_error(&o.body),
                    "{}: not a JSON error: {body}",
                    h.name
                );
                if h.expect.contains(&o.status) {
                    assert!(o.body.contains(h.says), "{}: {body}", h.name);
                }
            }
        }
        assert!(
            self.flood_retry_after >= 20,
            "the flood was not turned away: {:?}",
            self.flood_statuses
        );
        // In the storm the reader may be turned away as busy; an export it was given must
        // be cut all the same.
        eprintln!("stalled export reader: answers {:?}", self.stalled.statuses);
        check_stalled_export(&self.stalled);
        assert!(
            self.header_closes
                .iter()
                .all(|d| *d < Duration::from_secs(HEADER_SECONDS + 3)),
            "slow headers held on: {:?}",
            self.header_closes
        );
    }
}

/// Then the floods of requests that are not queries: log-ins with megabyte user names and
/// HEAD requests, in waves (each wave concurrent: the login limiter and the page cache are
/// raced), with the page load beside them. These cost the server what any request costs
/// (about a millisecond of CPU each in a debug build), which no sandbox removes: what is
/// asserted here is that the server stays up, `/healthz` stays under 100 ms and no page
/// fails; the post page's p99 is reported.
async fn floods(t: &mut Target) {
    let pages = {
        let addr = t.server.addr.clone();
        tokio::task::spawn_blocking(move || measure_pages(&addr, &PAGES, FLOOD.as_secs()))
    };
    let accounts = {
        let base = t.base.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap();
            let html = http
                .get(format!("{base}/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = between(&html, "name=\"csrf\" value=\"", "\"").unwrap_or_default();
            let name = "a".repeat(1 << 20);
            let (mut login_statuses, mut heads_ok, mut heads_server_errors) = (Vec::new(), 0, 0);
            for wave in 0..WAVES {
                let logins = (0..4).map(|i| {
                    http.post(format!("{base}/login"))
                        .header("x-forwarded-for", format!("198.51.100.{}", 100 + i))
                        .form(&[
                            ("csrf", csrf.as_str()),
                            ("username", name.as_str()),
                            ("password", "wrong wrong wrong"),
                        ])
                        .send()
                });
                let heads = (0..20).map(|_| http.head(format!("{base}/")).send());
                let (logins, heads) = futures::future::join(
                    futures::future::join_all(logins),
                    futures::future::join_all(heads),
                )
                .await;
                login_statuses.extend(
                    logins
                        .into_iter()
                        .map(|r| r.map_or(0, |r| r.status().as_u16())),
                );
                heads_ok += heads
                    .iter()
                    .filter(|r| r.as_ref().is_ok_and(|r| r.status().is_success()))
                    .count();
                heads_server_errors += heads
                    .iter()
                    .filter(|r| r.as_ref().is_ok_and(|r| r.status().is_server_error()))
                    .count();
                if wave + 1 < WAVES {
                    tokio::time::sleep(FLOOD / (WAVES as u32 + 1)).await;
                }
            }
            (login_statuses, heads_ok, heads_server_errors)
        })
    };
    let (login_statuses, heads_ok, heads_server_errors) = accounts.await.unwrap();
    let (flood_pages, flood_page_failures) = pages.await.unwrap();
    assert!(t.server.alive(), "the server died during the floods");
    let flood_health = p99(flood_pages[0].clone());
    eprintln!(
        "floods: healthz p99 {flood_health:?}; post page p99 {:?}; page failures {flood_page_failures}",
        p99(flood_pages[1].clone())
    );
    assert!(
        flood_health < Duration::from_millis(100),
        "healthz p99 {flood_health:?} during the floods"
    );
    assert_eq!(flood_page_failures, 0, "pages failed during the floods");
    // Refused (0: the connection closed by the server while the megabyte was sent).
    assert!(
        login_statuses
            .iter()
            .all(|s| matches!(s, 0 | 401 | 403 | 413 | 429)),
        "{login_statuses:?}"
    );
    assert!(heads_server_errors == 0, "HEAD requests got server errors");
    assert!(
        heads_ok > 100,
        "only {heads_ok} HEAD requests were answered"
    );
    // The HEAD flood emptied nothing: the front page is still served from the cache.
    let front = t.http.get(format!("{}/", t.base)).send().await.unwrap();
    let front = t
        .http
        .get(format!("{}/", t.base))
        .send()
        .await
        .unwrap_or(front);
    assert_eq!(
        front
            .headers()
            .get("x-cache")
            .map(|v| v.to_str().unwrap_or("")),
        Some("hit")
    );
}

/// A huge answer is cut and marked, within its byte cap.
async fn cut_and_marked(t: &Target) {
    let r = t
        .http
        .post(format!("{}/api/v1/datasets/{}/query", t.base, t.dataset))
        .header("x-forwarded-for", "192.0.2.252")
        .form(&[(
            "sql",
            "SELECT raw, raw AS r2, raw AS r3, raw AS r4 FROM events",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(
        body.len() <= (ANSWER_KIB << 10) + 1024,
        "{} bytes",
        body.len()
    );
    let v: serde_json::Value = serde_json::from_str(&body).expect("a whole JSON answer");
    assert_eq!(v["truncated"], true);
    assert!(
        v["truncated_by"] == "bytes" || v["truncated_by"] == "rows",
        "{}",
        v["truncated_by"]
    );
}
