//! Accounts and sessions against the real app (SECURITY.md rows 1–3 and 5–11), on SQLite and
//! PostgreSQL.

use crate::common;

use common::*;
use reqwest::StatusCode;

fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("secviz_session=") && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_string())
}

async fn signup(app: &TestApp, name: &str, password: &str) -> Resp {
    app.client()
        .submit(
            "/signup",
            "/signup",
            &[
                ("username", name),
                ("email", &format!("{name}@example.org")),
                ("password", password),
            ],
        )
        .await
}

async fn password_rules(backend: Backend) {
    let app = spawn(backend).await;
    let r = signup(&app, "eleven", "abcdefghijk").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("at least 12 characters"));
    assert!(
        r.body.contains("value=\"eleven\""),
        "the form keeps the username"
    );
    assert_eq!(
        signup(&app, "twelve", "lower only x").await.status,
        StatusCode::SEE_OTHER,
        "no composition rules"
    );
    let long: String = "correct horse battery staple "
        .repeat(5)
        .chars()
        .take(128)
        .collect();
    assert_eq!(
        signup(&app, "long", &long).await.status,
        StatusCode::SEE_OTHER,
        "128 characters accepted"
    );
    let r = signup(&app, "common", "password1234").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("too common"));
    assert_eq!(
        signup(&app, "twelve", "another passphrase").await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "taken username"
    );
    let r = signup(&app, "<script>", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("value=\"&#60;script&#62;\"")
            || r.body.contains("value=\"&lt;script&gt;\""),
        "typed value kept, escaped"
    );

    // Stored as argon2id; the plaintext is nowhere in the database.
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'long'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let dump: Vec<String> =
        sqlx::query_scalar("SELECT username || email || password_hash FROM users")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert!(
        dump.iter()
            .all(|row| !row.contains("lower only x") && !row.contains("correct horse"))
    );
}

