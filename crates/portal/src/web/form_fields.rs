//! Reading multipart fields with a cap, so no field is held past its limit.
//!
//! [`read_capped`] takes a field chunk by chunk and stops at the first chunk that passes the
//! cap, keeping only the bytes within it: memory is bounded by the cap plus one chunk,
//! whatever is sent. The rest of that field is then skipped by the multipart reader when the
//! next field is asked for (read and dropped, never stored), so the fields after it (alt
//! texts, pasted lines) are still read and a failed form keeps the member's text. How much
//! can be sent in all is the route's body limit; how slowly, the body timeouts
//! ([`super::slow_clients`]).

use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;

/// A field as far as it was read.
#[derive(Debug, Default)]
pub struct Capped {
    /// At most the cap's worth of the field, from its start.
    pub bytes: Vec<u8>,
    /// The field was longer than the cap (and was not read further).
    pub over: bool,
}

impl Capped {
    /// The bytes as text (invalid UTF-8 replaced, a character cut by the cap dropped).
    pub fn text(self) -> String {
        let mut bytes = self.bytes;
        if self.over {
            // The cap may have cut a multi-byte character in two.
            let keep = match std::str::from_utf8(&bytes) {
                Ok(_) => bytes.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => bytes.len(),
            };
            bytes.truncate(keep);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Reads `field` up to `cap` bytes; stops as soon as it passes the cap.
pub async fn read_capped(field: &mut Field<'_>, cap: usize) -> Result<Capped, MultipartError> {
    let mut out = Capped::default();
    while let Some(chunk) = field.chunk().await? {
        let room = cap - out.bytes.len();
        if chunk.len() > room {
            out.bytes.extend_from_slice(&chunk[..room]);
            out.over = true;
            return Ok(out);
        }
        out.bytes.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// True when the request was cut by the route's body limit (the whole form is too large).
pub fn body_too_large(e: &MultipartError) -> bool {
    e.status() == StatusCode::PAYLOAD_TOO_LARGE
}
