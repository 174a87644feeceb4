//! Issue 16, point 1: a draft opens on the preset view for its kind of data (an sshd log on
//! failed logins, an access log on probing clients), lists the data's columns with kind and
//! distinct count, offers the other presets that fit, and a view of columns the data lacks
//! draws no empty picture: its preview says why and what to change.

use crate::common;

use common::data::{add_post_with_file, wait_ingest};
use common::*;
use reqwest::StatusCode;

fn sshd_log() -> String {
    let mut s = String::new();
    for i in 0..120u32 {
        let (user, outcome) = match i % 4 {
            0 => ("root", "Failed password for"),
            1 => ("admin", "Failed password for invalid user"),
            2 => ("oracle", "Failed password for invalid user"),
            _ => ("alice", "Accepted password for"),
        };
        let from = if user == "alice" { 10 } else { 40 + i % 7 };
        s.push_str(&format!(
            "Oct 21 06:{:02}:{:02} gate sshd[{}]: {outcome} {user} from 203.0.113.{from} port {} ssh2\n",
            i / 60,
            i % 60,
            1000 + i,
            40000 + i
        ));
    }
    s
}

fn access_log() -> String {
    let mut s = String::new();
    for i in 0..120u32 {
        let (path, status) = if i % 3 == 0 {
            (format!("/wp-admin/setup{}.php", i % 17), 404)
        } else {
            ("/index.html".to_string(), 200)
        };
        s.push_str(&format!(
            "198.51.100.{} - - [17/May/2015:10:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" {status} 512 \"-\" \"curl/8.0\"\n",
            1 + i % 9,
            i / 60,
            i % 60
        ));
    }
    s
}

/// A draft with `text` in `format`, its ingest done; its path and page.
async fn draft_with(c: &Client, format: &str, text: &str) -> (String, String) {
    let r = add_post_with_file(
        c,
        &[
            ("title", "What is in this log?"),
            ("body", "Looking."),
            ("data_format", format),
            ("data_year", "2025"),
            ("data_text", text),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    let page = wait_ingest(c, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    (draft, page)
}

/// The text of an SVG's `<text>` elements, joined by spaces (a message wraps over lines).
fn text_of(svg: &str) -> String {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            t.split_once('>')
                .map(|(_, r)| r.split("</text>").next().unwrap_or(""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn current(question: &str) -> String {
    format!("<strong aria-current=\"true\">{question}</strong>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_open_on_the_preset_for_their_data_and_empty_pictures_say_why() {
    let app = spawn(Backend::Sqlite).await;
    let ana = app.member("ana").await;

    let (draft, page) = draft_with(&ana, "syslog", &sshd_log()).await;
    assert!(
        page.contains(&current("Which clients fail to log in, and as whom?")),
        "{page}"
    );
    // The form holds the preset: failed logins from client to account.
    assert!(
        page.contains("id=\"target\" name=\"target\" value=\"user\""),
        "{page}"
    );
    assert!(page.contains("auth_result = "), "{page}");
    // The columns, with kind and distinct count; none the data lacks.
    assert!(
        page.contains("<td><code>user</code></td><td>text</td><td>120</td><td>about 4</td>"),
        "{page}"
    );
    assert!(!page.contains("<td><code>dst_port</code>"), "{page}");

    // The preset draws: saved as the page shows it, its preview is a graph of the
    // guessing clients and the accounts they tried.
    let token = csrf_of(&page);
    let preset = [
        ("csrf", token.as_str()),
        ("action", "save"),
        ("title", "What is in this log?"),
        ("body", "Looking."),
        ("kind", "linked"),
        ("source", "src_ip"),
        ("event", ""),
        ("target", "user"),
        ("size", "count"),
        ("filter", "auth_result = 'failure'"),
        ("fields", "auth_result, user, src_ip, host"),
    ];
    let r = ana.post(&draft, &preset).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (st, _, svg) = ana.get_bytes(&format!("{draft}/preview.svg")).await;
    assert_eq!(st, StatusCode::OK);
    let svg = String::from_utf8(svg).unwrap();
    assert!(
        svg.contains(">oracle</text>") && svg.contains(">admin</text>"),
        "{svg}"
    );
    assert!(!svg.contains(">alice</text>"), "alice never failed: {svg}");

    // The view every draft used to open on (src_ip → dst_port → dst_ip) has nothing to
    // draw in an sshd log: the preview says why and what to change.
    let old = [
        ("csrf", token.as_str()),
        ("action", "save"),
        ("title", "What is in this log?"),
        ("body", "Looking."),
        ("kind", "graph"),
        ("source", "src_ip"),
        ("event", "dst_port"),
        ("target", "dst_ip"),
        ("fields", "src_ip"),
    ];
    let r = ana.post(&draft, &old).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, _, svg) = ana.get_bytes(&format!("{draft}/preview.svg")).await;
    let said = text_of(&String::from_utf8(svg).unwrap());
    assert!(
        said.contains("None of the 120 events has a value for dst_port or dst_ip")
            && said.contains("choose node fields this data holds"),
        "{said}"
    );
    // Saved views are kept: the page opens on the member's own view, not a preset.
    let page = ana.get(&draft).await.body;
    assert!(
        page.contains("id=\"event\" name=\"event\" value=\"dst_port\""),
        "{page}"
    );

    // An access log opens on the clients that probe for pages; another preset is a link.
    let (draft, page) = draft_with(&ana, "access", &access_log()).await;
    assert!(
        page.contains(&current("Which clients ask for pages that are not there?")),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<a href=\"{draft}?preset=web-answers\">What does each client get back?</a>"
        )),
        "{page}"
    );
    let page = ana.get(&format!("{draft}?preset=web-answers")).await.body;
    assert!(
        page.contains(&current("What does each client get back?")),
        "{page}"
    );
    assert!(
        page.contains("id=\"target\" name=\"target\" value=\"http_status\""),
        "{page}"
    );
    // An unknown preset leaves the form as it was.
    let page = ana.get(&format!("{draft}?preset=nonsense")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&current("Which clients ask for pages that are not there?"))
    );
    // A chart of a field no event holds says so too, instead of drawing "no data".
    let token = csrf_of(&ana.get(&draft).await.body);
    let bar = [
        ("csrf", token.as_str()),
        ("action", "save"),
        ("title", "What is in this log?"),
        ("body", "Looking."),
        ("kind", "bar"),
        ("fields", "dns_qname"),
    ];
    let r = ana.post(&draft, &bar).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, _, svg) = ana.get_bytes(&format!("{draft}/preview.svg")).await;
    let said = text_of(&String::from_utf8(svg).unwrap());
    assert!(
        said.contains("None of the 120 events has a value for dns_qname"),
        "{said}"
    );
}
