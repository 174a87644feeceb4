//! The portal's read policy for the viewer's API (`secviz_views::ReadPolicy`): a dataset is
//! readable by its owner, and by everyone while a visible post publishes it; anything else
//! answers exactly like a dataset that does not exist (404). The decision is
//! `db::datasets::may_read`, shared with every other route that reads a dataset.

use std::sync::Arc;

use axum::http::request::Parts;
use secviz_lake::DatasetName;
use secviz_views::ReadPolicy;

use crate::db::Db;
use crate::db::datasets::{self, Reader};
use crate::web::Visitor;

#[derive(Clone)]
pub struct PortalPolicy {
    pub db: Db,
}

/// Who the request's visitor is, for [`datasets::may_read`].
pub fn reader_of(v: &Visitor) -> Reader {
    Reader {
        user: v.user.as_ref().map(|u| u.id),
        moderator: v.can_moderate(),
    }
}

impl ReadPolicy for PortalPolicy {
    async fn may_read(&self, parts: &Parts, dataset: &DatasetName) -> bool {
        let Some(v) = parts.extensions.get::<Arc<Visitor>>() else {
            return false;
        };
        match datasets::may_read(&self.db, dataset.as_str(), reader_of(v)).await {
            Ok(ok) => ok,
            Err(e) => {
                tracing::warn!(error = %e, "checking dataset access failed");
                false
            }
        }
    }
}