async fn login_rotates_and_logout_revokes(backend: Backend) {
    let app = spawn(backend).await;
    app.member("ana").await;
    let c = app.client();
    let first = c
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let first = session_cookie(&first.headers).expect("session cookie on login");
    let second = c
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    let second = session_cookie(&second.headers).unwrap();
    assert_ne!(first, second, "a new session id at every login");
    let other = app.client();
    let r = other
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    let first = session_cookie(&r.headers).unwrap();

    // A planted cookie (fixation) is never adopted: login issues a new one.
    let planted = format!("{}/", app.base.trim_end_matches('/'));
    let fixed = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("secviz_session={fixed}; Path=/"),
        &planted.parse().unwrap(),
    );
    let victim = Client {
        http: reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: app.base.clone(),
    };
    let r = victim
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !session_cookie(&r.headers).unwrap().contains(fixed),
        "planted id adopted"
    );

    // Replaying the cookie after logout: 401.
    let replay = |cookie: String| {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let url = format!("{}/account", app.base);
        async move {
            http.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(replay(second.clone()).await, StatusCode::OK);
    let r = c.submit("/account", "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        replay(second).await,
        StatusCode::UNAUTHORIZED,
        "old cookie after logout"
    );
    assert_eq!(
        replay(first.clone()).await,
        StatusCode::OK,
        "other sessions live on after a logout"
    );

    // A password change ends the other sessions, keeps this one, and mails the member.
    let d = app.client();
    d.submit(
        "/login",
        "/login",
        &[("username", "ana"), ("password", PASSWORD)],
    )
    .await;
    let r = d
        .submit(
            "/account",
            "/account/password",
            &[
                ("current", "not my password"),
                ("new", "fresh lantern meadow"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "re-authentication needed"
    );
    let r = d
        .submit(
            "/account",
            "/account/password",
            &[("current", PASSWORD), ("new", "fresh lantern meadow")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        replay(first).await,
        StatusCode::UNAUTHORIZED,
        "other session after password change"
    );
    assert_eq!(
        d.get("/account").await.status,
        StatusCode::OK,
        "the changing session stays"
    );
    let mail = app.outbox().pop().expect("a mail about the change");
    assert!(
        mail.contains("To: ana@example.org")
            && mail.contains("password of your secviz account was changed"),
        "{mail}"
    );

    // Email change needs the password and tells the old address.
    let r = d
        .submit(
            "/account",
            "/account/email",
            &[("email", "new@example.org"), ("current", "wrong one")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = d
        .submit(
            "/account",
            "/account/email",
            &[
                ("email", "new@example.org"),
                ("current", "fresh lantern meadow"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mail = app.outbox().pop().unwrap();
    assert!(
        mail.contains("To: ana@example.org")
            && mail.contains("email address of your secviz account was changed"),
        "{mail}"
    );
}

async fn session_timeouts(backend: Backend) {
    let app = spawn(backend).await;
    let c = app.member("ana").await;
    // Idle: 29 minutes is fine, then 31 more without a request ends the session.
    app.clock.advance(29 * 60);
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    app.clock.advance(31 * 60);
    assert_eq!(c.get("/account").await.status, StatusCode::UNAUTHORIZED);
    // Absolute: active every 20 minutes, still out after 12 hours.
    let c = app.client();
    c.submit(
        "/login",
        "/login",
        &[("username", "ana"), ("password", PASSWORD)],
    )
    .await;
    for _ in 0..35 {
        app.clock.advance(20 * 60);
        assert_eq!(c.get("/account").await.status, StatusCode::OK);
    }
    app.clock.advance(20 * 60);
    assert_eq!(c.get("/account").await.status, StatusCode::UNAUTHORIZED);
}

fn reset_link(mail: &str) -> String {
    let start = mail.find("/reset/").expect("a reset link");
    mail[start..].split_whitespace().next().unwrap().to_string()
}

async fn reset_tokens_single_use_and_expiring(backend: Backend) {
    let app = spawn(backend).await;
    app.member("ana").await;
    let c = app.client();
    let r = c
        .submit("/reset", "/reset", &[("email", "nobody@example.org")])
        .await;
    assert!(
        r.body.contains("If an account uses that address"),
        "same answer for unknown addresses"
    );
    assert!(app.outbox().is_empty());

    c.submit("/reset", "/reset", &[("email", "ana@example.org")])
        .await;
    let link = reset_link(&app.outbox()[0]);
    assert_eq!(c.get(&link).await.status, StatusCode::OK);
    let r = c
        .submit(&link, &link, &[("password", "new meadow lantern")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        c.get(&link).await.status,
        StatusCode::BAD_REQUEST,
        "second use fails"
    );
    let token = c.csrf("/reset").await;
    assert_eq!(
        c.post(
            &link,
            &[("csrf", &token), ("password", "another new phrase")]
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    let r = c
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", "new meadow lantern")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // A newer request voids the older link; links expire after their TTL.
    c.submit("/reset", "/reset", &[("email", "ana@example.org")])
        .await;
    c.submit("/reset", "/reset", &[("email", "ana@example.org")])
        .await;
    let mails = app.outbox();
    let (older, newer) = (
        reset_link(&mails[mails.len() - 2]),
        reset_link(&mails[mails.len() - 1]),
    );
    assert_eq!(
        c.get(&older).await.status,
        StatusCode::BAD_REQUEST,
        "older link voided"
    );
    assert_eq!(c.get(&newer).await.status, StatusCode::OK);
    app.clock.advance(3601);
    assert_eq!(
        c.get(&newer).await.status,
        StatusCode::BAD_REQUEST,
        "expired"
    );
}

async fn reset_ends_every_session(backend: Backend) {
    let app = spawn(backend).await;
    let logged_in = app.member("ana").await;
    let c = app.client();
    c.submit("/reset", "/reset", &[("email", "ana@example.org")])
        .await;
    let link = reset_link(&app.outbox()[0]);
    c.submit(&link, &link, &[("password", "new meadow lantern")])
        .await;
    assert_eq!(
        logged_in.get("/account").await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn cookie_attributes_behind_tls(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.public_url = Some("https://secviz.example.org".into())
    })
    .await;
    secviz_portal::members::create(
        &app.db,
        "ana",
        Some("ana@example.org"),
        PASSWORD,
        secviz_portal::Role::Member,
        0,
    )
    .await
    .unwrap();
    // The client cannot keep Secure cookies over plain HTTP: carry them by hand as a browser
    // behind the TLS proxy would.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csrf_cookie = page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csrf_cookie.starts_with("__Host-secviz_csrf="),
        "{csrf_cookie}"
    );
    let token = csrf_of(&page.text().await.unwrap());
    let r = http
        .post(format!("{}/login", app.base))
        .header("cookie", csrf_cookie.split(';').next().unwrap())
        .form(&[
            ("csrf", token.as_str()),
            ("username", "ana"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set.starts_with("__Host-secviz_session="), "{set}");
    for attr in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(set.contains(attr), "{attr} missing in {set}");
    }
    assert!(!set.contains("Domain="), "{set}");
    assert!(r.headers().get("strict-transport-security").is_some());
}

on_both!(
    password_rules,
    login_rotates_and_logout_revokes,
    session_timeouts,
    reset_tokens_single_use_and_expiring,
    reset_ends_every_session,
    cookie_attributes_behind_tls,
);
