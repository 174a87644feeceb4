//! Integration tests of the portal: the real app on a random port with a fresh SQLite or PostgreSQL database.
//!
//! One test binary for the crate: its dependencies (DataFusion above all) are linked once,
//! and the runner (`cargo nextest run`, see .config/nextest.toml) schedules every test.

// First: its `on_both!` macro is used by the modules below.
#[macro_use]
mod common;

mod abuse;
mod accounts;
mod authz;
mod authz_dashboards;
mod browser;
mod browser_datapost;
mod dashboards;
mod datapost;
mod datapost_restart;
mod demo;
mod error_wording;
mod health;
mod instances;
mod journey;
mod live_http;
mod logging;
mod member_pages;
mod page_cache;
mod password_hashing;
mod presets;
mod slow_clients;
mod upload_limits;
mod withdrawal;
mod xss;
