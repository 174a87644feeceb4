//! The portal's read policy for the viewer's API (`secviz_viewer::ReadPolicy`): a dataset is
//! readable by its owner, and by everyone while a visible post of its owner publishes it;
//! anything else answers exactly like a dataset that does not exist (404). The decision is
//! `db::datasets::may_read`, shared with every other route that reads a dataset, and with
//! the thumbnails drawn from a dataset ([`may_see_thumbnail`]).

use std::sync::Arc;

use axum::http::request::Parts;
use secviz_lake::DatasetName;
use secviz_viewer::ReadPolicy;

use crate::db::datasets::{self, Reader};
use crate::db::ids::PostId;
use crate::db::{Db, post_data};
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

/// Whether `reader` may see image `image` of post `post` as far as data goes: a data post's
/// thumbnail is drawn from its dataset, so exactly those who may read the dataset see it
/// (nobody once the dataset is gone). `None`: the image is no such thumbnail.
pub async fn may_see_thumbnail(
    db: &Db,
    post: PostId,
    image: &str,
    reader: Reader,
) -> Result<Option<bool>, sqlx::Error> {
    let Some(pd) = post_data::get(db, post).await? else {
        return Ok(None);
    };
    if pd.thumb_image.as_deref() != Some(image) {
        return Ok(None);
    }
    Ok(Some(match pd.dataset_id.as_deref() {
        Some(ds) => datasets::may_read(db, ds, reader).await?,
        None => false,
    }))
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

    /// The client address: the executor caps each address's jobs in flight.
    fn client(&self, parts: &Parts) -> String {
        parts
            .extensions
            .get::<Arc<Visitor>>()
            .map_or_else(|| "unknown".to_string(), |v| client_key(v))
    }
}

/// The executor's name for a visitor's jobs: their address (accounts share their
/// address's allowance, so signing up many accounts gains nothing).
pub fn client_key(v: &Visitor) -> String {
    v.ip.to_string()
}
