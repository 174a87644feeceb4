//! The authorisation matrix of the dashboards (SECURITY.md rows 12 to 15): every dashboard
//! route and change × {anonymous, owner, another member, moderator, admin} → the expected
//! status, on SQLite and PostgreSQL (the shared bookkeeping is [`crate::authz`]'s). A
//! private dashboard answers 404 to all but its owner, staff included; only the owner
//! changes, shares, revokes or deletes; every change needs the CSRF token.

use crate::authz::{
    ADMIN, ANON, AUTHOR, Case, MODERATOR, NF, OK, OTHER, SEE, UNAUTH, UNPROC, data_fixture, expect,
    send,
};
use crate::common;

use common::*;
use reqwest::StatusCode;
use secviz_portal::Role;

/// Two fresh dashboards of the author's over the dataset of their data post, with pictures
/// as panels ([`SPEC`]): one private, one public with a share link; their paths and the
/// link's id.
async fn dashboard_fixture(author: &Client, dataset: &str) -> (String, String, String) {
    let mut made = Vec::new();
    for _ in 0..2 {
        let r = author
            .submit(
                "/dashboards",
                "/dashboards",
                &[("dataset", dataset), ("title", ""), ("json", SPEC)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        made.push(r.location());
    }
    // The CSRF token from the list page: a dashboard's own page computes its panels.
    let r = author
        .submit(
            "/dashboards",
            &format!("{}/visibility", made[1]),
            &[("public", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = author
        .submit(
            "/dashboards",
            &format!("{}/shares", made[1]),
            &[("label", "wall")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let link = r.body.split("shown this once): <code>").nth(1).unwrap();
    let share = link.split("/s/").nth(1).unwrap().split('_').next().unwrap();
    (made.remove(0), made.remove(0), share.to_string())
}

/// A dashboard spec: two panels, the charts of the ports and of the sources over the last
/// hour (a dashboard keeps at least one panel: the matrix removes one).
const SPEC: &str = r#"{"title":"Board","panels":[{"kind":"view","window":"1h","title":"Ports","view":{"version":1,"kind":"bar","fields":["dst_port"],"top_k":10}},{"kind":"view","window":"1h","title":"Sources","view":{"version":1,"kind":"bar","fields":["src_ip"],"top_k":10}}]}"#;

/// The dashboards (issue 18): a private dashboard is its owner's alone and answers 404 to
/// everyone else, staff included; a public one over a published dataset is anyone's to see
/// and any member's to remix, and still only its owner's to change, share or delete. A
/// dashboard is made over one's own dataset only.
async fn dashboard_matrix(backend: Backend) {
    let app = spawn(backend).await;
    let clients = [
        app.client(),
        app.member("author").await,
        app.member("other").await,
        app.with_role("moderator", Role::Moderator).await,
        app.with_role("admin", Role::Admin).await,
    ];
    let f = data_fixture(&app, &clients[AUTHOR]).await;
    let (mut private, mut public, mut share) =
        dashboard_fixture(&clients[AUTHOR], &f.post_dataset).await;
    let fill = |path: &str, private: &str, public: &str, share: &str| {
        path.replace("{dash}", private)
            .replace("{pub}", public)
            .replace("{share}", share)
            .replace("{pds}", &f.post_dataset)
            .replace("{dds}", &f.draft_dataset)
    };
    let cases: &[Case] = &[
        ("GET", "/dashboards", &[], [OK; 5]),
        ("GET", "{dash}", &[], [NF, OK, NF, NF, NF]),
        ("GET", "{dash}/screen", &[], [NF, OK, NF, NF, NF]),
        ("GET", "{dash}/panels", &[], [NF, OK, NF, NF, NF]),
        ("GET", "{dash}/panels/0.svg", &[], [NF, OK, NF, NF, NF]),
        ("GET", "{dash}/dashboard.json", &[], [NF, OK, NF, NF, NF]),
        ("GET", "{pub}", &[], [OK; 5]),
        ("GET", "{pub}/screen", &[], [OK; 5]),
        ("GET", "{pub}/panels", &[], [OK; 5]),
        ("GET", "{pub}/panels/0.svg", &[], [OK; 5]),
        ("GET", "{pub}/dashboard.json", &[], [OK; 5]),
        ("GET", "/dash/999999", &[], [NF; 5]),
        ("GET", "/dash/not-a-number", &[], [NF; 5]),
        (
            "GET",
            "/s/0123456789abcdef_0123456789abcdef0123456789abcdef",
            &[],
            [NF; 5],
        ),
        (
            "POST",
            "/dashboards",
            &[("dataset", "{pds}"), ("title", "Mine"), ("json", "")],
            // Another member's dataset, even a published one, is not theirs to build on.
            [UNAUTH, SEE, UNPROC, UNPROC, UNPROC],
        ),
        (
            "POST",
            "/dashboards",
            &[("dataset", "{dds}"), ("title", "Mine"), ("json", "")],
            [UNAUTH, SEE, UNPROC, UNPROC, UNPROC],
        ),
        (
            "POST",
            "{dash}/spec",
            &[("json", SPEC)],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        (
            "POST",
            "{pub}/spec",
            &[("json", SPEC)],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        (
            "POST",
            "{pub}/add-panel",
            &[
                ("kind", "analysis"),
                ("analysis", "beacons"),
                ("window", "24h"),
                ("title", "Calling home?"),
                ("question", ""),
            ],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        (
            "POST",
            "{pub}/remove-panel",
            &[("n", "0")],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        (
            "POST",
            "{dash}/visibility",
            &[("public", "1")],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        (
            "POST",
            "{pub}/visibility",
            &[("public", "")],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        ("POST", "{dash}/remix", &[], [UNAUTH, SEE, NF, NF, NF]),
        ("POST", "{pub}/remix", &[], [UNAUTH, SEE, SEE, SEE, SEE]),
        (
            "POST",
            "{dash}/shares",
            &[("label", "wall")],
            // The owner is shown the new link once.
            [UNAUTH, OK, NF, NF, NF],
        ),
        (
            "POST",
            "{pub}/shares",
            &[("label", "wall")],
            [UNAUTH, OK, NF, NF, NF],
        ),
        (
            "POST",
            "{pub}/shares/{share}/revoke",
            &[],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        (
            "POST",
            "{pub}/shares/0123456789abcdef/revoke",
            &[],
            [UNAUTH, NF, NF, NF, NF],
        ),
        ("POST", "{dash}/delete", &[], [UNAUTH, SEE, NF, NF, NF]),
        ("POST", "{pub}/delete", &[], [UNAUTH, SEE, NF, NF, NF]),
    ];
    let mut failures = Vec::new();
    for (method, path, fields, expected) in cases {
        for who in [ANON, AUTHOR, OTHER, MODERATOR, ADMIN] {
            if *method != "GET" {
                // Each change on fresh dashboards; the last ones are deleted, so the
                // author stays under the limit of dashboards a member may have.
                for old in [&private, &public] {
                    clients[AUTHOR]
                        .submit("/dashboards", &format!("{old}/delete"), &[])
                        .await;
                }
                (private, public, share) =
                    dashboard_fixture(&clients[AUTHOR], &f.post_dataset).await;
            }
            let fields: Vec<(&str, String)> = fields
                .iter()
                .map(|(k, v)| (*k, fill(v, &private, &public, &share)))
                .collect();
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let path = fill(path, &private, &public, &share);
            let got = send(&clients[who], method, &path, &fields).await;
            expect(&mut failures, who, method, &path, got, expected[who]);
        }
    }
    // Another member's list never shows the author's private dashboard.
    let listed = clients[OTHER].get("/dashboards").await.body;
    assert!(!listed.contains(&format!("href=\"{private}\"")), "{listed}");
    // Every change refuses a request without the CSRF token, or with a wrong one, even
    // from the owner (SECURITY.md row 14).
    for (method, path, fields, _) in cases.iter().filter(|c| c.0 != "GET") {
        let path = fill(path, &private, &public, &share);
        let url = format!("{}{path}", clients[AUTHOR].base);
        for token in [None, Some("0123456789abcdef")] {
            let mut form: Vec<(&str, &str)> = fields.to_vec();
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let st = clients[AUTHOR]
                .http
                .post(&url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status();
            if st != StatusCode::FORBIDDEN {
                failures.push(format!(
                    "{method} {path} with CSRF token {token:?}: got {st}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix of the dashboards:\n{}",
        failures.join("\n")
    );
}

on_both!(dashboard_matrix);
