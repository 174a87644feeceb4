//! Starts the explorer over a test lake on 127.0.0.1, port 0.

use secviz_lake::{DatasetName, Lake};
use secviz_views::ViewSpec;

/// Serves the explorer in the background; returns its base URL (ending in `/`).
pub async fn explorer(lake: Lake, name: DatasetName, spec: ViewSpec) -> String {
    let app = secviz_views::page::explorer(lake, name, spec);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}
