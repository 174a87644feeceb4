//! `secviz serve`: runs the web portal. With no options it creates `./secviz-data`, uses
//! SQLite there and listens on 127.0.0.1:8080. Every option also reads a `SECVIZ_*`
//! variable; all are documented in `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

/// Where the portal keeps its data (shared with `secviz user`).
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Data folder: SQLite database, images, mail outbox.
    #[arg(long, env = "SECVIZ_DATA", default_value = "./secviz-data")]
    pub data: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); default: SQLite in the data folder.
    #[arg(long, env = "SECVIZ_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Where the lake lives, when not in the data folder: `s3://bucket/prefix` (endpoint
    /// and credentials from the AWS_* environment variables).
    #[arg(long, env = "SECVIZ_LAKE")]
    pub lake: Option<String>,
    #[command(flatten)]
    pub workers: super::cluster::WorkersArg,
}

impl DataArgs {
    pub fn config(&self) -> secviz_portal::Config {
        let mut c = secviz_portal::Config::new(&self.data);
        c.database_url = self.database_url.clone();
        c.lake = self.lake.clone();
        c
    }

    /// [`DataArgs::config`] with the workers named, if any.
    pub fn config_with_workers(&self) -> anyhow::Result<secviz_portal::Config> {
        let mut c = self.config();
        c.cluster = self.workers.cluster()?;
        Ok(c)
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, env = "SECVIZ_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The URL members use (e.g. https://secviz.example.org). `https://` turns on Secure
    /// `__Host-` cookies and HSTS: set it when a TLS proxy is in front.
    #[arg(long, env = "SECVIZ_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Trust the last X-Forwarded-For hop as the client address (only behind a proxy that sets it).
    #[arg(long, env = "SECVIZ_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// SMTP URL for mail (smtps://user:pass@host:465); without it mail goes to <data>/outbox/.
    #[arg(long, env = "SECVIZ_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of mails.
    #[arg(
        long,
        env = "SECVIZ_MAIL_FROM",
        default_value = "secviz <noreply@localhost>"
    )]
    pub mail_from: String,
    /// Largest image upload in bytes.
    #[arg(long, env = "SECVIZ_MAX_IMAGE_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_image_bytes: usize,
    /// Largest image in pixels (width × height), checked before decoding.
    #[arg(long, env = "SECVIZ_MAX_IMAGE_PIXELS", default_value_t = 40_000_000)]
    pub max_image_pixels: u64,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "SECVIZ_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,
    /// Hours after login after which a session ends in any case.
    #[arg(long, env = "SECVIZ_SESSION_HOURS", default_value_t = 12)]
    pub session_hours: i64,
    /// Seconds after which a running ingest without a heartbeat is taken for one whose
    /// process died, and is resumed.
    #[arg(long, env = "SECVIZ_INGEST_STALE_SECS", default_value_t = 60)]
    pub ingest_stale_secs: i64,
    /// This instance's name among several sharing one database (in logs and job claims).
    /// Default: host, process id and a random suffix.
    #[arg(long, env = "SECVIZ_INSTANCE")]
    pub instance: Option<String>,

    // Sandboxing uploads and slow clients.
    /// Refuse a gzip upload that expands to more than N times its size (0: no ratio limit).
    #[arg(long, env = "SECVIZ_MAX_DECOMPRESSED_RATIO", default_value_t = 100)]
    pub max_decompressed_ratio: u64,
    /// Refuse a gzip upload that expands to more than this many bytes (0: no limit).
    #[arg(long, env = "SECVIZ_MAX_DECOMPRESSED_BYTES", default_value_t = 4 << 30)]
    pub max_decompressed_bytes: u64,
    /// Seconds a connection has to send a request's headers (and an idle keep-alive
    /// connection to send its next request).
    #[arg(long, env = "SECVIZ_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a response may wait for a client that stopped reading before its connection
    /// is closed.
    #[arg(long, env = "SECVIZ_WRITE_TIMEOUT_SECS", default_value_t = 60)]
    pub write_timeout_secs: u64,
    /// Seconds a request body may send nothing before it is cut with 408.
    #[arg(long, env = "SECVIZ_BODY_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub body_idle_timeout_secs: u64,
    /// Bytes a second a request body must average after its first idle period (0: no floor).
    #[arg(long, env = "SECVIZ_BODY_MIN_RATE", default_value_t = 1024)]
    pub body_min_rate: u64,
    /// Seconds within which a request body must be complete.
    #[arg(long, env = "SECVIZ_BODY_TIMEOUT_SECS", default_value_t = 3600)]
    pub body_timeout_secs: u64,
    /// Open connections allowed from one client address (0: no cap; off with --trust-proxy).
    #[arg(long, env = "SECVIZ_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,

    /// Memory of the anonymous page cache, in MiB (pages and headers counted); as much again
    /// holds the query results members' pages are rendered from.
    #[arg(long, env = "SECVIZ_PAGE_CACHE_MIB", default_value_t = 64)]
    pub page_cache_mib: usize,
    /// Largest page the cache keeps, in KiB.
    #[arg(long, env = "SECVIZ_PAGE_CACHE_ENTRY_KIB", default_value_t = 512)]
    pub page_cache_entry_kib: usize,
    /// Password hashes computed at once (19 MiB each); default: the number of cores.
    #[arg(long, env = "SECVIZ_PASSWORD_HASH_WORKERS")]
    pub password_hash_workers: Option<usize>,
    /// Password hashes waiting for a worker; one more gets 429. Default: twice the workers.
    #[arg(long, env = "SECVIZ_PASSWORD_HASH_QUEUE")]
    pub password_hash_queue: Option<usize>,
    #[command(flatten)]
    pub queries: QueryFlags,
    /// Boxed: the flags are many, and the command enum holds every subcommand's.
    #[command(flatten)]
    pub syslog: Box<SyslogFlags>,
}

