//! Data-backed posts (issue 7): a member attaches a log (or pastes lines), the portal parses
//! it in the background into a dataset of the lake (anonymized by default), the member picks
//! a view and publishes a post that carries its data and its recipe.
//!
//! - [`upload`]: streaming uploads to the staging folder; [`worker`]: the ingest queue;
//!   [`anon`]: the site key and scrubbing of texts kept about anonymized uploads;
//!   [`summary`]: the parse report; [`wording`]: what a member reads when data fails.
//! - [`recipe`]: the recipe and the view form; [`picture`]: the server-drawn picture and
//!   thumbnail; [`publish`]: drafts to posts, remixes; [`export`]: data downloads;
//!   [`policy`]: who may read a dataset (the viewer's API uses it); [`withdraw`]: a post's
//!   data leaves the public with the post (delete, hide), remixes included.
//!
//! Access: a dataset is private to its owner until a post of theirs publishes it
//! (`db::datasets::may_read`); drafts are their owner's alone.

pub mod anon;
pub mod export;
pub mod findings;
pub mod ids;
pub mod picture;
pub mod policy;
pub mod presets;
pub mod publish;
pub mod recipe;
pub mod reproduce;
pub mod running;
pub mod summary;
pub mod upload;
pub mod withdraw;
pub mod wording;
pub mod worker;

use secviz_parse::Format;

use crate::db::ids::UserId;
use crate::db::{datasets, jobs};
use crate::state::AppState;
use ids::DatasetId;
use recipe::ParserRecipe;
use upload::Received;

/// What the member chose for an upload.
#[derive(Debug, Clone)]
pub struct UploadChoices {
    /// `None`: detect the format from the first lines.
    pub format: Option<Format>,
    pub year: Option<i32>,
    /// On unless the member deliberately turned it off.
    pub anonymize: bool,
    /// The member's own networks, real addresses (`None`: the private ranges).
    pub inside: Option<secviz_lake::inside::InsideNetworks>,
}

impl Default for UploadChoices {
    fn default() -> Self {
        UploadChoices {
            format: None,
            year: None,
            anonymize: true,
            inside: None,
        }
    }
}

/// Creates a dataset of `owner` for a staged upload and queues its ingest; the worker is
/// woken and the request goes on. The label shown for the upload is scrubbed of addresses
/// when anonymizing.
pub async fn queue_ingest(
    state: &AppState,
    owner: UserId,
    received: &Received,
    choices: &UploadChoices,
) -> anyhow::Result<DatasetId> {
    let id = DatasetId::new();
    let label = anon::scrub(&state.anon_key, choices.anonymize, &received.label);
    // Stored as the dataset stores addresses: mapped with the site key when anonymizing, so
    // the recipe (which is public) never holds a real network.
    let inside = choices.inside.as_ref().map(|n| {
        if choices.anonymize {
            let mut anon = secviz_lake::anon::Anonymizer::new(&state.anon_key);
            n.anonymized(|ip| anon.map_ip(ip))
        } else {
            n.clone()
        }
    });
    let parser = ParserRecipe {
        requested_format: choices.format.map(|f| f.name().to_string()),
        inside,
        year: choices.year,
        reference_time_us: state.now().saturating_mul(1_000_000),
        anonymized: choices.anonymize,
        ..ParserRecipe::default()
    };
    let parse = serde_json::to_string(&parser)?;
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    datasets::insert(
        &mut tx,
        &datasets::NewDataset {
            id: id.as_str(),
            owner_id: owner,
            label: &label,
            anonymized: choices.anonymize,
            upload_bytes: received.bytes as i64,
            parse: &parse,
        },
        now,
    )
    .await?;
    jobs::insert(
        &mut tx,
        id.as_str(),
        &received.staging_id,
        received.bytes as i64,
        now,
    )
    .await?;
    tx.commit().await?;
    state.ingest_wake.notify_one();
    Ok(id)
}

/// Removes a dataset of `owner` that no post or draft of theirs uses any more (a draft was
/// deleted or took new data): see [`withdraw::purge`]. Returns whether it was removed.
pub async fn release(state: &AppState, id: &str, owner: UserId) -> anyhow::Result<bool> {
    let Some(parsed) = DatasetId::parse(id) else {
        return Ok(false);
    };
    withdraw::purge(state, &parsed, owner).await
}
