//! `secviz demo`: fills an empty site with generated datasets and data posts, so a newcomer
//! sees a live gallery at once. The logs are generated here, in Rust, from a seed (the same
//! seed gives the same logs, so the same pictures), then go the member's way: staged,
//! ingested by the worker (anonymized like any upload), given a recipe and published by a
//! `demo` member.
//!
//! - botnet traffic (flows CSV) as a link graph coloured by protocol, sized by degree;
//! - DNS traffic (pf log) as linked views: bar charts, time line, parallel coordinates;
//! - a firewall puzzle (pf log): why do all these DNS lookups leave from source port 1030?
//!   with the built-in analysis `dns-fixed-port`.
//!
//! The posts carry tags (created when missing), and an administrator can be created with
//! them, so a newcomer also sees the tag pages, moderation and the admin page.
//!
//! A site that already has posts or datasets is refused: the demo never mixes with real
//! content.

use anyhow::{Context, bail};

use crate::config::Config;
use crate::data::recipe::{Recipe, ViewForm};
use crate::data::upload::{Received, Staging};
use crate::data::{UploadChoices, publish, queue_ingest, worker};
use crate::db::drafts::{self, NewDraft};
use crate::db::ids::PostId;
use crate::db::states::DatasetStatus;
use crate::db::{datasets, tags, users};
use crate::domain::{PostBody, Role, TagSlug, Title};
use crate::state::AppState;

/// The demo's member.
pub const DEMO_USER: &str = "demo";

/// A published demo post.
#[derive(Debug, Clone)]
pub struct DemoPost {
    pub id: PostId,
    pub title: String,
    pub events: i64,
}

/// What the demo made.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub posts: Vec<DemoPost>,
    /// The administrator created, if one was asked for.
    pub admin: Option<String>,
}

/// A small deterministic generator (SplitMix64): the same seed gives the same logs on every
/// platform and with every version of the `rand` crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// `Oct 21 06:00:18.015678` for second `s` of the day, as pf prints it.
fn pf_time(s: u64, micros: u64) -> String {
    format!(
        "Oct 21 {:02}:{:02}:{:02}.{:06}",
        6 + (s / 3600) % 18,
        (s / 60) % 60,
        s % 60,
        micros % 1_000_000
    )
}

/// Botnet flows: bots in 10.20.0.0/16 join IRC C&C servers, fetch commands over HTTP,
/// resolve names, send spam and scan; a few ordinary clients browse the web.
pub fn botnet_csv(seed: u64, rows: usize) -> String {
    let mut r = Rng(seed);
    let bots: Vec<String> = (0..120)
        .map(|i| format!("10.20.{}.{}", 1 + i / 60, 10 + (i * 7) % 240))
        .collect();
    let clients: Vec<String> = (0..20).map(|i| format!("10.30.1.{}", 20 + i)).collect();
    let cnc_irc = ["198.51.100.7", "198.51.100.8"];
    let cnc_http = ["203.0.113.5"];
    let resolvers = ["10.0.0.53", "10.0.0.54"];
    let mail: Vec<String> = (0..15).map(|i| format!("192.0.2.{}", 30 + i * 3)).collect();
    let web: Vec<String> = (0..10).map(|i| format!("93.184.216.{}", 10 + i)).collect();
    let scan: Vec<String> = (0..40)
        .map(|i| format!("172.16.{}.{}", i / 10, 1 + i % 10))
        .collect();
    let mut out = String::from("time,src_ip,src_port,dst_ip,dst_port,protocol,bytes,packets\n");
    for i in 0..rows {
        let t = 1_792_562_400 + (i as u64 * 86_400 / rows as u64);
        let ts = time::OffsetDateTime::from_unix_timestamp(t as i64)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let sport = 1024 + r.below(60_000);
        let roll = r.below(100);
        let (src, dst, dport, proto, bytes): (&str, &str, u64, &str, u64) = if roll < 8 {
            (
                r.pick(&clients).as_str(),
                r.pick(&web).as_str(),
                443,
                "https",
                2_000 + r.below(90_000),
            )
        } else {
            let bot = r.pick(&bots).as_str();
            match roll {
                8..=35 => (bot, *r.pick(&cnc_irc), 6667, "irc", 100 + r.below(900)),
                36..=50 => (bot, *r.pick(&cnc_http), 80, "http", 300 + r.below(4_000)),
                51..=70 => (bot, *r.pick(&resolvers), 53, "dns", 60 + r.below(80)),
                71..=85 => (
                    bot,
                    r.pick(&mail).as_str(),
                    25,
                    "smtp",
                    1_000 + r.below(20_000),
                ),
                _ => (
                    bot,
                    r.pick(&scan).as_str(),
                    *r.pick(&[22u64, 445, 3389, 23]),
                    "scan",
                    40 + r.below(40),
                ),
            }
        };
        let packets = 1 + bytes / 600;
        out.push_str(&format!(
            "{ts},{src},{sport},{dst},{dport},{proto},{bytes},{packets}\n"
        ));
    }
    out
}

