//! The portal's configuration: one typed struct with defaults that work on a fresh machine.
//! `secviz serve` fills it from flags and `SECVIZ_*` variables; every option is documented in
//! `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// Everything the portal can be told. Build with [`Config::new`] and adjust fields.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8080`; port 0 picks a free port).
    pub addr: SocketAddr,
    /// Data folder: SQLite database, image store, mail outbox, the lake (`lake/`), upload
    /// staging (`staging/`) and the anonymization key (`anonymization.key`).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default `sqlite://<data_dir>/secviz.db`.
    pub database_url: Option<String>,
    /// Where the lake lives when not in the data folder: an object store such as
    /// `s3://bucket/prefix` (configured from the `AWS_*` environment), shared by every
    /// instance of the portal and by `secviz query --data` on the same URL.
    pub lake: Option<String>,
    /// Query workers (`secviz worker`) that run the lake's queries; `None`: in this process.
    pub cluster: Option<secviz_lake::cluster::Cluster>,
    /// The URL members use, e.g. `https://secviz.example.org`. Used in mails and feeds, for
    /// the Origin check, and when it starts with `https://` cookies become `Secure` with the
    /// `__Host-` prefix and HSTS is sent. Default `http://<addr>`.
    pub public_url: Option<String>,
    /// Take the client address from the last `X-Forwarded-For` hop (only behind a reverse
    /// proxy that sets it; otherwise clients could choose their rate-limit bucket).
    pub trust_proxy: bool,
    /// SMTP server URL (`smtps://user:pass@host`, `smtp://host:25`); without it mail is written
    /// to `<data_dir>/outbox/`.
    pub smtp_url: Option<String>,
    /// Sender address of mails.
    pub mail_from: String,
    /// Largest accepted image upload in bytes (default 10 MiB).
    pub max_image_bytes: usize,
    /// Largest accepted image in pixels, checked from the header before decoding (default 40 M).
    pub max_image_pixels: u64,
    /// Most images attached to one post.
    pub max_images_per_post: usize,
    /// Largest log file a member may attach to a post, in bytes as sent (gzip counts
    /// compressed; default 200 MiB). One byte more gets 413 and nothing is kept.
    pub max_upload_bytes: u64,
    /// Largest text pasted into a post's data box (default 4 MiB).
    pub max_paste_bytes: usize,
    /// Background ingest workers (default 1: parsing uses a core and the writer another).
    pub ingest_workers: usize,
    /// A running ingest whose heartbeat is older than this many seconds belongs to a dead
    /// process: it is resumed (or failed after three attempts). Default 60.
    pub ingest_stale_secs: i64,
    /// This instance's name among the instances sharing one database: it marks the jobs it
    /// claims and the page-cache invalidations it sends. Default `<host>-<pid>-<random>`,
    /// new at every start (a restarted instance must not take its predecessor's claims
    /// for its own).
    pub instance: String,
    /// A session ends after this many seconds without a request (default 30 min).
    pub session_idle_secs: i64,
    /// A session ends this many seconds after login whatever happens (default 12 h).
    pub session_absolute_secs: i64,
    /// Password-reset links expire after this many seconds (default 1 h).
    pub reset_ttl_secs: i64,
    /// Anti-automation limits.
    pub limits: RateLimits,
    /// Serve public pages to anonymous visitors from memory, and render members' pages from
    /// the query results every visitor shares (both invalidated by members' writes; each
    /// bounded by `page_cache_bytes`). Off, every page reads the database.
    pub page_cache: bool,
    /// The time source (tests inject a [`crate::ManualClock`]).
    pub clock: Arc<dyn Clock>,

    // Sandboxing requests and uploads (issue 14).
    /// A gzip upload may expand to at most this many times its compressed size (the first
    /// 16 MiB are always allowed); past it the ingest is refused whole (default 100: text
    /// logs reach 10-20x, a compression bomb ~1000x). 0 turns the ratio limit off.
    pub max_decompressed_ratio: u64,
    /// Most bytes a gzip upload may expand to (default 4 GiB: a 200 MiB upload of text at
    /// 20x). 0 turns the limit off.
    pub max_decompressed_bytes: u64,
    /// A connection must send a request's headers within this time, or it is closed
    /// (default 10 s). The same bound applies to an idle keep-alive connection.
    pub header_timeout: Duration,
    /// A response the client stops reading for this long is cut and its connection closed
    /// (slow readers; default 60 s, as nginx's `send_timeout`).
    pub write_timeout: Duration,
    /// A request body that sends nothing for this long is cut with 408 (default 60 s).
    pub body_idle_timeout: Duration,
    /// After the first [`Config::body_idle_timeout`], a body must average at least this many
    /// bytes a second, or it is cut with 408 (default 1 KiB/s). 0 turns the floor off.
    pub body_min_rate: u64,
    /// A request body must be complete within this time, or it is cut with 408 (default
    /// 1 h: a 200 MiB upload at 60 KiB/s).
    pub body_timeout: Duration,
    /// Open connections allowed from one client address; more are closed at once (default
    /// 256: a browser opens about 6, an office behind one address a few dozen browsers).
    /// Counted by the socket's peer address, so it is off with `trust_proxy` (every
    /// connection then comes from the proxy). 0 turns it off.
    pub max_connections_per_ip: usize,
    // Issue 14: the page cache and password hashing stay within bounds.
    /// Most bytes the anonymous page cache holds, bodies and headers counted (default 64 MiB);
    /// the shared query results have a budget of the same size.
    pub page_cache_bytes: usize,
    /// Largest page the cache keeps (default 512 KiB); bigger pages are served, not kept.
    pub page_cache_entry_bytes: usize,
    /// Password hashes (argon2id, 19 MiB each) computed at once; default: the number of cores.
    pub password_hash_workers: usize,
    /// Password hashes waiting for a worker; one more gets 429 (default: twice the workers).
    pub password_hash_queue: usize,
    /// Where and under which limits members' work runs (SQL and views APIs, previews,
    /// pictures, analyses, exports).
    pub queries: QueryConfig,
}

