//! Apache DataFusion Ballista 55: scheduler and executors are separate
//! processes of this same binary, talking gRPC/Flight over 127.0.0.1.
//! usage: bench-ballista scheduler <port>
//!        bench-ballista executor <scheduler port> <flight port> <grpc port>
//!        bench-ballista run <scheduler port> <parquet dir> <out dir> [runs]
use std::sync::Arc;

use ballista::prelude::SessionContextExt;
use clap::Parser;
use datafusion::prelude::SessionContext;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("scheduler") => {
            // Re-use the scheduler binary's own CLI parser for its defaults.
            let opt = ballista_scheduler::config::Config::parse_from([
                "ballista-scheduler",
                "--bind-host",
                "127.0.0.1",
                "--external-host",
                "127.0.0.1",
                "--bind-port",
                &args[2],
            ]);
            let addr = format!("127.0.0.1:{}", args[2]).parse()?;
            let config: ballista_scheduler::config::SchedulerConfig = opt.try_into()?;
            let cluster = ballista_scheduler::cluster::BallistaCluster::new_from_config(&config).await?;
            ballista_scheduler::scheduler_process::start_server(cluster, addr, Arc::new(config)).await?;
            Ok(())
        }
        Some("executor") => {
            let opt = ballista_executor::config::Config::parse_from([
                "ballista-executor",
                "--scheduler-host",
                "127.0.0.1",
                "--scheduler-port",
                &args[2],
                "--bind-host",
                "127.0.0.1",
                "--external-host",
                "127.0.0.1",
                "--bind-port",
                &args[3],
                "--bind-grpc-port",
                &args[4],
                "--scheduler-connect-timeout-seconds",
                "30",
            ]);
            let config: ballista_executor::executor_process::ExecutorProcessConfig = opt.try_into()?;
            ballista_executor::executor_process::start_executor_process(Arc::new(config)).await?;
            Ok(())
        }
        Some("run") => {
            let ctx = SessionContext::remote(&format!("df://127.0.0.1:{}", args[2])).await?;
            let (data, out, runs) = engines_common::args_after(3);
            engines_common::register_flows(&ctx, &data).await?;
            engines_common::run_all(&ctx, "ballista", runs, &out).await?;
            Ok(())
        }
        _ => Err("usage: scheduler <port> | executor <sched port> <port> <grpc port> | run <sched port> <data> <out> [runs]".into()),
    }
}
