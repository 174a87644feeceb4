//! Downloads of a dataset's events as gzip-compressed JSON lines (the columns of the event
//! schema, in line order), streamed: a query of the lake feeds a bounded channel batch by
//! batch, so memory stays a few batches whatever the dataset's size. The file is what
//! `secviz ingest FILE --format jsonl` reads back into the same events, which is how others
//! reproduce a post's picture. The dataset's addresses are as stored: anonymized when it is.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures::StreamExt;
use secviz_lake::query::{Access, OutputFormat, QueryLimits, QueryOptions, ResultWriter};
use secviz_lake::{DatasetName, Lake};

/// A `Write` whose bytes are taken out after each batch.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn take(&self) -> Bytes {
        Bytes::from(std::mem::take(
            &mut *self.0.lock().unwrap_or_else(|e| e.into_inner()),
        ))
    }
}

/// Options of a download: the member's own limits, with time for a large dataset and
/// sorting allowed to spill to disk.
fn options(dataset: &DatasetName) -> QueryOptions {
    QueryOptions {
        access: Access::Only(vec![dataset.clone()]),
        limits: QueryLimits {
            timeout: Some(Duration::from_secs(600)),
            memory_bytes: Some(512 << 20),
            max_rows: None,
            spill: true,
        },
        allow_explain: false,
    }
}

/// The events of `dataset` as a gzip JSON-lines body.
pub async fn jsonl_gz(lake: &Lake, dataset: &DatasetName) -> anyhow::Result<Body> {
    // The name is a checked dataset id ('d' and hex digits), so quoting is enough.
    let sql = format!(
        "SELECT * FROM \"{}\" ORDER BY \"source\", \"line\"",
        dataset.as_str()
    );
    let mut stream = lake
        .query_stream(&sql, &options(dataset))
        .await
        .map_err(|e| anyhow::anyhow!("export query: {e}"))?;
    let sink = Sink::default();
    let gz = flate2::write::GzEncoder::new(sink.clone(), flate2::Compression::new(6));
    let mut writer = ResultWriter::new(OutputFormat::Json, stream.schema(), gz)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        while let Some(batch) = stream.next().await {
            let step = batch
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|b| writer.write(&b).map_err(std::io::Error::other));
            if let Err(e) = step {
                tracing::warn!(error = %e, "export stopped");
                let _ = tx.send(Err(e)).await;
                return;
            }
            let chunk = sink.take();
            if !chunk.is_empty() && tx.send(Ok(chunk)).await.is_err() {
                return; // the client went away: dropping the stream cancels the query
            }
        }
        if let Err(e) = writer.finish() {
            let _ = tx.send(Err(std::io::Error::other(e))).await;
            return;
        }
        let _ = tx.send(Ok(sink.take())).await;
    });
    let body =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    Ok(Body::from_stream(body))
}
