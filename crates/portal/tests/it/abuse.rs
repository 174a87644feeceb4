//! Anti-automation, uploads, injection, errors and headers against the real app (SECURITY.md
//! rows 4, 21–25, 28), on SQLite and PostgreSQL.

use crate::common;

use common::*;
use reqwest::StatusCode;

async fn login_failures_are_limited(backend: Backend) {
    // Production limits: 10 failures a minute per address and per account.
    let app = spawn_with(backend, |c| c.limits = secviz_portal::RateLimits::default()).await;
    app.member("ana").await;
    let c = app.client();
    for i in 0..10 {
        let r = c
            .submit(
                "/login",
                "/login",
                &[("username", "ana"), ("password", "wrong guess number")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert!(r.body.contains("Wrong username or password"));
    }
    let r = c
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the 11th attempt is refused, even with the right password"
    );
    app.clock.advance(61);
    let r = c
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "a minute later it works");
}

async fn security_row_4_concurrent_logins_get_exactly_the_limit(backend: Backend) {
    // Production limits (10 failures a minute), and room on the hashing pool for every
    // attempt: only the rate limit may refuse here.
    let app = spawn_with(backend, |c| {
        c.limits = secviz_portal::RateLimits::default();
        c.password_hash_queue = 100;
    })
    .await;
    app.member("ana").await;
    let c = app.client();
    let token = c.csrf("/login").await;
    let attempts = (0..50).map(|i| {
        let (c, token) = (c.clone(), token.clone());
        tokio::spawn(async move {
            let guess = format!("wrong guess number {i}");
            let fields = [
                ("csrf", token.as_str()),
                ("username", "ana"),
                ("password", guess.as_str()),
            ];
            c.post("/login", &fields).await
        })
    });
    let mut unauthorized = 0;
    let mut limited = 0;
    for a in attempts.collect::<Vec<_>>() {
        let r = a.await.unwrap();
        match r.status {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert!(r.headers.contains_key("retry-after"));
                assert!(r.body.contains("value=\"ana\""), "the form keeps the name");
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!((unauthorized, limited), (10, 40));
    let r = c
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "still limited");
}

async fn signups_resets_comments_and_uploads_are_limited(backend: Backend) {
    let app = spawn_with(backend, |c| c.limits = secviz_portal::RateLimits::default()).await;
    let c = app.client();
    let mut statuses = Vec::new();
    for i in 0..11 {
        let name = format!("user{i}");
        let r = c
            .submit(
                "/signup",
                "/signup",
                &[
                    ("username", &name),
                    ("email", &format!("{name}@example.org")),
                    ("password", PASSWORD),
                ],
            )
            .await;
        statuses.push(r.status);
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);

    let anon = app.client();
    for _ in 0..5 {
        assert_eq!(
            anon.submit("/reset", "/reset", &[("email", "user1@example.org")])
                .await
                .status,
            StatusCode::OK
        );
    }
    assert_eq!(
        anon.submit("/reset", "/reset", &[("email", "user1@example.org")])
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // c is logged in as user9 (the last successful sign-up).
    let post = create_post(&c, "Limits", "text", &[], &[]).await;
    let path = format!("/p/{post}/comments");
    for i in 0..30 {
        let r = c
            .submit(
                &format!("/p/{post}"),
                &path,
                &[("body", &format!("comment {i}"))],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "comment {i}");
    }
    let r = c
        .submit(
            &format!("/p/{post}"),
            &path,
            &[("body", "one too many, and kept")],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.body.contains("one too many, and kept"),
        "the refused comment keeps its text"
    );

    // Uploads: 60 images an hour.
    for i in 0..15 {
        let files: Vec<_> = (1..=4)
            .map(|n| {
                (
                    ["file1", "file2", "file3", "file4"][n - 1],
                    "a.png",
                    png(4, 4),
                )
            })
            .collect();
        let alts = [
            ("newalt1", "a"),
            ("newalt2", "b"),
            ("newalt3", "c"),
            ("newalt4", "d"),
        ];
        let mut fields = vec![("action", "preview"), ("title", "t"), ("body", "b")];
        fields.extend_from_slice(&alts);
        let r = c.submit_post("/new", &fields, &files).await;
        assert_eq!(r.status, StatusCode::OK, "burst {i}: {}", r.body);
    }
    let r = c
        .submit_post(
            "/new",
            &[
                ("action", "preview"),
                ("title", "t"),
                ("body", "b"),
                ("newalt1", "a"),
            ],
            &[("file1", "a.png", png(4, 4))],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("too many uploads"));
}

/// A PNG whose header claims `w`×`h` pixels, with a tiny (invalid) body: refused from the
/// header before any pixel is decoded.
fn pixel_bomb(w: u32, h: u32) -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

async fn uploads_are_checked_by_content(backend: Backend) {
    let app = spawn_with(backend, |c| c.max_image_bytes = 64 * 1024).await;
    let c = app.member("ana").await;
    let send = |name: &'static str, bytes: Vec<u8>| {
        let c = c.clone();
        async move {
            c.submit_post(
                "/new",
                &[
                    ("action", "publish"),
                    ("title", "Upload"),
                    ("body", "keep this text"),
                    ("newalt1", "alt"),
                ],
                &[("file1", name, bytes)],
            )
            .await
        }
    };
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>".to_vec();
    let r = send("graph.svg", svg).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.body.contains("SVG is not accepted") && r.body.contains("keep this text"));
    let r = send(
        "evil.png",
        b"<html><script>alert(1)</script></html>".to_vec(),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "HTML renamed .png"
    );
    let r = send("big.png", vec![0x89; 64 * 1024 + 1]).await;
    assert_eq!(
        r.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "one byte over the cap"
    );
    let r = send("bomb.png", pixel_bomb(20_000, 20_000)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("20000×20000"), "{}", r.body);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing refused was stored");

    // A hostile file name is never a path: the file lands under a random id.
    let r = send("../../x.png", png(10, 10)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        !app.data.path().join("x.png").exists()
            && !app.data.path().parent().unwrap().join("x.png").exists()
    );
    let id: String = sqlx::query_scalar("SELECT id FROM images")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(app.data.path().join("images").join(&id).exists());

    // Served with a fixed type, nosniff and a sandbox CSP.
    let (status, headers, _) = c.get_bytes(&format!("/img/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
}

async fn metadata_is_stripped(backend: Backend) {
    let app = spawn(backend).await;
    let c = app.member("ana").await;
    // A JPEG with an EXIF segment carrying a marker string.
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(32, 32, image::Rgb([9, 9, 9])))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let exif = b"Exif\0\0GPS-SECRET-LOCATION";
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend_from_slice(&[0xff, 0xe1]);
    with_exif.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    with_exif.extend_from_slice(exif);
    with_exif.extend_from_slice(&jpeg[2..]);
    let post = create_post(
        &c,
        "Photo",
        "x",
        &[("newalt1", "a photo")],
        &[("file1", "p.jpg", with_exif)],
    )
    .await;
    let page = c.get(&format!("/p/{post}")).await.body;
    let id = page
        .split("src=\"/img/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (_, headers, bytes) = c.get_bytes(&format!("/img/{id}")).await;
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(
        !bytes.windows(10).any(|w| w == b"GPS-SECRET"),
        "EXIF survived re-encoding"
    );
}

async fn search_is_parameterised(backend: Backend) {
    let app = spawn(backend).await;
    let c = app.member("ana").await;
    create_post(&c, "Zeek notice logs", "scan detection", &[], &[]).await;
    create_post(
        &c,
        "Sshd brute force",
        "failed passwords from one host",
        &[],
        &[],
    )
    .await;
    for q in [
        "' OR 1=1 --",
        "\" OR \"\"=\"",
        "zeek' --",
        "*",
        "NEAR(zeek sshd)",
        "%' UNION SELECT password_hash FROM users --",
    ] {
        let r = c
            .get(&format!(
                "/search?q={}",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        assert!(
            !r.body.contains("Sshd brute force") && !r.body.contains("$argon2"),
            "{q} returned extra rows"
        );
    }
    let r = c.get("/search?q=zeek").await;
    assert!(r.body.contains("Zeek notice logs") && !r.body.contains("Sshd brute force"));
}

async fn security_headers_everywhere(backend: Backend) {
    let app = spawn(backend).await;
    let c = app.member("ana").await;
    let post = create_post(
        &c,
        "Headers",
        "x",
        &[("newalt1", "img")],
        &[("file1", "a.png", png(4, 4))],
    )
    .await;
    let page = c.get(&format!("/p/{post}")).await;
    let id = page
        .body
        .split("src=\"/img/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    for path in [
        "/".to_string(),
        format!("/p/{post}"),
        "/feed.atom".into(),
        format!("/img/{id}"),
        "/no-such-page".into(),
    ] {
        let (_, h, _) = c.get_bytes(&path).await;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            !csp.contains("unsafe-inline") || csp.contains("sandbox"),
            "{path}: {csp}"
        );
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.get("server").is_none(), "{path}: no version banner");
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .contains("charset=utf-8")
                || path.starts_with("/img/"),
            "{path}"
        );
        assert!(h.get("x-request-id").is_some(), "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("img-src 'self'")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
}

async fn internal_errors_show_a_generic_page(backend: Backend) {
    let app = spawn(backend).await;
    let c = app.client();
    // Break the database under the running app: the next front page fails inside.
    sqlx::query("DROP TABLE post_tags")
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE tags RENAME TO tags_gone")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    let id = r.headers["x-request-id"].to_str().unwrap().to_string();
    assert!(r.body.contains(&id), "the page shows the request id");
    for leak in [
        "tags",
        "sqlx",
        "SQLite",
        "relation",
        "panicked",
        "src/",
        "secviz-portal",
    ] {
        assert!(
            !r.body.contains(leak)
                || leak == "tags"
                    && !r.body.contains("tags_gone")
                    && !r.body.contains("no such table"),
            "error page leaks {leak:?}"
        );
    }
    assert!(r.headers.get("server").is_none());
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
}

on_both!(
    login_failures_are_limited,
    security_row_4_concurrent_logins_get_exactly_the_limit,
    signups_resets_comments_and_uploads_are_limited,
    uploads_are_checked_by_content,
    metadata_is_stripped,
    search_is_parameterised,
    security_headers_everywhere,
    internal_errors_show_a_generic_page,
);
