//! What every handler can reach: configuration, database, mailer, rate limiter, image store,
//! clock. Cheap to clone (all shared).

use std::sync::{Arc, OnceLock};

use anyhow::Context;

use crate::clock::Clock;
use crate::config::Config;
use crate::data::picture::Pictures;
use crate::data::running::Running;
use crate::data::upload::Staging;
use crate::db::Db;
use crate::hash_pool::HashPool;
use crate::images::{ImageLimits, ImageStore};
use crate::mail::Mailer;
use crate::ratelimit::RateLimiter;
use crate::web::cache::shared::SharedReads;
use crate::web::cache::store::{Limits as CacheLimits, PageCache};
use crate::web::session_memory::SessionMemory;

/// What every handler can reach, behind one `Arc`: each layer and handler takes its own
/// clone of the state for every request, and a clone is then one reference count instead of
/// one for each of the fields below (two cores counting the same counters up and down).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Inner {
    pub config: Arc<Config>,
    pub db: Db,
    pub mailer: Mailer,
    pub limiter: RateLimiter,
    pub images: ImageStore,
    pub clock: Arc<dyn Clock>,
    /// Anonymous renderings of public pages (see `web::cache`).
    pub pages: Arc<PageCache>,
    /// Query results every visitor shares, for members' pages (see `web::cache::shared`).
    pub reads: Arc<SharedReads>,
    /// Members' sessions between their page views (see `web::session_memory`).
    pub sessions: Arc<SessionMemory>,
    /// The lake under `<data>/lake` (datasets of data posts).
    pub lake: secviz_lake::Lake,
    /// The site's anonymization key (`<data>/anonymization.key`).
    pub anon_key: secviz_lake::anon::AnonKey,
    /// Uploads waiting for their ingest.
    pub staging: Staging,
    /// Server-drawn pictures of recipes.
    pub pictures: Pictures,
    /// Wakes an idle ingest worker when a job is queued.
    pub ingest_wake: Arc<tokio::sync::Notify>,
    /// Jobs this process is running.
    pub ingest_running: Arc<Running>,
    /// Where members' work runs: never on the threads that serve pages.
    pub executor: secviz_sandbox::Executor,
    /// The public URL: configured, or `http://<bound address>` once bound.
    public_url: Arc<OnceLock<String>>,
    /// Password hashing, bounded (see `hash_pool`).
    pub hashing: HashPool,
    /// Receivers of live ingest over HTTP, one per dataset (see `live`).
    pub live: crate::live::LiveReceivers,
    /// Dashboards computed once per interval for all their viewers (see `dashboard`).
    pub screens: Arc<crate::dashboard::Screens>,
}