/// The query executor: its size and the limits of each kind of member work. Every job
/// runs on one of `slots` threads (a core each by default) at a lower priority than the
/// pages; `memory` is split evenly between the slots, so the portal's member work never
/// holds more than `memory` in all.
#[derive(Clone, Debug)]
pub struct QueryConfig {
    /// Jobs running at once (default: one per core left to member work, all but an
    /// eighth of the cores and at least one, which serve pages).
    pub slots: usize,
    /// Jobs waiting for a slot, in all (default: 4 per slot); beyond, 429.
    pub queue: usize,
    /// Jobs of one client address in flight (default 16: the viewer asks for several
    /// views at once); beyond, 429.
    pub per_client: usize,
    /// SQL queries of one client address in flight (default 2); beyond, 429.
    pub sql_per_client: usize,
    /// Longest wait for a slot before a job is given up with 429 (default 10 s).
    pub queue_wait: Duration,
    /// Memory of all member work together (default 1 GiB).
    pub memory: usize,
    /// Time of a query, a view or a preview (default 30 s).
    pub time: Duration,
    /// Time of publishing a data post: picture, analysis and thumbnail (default 120 s).
    pub publish_time: Duration,
    /// Time of a download (data export, CSV of a selection; default 600 s).
    pub export_time: Duration,
    /// Largest SQL API answer in bytes; past it the rows are cut and marked (default 8 MiB).
    pub answer_bytes: usize,
    /// Largest CSV export of a selection in bytes (default 256 MiB).
    pub export_bytes: u64,
    /// Rows a SQL API answer carries at most (default 10,000).
    pub max_rows: usize,
    /// Requests to the views API per minute per client address (default 600: the viewer
    /// makes several per interaction).
    pub views_per_minute: u32,
    /// How members' work yields to the pages: in the idle scheduling class (the default:
    /// only what the web server leaves of a core), or at nice 19 (for hosts shared with other
    /// busy processes, where idle-class work would wait until they are done).
    pub priority: QueryPriority,
}

/// The scheduling priority of members' work (see [`QueryConfig::priority`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueryPriority {
    /// `SCHED_IDLE`: never takes CPU from anything else on the machine.
    #[default]
    Idle,
    /// Nice 19: yields to the pages, but still gets a share beside other busy processes.
    Low,
}

impl Default for QueryConfig {
    fn default() -> Self {
        // A query thread per core left to member work (all but the web server's share).
        let cores = secviz_sandbox::priority::work_cpus().map_or(1, |c| c.len().max(1));
        QueryConfig {
            slots: cores,
            queue: 4 * cores.max(2),
            per_client: 16,
            sql_per_client: 2,
            queue_wait: Duration::from_secs(10),
            memory: 1 << 30,
            time: Duration::from_secs(30),
            publish_time: Duration::from_secs(120),
            export_time: Duration::from_secs(600),
            answer_bytes: 8 << 20,
            export_bytes: 256 << 20,
            max_rows: 10_000,
            views_per_minute: 600,
            priority: QueryPriority::Idle,
        }
    }
}

impl QueryConfig {
    /// Memory one job may count: three quarters of its share of the total (the total
    /// split between the slots). The quarter kept back is for what the counting allocator
    /// does not see: a buffer being copied into its larger successor, the allocator's own
    /// rounding, answers written on the web server's threads. Measured in the hostile suite
    /// (debug build, 512 MiB): a job stopped at its full share still raised the process by
    /// up to 687 MiB, so the process went past the total plus 256 MiB that `--query-memory-mib`
    /// promises to stay under.
    pub fn memory_per_job(&self) -> usize {
        self.memory / self.slots.max(1) / 4 * 3
    }
}

