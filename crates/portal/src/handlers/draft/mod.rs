//! Drafts of data posts (issue 7), one action per file:
//!
//! - [`list`]: `GET /drafts` (mine);
//! - [`show`]: `GET /drafts/{id}`, the draft page ([`page`]: ingest status with a meta
//!   refresh while it runs, the parse report, the view form, the preview, the text);
//! - [`submit`]: `POST /drafts/{id}` (save, publish or delete);
//! - [`attach`]: `POST /drafts/{id}/data` (attach data again after a failed ingest, or to a
//!   remix without data);
//! - [`preview`]: `GET /drafts/{id}/preview.svg`.
//!
//! A draft is its owner's alone: anyone else gets 404 (`load`).

mod attach;
mod list;
mod load;
mod page;
mod preview;
mod show;
mod submit;

pub use attach::attach;
pub use list::list;
pub use preview::preview;
pub use show::show;
pub use submit::submit;
