//! Helpers for data posts (issue 7): a pf log with known addresses, Add Post with a data
//! file or pasted lines, waiting for the background ingest, and publishing a draft as a link
//! graph.

use reqwest::StatusCode;

use super::{Client, Resp, csrf_of};

/// pf lines (tcpdump on pflog) from 10.77.5.3 and 10.77.5.201 to 192.0.2.99 and
/// 198.51.100.23, and one broken line (line 4): 39 events.
pub fn pf_log() -> String {
    let mut s = String::new();
    for i in 0..40u32 {
        let (src, dst) = match i % 4 {
            0 => ("10.77.5.3", "192.0.2.99"),
            1 => ("10.77.5.201", "192.0.2.99"),
            2 => ("10.77.5.3", "198.51.100.23"),
            _ => ("10.77.5.201", "198.51.100.23"),
        };
        if i == 3 {
            s.push_str("this line is not pf at all 10.77.5.3\n");
            continue;
        }
        s.push_str(&format!(
            "Oct 21 06:00:{:02}.015678 rule 57/0(match): pass out on xl1: {src}.1030 > {dst}.53: 46523+ A? host{i}.example. (43) (DF)\n",
            i % 60
        ));
    }
    s
}

/// POSTs Add Post as multipart with a data file (or none) after the text fields.
pub async fn add_post_with_file(
    c: &Client,
    fields: &[(&str, &str)],
    file: Option<(&str, Vec<u8>)>,
) -> Resp {
    let token = c.csrf("/new").await;
    let mut form = reqwest::multipart::Form::new().text("csrf", token);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some((name, bytes)) = file {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("application/octet-stream")
            .unwrap();
        form = form.part("data_file", part);
    }
    let r = c
        .http
        .post(format!("{}/new", c.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    Resp {
        status: r.status(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap_or_default(),
    }
}

/// Waits until the draft's data is ready or failed (the worker runs in the background);
/// returns the page. Not a timing assertion: a generous bound so a broken worker fails the
/// test instead of hanging it.
pub async fn wait_ingest(c: &Client, draft: &str) -> String {
    for _ in 0..600 {
        let page = c.get(draft).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if page.body.contains("data-status=\"ready\"")
            || page.body.contains("data-status=\"failed\"")
        {
            return page.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the ingest of {draft} did not end");
}

/// The draft form's fields for a link graph src_ip → src_port → dst_ip, seed 3.
pub const GRAPH_VIEW: &[(&str, &str)] = &[
    ("kind", "graph"),
    ("source", "src_ip"),
    ("event", "src_port"),
    ("target", "dst_ip"),
    ("color", "protocol"),
    ("size", "degree"),
    ("cluster_source", "none"),
    ("cluster_target", "none"),
    ("cluster_event", "none"),
    ("fields", "src_ip, dst_ip"),
    ("seed", "3"),
    ("top_k", "10"),
];

/// Publishes `draft` (ready) as a link graph ([`GRAPH_VIEW`]) with `title`; returns the
/// post's id.
pub async fn publish_graph(c: &Client, draft: &str, title: &str) -> i64 {
    let token = csrf_of(&c.get(draft).await.body);
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("action", "publish"),
        ("title", title),
        ("body", "What the graph shows."),
    ];
    fields.extend_from_slice(GRAPH_VIEW);
    let r = c.post(draft, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "not published: {}", r.body);
    r.location().trim_start_matches("/p/").parse().unwrap()
}

/// Adds a post with [`pf_log`] pasted, waits for the ingest and publishes it as a link
/// graph; returns the post's id.
pub async fn data_post(c: &Client, title: &str) -> i64 {
    let log = pf_log();
    let r = add_post_with_file(
        c,
        &[
            ("title", title),
            ("body", "What the graph shows."),
            ("data_format", "pf"),
            ("data_year", "2025"),
            ("data_text", &log),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    let page = wait_ingest(c, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    publish_graph(c, &draft, title).await
}

/// Remixes post `post` with its data into a draft of `c`'s; returns the draft's path.
pub async fn remix_with_data(c: &Client, post: i64) -> String {
    let p = format!("/p/{post}");
    let token = csrf_of(&c.get(&p).await.body);
    let r = c
        .post(
            &format!("{p}/remix"),
            &[("csrf", token.as_str()), ("with_data", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "remix failed: {}", r.body);
    r.location()
}
