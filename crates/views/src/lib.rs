//! secviz-views: the view model shared by `secviz chart`, the local explorer (`secviz
//! view`) and the portal: what a view is and how it is computed and drawn. The viewer's
//! HTTP API, page and browser assets are secviz-viewer's.
//!
//! - [`ViewSpec`]: a view's recipe (dataset, filter, kind, fields, graph rules, seed, top k).
//! - [`Selection`]: linked-brushing state, turned into SQL predicates with parameters.
//! - [`Source`]: a dataset of the lake as the table `events`, queried under limits.
//! - [`compute`]: facet counts, the time line, parallel tuples, chart data and the laid-out
//!   graph, all aggregated in the lake.
//! - [`picture`]: the one function that turns a recipe into a picture (post, thumbnail, CLI).
//! - [`readable`]: the grouping rules that keep link graphs readable at any size.
//!
//! Not here: the HTTP API and the page (secviz-viewer), accounts, posts and who may read
//! what (the portal), storage and SQL execution (secviz-lake), graph building and drawing (secviz-graph,
//! secviz-render).

pub mod compute;
pub mod dashboard;
mod error;
pub mod field;
pub mod picture;
pub mod readable;
pub mod selection;
pub mod source;
pub mod spec;
pub mod sql;

pub use error::ViewError;
pub use field::{Field, FieldKind};
pub use selection::Selection;
pub use source::{Limits, Source};
pub use spec::{GraphSpec, ViewKind, ViewSpec};
