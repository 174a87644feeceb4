//! secviz-views: the view model shared by `secviz chart`, the local explorer (`secviz
//! view`) and the portal.
//!
//! - [`ViewSpec`]: a view's recipe (dataset, filter, kind, fields, graph rules, seed, top k).
//! - [`Selection`]: linked-brushing state, turned into SQL predicates with parameters.
//! - [`Source`]: a dataset of the lake as the table `events`, queried under limits.
//! - [`compute`]: facet counts, the time line, parallel tuples, chart data and the laid-out
//!   graph, all aggregated in the lake.
//! - [`api`]: the viewer's JSON endpoints as an axum router, generic over a [`ReadPolicy`].
//! - [`assets`]: the browser viewer (web/), built by npm at build time and embedded.
//!
//! Not here: accounts, posts and who may read what (the portal passes a [`ReadPolicy`]),
//! storage and SQL execution (secviz-lake), graph building and drawing (secviz-graph,
//! secviz-render).

pub mod api;
pub mod assets;
pub mod compute;
mod error;
pub mod field;
pub mod page;
pub mod picture;
pub mod readable;
pub mod selection;
pub mod source;
pub mod spec;
pub mod sql;

pub use api::{AllowAll, ReadPolicy, ViewsState, router};
pub use error::ViewError;
pub use field::{Field, FieldKind};
pub use selection::Selection;
pub use source::{Limits, Source};
pub use spec::{GraphSpec, ViewKind, ViewSpec};
