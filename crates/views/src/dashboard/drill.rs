//! The events behind a panel's row: the drill-down every panel links to. The selection is
//! the one the linked views use (values and a time range), so a link from a panel, a finding
//! or a view means the same events.

use secviz_lake::analyze::cells::each_row;
use secviz_parse::schema::col;
use serde::Serialize;

use crate::error::ViewError;
use crate::selection::Selection;
use crate::source::Source;
use crate::sql::Sql;

/// Most events a drill-down lists.
pub const MAX_EVENTS: usize = 200;
/// Characters of a message shown.
const MAX_TEXT: usize = 300;

/// The columns a drill-down shows, in order.
pub const COLUMNS: &[&str] = &[
    col::TIME,
    col::SRC_IP,
    col::SRC_PORT,
    col::DST_IP,
    col::DST_PORT,
    col::PROTOCOL,
    col::ACTION,
    col::USER,
    col::AUTH_RESULT,
    col::APP,
    col::MESSAGE,
];

/// The newest events of a selection, as text (escape when shown).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRows {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// More events match than are listed.
    pub more: bool,
}

/// The newest `limit` (at most [`MAX_EVENTS`]) events of `selection`, newest first.
pub async fn events(
    source: &Source,
    selection: &Selection,
    limit: usize,
) -> Result<EventRows, ViewError> {
    let limit = limit.clamp(1, MAX_EVENTS);
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|c| match *c {
            col::TIME => format!("CAST(\"{c}\" AS BIGINT) AS time_us"),
            _ => format!("\"{c}\""),
        })
        .collect();
    let mut sql = Sql::new(format!("SELECT {} FROM events WHERE ", cols.join(", ")));
    sql.append(&selection.predicate()?);
    sql.push(&format!(
        " ORDER BY \"{}\" DESC NULLS LAST LIMIT {}",
        col::TIME,
        limit + 1
    ));
    let batches = source.collect(&sql).await?;
    let mut rows = each_row(&batches, |r| {
        Some(
            COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| match *c {
                    col::TIME => r.int(i).map(secviz_lake::format_micros).unwrap_or_default(),
                    _ => {
                        let s = r.string(i).unwrap_or_default();
                        match s.char_indices().nth(MAX_TEXT) {
                            Some((cut, _)) => format!("{}…", &s[..cut]),
                            None => s,
                        }
                    }
                })
                .collect(),
        )
    });
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok(EventRows {
        columns: COLUMNS.to_vec(),
        rows,
        more,
    })
}