const NAMES: &[&str] = &[
    "www.example.com.",
    "mail.example.com.",
    "updates.example.net.",
    "cdn.example.org.",
    "api.example.com.",
    "intranet.corp.example.",
    "smtp.corp.example.",
    "time.example.net.",
    "xk3j9q.dyndns.example.",
    "login.example.com.",
    "static.example.org.",
    "wpad.corp.example.",
];

/// DNS lookups through the firewall (pf lines as tcpdump prints them on pflog): clients
/// ask the resolvers for a handful of names; one client asks far too often.
pub fn dns_pf(seed: u64, lines: usize) -> String {
    let mut r = Rng(seed);
    let clients: Vec<String> = (0..40)
        .map(|i| format!("10.40.{}.{}", i / 20, 10 + i % 20))
        .collect();
    let resolvers = ["10.0.0.53", "10.0.0.54", "192.0.2.53"];
    let qtypes = ["A", "A", "A", "AAAA", "AAAA", "MX", "TXT", "PTR"];
    let mut out = String::new();
    for i in 0..lines {
        let s = i as u64 * 3600 / lines as u64;
        let client = if r.below(5) == 0 {
            "10.40.1.19"
        } else {
            r.pick(&clients).as_str()
        };
        let resolver = r.pick(&resolvers);
        let (action, rule) = if *resolver == "192.0.2.53" {
            ("block", 12)
        } else {
            ("pass", 57)
        };
        let name = if client == "10.40.1.19" && r.below(2) == 0 {
            "xk3j9q.dyndns.example."
        } else {
            r.pick(NAMES)
        };
        let id = r.below(65_535);
        out.push_str(&format!(
            "{} rule {rule}/0(match): {action} out on xl1: {client}.{} > {resolver}.53: {id}+ {}? {name} ({})\n",
            pf_time(s, r.below(1_000_000)),
            1024 + r.below(60_000),
            r.pick(&qtypes),
            20 + name.len()
        ));
    }
    out
}

/// The firewall puzzle: most hosts use random source ports for DNS, but every lookup of
/// the hosts behind one old NAT box leaves from source port 1030, and some TCP traffic is
/// blocked around it.
pub fn puzzle_pf(seed: u64, lines: usize) -> String {
    let mut r = Rng(seed);
    let nat_hosts: Vec<String> = (0..6).map(|i| format!("195.141.69.{}", 40 + i)).collect();
    let others: Vec<String> = (0..30).map(|i| format!("195.141.70.{}", 10 + i)).collect();
    let resolvers = ["61.215.160.253", "61.215.160.254"];
    let mut out = String::new();
    for i in 0..lines {
        let s = i as u64 * 7200 / lines as u64;
        let t = pf_time(s, r.below(1_000_000));
        let roll = r.below(10);
        if roll < 5 {
            let name = r.pick(NAMES);
            out.push_str(&format!(
                "{t} rule 57/0(match): pass in on xl1: {}.1030 > {}.53: {}+ A? {name} ({})\n",
                r.pick(&nat_hosts),
                r.pick(&resolvers),
                r.below(65_535),
                20 + name.len()
            ));
        } else if roll < 8 {
            let name = r.pick(NAMES);
            out.push_str(&format!(
                "{t} rule 57/0(match): pass in on xl1: {}.{} > {}.53: {}+ A? {name} ({})\n",
                r.pick(&others),
                1024 + r.below(60_000),
                r.pick(&resolvers),
                r.below(65_535),
                20 + name.len()
            ));
        } else {
            let port = *r.pick(&[22u64, 23, 445, 1433, 3389]);
            out.push_str(&format!(
                "{t} rule 3/0(match): block in on xl0: {}.{} > 195.141.69.1.{port}: S {}:{}(0) win 5840 <mss 1460,nop,nop,sackOK> (DF)\n",
                r.pick(&others),
                1024 + r.below(60_000),
                r.below(4_000_000_000),
                r.below(4_000_000_000)
            ));
        }
    }
    out
}

