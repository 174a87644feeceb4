//! What every handler can reach: configuration, database, mailer, rate limiter, image store,
//! clock. Cheap to clone (all shared).

use std::sync::{Arc, OnceLock};

use anyhow::Context;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::images::{ImageLimits, ImageStore};
use crate::mail::Mailer;
use crate::ratelimit::RateLimiter;
use crate::web::cache::PageCache;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub mailer: Mailer,
    pub limiter: RateLimiter,
    pub images: ImageStore,
    pub clock: Arc<dyn Clock>,
    /// Anonymous renderings of public pages (see `web::cache`).
    pub pages: Arc<PageCache>,
    /// The public URL: configured, or `http://<bound address>` once bound.
    public_url: Arc<OnceLock<String>>,
}

impl AppState {
    pub async fn new(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
        let db = Db::connect(&config.database_url()).await?;
        let images = ImageStore::new(&config.data_dir);
        images.ensure().context("cannot create the image folder")?;
        let mailer = Mailer::new(
            config.smtp_url.as_deref(),
            &config.mail_from,
            config.data_dir.join("outbox"),
        )?;
        let public_url = Arc::new(OnceLock::new());
        if config.public_url.is_some() {
            let _ = public_url.set(config.public_url());
        }
        Ok(AppState {
            limiter: RateLimiter::new(config.clock.clone()),
            clock: config.clock.clone(),
            config: Arc::new(config),
            db,
            mailer,
            images,
            pages: Arc::default(),
            public_url,
        })
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

    pub fn image_limits(&self) -> ImageLimits {
        ImageLimits {
            max_bytes: self.config.max_image_bytes,
            max_pixels: self.config.max_image_pixels,
        }
    }
}
