//! A real S3-compatible server for tests: `moto_server` (moto, pinned in
//! `scripts/requirements-test.txt`, installed in the test venv by
//! `scripts/setup-test-env.sh`) on 127.0.0.1 and a free port, one per test, with a bucket
//! of its own. The options it gives ([`S3Server::options`]) name the endpoint and the
//! credentials, so a client never looks anywhere else for them (no cloud metadata address).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server; killed when dropped.
pub struct S3Server {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

impl S3Server {
    /// Starts `moto_server` (from `PATH`, as the test scripts set it) and waits until it
    /// answers. Panics with what to do when it is not installed.
    pub fn start() -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "moto_server: {e}; run scripts/setup-test-env.sh and source scripts/test-env.sh \
                     (it puts the test venv, with moto[server], on PATH)"
                )
            });
        let server = S3Server {
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while request(port, "GET", "/").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto_server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Creates a bucket (moto takes unsigned requests).
    pub fn bucket(&self, name: &str) {
        let status = request(self.port, "PUT", &format!("/{name}"));
        assert_eq!(status, Some(200), "creating bucket {name}");
    }

    /// Object-store options for this server: endpoint, credentials, region, plain HTTP.
    pub fn options(&self) -> Vec<(&'static str, String)> {
        vec![
            ("aws_endpoint", self.endpoint.clone()),
            ("aws_access_key_id", "secviz-test".into()),
            ("aws_secret_access_key", "secviz-test-secret".into()),
            ("aws_region", "us-east-1".into()),
            ("aws_allow_http", "true".into()),
        ]
    }

    /// The same as environment variables, for a child process (`secviz --data s3://…`).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "secviz-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "secviz-test-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
            // Nothing may ask a cloud metadata address for credentials.
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.0 request without a body; the status code, or `None` when nothing answered.
fn request(port: u16, method: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