/// The botnet post's grouping: rare targets (mail relays, scanned hosts, web sites) by
/// network; sources only when very rare (the ordinary clients), so every bot stays a dot.
const BOTNET_RULES: &str = "source.group = cidr(value, 16)\nsource.rare = 0.5%\n\
                            target.group = cidr(value, 16)\ntarget.rare = 2%";

/// One demo post: its data, how to parse it, its view and its text.
struct Plan {
    file: &'static str,
    tags: &'static [&'static str],
    data: String,
    format: secviz_parse::Format,
    view: ViewForm,
    title: &'static str,
    body: &'static str,
}

fn plans(seed: u64) -> anyhow::Result<Vec<Plan>> {
    let fmt = |s: &str| {
        s.parse::<secviz_parse::Format>()
            .map_err(|e| anyhow::anyhow!("format {s}: {e}"))
    };
    Ok(vec![
        Plan {
            file: "botnet-flows.csv",
            tags: &["botnet", "link-graph"],
            data: botnet_csv(seed, 20_000),
            format: fmt("csv")?,
            view: ViewForm {
                kind: "graph".into(),
                source: "src_ip".into(),
                event: String::new(),
                target: "dst_ip".into(),
                color: "protocol".into(),
                size: "degree".into(),
                // Each bot is under 1% of the flows but the bots are the story: only the
                // ordinary clients (0.4% each) and the many rarely hit targets are grouped.
                group: "none".into(),
                rules: BOTNET_RULES.into(),
                seed: "1".into(),
                ..ViewForm::default()
            },
            title: "A botnet in one picture: bots, their C&C servers and what they do",
            body: "Flows of 120 infected hosts in 10.20.0.0/16 (generated): IRC to two C&C servers, \
                   commands over HTTP, DNS, spam over SMTP and scans. Edges and targets are coloured \
                   by protocol and nodes sized by degree; hosts that carry under 2% of the flows are \
                   grouped by network, so the servers every bot calls stand out as labelled hubs. \
                   Brush the bars under the graph, or remix it with your own flows.",
        },
        Plan {
            file: "dns-pf.log",
            tags: &["dns", "firewall", "linked-charts"],
            data: dns_pf(seed.wrapping_add(1), 6_000),
            format: fmt("pf")?,
            view: ViewForm {
                kind: "linked".into(),
                fields: "dns_qname, dns_qtype, src_ip, action".into(),
                source: "src_ip".into(),
                event: String::new(),
                target: "dns_qname".into(),
                seed: "1".into(),
                ..ViewForm::default()
            },
            title: "DNS through the firewall: who asks for what",
            body: "An hour of DNS lookups through pf (generated). Linked views: click a bar \
                   (a name, a query type, a client) and every other chart, the time line and the \
                   parallel coordinates follow. One client asks for a dynamic-DNS name far too often.",
        },
        Plan {
            file: "puzzle-pf.log",
            tags: &["dns", "firewall", "puzzle"],
            data: puzzle_pf(seed.wrapping_add(2), 4_000),
            format: fmt("pf")?,
            view: ViewForm {
                kind: "analysis".into(),
                analysis: "dns-fixed-port".into(),
                ..ViewForm::default()
            },
            title: "Puzzle: why do all these DNS lookups leave from source port 1030?",
            body: "Half the lookups in this pf log (generated) come from a handful of hosts and \
                   always from source port 1030. What sits in front of them, and why is that a \
                   problem? The built-in analysis `dns-fixed-port` found them; the graph shows \
                   client, source port and resolver.",
        },
    ])
}

