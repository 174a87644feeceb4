//! Streaming a job's output: [`Executor::stream`] runs a job that sends pieces through a
//! [`Sink`] and gives the caller a [`JobStream`] of them, so an answer or an export goes
//! out while it is made, a bounded number of pieces at a time, instead of being built
//! whole in memory.
//!
//! The channel holds [`CHANNEL_PIECES`] pieces: a client that reads slowly makes the job
//! wait (and its deadline still runs). Pieces sent are [`crate::budget::hand_off`]: they
//! leave the job's memory once the caller holds them. The stream tells apart a job that
//! finished, one that failed with its own error, one the executor stopped (deadline,
//! panic) and one that vanished without a word, so a caller never mistakes a cut-off
//! answer for a whole one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use crate::budget::{self, JobLimits};
use crate::executor::{Admission, Executor, RunError};

/// Pieces in flight between a job and its reader.
pub const CHANNEL_PIECES: usize = 4;

enum Msg<T, E> {
    Piece(T),
    Done(Result<(), E>),
    Stopped(RunError),
}

/// Where a streaming job sends its pieces.
pub struct Sink<T, E> {
    tx: mpsc::Sender<Msg<T, E>>,
}

/// The reader is gone: the job should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the reader of the answer went away")]
pub struct Closed;

impl<T, E> Sink<T, E> {
    /// Sends a piece of about `bytes` bytes, waiting while the reader is behind.
    pub async fn send(&self, piece: T, bytes: usize) -> Result<(), Closed> {
        budget::hand_off(bytes);
        self.tx.send(Msg::Piece(piece)).await.map_err(|_| Closed)
    }
}

/// How a stream ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError<E> {
    /// The job's own error.
    #[error("{0}")]
    Job(E),
    /// The executor stopped or refused the job.
    #[error(transparent)]
    Run(RunError),
    /// The job ended without saying how (a bug; never a whole answer).
    #[error("the answer ended before it was complete")]
    Incomplete,
}

/// The pieces of a streaming job, then `None` once it finished well. Past the job's
/// deadline (its wait for a slot, its time limit and the executor's grace), pieces still
/// waiting are dropped and the stream ends with the time limit: a client that reads
/// slowly cannot make an answer last longer than the job that made it.
pub struct JobStream<T, E> {
    rx: mpsc::Receiver<Msg<T, E>>,
    ended: bool,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: std::time::Duration,
}

impl<T, E> Stream for JobStream<T, E> {
    type Item = Result<T, StreamError<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.ended = true;
            return Poll::Ready(Some(Err(StreamError::Run(RunError::Exceeded(
                crate::budget::Exceeded::Time { limit: self.limit },
            )))));
        }
        match self.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Msg::Piece(p))) => Poll::Ready(Some(Ok(p))),
            Poll::Ready(Some(Msg::Done(Ok(())))) => {
                self.ended = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Msg::Done(Err(e)))) => {
                self.ended = true;
                Poll::Ready(Some(Err(StreamError::Job(e))))
            }
            Poll::Ready(Some(Msg::Stopped(e))) => {
                self.ended = true;
                Poll::Ready(Some(Err(StreamError::Run(e))))
            }
            Poll::Ready(None) => {
                self.ended = true;
                Poll::Ready(Some(Err(StreamError::Incomplete)))
            }
        }
    }
}

