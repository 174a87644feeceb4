//! `secviz worker`: a query worker for `secviz query --workers` and `secviz serve
//! --workers`. It reads the same lake as its coordinators and runs the stages of their
//! queries that they send it, for holders of the cluster's secret only, within its own
//! limits of time and memory per task. It listens on 127.0.0.1 unless `--listen` says
//! otherwise; stop it with Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use secviz_lake::cluster::worker::{self, WorkerConfig};

use super::cluster::SecretArg;
use super::datasets::{DataArg, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on. Anything but loopback should be a private network: the
    /// secret is sent in clear over plain gRPC.
    #[arg(long, env = "SECVIZ_WORKER_ADDR", default_value = "127.0.0.1:9700")]
    pub listen: SocketAddr,
    /// Longest one task may run, in seconds, whatever its coordinator asks.
    #[arg(long, default_value_t = 300.0, value_name = "SECS")]
    pub max_time: f64,
    /// Most memory one task's joins, sorts and aggregations may hold, in MiB; default:
    /// a quarter of the machine's memory.
    #[arg(long, value_name = "MIB")]
    pub memory: Option<usize>,
    #[command(flatten)]
    pub secret: SecretArg,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lake = args.data.open()?;
    let config = WorkerConfig {
        secret: args.secret.secret()?,
        max_time: Duration::from_secs_f64(args.max_time.max(0.001)),
        max_memory: args
            .memory
            .map_or_else(|| super::query::half_the_memory() / 2, |m| m << 20),
    };
    let rt = runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            eprintln!(
                "warning: listening on {addr}, beyond this machine: keep it on a private network"
            );
        }
        eprintln!(
            "secviz worker listening on http://{addr} (lake: {})",
            args.data.data
        );
        worker::serve(listener, &lake, config, shutdown())
            .await
            .context("running the worker")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
