//! Dashboards (issue 18): the default SOC dashboard of a dataset, its panels over live data,
//! the refresh with ETags computed once per interval, drill-down, export and import, the
//! edit form that keeps the member's text, public and private, remix, and read-only share
//! links (the dashboard without drill-down to the events) that are revoked.

use crate::common;
use common::data::data_post;
use common::*;
use reqwest::StatusCode;

async fn dataset_id(app: &TestApp) -> String {
    let row: (String,) = sqlx::query_as("SELECT id FROM datasets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    row.0
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let at = s.find(start).unwrap_or_else(|| panic!("{start:?} in {s}")) + start.len();
    let rest = &s[at..];
    &rest[..rest.find(end).unwrap()]
}

fn urlencoding(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Sends JSON lines of now through a live-ingest token.
async fn live_lines(app: &TestApp, c: &Client, ds: &str, lines: &[(&str, u32)]) {
    let r = c
        .submit(
            "/account",
            "/account/tokens",
            &[("dataset", ds), ("label", "sensor"), ("days", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = between(&r.body, "<code class=\"token\">", "<").to_string();
    let now = secviz_lake::format_micros(secviz_lake::now_micros());
    let body: String = lines
        .iter()
        .map(|(src, port)| {
            format!(
                "{{\"ts\":\"{now}\",\"src_ip\":\"{src}\",\"dst_ip\":\"192.0.2.99\",\"dst_port\":{port},\"proto\":\"tcp\"}}\n"
            )
        })
        .collect();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/live/{ds}", app.base))
        .bearer_auth(&token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn pseudonym_of_port(c: &Client, ds: &str, port: u32) -> String {
    let sql = format!("SELECT src_ip FROM events WHERE dst_port = {port} LIMIT 1");
    let r = c
        .get(&format!(
            "/api/v1/datasets/{ds}/query?sql={}",
            urlencoding(&sql)
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["rows"][0]["src_ip"].as_str().unwrap().to_string()
}

async fn panels(
    c: &Client,
    path: &str,
    etag: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut req = c.http.get(format!("{}{path}", c.base));
    if let Some(e) = etag {
        req = req.header("If-None-Match", e);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    assert_eq!(
        r.headers()["cache-control"],
        "no-cache, private",
        "a dashboard is revalidated every time"
    );
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, etag, r.text().await.unwrap())
}

async fn dashboards_end_to_end(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let post = data_post(&ana, "A firewall log").await;
    let ds = dataset_id(&app).await;

    // The default SOC dashboard of the dataset; the title is escaped everywhere.
    let r = ana
        .submit(
            "/dashboards",
            "/dashboards",
            &[("dataset", &ds), ("title", "<b>Floor</b> 3"), ("json", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let dash = r.location();
    let page = ana.get(&dash).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("<h1>&#60;b&#62;Floor&#60;/b&#62; 3</h1>"),
        "{}",
        between(&page.body, "<h1>", "</h1>")
    );
    assert!(!page.body.contains("<b>Floor"));
    for (title, question) in [
        ("New findings", "What is unusual right now, and is it new?"),
        (
            "Event rate",
            "Is the volume of events normal for this time of day?",
        ),
        ("New sources", "Which sources have we never seen before?"),
        (
            "New destinations",
            "Which destinations were never contacted before?",
        ),
        ("Failed logins", "Who is failing to log in"),
        (
            "Top talkers&#39; changes",
            "Which sources suddenly talk much more",
        ),
    ] {
        assert!(page.body.contains(title), "{title} in {}", page.body);
        assert!(page.body.contains(question), "{question}");
    }
    // The upload's events are of 2025: the windows end at the newest of them.
    assert!(page.body.contains("This data ends at"), "{}", page.body);
    assert!(page.body.contains("No login outcomes in these windows"));
    let etag = between(&page.body, "data-etag=\"", "\"").to_string();

    // The refresh: the same computation for the whole interval, so the page's ETag is
    // current (304), for every viewer.
    let (st, _, _) = panels(
        &ana,
        &format!("{dash}/panels"),
        Some(&format!("\"{etag}\"")),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_MODIFIED);
    let (st, tag, body) = panels(&ana, &format!("{dash}/panels"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(tag.unwrap(), format!("\"{etag}\""));
    let first: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(first["panels"].as_array().unwrap().len(), 6);

    // Live lines of now, from a source never seen: the windows now end at the clock, and
    // the new source is listed (by its pseudonym: the upload was anonymized). A shorter
    // interval, saved through the edit form, is computed at once.
    live_lines(
        &app,
        &ana,
        &ds,
        &[("203.0.113.77", 4444), ("203.0.113.77", 4445)],
    )
    .await;
    let fresh = between(
        &page.body,
        "<textarea id=\"spec-json\" name=\"json\" rows=\"20\">",
        "</textarea>",
    )
    .replace("&quot;", "\"")
    .replace("&#34;", "\"")
    .replace("&#39;", "'")
    .replace("&#60;", "<")
    .replace("&#62;", ">")
    .replace("&amp;", "&")
    .replace("\"refresh_seconds\": 30", "\"refresh_seconds\": 2");
    assert!(fresh.contains("\"refresh_seconds\": 2"), "{fresh}");
    let r = ana
        .submit(&dash, &format!("{dash}/spec"), &[("json", &fresh)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let pseudonym = pseudonym_of_port(&ana, &ds, 4444).await;
    assert_ne!(pseudonym, "203.0.113.77");
    let (st, _, body) = panels(
        &ana,
        &format!("{dash}/panels"),
        Some(&format!("\"{etag}\"")),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "new numbers, a new ETag");
    let now: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        now["frame"]
            .as_str()
            .unwrap()
            .starts_with("Windows end now"),
        "{now}"
    );
    let new_sources = now["panels"][2].as_str().unwrap();
    assert!(new_sources.contains(&pseudonym), "{new_sources}");
    assert!(
        new_sources.contains("1 sources not seen in the 7 days before"),
        "{new_sources}"
    );
    let rate = now["panels"][1].as_str().unwrap();
    assert!(rate.contains("2 events"), "{rate}");
    // The data reaches back past the lookback (2025), with nothing at this hour since: the
    // usual level is 0, and two events are well above it.
    assert!(
        rate.contains("Usual for this hour: 0 (median of the same window on 7 days before)"),
        "{rate}"
    );
    assert!(rate.contains("class=\"big high\""), "{rate}");

    // Each row drills down to its events.
    let link = between(new_sources, "<td><a href=\"", "\"").replace("&amp;", "&");
    assert!(link.starts_with(&format!("{dash}/events?sel=")), "{link}");
    let events = ana.get(&link).await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.body);
    assert!(
        events.body.contains("4444") && events.body.contains("4445"),
        "{}",
        events.body
    );
    assert!(
        events.body.contains("2 events, newest first."),
        "{}",
        events.body
    );
    let bad = ana.get(&format!("{dash}/events?sel=%7Bnope")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // A save that fails says where, and keeps what was typed.
    let typo = r#"{"title":"x <i>","panels":[{"kind":"findings","window":"2h"}]}"#;
    let r = ana
        .submit(&dash, &format!("{dash}/spec"), &[("json", typo)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("unknown variant `2h`"), "{}", r.body);
    assert!(
        r.body.contains("x &#60;i&#62;"),
        "the text is kept, escaped"
    );

    // Panels one at a time, without writing JSON: an analysis over a day, added; one the
    // form cannot describe, refused with the fields kept; then removed again.
    let r = ana
        .submit(
            &dash,
            &format!("{dash}/add-panel"),
            &[
                ("kind", "analysis"),
                ("analysis", "beacons"),
                ("window", "24h"),
                ("title", "Calling home?"),
                ("question", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = ana.get(&dash).await.body;
    assert!(page.contains("Calling home? (last 24 h)"), "{page}");
    assert!(
        page.contains("Is something") || page.contains("Beacon"),
        "the analysis's own question"
    );
    let r = ana
        .submit(
            &dash,
            &format!("{dash}/add-panel"),
            &[
                ("kind", "analysis"),
                ("analysis", ""),
                ("window", "1h"),
                ("title", "<kept> title"),
                ("question", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Not added: panels[7]: &#34;analysis&#34; must name one of"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"&#60;kept&#62; title\""), "kept");
    let r = ana
        .submit(&dash, &format!("{dash}/remove-panel"), &[("n", "6")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!ana.get(&dash).await.body.contains("Calling home?"));
    let r = ana
        .submit(&dash, &format!("{dash}/remove-panel"), &[("n", "60")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Export, and import as a new dashboard.
    let export = ana.get(&format!("{dash}/dashboard.json")).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let spec: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(spec["format"], "secviz-dashboard/1");
    assert_eq!(spec["panels"].as_array().unwrap().len(), 6);
    let mut imported = spec.clone();
    imported["title"] = "Imported".into();
    let r = ana
        .submit(
            "/dashboards",
            "/dashboards",
            &[
                ("dataset", &ds),
                ("title", ""),
                ("json", &imported.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let imported_at = r.location();
    let copy = ana.get(&format!("{imported_at}/dashboard.json")).await;
    let copy: serde_json::Value = serde_json::from_str(&copy.body).unwrap();
    assert_eq!(copy["panels"], spec["panels"]);
    let r = ana
        .submit(
            "/dashboards",
            "/dashboards",
            &[("dataset", &ds), ("title", ""), ("json", "{\"title\": 3}")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("{&#34;title&#34;: 3}") || r.body.contains("{&quot;title&quot;: 3}"),
        "kept: {}",
        r.body
    );

    // A saved view as a panel: the chart of the live ports, drawn over the window.
    let with_view = serde_json::json!({
        "title": "Ports now",
        "panels": [{"kind": "view", "window": "1h", "title": "Ports",
                    "view": {"version": 1, "kind": "bar", "fields": ["dst_port"], "top_k": 10}}]
    });
    let r = ana
        .submit(
            "/dashboards",
            "/dashboards",
            &[
                ("dataset", &ds),
                ("title", ""),
                ("json", &with_view.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let viewed = ana.get(&r.location()).await;
    let src = between(
        &viewed.body,
        "<img class=\"picture dark-only\" src=\"",
        "\"",
    )
    .replace("&#38;", "&");
    assert!(src.contains("/panels/0.svg?theme=dark&v="), "{src}");
    let (st, headers, svg) = ana.get_bytes(&src).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/svg+xml");
    let svg = String::from_utf8(svg).unwrap();
    assert!(
        svg.contains("<svg")
            && svg.contains("<title>4444: 1 events")
            && svg.contains("<title>4445: 1 events"),
        "{svg}"
    );
    assert!(
        !svg.contains("<title>53: "),
        "the upload's ports of 2025 are outside the window"
    );
    for (bad, says) in [
        (r#"{"title":"x","panels":[{"kind":"view"}]}"#, "needs its"),
        (
            r#"{"title":"x","panels":[{"kind":"view","view":{"version":1,"kind":"bar","fields":["dst_port"],"filter":"1=1; DROP TABLE events"}}]}"#,
            "view: the filter must be one expression",
        ),
    ] {
        let r = ana
            .submit(
                "/dashboards",
                "/dashboards",
                &[("dataset", &ds), ("title", ""), ("json", bad)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(r.body.contains(says), "{says}: {}", r.body);
    }

    // Private: nobody else sees it, not even that it exists.
    let bob = app.member("bob").await;
    let anon = app.client();
    assert_eq!(bob.get(&dash).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        anon.get(&format!("{dash}/panels")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        anon.get(&format!("{dash}/dashboard.json")).await.status,
        StatusCode::NOT_FOUND
    );
    // Public, over a published dataset: everyone sees it; bob remixes it.
    let r = ana
        .submit(&dash, &format!("{dash}/visibility"), &[("public", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.get(&dash).await.status, StatusCode::OK);
    assert!(
        bob.get("/dashboards")
            .await
            .body
            .contains(&format!("href=\"{dash}\""))
    );
    let r = bob.submit(&dash, &format!("{dash}/remix"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let remix = bob.get(&r.location()).await;
    assert!(remix.body.contains("(remix)") && remix.body.contains("remixed from"));
    // Bob cannot change ana's.
    let r = bob
        .submit(&dash, &format!("{dash}/spec"), &[("json", &fresh)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = bob.submit(&dash, &format!("{dash}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A read-only share link works without a login until it is revoked.
    let r = ana
        .submit(
            &dash,
            &format!("{dash}/shares"),
            &[("label", "<wall> screen")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let link = between(&r.body, "shown this once): <code>", "</code>").to_string();
    let path = link.trim_start_matches(&app.base).to_string();
    assert!(path.starts_with("/s/"), "{link}");
    let listed = ana.get(&dash).await.body;
    assert!(!listed.contains(&path), "shown once");
    assert!(listed.contains("&#60;wall&#62; screen"));
    let screen = anon.get(&path).await;
    assert_eq!(screen.status, StatusCode::OK, "{}", screen.body);
    assert!(screen.body.contains("class=\"board\""), "the big screen");
    assert!(screen.body.contains(&pseudonym));
    // Two viewers in one interval share one computation.
    let (_, _, a) = panels(&anon, &format!("{path}/panels"), None).await;
    let (_, _, b) = panels(&app.client(), &format!("{path}/panels"), None).await;
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&a).unwrap(),
        serde_json::from_str(&b).unwrap(),
    );
    // The link shows the dashboard, not the dataset: no drill-down to the events.
    let new_sources = a["panels"][2].as_str().unwrap();
    assert!(new_sources.contains(&pseudonym), "{new_sources}");
    assert!(!new_sources.contains("href="), "{new_sources}");
    assert!(
        !screen.body.contains("/events?sel="),
        "no drill-down on a share link"
    );
    let sel = between(&ana.get(&dash).await.body, "/events?sel=", "\"").to_string();
    assert_eq!(
        anon.get(&format!("{path}/events?sel={sel}")).await.status,
        StatusCode::NOT_FOUND
    );
    let computed = |v: &serde_json::Value| v["computed_us"].as_i64().unwrap();
    assert!(
        computed(&a) == computed(&b) || computed(&b) - computed(&a) >= 2_000_000,
        "one computation per interval"
    );
    // A forged secret, then the revoked link: 404.
    let forged = format!("{}0", &path[..path.len() - 1]);
    let forged = if forged == path {
        format!("{}1", &path[..path.len() - 1])
    } else {
        forged
    };
    assert_eq!(anon.get(&forged).await.status, StatusCode::NOT_FOUND);
    let sid = between(&path, "/s/", "_").to_string();
    let r = ana
        .submit(&dash, &format!("{dash}/shares/{sid}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(anon.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        anon.get(&format!("{path}/panels")).await.status,
        StatusCode::NOT_FOUND
    );

    // Deleted: gone for its owner too.
    let r = ana
        .submit(&imported_at, &format!("{imported_at}/delete"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(ana.get(&imported_at).await.status, StatusCode::NOT_FOUND);

    // When ana deletes the post that published the data, the public dashboard goes dark.
    assert_eq!(anon.get(&dash).await.status, StatusCode::OK);
    let r = ana
        .submit(&format!("/p/{post}"), &format!("/p/{post}/delete"), &[])
        .await;
    assert!(
        r.status.is_redirection() || r.status == StatusCode::OK,
        "{}",
        r.status
    );
    assert_eq!(anon.get(&dash).await.status, StatusCode::NOT_FOUND);
    assert_eq!(bob.get(&dash).await.status, StatusCode::NOT_FOUND);
}

on_both!(dashboards_end_to_end);
