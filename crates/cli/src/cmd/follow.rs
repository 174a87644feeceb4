//! `secviz ingest --follow FILE --dataset NAME`: a log tailed into a dataset until
//! interrupted.
//!
//! New lines are committed at least every `--interval` (with the offset they reach, so a
//! restart goes on exactly where the last commit left off), rotation and truncation are
//! followed, and the dataset's small files are compacted in the background. A status line
//! on a terminal shows lines, events and rejects so far; Ctrl-C or SIGTERM commits what was
//! read and stops with status 0.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use secviz_lake::live::{FollowOptions, FollowProgress};
use secviz_lake::query::escape_control;
use secviz_lake::{Lake, RejectFn};

use super::datasets::runtime;

/// Follows `path` into `dataset` until interrupted (`ingest --follow`, which checked the
/// arguments).
pub fn run(
    lake: &Lake,
    path: &std::path::Path,
    dataset: &secviz_lake::DatasetName,
    quiet: bool,
    opts: FollowOptions,
    on_reject: RejectFn,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(path.is_file(), "{} is not a readable file", path.display());
    let bar = status_line(quiet);
    let progress = {
        let bar = bar.clone();
        Box::new(move |p: &FollowProgress| {
            bar.set_message(format!(
                "{}: {} lines, {} events, {} rejected (version {})",
                escape_control(&p.reading),
                p.lines,
                p.events,
                p.rejected,
                p.version
            ));
            if quiet {
                return;
            }
            if let Some(n) = &p.note {
                bar.suspend(|| eprintln!("note: {}", escape_control(n)));
            }
            if let Some(c) = p.compacted.as_ref().filter(|c| c.files_in > 0) {
                bar.suspend(|| {
                    eprintln!(
                        "compacted {} files into {} ({} rows)",
                        c.files_in, c.files_out, c.rows
                    )
                });
            }
        })
    };
    let stop = Arc::new(AtomicBool::new(false));
    let rt = runtime()?;
    let result = rt.block_on(async {
        let s = stop.clone();
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            s.store(true, Ordering::Relaxed);
        });
        anyhow::Ok(
            lake.follow(dataset, path, opts, stop, progress, on_reject)
                .await?,
        )
    });
    bar.finish_and_clear();
    let report = result?;
    println!(
        "followed {}: {} appends this run, {} events, {} rejected lines; {} is at version {}",
        escape_control(&path.display().to_string()),
        report.appends,
        report.events,
        report.rejected,
        dataset,
        report.version
    );
    Ok(ExitCode::SUCCESS)
}

fn status_line(quiet: bool) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr_with_hz(4)
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} following {msg}")
            .expect("a valid template"),
    );
    bar.set_message("waiting for lines");
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