/// The tags of the demo posts and what they are about (shown on the tag pages).
const TAGS: &[(&str, &str)] = &[
    (
        "botnet",
        "Infected hosts, their command-and-control servers and what they do.",
    ),
    (
        "dns",
        "Name lookups: who asks for what, tunnels, odd resolvers.",
    ),
    (
        "firewall",
        "Firewall logs (pf, iptables) and what their rules let through.",
    ),
    (
        "link-graph",
        "Pictures of who talks to whom (AfterGlow-style rules).",
    ),
    (
        "linked-charts",
        "Bar charts, time lines and parallel coordinates that brush together.",
    ),
    ("puzzle", "A question about a log: what is going on here?"),
];

/// An administrator to create with the demo, so moderation and the admin page can be seen.
pub struct DemoAdmin {
    pub name: String,
    pub password: String,
}

/// A password for [`DemoAdmin`] when the operator gives none: 128 random bits, shown once.
pub fn random_password() -> String {
    let hex = Staging::new_id();
    format!(
        "{}-{}-{}-{}",
        &hex[..8],
        &hex[8..16],
        &hex[16..24],
        &hex[24..]
    )
}

/// Fills an empty site. Runs the ingests in this process (no server needed).
pub async fn run(
    config: Config,
    seed: u64,
    admin: Option<DemoAdmin>,
) -> anyhow::Result<DemoReport> {
    let state = AppState::new(config).await?;
    let posts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(&state.db.pool)
        .await?;
    let sets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM datasets")
        .fetch_one(&state.db.pool)
        .await?;
    if posts > 0 || sets > 0 {
        bail!(
            "this site is not empty ({posts} posts, {sets} datasets): `secviz demo` only fills an empty site"
        );
    }
    let owner = match users::find_by_name(&state.db, DEMO_USER).await? {
        Some(u) => u.id,
        None => {
            // Nobody logs in as the demo member: the password is random and never shown.
            let password = format!("{} {}", Staging::new_id(), Staging::new_id());
            crate::members::create(
                &state.db,
                DEMO_USER,
                None,
                &password,
                Role::Member,
                state.now(),
            )
            .await
            .context("creating the demo member")?
        }
    };
    let admin = match admin {
        Some(a) => {
            crate::members::create(
                &state.db,
                &a.name,
                None,
                &a.password,
                Role::Admin,
                state.now(),
            )
            .await
            .context("creating the administrator")?;
            Some(a.name.trim().to_ascii_lowercase())
        }
        None => None,
    };
    for (slug, about) in TAGS {
        let slug = TagSlug::parse(slug).map_err(|e| anyhow::anyhow!(e.0))?;
        if tags::get(&state.db, slug.as_str()).await?.is_none() {
            tags::upsert(&state.db, &slug, about, state.now()).await?;
        }
    }
    let mut report = DemoReport {
        posts: Vec::new(),
        admin,
    };
    for plan in plans(seed)? {
        let staging_id = state
            .staging
            .stage_bytes(plan.data.as_bytes().to_vec())
            .await?;
        let received = Received {
            staging_id,
            bytes: plan.data.len() as u64,
            label: plan.file.to_string(),
        };
        let choices = UploadChoices {
            format: Some(plan.format),
            year: Some(2026),
            anonymize: true,
            inside: None,
        };
        let dataset = queue_ingest(&state, owner, &received, &choices).await?;
        worker::drain(&state).await?;
        let row = datasets::get(&state.db, dataset.as_str())
            .await?
            .context("the demo dataset vanished")?;
        if row.status != DatasetStatus::Ready {
            bail!(
                "the demo data {} could not be ingested: {}",
                plan.file,
                row.error
            );
        }
        let (view, analysis) = plan
            .view
            .to_spec(dataset.as_str())
            .map_err(|e| anyhow::anyhow!("demo view of {}: {}", plan.file, e.join("; ")))?;
        let recipe = Recipe {
            version: 1,
            dataset: dataset.to_string(),
            parser: serde_json::from_str(&row.parse).unwrap_or_default(),
            view,
            analysis,
            form: plan.view.clone(),
        };
        let mut tx = state.db.pool.begin().await?;
        let draft_id = drafts::insert(
            &mut tx,
            &NewDraft {
                owner_id: owner,
                title: plan.title,
                body: plan.body,
                tags: "",
                dataset_id: Some(dataset.as_str()),
                recipe: &recipe.to_json(),
                remixed_from: None,
                notice: "",
                images: "",
            },
            state.now(),
        )
        .await?;
        tx.commit().await?;
        let draft = drafts::get_owned(&state.db, draft_id, owner)
            .await?
            .context("the demo draft vanished")?;
        let text = publish::PostText {
            title: Title::parse(plan.title).map_err(|e| anyhow::anyhow!(e.0))?,
            body: PostBody::parse(plan.body).map_err(|e| anyhow::anyhow!(e.0))?,
            tags: plan
                .tags
                .iter()
                .map(|t| TagSlug::parse(t).map_err(|e| anyhow::anyhow!(e.0)))
                .collect::<anyhow::Result<_>>()?,
        };
        let id = match publish::publish(&state, owner, &draft, &text, &recipe).await {
            Ok(id) => id,
            Err(publish::PublishError::Member(m)) => {
                bail!("publishing the demo post {:?}: {m}", plan.title)
            }
            Err(publish::PublishError::Internal(e)) => return Err(e),
        };
        // Its SOC screen: the default dashboard, public like the post that publishes the
        // data (the data ended, so its windows end at the newest event). Demo data does not
        // change: its screen is computed every five minutes.
        let mut spec =
            secviz_views::dashboard::DashboardSpec::soc(&format!("SOC screen: {}", plan.file));
        spec.refresh_seconds = 300;
        crate::db::dashboards::insert(
            &state.db,
            crate::db::dashboards::NewDashboard {
                owner_id: owner,
                dataset_id: dataset.as_str(),
                title: &spec.title,
                spec: &spec.to_json(),
                public: true,
                remixed_from: None,
                now: state.now(),
            },
        )
        .await?;
        report.posts.push(DemoPost {
            id,
            title: plan.title.to_string(),
            events: row.row_count,
        });
    }
    state.db.close().await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_seeded() {
        assert_eq!(botnet_csv(7, 200), botnet_csv(7, 200));
        assert_ne!(botnet_csv(7, 200), botnet_csv(8, 200));
        assert_eq!(dns_pf(1, 100).lines().count(), 100);
        let puzzle = puzzle_pf(1, 400);
        assert!(puzzle.lines().filter(|l| l.contains(".1030 > ")).count() > 100);
    }

    /// The texts of an SVG's `<text>` elements with `class="{class}"`.
    fn texts_of(svg: &str, class: &str) -> Vec<String> {
        let mark = format!("class=\"{class}\"");
        svg.split("<text ")
            .skip(1)
            .filter(|t| {
                t.split('>')
                    .next()
                    .is_some_and(|attrs| attrs.contains(&mark))
            })
            .filter_map(|t| {
                t.split_once('>')
                    .and_then(|(_, rest)| rest.split("</text>").next())
            })
            .map(str::to_string)
            .collect()
    }

    /// Issue 16: each demo picture shows its point. The botnet's servers that every bot
    /// calls (two IRC C&C servers, the HTTP command server, the resolvers) are its labelled
    /// hubs and no bot is; the puzzle's source port 1030 is a labelled hub joining the NAT'd
    /// hosts to their resolvers, while the thousand random ports of the other hosts are
    /// grouped by class and drawn as groups, not hubs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_pictures_label_the_hubs_they_are_about() {
        use secviz_lake::{IngestOptions, IngestSource, Lake};
        use secviz_parse::ParseOptions;

        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        let mut svgs = std::collections::HashMap::new();
        for (i, plan) in plans(1).unwrap().into_iter().enumerate() {
            let name: secviz_lake::DatasetName = format!("demo{i}").parse().unwrap();
            let size = plan.data.len() as u64;
            lake.ingest(
                &name,
                vec![IngestSource::reader(
                    "demo",
                    std::io::Cursor::new(plan.data.into_bytes()),
                    Some(size),
                )],
                IngestOptions {
                    parse: ParseOptions {
                        format: Some(plan.format),
                        year: Some(2026),
                        ..ParseOptions::default()
                    },
                    ..IngestOptions::default()
                },
                Box::new(|_| {}),
                Box::new(|_, _| {}),
            )
            .await
            .unwrap();
            let (spec, _) = plan.view.to_spec(name.as_str()).unwrap();
            let drawn = crate::data::picture::post_pictures(
                &lake,
                &name,
                &spec,
                secviz_views::Limits {
                    time: std::time::Duration::from_secs(60),
                    memory: 1 << 30,
                    sandbox: false,
                },
            )
            .await
            .unwrap();
            let svg = drawn.picture;
            if plan.file == "botnet-flows.csv" {
                // Thumbnails: no legend, only the hubs and groups labelled; light and dark.
                for (svg, bg) in [
                    (&drawn.thumb_light, "#ffffff"),
                    (&drawn.thumb_dark, "#0d1117"),
                ] {
                    assert!(!svg.contains(">Legend<"), "{svg}");
                    assert_eq!(texts_of(svg, "hub").len(), 5, "{svg}");
                    let texts: Vec<&str> = svg
                        .split("<text ")
                        .skip(1)
                        .filter_map(|t| t.split_once('>').map(|(_, r)| r))
                        .collect();
                    assert!(
                        !texts.iter().any(|t| t.starts_with("10.20.")),
                        "a bot is labelled: {svg}"
                    );
                    assert!(svg.contains(&format!("fill=\"{bg}\"")), "{svg}");
                }
            }
            if let Ok(dir) = std::env::var("SECVIZ_DEMO_SVG_DIR") {
                // For looking at them: `SECVIZ_DEMO_SVG_DIR=/tmp cargo nextest run demo_pictures`.
                let _ = std::fs::write(format!("{dir}/demo-{}.svg", plan.file), &svg);
            }
            svgs.insert(plan.file, svg);
        }

        let botnet = &svgs["botnet-flows.csv"];
        let mut hubs = texts_of(botnet, "hub");
        hubs.sort();
        assert_eq!(
            hubs,
            [
                "10.0.0.53",
                "10.0.0.54",
                "198.51.100.7",
                "198.51.100.8",
                "203.0.113.5"
            ],
            "{botnet}"
        );
        let groups = texts_of(botnet, "group");
        assert!(
            groups.contains(&"40 hosts in 172.16.0.0/16".to_string())
                && groups.contains(&"20 hosts in 10.30.0.0/16".to_string()),
            "{groups:?}"
        );

        let puzzle = &svgs["puzzle-pf.log"];
        // 1030 is the one hub: nothing else competes with it.
        assert_eq!(texts_of(puzzle, "hub"), ["1030"], "{puzzle}");
        // It joins the NAT'd hosts to the resolvers, which are labelled too.
        for resolver in ["61.215.160.253", "61.215.160.254"] {
            assert!(puzzle.contains(&format!(">{resolver}</text>")), "{puzzle}");
        }
        let groups = texts_of(puzzle, "group");
        assert!(
            groups.iter().any(|g| g.ends_with(" registered ports")),
            "{groups:?}"
        );
        // Grouped, the picture holds tens of nodes, not the thousand-odd ports of the log.
        let nodes = puzzle.matches("<circle").count() + puzzle.matches("<rect").count();
        assert!(nodes < 60, "{nodes} shapes\n{puzzle}");
    }
}