impl Executor {
    /// Runs `job` like [`Executor::run`], with a [`Sink`] for its pieces; returns at once
    /// with the stream of them. Dropping the stream cancels the job. Must be called
    /// within a Tokio runtime (a task waits for the job there).
    pub fn stream<T, E, F, Fut>(
        &self,
        admission: Admission,
        limits: JobLimits,
        job: F,
    ) -> JobStream<T, E>
    where
        F: FnOnce(Sink<T, E>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), E>> + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (tx, rx) = mpsc::channel(CHANNEL_PIECES);
        let sink = Sink { tx: tx.clone() };
        let cfg = self.config();
        let deadline = Box::pin(tokio::time::sleep(cfg.queue_wait + limits.time + cfg.grace));
        let run = self.run(admission, limits, move || job(sink));
        tokio::spawn(async move {
            let outcome = tokio::select! {
                r = run => r,
                // The reader left: dropping `run` cancels the job.
                _ = tx.closed() => return,
            };
            let msg = match outcome {
                Ok(done) => Msg::Done(done),
                Err(e) => Msg::Stopped(e),
            };
            let _ = tx.send(msg).await;
        });
        JobStream {
            rx,
            ended: false,
            deadline,
            limit: limits.time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExecutorConfig;
    use futures::StreamExt;
    use std::time::Duration;

    fn executor() -> Executor {
        let mut cfg = ExecutorConfig::for_machine("t-stream");
        cfg.slots = 1;
        Executor::new(cfg)
    }

    fn limits(ms: u64) -> JobLimits {
        JobLimits {
            time: Duration::from_millis(ms),
            memory: 64 << 20,
        }
    }

    #[tokio::test]
    async fn pieces_arrive_in_order_then_the_end() {
        let ex = executor();
        let s: JobStream<u32, String> =
            ex.stream(ex.admit("a").unwrap(), limits(5_000), |sink| async move {
                for i in 0..10 {
                    sink.send(i, 4).await.map_err(|e| e.to_string())?;
                }
                Ok(())
            });
        let got: Vec<_> = s.collect().await;
        assert_eq!(got, (0..10).map(Ok).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_job_error_and_a_deadline_end_the_stream_as_errors() {
        let ex = executor();
        let s: JobStream<u32, String> =
            ex.stream(ex.admit("a").unwrap(), limits(5_000), |sink| async move {
                sink.send(1, 4).await.map_err(|e| e.to_string())?;
                Err("bad row".to_string())
            });
        let got: Vec<_> = s.collect().await;
        assert_eq!(
            got,
            vec![Ok(1), Err(StreamError::Job("bad row".to_string()))]
        );

        let s: JobStream<u32, String> =
            ex.stream(ex.admit("a").unwrap(), limits(200), |sink| async move {
                sink.send(1, 4).await.map_err(|e| e.to_string())?;
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            });
        let got: Vec<_> = s.collect().await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            matches!(got[1], Err(StreamError::Run(RunError::Exceeded(_)))),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn pieces_waiting_past_the_deadline_are_dropped() {
        let mut cfg = ExecutorConfig::for_machine("t-stream-late");
        cfg.slots = 1;
        cfg.queue_wait = Duration::from_millis(100);
        cfg.grace = Duration::from_millis(100);
        let ex = Executor::new(cfg);
        let mut s: JobStream<u32, String> =
            ex.stream(ex.admit("a").unwrap(), limits(300), |sink| async move {
                for i in 0.. {
                    sink.send(i, 4).await.map_err(|e| e.to_string())?;
                }
                Ok(())
            });
        assert_eq!(s.next().await, Some(Ok(0)));
        // The reader stops reading: the job fills the channel and waits.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let rest: Vec<_> = s.collect().await;
        assert_eq!(rest.len(), 1, "nothing but the end: {rest:?}");
        assert!(
            matches!(rest[0], Err(StreamError::Run(RunError::Exceeded(_)))),
            "{rest:?}"
        );
    }

    #[tokio::test]
    async fn a_slow_reader_holds_the_job_back_and_leaving_cancels_it() {
        let ex = executor();
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = sent.clone();
        let mut s: JobStream<Vec<u8>, String> = ex.stream(
            ex.admit("a").unwrap(),
            limits(10_000),
            move |sink| async move {
                loop {
                    if budget::check().is_err() {
                        return Err("stopped".into());
                    }
                    sink.send(vec![0; 1024], 1024)
                        .await
                        .map_err(|e| e.to_string())?;
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            },
        );
        let _ = s.next().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = sent.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            n <= CHANNEL_PIECES + 2,
            "the job ran ahead of its reader: {n}"
        );
        drop(s);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            ex.stats().running,
            0,
            "the job stopped once its reader left"
        );
    }
}
