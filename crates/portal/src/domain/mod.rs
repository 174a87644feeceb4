//! Values from outside, parsed once at the edge into types the rest of the portal trusts
//! ("parse, don't validate"). Each `parse` returns a message fit to show next to the field.

mod email;
mod password;
mod role;
mod tag;
pub mod text;
mod username;

pub use email::Email;
pub use password::Password;
pub use role::Role;
pub use tag::TagSlug;
pub use text::{CommentBody, PostBody, PostKind, Title, short_text};
pub use username::Username;

/// Why a value was refused; the text is shown to the member beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(msg.into()))
}