/// Requests allowed per window, per client address or per account.
#[derive(Clone, Debug)]
pub struct RateLimits {
    /// Failed log-ins per minute, per address and per account (the next one gets 429).
    pub login_failures_per_minute: u32,
    /// Sign-ups per hour per address.
    pub signups_per_hour: u32,
    /// Reset requests per hour per address and per account.
    pub resets_per_hour: u32,
    /// New posts per hour per member.
    pub posts_per_hour: u32,
    /// Comments per 10 minutes per member.
    pub comments_per_10_minutes: u32,
    /// Images uploaded per hour per member.
    pub uploads_per_hour: u32,
    /// Log files (or pasted data) ingested per hour per member.
    pub data_uploads_per_hour: u32,
    /// SQL queries per minute per client address on `/api/v1/datasets/{id}/query`.
    pub queries_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_failures_per_minute: 10,
            signups_per_hour: 10,
            resets_per_hour: 5,
            posts_per_hour: 20,
            comments_per_10_minutes: 30,
            uploads_per_hour: 60,
            data_uploads_per_hour: 20,
            queries_per_minute: 60,
        }
    }
}

impl RateLimits {
    /// Limits high enough never to trip (benchmarks, test set-up that is not about limits).
    pub fn generous() -> RateLimits {
        RateLimits {
            login_failures_per_minute: 10_000,
            signups_per_hour: 10_000,
            resets_per_hour: 10_000,
            posts_per_hour: 10_000,
            comments_per_10_minutes: 10_000,
            uploads_per_hour: 10_000,
            data_uploads_per_hour: 10_000,
            queries_per_minute: 10_000,
        }
    }
}

impl Config {
    /// Defaults for a data folder: SQLite inside it, 127.0.0.1:8080, mail to the outbox.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            database_url: None,
            lake: None,
            cluster: None,
            public_url: None,
            trust_proxy: false,
            smtp_url: None,
            mail_from: "secviz <noreply@localhost>".to_string(),
            max_image_bytes: 10 * 1024 * 1024,
            max_image_pixels: 40_000_000,
            max_images_per_post: 8,
            max_upload_bytes: 200 * 1024 * 1024,
            max_paste_bytes: 4 * 1024 * 1024,
            ingest_workers: 1,
            ingest_stale_secs: 60,
            instance: default_instance(),
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 3600,
            reset_ttl_secs: 3600,
            limits: RateLimits::default(),
            page_cache: true,
            clock: Arc::new(SystemClock),

            page_cache_bytes: 64 * 1024 * 1024,
            page_cache_entry_bytes: 512 * 1024,
            password_hash_workers: cores(),
            password_hash_queue: 2 * cores(),
            queries: QueryConfig::default(),
            max_decompressed_ratio: 100,
            max_decompressed_bytes: 4 << 30,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
            body_idle_timeout: Duration::from_secs(60),
            body_min_rate: 1024,
            body_timeout: Duration::from_secs(3600),
            max_connections_per_ip: 256,
        }
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("secviz.db").display()
            ),
        }
    }

    /// The public URL in force, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.addr),
        }
    }

    /// True when members reach the portal over TLS.
    pub fn secure(&self) -> bool {
        self.public_url().starts_with("https://")
    }
}

impl std::fmt::Debug for Config {
    // Hand-written so secrets (passwords inside URLs) never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("public_url", &self.public_url)
            .field("trust_proxy", &self.trust_proxy)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("max_image_bytes", &self.max_image_bytes)
            .field("max_image_pixels", &self.max_image_pixels)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("ingest_workers", &self.ingest_workers)
            .field("instance", &self.instance)
            .field("limits", &self.limits)
            .field("page_cache_bytes", &self.page_cache_bytes)
            .field("password_hash_workers", &self.password_hash_workers)
            .field("password_hash_queue", &self.password_hash_queue)
            .field("queries", &self.queries)
            .finish_non_exhaustive()
    }
}

/// The cores this process may use (2 when unknown).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

/// `<host>-<pid>-<4 random hex digits>`: unique among live instances, readable in logs.
fn default_instance() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "secviz".to_string());
    format!(
        "{host}-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("smtps://mailer:s3cret@mail.example.org:465"),
            "smtps://mailer:***@mail.example.org:465"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn https_public_url_means_secure() {
        let mut c = Config::new("/tmp/x");
        assert!(!c.secure());
        c.public_url = Some("https://secviz.example.org/".into());
        assert!(c.secure());
        assert_eq!(c.public_url(), "https://secviz.example.org");
    }
}
