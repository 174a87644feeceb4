//! The `secviz serve` and `secviz user` commands, run as the real binary: the first admin is
//! created from the command line (password from the environment or standard input), and
//! `serve` with no data options creates `./secviz-data`, prints its URL and answers there.
//! `user add` also runs against a fresh PostgreSQL database.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use common::{BIN, serve};

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("portal answers");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_with_no_options_creates_the_data_folder_and_explains_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = serve(dir.path(), &[]);
    let page = http_get(&addr, "/");
    child.kill().ok();
    child.wait().ok();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("secviz user add NAME --admin"),
        "empty site explains the first admin"
    );
    assert!(dir.path().join("secviz-data/secviz.db").exists());
    assert!(dir.path().join("secviz-data/images").is_dir());
}

#[test]
fn user_add_creates_the_first_admin_from_env_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let out = Command::new(BIN)
        .args([
            "user",
            "add",
            "Root",
            "--admin",
            "--email",
            "root@example.org",
            "--data",
        ])
        .arg(&data)
        .env("SECVIZ_PASSWORD", "quartz meadow lantern")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin root"));

    // From standard input; a weak password is refused with the reason.
    let add = |name: &str, password: &str| {
        let mut child = Command::new(BIN)
            .args(["user", "add", name, "--data"])
            .arg(&data)
            .env_remove("SECVIZ_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = add("weak", "password1234");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too common"));
    let out = add("mod", "orbit violet staple");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = add("root", "another long passphrase");
    assert!(!out.status.success(), "a taken name is refused");
    let out = Command::new(BIN)
        .args(["user", "set-role", "mod", "moderator", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).contains("mod is now moderator")
    );

    // The admin shows on the running portal.
    let (mut child, addr) = serve(dir.path(), &["--data", data.to_str().unwrap()]);
    let page = http_get(&addr, "/u/root");
    child.kill().ok();
    child.wait().ok();
    assert!(
        page.contains("admin") && page.starts_with("HTTP/1.1 200"),
        "{page}"
    );
}

#[test]
fn user_add_on_postgresql() {
    let name = format!("secviz_cli_{}", std::process::id());
    let url = common::fresh_pg_database(&name);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["user", "add", "pgadmin", "--admin", "--data"])
        .arg(dir.path())
        .env("SECVIZ_DATABASE_URL", &url)
        .env("SECVIZ_PASSWORD", "quartz meadow lantern")
        .output()
        .unwrap();
    common::psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.path().join("secviz.db").exists(),
        "PostgreSQL was used, not SQLite"
    );
}
