//! The ids of the portal's rows, one type per table. Many queries take two ids at once (a
//! post and its author, a comment and the member deleting it) and every write of an owned
//! row names its owner: with plain integers, swapping them compiles and checks the wrong
//! owner. With these, it does not compile.
//!
//! Each is the row's integer, stored, bound and decoded as a 64-bit integer on both
//! backends (`#[sqlx(transparent)]`: the integer's own SQL type on every database), read from URLs as a
//! number, and shown as one.

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            sqlx::Type,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl From<i64> for $name {
            fn from(id: i64) -> $name {
                $name(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<$name, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

row_id!(
    /// A member (`users.id`).
    UserId
);
row_id!(
    /// A post (`posts.id`), the number in `/p/{id}`.
    PostId
);
row_id!(
    /// A comment (`comments.id`), the anchor `#c{id}` on its post's page.
    CommentId
);
row_id!(
    /// A member's unpublished draft (`drafts.id`).
    DraftId
);
row_id!(
    /// An ingest job (`jobs.id`).
    JobId
);
row_id!(
    /// A dashboard (`dashboards.id`), the number in `/dash/{id}`.
    DashboardId
);
