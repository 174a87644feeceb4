//! Invalidation across instances sharing one PostgreSQL database (issue 20). Each instance
//! caches pages and shared query results in its own memory; a member's write on one
//! instance must clear them on all.
//!
//! The writer's instance clears its own caches and sends `NOTIFY secviz_pages` with its name;
//! every other instance LISTENs on a connection of its own and clears its cache on each
//! notification. Notifications sent while a listener was disconnected are lost, so a
//! listener that (re)connects clears its cache first: it may have missed anything.
//! SQLite is one instance's database: nothing is sent.

use std::time::Duration;

use crate::db::{Backend, Db};

/// The channel instances announce their writes on.
pub const CHANNEL: &str = "secviz_pages";

/// Tells the other instances to forget their cached pages; a failure is logged (their pages
/// still expire with the cache's time to live).
pub async fn announce(db: &Db, instance: &str) {
    if db.backend != Backend::Postgres {
        return;
    }
    let sent = sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(instance)
        .execute(&db.pool)
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "telling the other instances to forget their cached pages failed");
    }
}

/// Listens for the other instances' writes until the task is aborted.
/// `forget` empties this instance's caches.
pub async fn listen(url: String, instance: String, forget: impl Fn() + Send + 'static) {
    use sqlx::postgres::PgListener;
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other instances' writes; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cannot listen for other instances' writes; retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        // Whatever was announced while no listener was connected is lost.
        forget();
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.payload() != instance => forget(),
                Ok(Some(_)) => {}
                // The connection was lost: connect again (and clear the cache then).
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for other instances' writes failed; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
