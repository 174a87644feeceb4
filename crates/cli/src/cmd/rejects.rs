//! The rejects file that `parse` and `ingest` write with `--rejects FILE`: one JSON object
//! per rejected line (source, line, reason, detail, raw), the same for both commands.

use std::io::{self, Write};

use secviz_parse::Reject;

/// Writes `r`, rejected from `source`, as one line of the rejects file.
pub fn write_line(out: &mut impl Write, source: &str, r: &Reject) -> io::Result<()> {
    let obj = serde_json::json!({
        "source": source,
        "line": r.line,
        "reason": r.reason.as_str(),
        "detail": r.detail,
        "raw": r.raw,
    });
    serde_json::to_writer(&mut *out, &obj)?;
    out.write_all(b"\n")
}