impl AppState {
    pub async fn new(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
        let db = Db::connect(&config.database_url()).await?;
        let mailer = Mailer::new(
            config.smtp_url.as_deref(),
            &config.mail_from,
            config.data_dir.join("outbox"),
        )?;
        let data_dir = config
            .data_dir
            .to_str()
            .context("the data folder's path must be UTF-8")?
            .to_string();
        let lake = secviz_lake::Lake::open(config.lake.as_deref().unwrap_or(&data_dir))
            .context("opening the lake")?;
        let lake = match &config.cluster {
            Some(c) => lake.with_cluster(c.clone()),
            None => lake,
        };
        // Uploads and images live where the lake lives when that is an object store, so
        // that instances sharing it share them; otherwise in the data folder.
        let shared = match config.lake.as_deref() {
            Some(l) if secviz_lake::Store::is_remote(l) => l,
            _ => data_dir.as_str(),
        };
        let images = ImageStore::open(shared)?;
        let anon_key = if shared == data_dir {
            crate::data::anon::load_site_key(&config.data_dir)?
        } else {
            crate::data::anon::load_shared_site_key(shared, &config.data_dir).await?
        };
        let staging = Staging::open(shared, &config.data_dir)?;
        let pictures = Pictures::new(&config.data_dir);
        pictures
            .ensure()
            .context("cannot create the picture folder")?;
        let public_url = Arc::new(OnceLock::new());
        if config.public_url.is_some() {
            let _ = public_url.set(config.public_url());
        }
        let pages = Arc::new(PageCache::new(CacheLimits::from_config(&config)));
        let backend = db.backend;
        let reads = Arc::new(SharedReads::new(
            CacheLimits::from_config(&config),
            config.page_cache,
        ));
        let hashing = HashPool::new(config.password_hash_workers, config.password_hash_queue);
        let executor = secviz_sandbox::Executor::new(secviz_sandbox::ExecutorConfig {
            slots: config.queries.slots.max(1),
            queue: config.queries.queue,
            per_client: config.queries.per_client.max(1),
            queue_wait: config.queries.queue_wait,
            idle: config.queries.priority == crate::config::QueryPriority::Idle,
            nice: 19,
            cpus: secviz_sandbox::priority::work_cpus(),
            ..secviz_sandbox::ExecutorConfig::for_machine("secviz-query")
        });
        Ok(AppState(Arc::new(Inner {
            executor,
            limiter: RateLimiter::for_db(config.clock.clone(), &db),
            clock: config.clock.clone(),
            config: Arc::new(config),
            db,
            mailer,
            images,
            pages,
            reads,
            sessions: Arc::new(SessionMemory::new(backend == crate::db::Backend::Sqlite)),
            lake,
            anon_key,
            staging,
            pictures,
            ingest_wake: Arc::default(),
            ingest_running: Arc::default(),
            public_url,
            hashing,
            live: Default::default(),
            screens: Arc::default(),
        })))
    }

    /// Forgets every cached page and shared query result, here and (on PostgreSQL) on the
    /// other instances: a member wrote something that any page may show.
    pub async fn invalidate_pages(&self) {
        self.forget_pages_here();
        crate::web::cache::peers::announce(&self.db, &self.config.instance).await;
    }

    /// Forgets every cached page and shared query result of this instance. The reads first:
    /// a page rendered in between must not be kept with the new generation from old reads.
    pub fn forget_pages_here(&self) {
        self.reads.invalidate();
        self.pages.invalidate();
    }

    /// Forgets every remembered session: call it after ending sessions in the table or
    /// changing a member's role.
    pub fn sessions_changed(&self) {
        self.sessions.forget();
    }

    /// Fixes the public URL to the bound address when none was configured.
    pub fn bound_to(&self, addr: std::net::SocketAddr) {
        let _ = self.public_url.set(format!("http://{addr}"));
    }

    /// Absolute base URL for links in mails and feeds (never taken from a request's Host).
    pub fn public_url(&self) -> String {
        self.public_url
            .get()
            .cloned()
            .unwrap_or_else(|| self.config.public_url())
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Runs member work on the query executor for `client` (an address): admitted or told
    /// to come back later, then bounded by `limits`. The threads serving pages only wait.
    pub async fn member_job<T, F, Fut>(
        &self,
        client: &str,
        limits: secviz_sandbox::JobLimits,
        job: F,
    ) -> Result<T, secviz_sandbox::RunError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let admission = self.executor.admit(client)?;
        self.executor.run(admission, limits, job).await
    }

    /// Limits of publishing: a picture, an analysis and a thumbnail.
    pub fn publish_limits(&self) -> secviz_sandbox::JobLimits {
        secviz_sandbox::JobLimits {
            time: self.config.queries.publish_time,
            memory: self.config.queries.memory_per_job(),
        }
    }

    /// Limits of a query, a view or a preview.
    pub fn query_limits(&self) -> secviz_sandbox::JobLimits {
        secviz_sandbox::JobLimits {
            time: self.config.queries.time,
            memory: self.config.queries.memory_per_job(),
        }
    }

    pub fn image_limits(&self) -> ImageLimits {
        ImageLimits {
            max_bytes: self.config.max_image_bytes,
            max_pixels: self.config.max_image_pixels,
        }
    }
}
