//! [`SandboxPlanner`]: the query planner of members' sessions. DataFusion hands it the
//! optimized logical plan; it guards the expressions ([`super::rewrite`]), lets
//! DataFusion's own physical planner do the rest, refuses plans whose estimated work is
//! beyond the limit ([`super::estimate`]), and puts a budget check above every operator
//! ([`super::operator`]).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use super::failure::check;
use super::{estimate, operator, rewrite};

#[derive(Debug)]
pub struct SandboxPlanner {
    /// Most rows one operator may be estimated to handle.
    pub max_work_rows: u64,
    /// The planner that makes the physical plan (the distributed one on a cluster);
    /// `None`: DataFusion's own.
    pub inner: Option<Arc<dyn QueryPlanner + Send + Sync>>,
}

#[async_trait]
impl QueryPlanner for SandboxPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        check()?;
        let guarded = rewrite::guard_plan(logical_plan.clone())?.data;
        let physical = match &self.inner {
            Some(inner) => inner.create_physical_plan(&guarded, session).await?,
            None => {
                DefaultPhysicalPlanner::default()
                    .create_physical_plan(&guarded, session)
                    .await?
            }
        };
        check()?;
        estimate::check(&physical, self.max_work_rows)?;
        operator::guard_every_operator(physical)
    }
}