/// The syslog receiver (live ingest over the network).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Syslog receiver")]
pub struct SyslogFlags {
    /// Receive syslog (RFC 3164 and 5424) over UDP and TCP on this address; given without
    /// one, 127.0.0.1:5514. Loopback unless you name another address.
    #[arg(
        long,
        env = "SECVIZ_SYSLOG",
        value_name = "ADDR",
        num_args = 0..=1,
        default_missing_value = secviz_lake::live::syslog::DEFAULT_ADDR
    )]
    pub syslog: Option<SocketAddr>,
    /// The dataset syslog messages go to (created when missing).
    #[arg(long, env = "SECVIZ_SYSLOG_DATASET", default_value = "syslog")]
    pub syslog_dataset: secviz_lake::DatasetName,
    /// Longest syslog message accepted, in bytes; longer ones are refused and counted.
    #[arg(long, env = "SECVIZ_SYSLOG_MAX_MESSAGE_BYTES", default_value_t = 65536)]
    pub syslog_max_message_bytes: usize,
    /// Messages a second one sender may send: over it, TCP senders are slowed and UDP
    /// messages dropped and counted.
    #[arg(long, env = "SECVIZ_SYSLOG_RATE", default_value_t = 20000)]
    pub syslog_rate: u32,
    /// TCP connections open at once.
    #[arg(long, env = "SECVIZ_SYSLOG_MAX_CONNECTIONS", default_value_t = 256)]
    pub syslog_max_connections: usize,
}

impl SyslogFlags {
    /// Starts the receiver on `lake`, if asked for; it runs until the returned server is
    /// dropped.
    async fn start(
        &self,
        lake: &secviz_lake::Lake,
    ) -> anyhow::Result<Option<secviz_lake::live::syslog::SyslogServer>> {
        let Some(addr) = self.syslog else {
            return Ok(None);
        };
        let name = &self.syslog_dataset;
        if let Some(m) = lake.manifest(name).await?
            && m.anonymization.is_some()
        {
            anyhow::bail!(
                "dataset {name} is anonymized; syslog cannot be received into it (name another with --syslog-dataset)"
            );
        }
        let (receiver, _appender) = secviz_lake::live::Receiver::start(
            lake,
            name,
            secviz_lake::live::ReceiverOptions::default(),
        );
        let opts = secviz_lake::live::syslog::SyslogOptions {
            max_frame_bytes: self.syslog_max_message_bytes.clamp(480, 16 << 20),
            rate_per_source: self.syslog_rate.max(1),
            max_connections: self.syslog_max_connections.max(1),
            ..Default::default()
        };
        let server = secviz_lake::live::syslog::serve(receiver, addr, opts).await?;
        Ok(Some(server))
    }
}

