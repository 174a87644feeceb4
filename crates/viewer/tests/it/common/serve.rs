//! Starts the explorer over a test lake on 127.0.0.1, port 0.

use secviz_lake::{DatasetName, Lake};
use secviz_views::ViewSpec;

/// The executor the served routers of this test binary run their work on.
pub fn executor() -> secviz_sandbox::Executor {
    static EXECUTOR: std::sync::OnceLock<secviz_sandbox::Executor> = std::sync::OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            let mut cfg = secviz_sandbox::ExecutorConfig::for_machine("views-test");
            cfg.per_client = 64;
            cfg.queue = 64;
            secviz_sandbox::Executor::new(cfg)
        })
        .clone()
}

/// Serves the explorer in the background; returns its base URL (ending in `/`).
pub async fn explorer(lake: Lake, name: DatasetName, spec: ViewSpec) -> String {
    let app = secviz_viewer::page::explorer(lake, name, spec, executor());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}
