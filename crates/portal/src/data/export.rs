//! Downloads of a dataset's events as gzip-compressed JSON lines (the columns of the event
//! schema, in line order), streamed: a job of the query executor queries the lake and sends
//! the compressed bytes batch by batch through a bounded channel, so memory stays a few
//! batches whatever the dataset's size, and the work runs off the threads serving pages. The file is what
//! `secviz ingest FILE --format jsonl` reads back into the same events, which is how others
//! reproduce a post's picture. The dataset's addresses are as stored: anonymized when it is.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use futures::StreamExt;
use secviz_lake::query::{Access, OutputFormat, QueryLimits, QueryOptions, ResultWriter};
use secviz_lake::{DatasetName, Lake};
use secviz_sandbox::{Executor, JobLimits, RunError, StreamError};

use crate::error::AppError;

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

/// Options of a download: the member's limits, with the export's time and sorting
/// allowed to spill to disk, in the sandbox.
fn options(dataset: &DatasetName, limits: &JobLimits) -> QueryOptions {
    QueryOptions {
        access: Access::Only(vec![dataset.clone()]),
        limits: QueryLimits {
            max_rows: None,
            spill: true,
            ..QueryLimits::member_with(limits.time, limits.memory)
        },
        allow_explain: false,
    }
}

/// The events of `dataset` as a gzip JSON-lines body, made by a job of the query
/// executor for `client` and streamed as it is made. Refusals (no room, a limit) come
/// back as errors before any byte is sent; a failure after the first bytes ends the
/// transfer in error, so a cut file is never taken for a whole one.
pub async fn jsonl_gz(
    executor: &Executor,
    client: &str,
    limits: JobLimits,
    lake: &Lake,
    dataset: &DatasetName,
) -> Result<Body, AppError> {
    // The name is a checked dataset id ('d' and hex digits), so quoting is enough.
    let sql = format!(
        "SELECT * FROM \"{}\" ORDER BY \"source\", \"line\"",
        dataset.as_str()
    );
    let opts = options(dataset, &limits);
    let lake = lake.clone();
    let admission = executor.admit(client).map_err(RunError::Busy)?;
    let mut pieces = executor.stream(admission, limits, move |out| async move {
        let mut stream = lake
            .query_stream(&sql, &opts)
            .await
            .map_err(|e| e.public_message())?;
        let sink = Sink::default();
        let gz = flate2::write::GzEncoder::new(sink.clone(), flate2::Compression::new(6));
        let mut writer = ResultWriter::new(OutputFormat::Json, stream.schema(), gz)
            .map_err(|e| e.to_string())?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| e.public_message())?;
            writer.write(&batch).map_err(|e| e.to_string())?;
            let chunk = sink.take();
            if !chunk.is_empty() {
                let n = chunk.len();
                out.send(chunk, n).await.map_err(|e| e.to_string())?;
            }
        }
        writer.finish().map_err(|e| e.to_string())?;
        let chunk = sink.take();
        let n = chunk.len();
        out.send(chunk, n).await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    });
    let first = match pieces.next().await {
        Some(Ok(b)) => b,
        Some(Err(StreamError::Run(e))) => return Err(e.into()),
        Some(Err(StreamError::Job(m))) => {
            return Err(AppError::Limit(format!(
                "The download could not be made: {m}."
            )));
        }
        Some(Err(StreamError::Incomplete)) | None => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "the export ended without a word"
            )));
        }
    };
    let rest = pieces.map(|r| {
        r.map_err(|e| {
            tracing::warn!(error = %e, "a data export ended early");
            std::io::Error::other(e.to_string())
        })
    });
    Ok(Body::from_stream(
        futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest),
    ))
}
