//! `secviz worker`: a query worker that runs the stages coordinators send it.
//!
//! It is datafusion-distributed's worker service behind two checks and with the lake's
//! pieces registered:
//! - an interceptor that refuses every call without the cluster's secret, before the
//!   request is read any further, and the same check again where a task's session is
//!   built (so a change of the engine's routing cannot skip it);
//! - per task, a session whose memory pool is the smaller of the coordinator's limit
//!   and `--memory` (no spilling unless the coordinator allows it), and a
//!   [`DeadlineExec`] at the head of its plan with the smaller of the two time limits;
//! - the lake's codec and functions, and the lake's object store, so the worker reads the
//!   same files the coordinator planned over.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{SessionState, SessionStateDefaults};
use datafusion_distributed::{
    DistributedExt, Worker, WorkerPlanRewriteEvent, WorkerPlanRewriteEventResponse,
    WorkerQueryContext, WorkerSessionBuilder,
};
use http::HeaderMap;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;

use super::stage::DeadlineExec;
use super::{LIMITS_HEADER, LakeCodec, SECRET_HEADER, StageLimits, WorkerSecret};
use crate::error::LakeError;
use crate::lake::Lake;
use crate::query::functions;
use crate::query::view_groups::GroupByViews;
use datafusion::physical_optimizer::PhysicalOptimizerRule;

/// What a worker allows the tasks it runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub secret: WorkerSecret,
    /// Longest a task may run, whatever the coordinator asks.
    pub max_time: Duration,
    /// Most memory a task's joins, sorts and aggregations may hold.
    pub max_memory: usize,
}

/// What a worker says to a caller without the secret.
const REFUSED: &str = "this worker runs plans only for holders of the cluster's secret";

/// Serves the worker on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    lake: &Lake,
    config: WorkerConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), LakeError> {
    let secret = config.secret.clone();
    let sessions = LakeSessions {
        url: AsRef::<url::Url>::as_ref(lake.store().url()).clone(),
        store: lake.store().object_store(),
        config,
    };
    let worker = Worker::from_session_builder(sessions);
    let guarded = InterceptedService::new(
        worker.into_worker_server(),
        move |req: tonic::Request<()>| {
            let given = req
                .metadata()
                .get(SECRET_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if secret.matches(given) {
                Ok(req)
            } else {
                Err(tonic::Status::unauthenticated(REFUSED))
            }
        },
    );
    tonic::transport::Server::builder()
        .add_service(guarded)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
        .map_err(|e| LakeError::Worker(format!("the worker stopped: {e}")))
}

/// Builds each task's session.
#[derive(Clone)]
struct LakeSessions {
    url: url::Url,
    store: Arc<dyn object_store::ObjectStore>,
    config: WorkerConfig,
}

#[async_trait]
impl WorkerSessionBuilder for LakeSessions {
    async fn build_session_state(
        &self,
        ctx: WorkerQueryContext,
    ) -> Result<SessionState, DataFusionError> {
        let given = ctx
            .headers
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !self.config.secret.matches(given) {
            return Err(DataFusionError::Execution(REFUSED.into()));
        }
        let asked = StageLimits::from_headers(&ctx.headers);
        let time = asked
            .time
            .map_or(self.config.max_time, |t| t.min(self.config.max_time));
        let memory = asked
            .memory
            .map_or(self.config.max_memory, |m| m.min(self.config.max_memory));
        let mut runtime = RuntimeEnvBuilder::new().with_memory_limit(memory, 1.0);
        if !asked.spill {
            runtime = runtime.with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            );
        }
        let runtime = runtime.build_arc()?;
        runtime.register_object_store(&self.url, Arc::clone(&self.store));
        // A stage may read from stages on other workers: those calls carry the secret and
        // the limits on.
        let mut onward = HeaderMap::new();
        for name in [SECRET_HEADER, LIMITS_HEADER] {
            if let Some(v) = ctx.headers.get(name) {
                onward.insert(name, v.clone());
            }
        }
        let mut udfs = SessionStateDefaults::default_scalar_functions();
        let ours = functions::udfs();
        udfs.retain(|f| ours.iter().all(|o| o.name() != f.name()));
        udfs.extend(ours);
        Ok(ctx
            .builder
            .with_runtime_env(runtime)
            .with_scalar_functions(udfs)
            .with_distributed_user_codec(LakeCodec)
            .with_distributed_passthrough_headers(onward)?
            .with_distributed_worker_plan_rewrite_handler(move |ev: WorkerPlanRewriteEvent<'_>| {
                // The fast string grouping of one process, on this task's share of the rows
                // (it has no codec, so the coordinator sends DataFusion's own).
                let plan = GroupByViews.optimize(ev.plan, ev.session_config.options())?;
                Ok(WorkerPlanRewriteEventResponse::new(Arc::new(
                    DeadlineExec::new(plan, time),
                )))
            })
            .build())
    }
}
