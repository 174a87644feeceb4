//! Helpers shared by the tests that run the real binary: starting `secviz serve` on a free
//! port and reading the address it prints, and listing the files under a folder.
#![allow(dead_code)]

pub mod portal;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_secviz");

/// Starts `secviz serve` in `dir` on a free port; returns the child and the printed address.
/// Data options come from `extra` only (the environment's `SECVIZ_DATA` and
/// `SECVIZ_DATABASE_URL` are removed).
pub fn serve(dir: &Path, extra: &[&str]) -> (Child, String) {
    serve_env(dir, extra, &[])
}

/// [`serve`] with more environment variables (the `AWS_*` of an S3 test server).
pub fn serve_env(dir: &Path, extra: &[&str], env: &[(&str, String)]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--addr", "127.0.0.1:0"])
        .args(extra)
        .current_dir(dir)
        .env_remove("SECVIZ_DATA")
        .env_remove("SECVIZ_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    (child, url.trim_start_matches("http://").to_string())
}

/// Starts `secviz serve` in `dir` with `extra` and reads the first `n` lines it prints (the
/// portal's address, then the syslog receiver's with `--syslog`).
pub fn serve_lines(dir: &Path, extra: &[&str], n: usize) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--addr", "127.0.0.1:0"])
        .args(extra)
        .current_dir(dir)
        .env_remove("SECVIZ_DATA")
        .env_remove("SECVIZ_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines = (0..n)
        .map(|_| {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            line
        })
        .collect();
    (child, lines)
}

/// Every file under `dir`, recursively (none when it does not exist).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The PostgreSQL server of the tests (`SECVIZ_TEST_PG_URL`).
pub fn pg_base() -> String {
    std::env::var("SECVIZ_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs one SQL statement on the tests' PostgreSQL server with psql.
pub fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg(pg_base())
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql is installed with PostgreSQL");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new, empty database `name` on the tests' PostgreSQL server (dropped first if a killed
/// run left it); returns its URL.
pub fn fresh_pg_database(name: &str) -> String {
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    psql(&format!("CREATE DATABASE {name}"));
    format!("{}/{name}", pg_base().rsplit_once('/').unwrap().0)
}

/// Runs `secviz ARGS` with `SECVIZ_DATA` set to `data` (and no database URL from the
/// environment), to completion.
pub fn secviz_in(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env("SECVIZ_DATA", data)
        .env_remove("SECVIZ_DATABASE_URL")
        .args(args)
        .output()
        .expect("secviz runs")
}

/// The standard output of a command that must have succeeded.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