/// Limits of members' work (SQL and views APIs, previews, pictures, analyses, exports).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Members' queries")]
pub struct QueryFlags {
    /// Queries running at once (each on a thread of its own); default: one per core
    /// left after the web server's share.
    #[arg(long, env = "SECVIZ_QUERY_SLOTS")]
    pub query_slots: Option<usize>,
    /// Memory of all members' queries together, in MiB (split between the slots).
    #[arg(long, env = "SECVIZ_QUERY_MEMORY_MIB", default_value_t = 1024)]
    pub query_memory_mib: usize,
    /// Seconds a query, a view or a preview may run.
    #[arg(long, env = "SECVIZ_QUERY_SECONDS", default_value_t = 30)]
    pub query_seconds: u64,
    /// Jobs (views, previews, queries) one client address may have running or waiting.
    #[arg(long, env = "SECVIZ_JOBS_PER_CLIENT", default_value_t = 16)]
    pub jobs_per_client: usize,
    /// SQL queries one client address may have running or waiting.
    #[arg(long, env = "SECVIZ_QUERIES_PER_CLIENT", default_value_t = 2)]
    pub queries_per_client: usize,
    /// Largest answer of the SQL API, in KiB (rows past it are cut and marked).
    #[arg(long, env = "SECVIZ_ANSWER_KIB", default_value_t = 8192)]
    pub answer_kib: usize,
    /// Seconds a download (data export, CSV of a selection) may take.
    #[arg(long, env = "SECVIZ_EXPORT_SECONDS", default_value_t = 600)]
    pub export_seconds: u64,
    /// How members' work yields to the pages: `idle` runs it only on CPU nothing else wants
    /// (best when the portal has the host to itself); `low` runs it at nice 19, so that it
    /// still progresses on a host shared with other busy processes.
    #[arg(long, env = "SECVIZ_QUERY_PRIORITY", value_enum, default_value_t = QueryPriorityArg::Idle)]
    pub query_priority: QueryPriorityArg,
}

/// The values of `--query-priority`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum QueryPriorityArg {
    Idle,
    Low,
}

impl QueryFlags {
    fn apply(&self, q: &mut secviz_portal::config::QueryConfig) {
        if let Some(n) = self.query_slots {
            q.slots = n.max(1);
            q.queue = 4 * q.slots.max(2);
        }
        q.memory = self.query_memory_mib.max(16) << 20;
        q.time = std::time::Duration::from_secs(self.query_seconds.max(1));
        q.per_client = self.jobs_per_client.max(1);
        q.sql_per_client = self.queries_per_client.max(1);
        q.answer_bytes = self.answer_kib.max(1) << 10;
        q.export_time = std::time::Duration::from_secs(self.export_seconds.max(1));
        q.priority = match self.query_priority {
            QueryPriorityArg::Idle => secviz_portal::config::QueryPriority::Idle,
            QueryPriorityArg::Low => secviz_portal::config::QueryPriority::Low,
        };
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_logging();
    let mut config = args.data.config_with_workers()?;
    config.addr = args.addr;
    config.public_url = args.public_url;
    config.trust_proxy = args.trust_proxy;
    config.smtp_url = args.smtp_url;
    config.mail_from = args.mail_from;
    config.max_image_bytes = args.max_image_bytes;
    config.max_image_pixels = args.max_image_pixels;
    config.session_idle_secs = args.session_idle_minutes.max(1) * 60;
    config.session_absolute_secs = args.session_hours.max(1) * 3600;
    config.ingest_stale_secs = args.ingest_stale_secs.max(2);
    if let Some(name) = args.instance.filter(|n| !n.trim().is_empty()) {
        config.instance = name.trim().to_string();
    }
    config.max_decompressed_ratio = args.max_decompressed_ratio;
    config.max_decompressed_bytes = args.max_decompressed_bytes;
    config.header_timeout = Duration::from_secs(args.header_timeout_secs.max(1));
    config.write_timeout = Duration::from_secs(args.write_timeout_secs.max(1));
    config.body_idle_timeout = Duration::from_secs(args.body_idle_timeout_secs.max(1));
    config.body_min_rate = args.body_min_rate;
    config.body_timeout = Duration::from_secs(args.body_timeout_secs.max(1));
    config.max_connections_per_ip = args.max_connections_per_ip;
    config.page_cache_bytes = args.page_cache_mib.saturating_mul(1024 * 1024);
    config.page_cache_entry_bytes = args.page_cache_entry_kib.saturating_mul(1024);
    if let Some(n) = args.password_hash_workers {
        config.password_hash_workers = n.max(1);
        config.password_hash_queue = 2 * config.password_hash_workers;
    }
    if let Some(n) = args.password_hash_queue {
        config.password_hash_queue = n;
    }
    args.queries.apply(&mut config.queries);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let data = config.data_dir.clone();
        let app = secviz_portal::App::build(config).await?;
        let syslog = args.syslog.start(app.lake()).await?;
        let server = app.bind().await?;
        // Both lines in one write, and never a panic: a launcher that reads the first line
        // and closes the pipe must not take the server down with it.
        let mut banner = format!(
            "secviz portal: http://{} (data in {})\n",
            server.local_addr(),
            data.display()
        );
        if let Some(s) = &syslog {
            banner.push_str(&format!(
                "secviz syslog: udp://{} tcp://{} into dataset {}\n",
                s.udp, s.tcp, args.syslog.syslog_dataset
            ));
        }
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(banner.as_bytes()).and_then(|_| out.flush());
        }
        server
            .run_until(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Logs to stderr; `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
