//! Live ingest over HTTP (issue 18): API tokens made and revoked on the account page, JSON
//! lines appended to a member's dataset (anonymized like its upload), and hostile requests:
//! no token, a wrong or revoked or expired one, another dataset, a body or a line over the
//! cap, too many requests.

use crate::common;
use common::data::data_post;
use common::*;
use reqwest::StatusCode;

/// The dataset of the member's only data post.
async fn dataset_id(app: &TestApp) -> String {
    let row: (String,) = sqlx::query_as("SELECT id FROM datasets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    row.0
}

async fn make_token(c: &Client, dataset: &str, label: &str, days: &str) -> Resp {
    c.submit(
        "/account",
        "/account/tokens",
        &[("dataset", dataset), ("label", label), ("days", days)],
    )
    .await
}

fn token_of(page: &str) -> String {
    let at = page
        .find("<code class=\"token\">")
        .expect("the new token is shown")
        + 20;
    page[at..].split('<').next().unwrap().to_string()
}

async fn send(
    app: &TestApp,
    dataset: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/live/{dataset}", app.base))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn count(c: &Client, dataset: &str, filter: &str) -> u64 {
    let sql = format!("SELECT count(*) AS n FROM events {filter}");
    let q = format!("/api/v1/datasets/{dataset}/query?sql={}", urlencoding(&sql));
    let r = c.get(&q).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["rows"][0]["n"].as_u64().unwrap()
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn line(src: &str, port: u32) -> String {
    format!(
        "{{\"ts\":\"2025-10-21T06:01:00Z\",\"src_ip\":\"{src}\",\"dst_ip\":\"192.0.2.99\",\"dst_port\":{port},\"proto\":\"tcp\"}}\n"
    )
}

async fn live_ingest_with_tokens(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let post = data_post(&ana, "A firewall log").await;
    let ds = dataset_id(&app).await;
    let before = count(&ana, &ds, "").await;
    let sources_before = count(&ana, &ds, "WHERE src_ip IS NOT NULL").await;

    // A token, shown once; its label is escaped on the page.
    let r = make_token(&ana, &ds, "<script>alert(1)</script> sensor", "30").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("<script>alert(1)"), "the label is escaped");
    let token = token_of(&r.body);
    assert!(token.starts_with("svz_"), "{token}");
    let listed = ana.get("/account").await.body;
    assert!(!listed.contains(&token), "shown only once");
    assert!(listed.contains("active"));
    // Only its hash is stored.
    let stored: (String,) = sqlx::query_as("SELECT secret_hash FROM api_tokens")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(!token.contains(&stored.0));

    // Lines in: answered once stored, queryable at once; a malformed line is counted.
    let mut body = String::new();
    for p in 0..5 {
        body.push_str(&line("10.77.5.3", 1000 + p));
    }
    body.push_str("{not json, from 10.77.5.3\n");
    let (st, answer) = send(&app, &ds, Some(&token), body.into_bytes()).await;
    assert_eq!(st, StatusCode::OK, "{answer}");
    let a: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(a["received"], 6, "{answer}");
    assert!(a["version"].as_u64().unwrap() > 1);
    assert_eq!(count(&ana, &ds, "").await, before + 5);
    // The post's page counts the appended events too, not only the upload's.
    let page = ana.get(&format!("/p/{post}")).await.body;
    assert!(
        page.contains(&format!(", {} events", before + 5)),
        "the post counts {} events",
        before + 5
    );
    // The account page says what the token's lines became: the malformed one by its line
    // number and reason.
    let listed = ana.get("/account").await.body;
    assert!(
        listed.contains("6 read, 5 stored, 1 rejected"),
        "the token's counts on the account page"
    );
    let rejects = listed
        .split(r#"<ul class="rejects">"#)
        .nth(1)
        .expect("the token's rejected lines are listed");
    assert!(rejects.starts_with("<li>line 6: "), "{rejects:.200}");
    // The dataset is anonymized: so is what is kept of a rejected line.
    assert!(!listed.contains("10.77.5.3"), "{rejects:.300}");
    // The upload was anonymized: so are the live rows, with the same pseudonyms (10.77.5.3
    // is one of the upload's sources, so no new source appears).
    assert_eq!(count(&ana, &ds, "WHERE src_ip = '10.77.5.3'").await, 0);
    assert_eq!(
        count(&ana, &ds, "WHERE src_ip IS NOT NULL").await,
        sources_before + 5
    );
    let distinct_before_and_after = count(
        &ana,
        &ds,
        "WHERE src_ip IN (SELECT src_ip FROM events WHERE dst_port BETWEEN 1000 AND 1004)",
    )
    .await;
    assert!(
        distinct_before_and_after > 5,
        "the live source is the upload's pseudonym"
    );

    // Hostile requests.
    let bob = app.member("bob").await;
    let (st, _) = send(&app, &ds, None, b"{}\n".to_vec()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // The same token with its last digit changed.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &token[..token.len() - 1]);
    let (st, _) = send(&app, &ds, Some(&wrong), b"{}\n".to_vec()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = send(&app, &ds, Some("svz_../../etc_passwd"), b"{}\n".to_vec()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, body) = send(&app, "someone-elses", Some(&token), b"{}\n".to_vec()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    // A line over 1 MiB: refused and counted, the rest stored.
    let mut big = line("10.77.5.3", 2000);
    big.push_str(&"x".repeat(1 << 21));
    big.push('\n');
    big.push_str(&line("10.77.5.3", 2001));
    let (st, answer) = send(&app, &ds, Some(&token), big.into_bytes()).await;
    assert_eq!(st, StatusCode::OK, "{answer}");
    let a: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        (a["received"].as_u64(), a["refused"].as_u64()),
        (Some(3), Some(1)),
        "{answer}"
    );
    assert_eq!(count(&ana, &ds, "").await, before + 7);
    // A body over 16 MiB: 413, nothing of it stored... beyond what was committed before the cap.
    let huge = line("10.77.5.3", 3000).repeat((17 << 20) / 100);
    let (st, _) = send(&app, &ds, Some(&token), huge.into_bytes()).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    // Another member cannot revoke it; its owner can, and then it no longer works.
    let id = token.split('_').nth(1).unwrap().to_string();
    let r = bob
        .submit("/account", &format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = ana
        .submit("/account", &format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (st, body) = send(&app, &ds, Some(&token), line("10.77.5.3", 1).into_bytes()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(body.contains("revoked"), "{body}");

    // Bad form input keeps what was typed.
    let r = make_token(&ana, &ds, "kept name", "9999").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("value=\"kept name\""), "{}", r.body);
    // Another member's dataset cannot get a token.
    let r = make_token(&bob, &ds, "theirs", "5").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Expiry, and the rate per token (last: the clock moves past the sessions too).
    let r = make_token(&ana, &ds, "short", "1").await;
    let short = token_of(&r.body);
    let (st, _) = send(&app, &ds, Some(&short), line("10.77.5.3", 1).into_bytes()).await;
    assert_eq!(st, StatusCode::OK);
    let mut limited = false;
    for _ in 0..130 {
        let (st, _) = send(&app, &ds, Some(&short), Vec::new()).await;
        if st == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
        assert_eq!(st, StatusCode::OK);
    }
    assert!(limited, "120 requests a minute per token");
    app.clock.advance(2 * 86_400);
    let (st, body) = send(&app, &ds, Some(&short), line("10.77.5.3", 1).into_bytes()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(body.contains("expired"), "{body}");
}

on_both!(live_ingest_with_tokens);
