//! secviz-portal is the web application: accounts, posts, comments, gallery, tags, search,
//! Atom feeds and moderation, on SQLite or PostgreSQL.
//!
//! The crate is layered like crates.io: [`router`] lists every route; `handlers/` holds one
//! small file per action (extract → authorise → load → act → respond); the logic lives in
//! plain modules tested without HTTP (`domain` newtypes, [`markdown`], [`images`], `db`).
//! Data posts (`data`) queue uploads for a background ingest into the lake and publish
//! recipes with server-drawn pictures.
//!
//! Not here: parsing, storage and SQL (secviz-parse, secviz-lake), the view model and the
//! viewer's JSON API (secviz-views, mounted here under a read policy), graphs and drawing
//! (secviz-graph, secviz-render), and the command line (the `secviz` binary starts it).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let config = secviz_portal::Config::new("./secviz-data");
//! let app = secviz_portal::App::build(config).await?;
//! let server = app.bind().await?;           // binds `config.addr` (port 0 works)
//! println!("http://{}", server.local_addr());
//! server.run().await
//! # }
//! ```

pub mod clock;
pub mod config;
mod data;
pub mod db;
pub mod domain;
pub mod images;
pub mod mail;
pub mod markdown;
pub mod members;
pub mod ratelimit;

mod auth;
mod dashboard;
pub mod demo;
mod hash_pool;
mod live;
mod logtext;

mod error;
mod handlers;
mod maintenance;
mod reads;
mod router;
mod serve;
mod state;
mod views;
mod web;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, RateLimits};
pub use data::presets::{PresetSpec, preset_specs};
pub use db::Backend;
pub use domain::Role;
pub use web::cache::{CacheStats, PageCache};
/// Seconds a member's session is served from memory on SQLite before the table is read again.
pub use web::session_memory::FRESH_SECS as REMEMBERED_SESSION_SECS;

use anyhow::Context;
use std::net::SocketAddr;

/// A built portal: the router plus the state it serves (database pool, mailer, limits).
pub struct App {
    router: axum::Router,
    state: state::AppState,
}

/// Runs the maintenance sweep on demand ([`App::sweeper`]).
#[derive(Clone)]
pub struct Sweeper(state::AppState);

impl Sweeper {
    /// One sweep now; true when this instance swept (another may hold the sweep).
    pub async fn sweep(&self) -> bool {
        maintenance::sweep(&self.0).await
    }
}

impl App {
    /// Connects the database (creating the data folder and SQLite file when needed), runs the
    /// migrations for its backend and builds the router.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        lower_parallel_pool();
        let state = state::AppState::new(config).await?;
        let router = router::build(state.clone());
        Ok(App { router, state })
    }

    /// The router, for embedding into another axum app or for `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// The anonymous page cache, for its counters ([`PageCache::stats`]).
    pub fn page_cache(&self) -> std::sync::Arc<PageCache> {
        self.state.pages.clone()
    }

    /// The lake the portal reads and writes (live receivers append to it).
    pub fn lake(&self) -> &secviz_lake::Lake {
        &self.state.lake
    }

    /// The database pool the app uses (tests and the `user` subcommand use it).
    pub fn db(&self) -> &db::Db {
        &self.state.db
    }

    /// A handle on the maintenance sweep, which the server runs every ten minutes, to run
    /// it at once (tests that move the clock).
    pub fn sweeper(&self) -> Sweeper {
        Sweeper(self.state.clone())
    }

    /// Binds the configured address; `local_addr()` tells the port when it was 0.
    pub async fn bind(self) -> anyhow::Result<Server> {
        let addr = self.state.config.addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr().context("listener has no address")?;
        self.state.bound_to(local);
        Ok(Server {
            listener,
            local,
            router: self.router,
            state: self.state,
        })
    }
}

/// Rayon's global pool lays out members' graphs: its threads run below the priority of
/// the threads that serve pages, like the query executor's. Only the first call in a
/// process builds it (later ones find it built).
fn lower_parallel_pool() {
    let _ = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("secviz-layout-{i}"))
        .start_handler(|_| secviz_sandbox::priority::lower_current(10))
        .build_global();
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    router: axum::Router,
    state: state::AppState,
}

impl Server {
    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serves until the process ends.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests (for at most 30 s)
    /// and closes the pool.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let workers = data::worker::spawn(&state);
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(maintenance::EVERY);
            loop {
                tick.tick().await;
                maintenance::sweep(&state).await;
            }
        });
        let peers = (self.state.db.backend == db::Backend::Postgres).then(|| {
            let state = self.state.clone();
            tokio::spawn(web::cache::peers::listen(
                state.config.database_url(),
                state.config.instance.clone(),
                move || state.forget_pages_here(),
            ))
        });
        let c = &self.state.config;
        let limits = serve::ConnectionLimits {
            header_timeout: c.header_timeout,
            write_timeout: c.write_timeout,
            // Behind a proxy every connection comes from the proxy's address.
            per_ip: if c.trust_proxy {
                0
            } else {
                c.max_connections_per_ip
            },
        };
        serve::serve(self.listener, self.router, limits, shutdown).await;
        sweeper.abort();
        if let Some(p) = peers {
            p.abort();
        }
        for w in workers {
            w.abort();
        }
        self.state.db.close().await;
        Ok(())
    }

    /// Runs the server on a background task and returns its address (for tests and tools).
    pub fn spawn(self) -> (SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>) {
        let addr = self.local;
        (addr, tokio::spawn(self.run()))
    }
}
