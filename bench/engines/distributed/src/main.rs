//! datafusion-distributed 4.0: workers are separate processes (tonic gRPC on
//! 127.0.0.1); the coordinator is this process's SessionContext.
//! usage: bench-distributed worker <port>
//!        bench-distributed run <port,port,...> <parquet dir> <out dir> [runs]
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use datafusion::common::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{
    DistributedExt, SessionStateBuilderExt, Worker, WorkerResolver, display_plan_ascii,
};
use url::Url;

struct LoopbackResolver {
    urls: Vec<Url>,
}

impl WorkerResolver for LoopbackResolver {
    fn get_urls(&self) -> Result<Vec<Url>, DataFusionError> {
        Ok(self.urls.clone())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("worker") => {
            let port: u16 = args[2].parse()?;
            tonic::transport::Server::builder()
                .add_service(Worker::default().into_worker_server())
                .serve(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
                .await?;
            Ok(())
        }
        Some("run") => {
            let urls = args[2]
                .split(',')
                .map(|p| Url::parse(&format!("http://127.0.0.1:{p}")))
                .collect::<Result<Vec<_>, _>>()?;
            let (data, out, runs) = engines_common::args_after(3);
            let state = SessionStateBuilder::new()
                .with_default_features()
                .with_distributed_worker_resolver(LoopbackResolver { urls })
                .with_distributed_planner()
                .build();
            let ctx = SessionContext::from(state);
            engines_common::register_flows(&ctx, &data).await?;
            // Show once that the plan really is split into network stages.
            let plan = ctx.sql(engines_common::QUERIES[1].1).await?.create_physical_plan().await?;
            eprintln!("distributed plan for q2:\n{}", display_plan_ascii(plan.as_ref(), false));
            engines_common::run_all(&ctx, "distributed", runs, &out).await?;
            Ok(())
        }
        _ => Err("usage: worker <port> | run <ports> <data> <out> [runs]".into()),
    }
}
