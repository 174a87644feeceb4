//! secviz-viewer: the interactive viewer as a service, over secviz-views' model.
//!
//! - [`api`]: the viewer's JSON and picture endpoints as an axum router, generic over a
//!   [`ReadPolicy`] (the portal's says who may read which dataset).
//! - [`page`]: the explorer page of `secviz view`, and the mount the portal puts in a post.
//! - [`assets`]: the browser viewer (web/), built by npm at build time and embedded.
//!
//! What a view is, how it is computed and drawn is secviz-views'; this crate only serves it.

pub mod api;
pub mod assets;
pub mod page;

pub use api::{AllowAll, ReadPolicy, ViewsState, router};
