//! The site under attack: `secviz demo`'s posts and data on SQLite or a fresh PostgreSQL
//! database, served by the real `secviz serve` with the limits of [`super::limits`].

use std::process::{Child, Command};

use reqwest::StatusCode;

use super::limits::{
    ANSWER_KIB, EXPORT_SECONDS, HEADER_SECONDS, QUERY_MEMORY_MIB, QUERY_SECONDS, WRITE_SECONDS,
};
use crate::common::{self, BIN, psql};

pub(super) struct Site {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Site {
    pub(super) fn new(postgres: bool) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let database_url = postgres
            .then(|| common::fresh_pg_database(&format!("secviz_hostile_{}", std::process::id())));
        let site = Site { dir, database_url };
        let out = Command::new(BIN)
            .arg("demo")
            .args(site.data_args())
            .env_remove("SECVIZ_DATA")
            .env_remove("SECVIZ_DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        site
    }

    fn data_args(&self) -> Vec<String> {
        let mut a = vec![
            "--data".to_string(),
            self.dir.path().join("data").display().to_string(),
        ];
        if let Some(url) = &self.database_url {
            a.extend(["--database-url".to_string(), url.clone()]);
        }
        a
    }

    pub(super) fn start(&self) -> Server {
        let mut args = self.data_args();
        for (k, v) in [
            ("--query-memory-mib", QUERY_MEMORY_MIB.to_string()),
            ("--query-seconds", QUERY_SECONDS.to_string()),
            ("--export-seconds", EXPORT_SECONDS.to_string()),
            ("--answer-kib", ANSWER_KIB.to_string()),
            ("--header-timeout-secs", HEADER_SECONDS.to_string()),
            ("--write-timeout-secs", WRITE_SECONDS.to_string()),
        ] {
            args.extend([k.to_string(), v]);
        }
        args.push("--trust-proxy".to_string());
        // The syslog receiver (issue 18) beside the portal, with its caps low enough that
        // the hostile senders of the storm meet them.
        for (k, v) in [
            ("--syslog", "127.0.0.1:0"),
            ("--syslog-max-message-bytes", "4096"),
            ("--syslog-rate", "200"),
            ("--syslog-max-connections", "16"),
        ] {
            args.extend([k.to_string(), v.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (child, lines) = common::serve_lines(self.dir.path(), &args, 2);
        let word = |scheme: &str| {
            lines[1]
                .split_whitespace()
                .find_map(|w| w.strip_prefix(scheme))
                .unwrap_or_else(|| panic!("no {scheme} in {:?}", lines[1]))
                .to_string()
        };
        let addr = lines[0]
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("no URL in {:?}", lines[0]))
            .to_string();
        Server {
            child,
            addr,
            syslog_tcp: word("tcp://"),
            syslog_udp: word("udp://"),
        }
    }

    /// The syslog receiver's record of one transport (`syslog-tcp`, `syslog-udp`).
    pub(super) fn syslog_record(&self, key: &str) -> serde_json::Value {
        let path = self
            .dir
            .path()
            .join("data/lake/datasets/syslog/manifest.json");
        let Ok(bytes) = std::fs::read(path) else {
            return serde_json::Value::Null;
        };
        let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        m["streams"][key].clone()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(url) = &self.database_url {
            let name = url.rsplit('/').next().unwrap();
            psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

pub(super) struct Server {
    pub(super) child: Child,
    pub(super) addr: String,
    pub(super) syslog_tcp: String,
    pub(super) syslog_udp: String,
}

impl Server {
    pub(super) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(super) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident memory of the server process, in bytes.
    pub(super) fn rss(&self) -> u64 {
        rss_of(self.child.id())
    }
}

/// Resident memory of process `pid`, in bytes (0 once it has ended).
pub(super) fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo's posts and their datasets, as the pages show them.
pub(super) async fn posts_and_datasets(
    http: &reqwest::Client,
    base: &str,
) -> Vec<(u32, String, String)> {
    let mut out = Vec::new();
    for id in 1..=3 {
        let html = http
            .get(format!("{base}/p/{id}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let title = between(&html, "<title>", "</title>").unwrap_or_default();
        let dataset = between(&html, "data-api=\"/api/v1/views/datasets/", "\"")
            .expect("a data post names its dataset");
        out.push((id, title, dataset));
    }
    out
}

pub(super) fn between(s: &str, a: &str, b: &str) -> Option<String> {
    let i = s.find(a)? + a.len();
    let j = s[i..].find(b)? + i;
    Some(s[i..j].to_string())
}

pub(super) async fn count(http: &reqwest::Client, base: &str, dataset: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/datasets/{dataset}/query"))
        .header("x-forwarded-for", "192.0.2.250")
        .form(&[("sql", "SELECT count(*) AS n FROM events")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    v["rows"][0]["n"].to_string()
}
