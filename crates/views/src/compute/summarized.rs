//! The first picture of a whole dataset, from its summary: what the viewer asks before a
//! member filters or selects anything (the totals, the time line and the bars of source
//! addresses, destination addresses and destination ports) is counted exactly by the
//! dataset's summaries (`secviz_lake::summary`), so it is read from them instead of from
//! every row. The answers are the SQL's, value for value and in the same order (the
//! viewer's tests compare both); anything else, or a dataset without summaries, is
//! answered by SQL as before.

use std::cmp::Ordering;

use secviz_lake::summary::{FACTS, MINUTE_US, Summary, Table, Tables};
use secviz_parse::schema::col;

use crate::error::ViewError;
use crate::field::Field;
use crate::selection::Selection;
use crate::source::Source;

/// The table that counts a field's values, when one does.
fn table_of(f: Field) -> Option<Table> {
    match f {
        Field::Column(c) if c == col::SRC_IP => Some(Table::Sources),
        Field::Column(c) if c == col::DST_IP => Some(Table::Destinations),
        Field::Column(c) if c == col::DST_PORT => Some(Table::Ports),
        _ => None,
    }
}

/// A value as SQL orders it: ports as numbers, addresses as text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Int(i64),
    Text(String),
}

impl Value {
    fn shown(&self) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// The summary of the whole source with `tables`, when the view reads the whole dataset
/// (no filter) with nothing selected, within the view's time limit.
async fn summary_of(
    src: &Source,
    sel: &Selection,
    tables: Tables,
) -> Result<Option<std::sync::Arc<Summary>>, ViewError> {
    if src.is_filtered() || !sel.is_empty() {
        return Ok(None);
    }
    let load = src
        .lake()
        .summary(std::slice::from_ref(&src.manifest), tables);
    match tokio::time::timeout(src.time_limit(), load).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(ViewError::TooCostly),
    }
}

/// Each value of `f` with its events, and the events without one; `None` when the summary
/// gave the table up.
fn counts(s: &Summary, f: Field) -> Option<(Vec<(Value, u64)>, u64)> {
    let with_value = |column: &str| s.facts.get(column).copied().unwrap_or(0);
    let (values, counted): (Vec<(Value, u64)>, u64) = match table_of(f)? {
        Table::Sources => (
            s.sources
                .as_ref()?
                .iter()
                .map(|(ip, v)| (Value::Text(ip.clone()), v.events))
                .collect(),
            with_value(col::SRC_IP),
        ),
        Table::Destinations => (
            s.destinations
                .as_ref()?
                .iter()
                .map(|(ip, v)| (Value::Text(ip.clone()), v.events))
                .collect(),
            with_value(col::DST_IP),
        ),
        Table::Ports => (
            s.ports
                .as_ref()?
                .iter()
                .map(|(port, protocols)| {
                    let events = protocols.iter().map(|(_, p)| p.events).sum();
                    (Value::Int(i64::from(*port)), events)
                })
                .collect(),
            with_value(col::DST_PORT),
        ),
        _ => return None,
    };
    Some((values, s.rows.saturating_sub(counted)))
}

/// One field's top values, counted by the summary.
pub(crate) struct Counted {
    /// (value, events), most events first.
    pub values: Vec<(Option<String>, u64)>,
    /// The events and the distinct values folded into "other", when any are.
    pub other: Option<(u64, u64)>,
}

/// The top `k` values of a field as [`super::facets::facet`] gives them: most events
/// first, ties by value, the events without a value as one more value (last among ties),
/// and the rest folded into "other".
fn top(counted: (Vec<(Value, u64)>, u64), k: usize, total: u64) -> Counted {
    let (values, without) = counted;
    let distinct = values.len() as u64 + u64::from(without > 0);
    let mut all: Vec<(Option<Value>, u64)> =
        values.into_iter().map(|(v, n)| (Some(v), n)).collect();
    if without > 0 {
        all.push((None, without));
    }
    let order = |a: &(Option<Value>, u64), b: &(Option<Value>, u64)| {
        b.1.cmp(&a.1).then_with(|| match (&a.0, &b.0) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
    };
    if all.len() > k {
        all.select_nth_unstable_by(k, order);
        all.truncate(k);
    }
    all.sort_by(order);
    let values: Vec<(Option<String>, u64)> = all
        .into_iter()
        .map(|(v, n)| (v.map(|v| v.shown()), n))
        .collect();
    let shown: u64 = values.iter().map(|v| v.1).sum();
    let other =
        (shown < total).then(|| (total - shown, distinct.saturating_sub(values.len() as u64)));
    Counted { values, other }
}

/// The events of the whole view and the top `k` values of each of `fields`, from the
/// summary, when it counts them all.
pub(crate) async fn facets(
    src: &Source,
    fields: &[Field],
    k: usize,
    sel: &Selection,
) -> Result<Option<(u64, Vec<Counted>)>, ViewError> {
    let Some(tables) = fields
        .iter()
        .map(|f| table_of(*f))
        .collect::<Option<Vec<Table>>>()
    else {
        return Ok(None);
    };
    let Some(s) = summary_of(src, sel, Tables::of(&tables)).await? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let Some(c) = counts(&s, *f) else {
            return Ok(None);
        };
        out.push(top(c, k, s.rows));
    }
    Ok(Some((s.rows, out)))
}

/// The events of the whole view, and its time span, from the summary's head.
pub(crate) async fn head(
    src: &Source,
    sel: &Selection,
) -> Result<Option<(u64, Option<(i64, i64)>)>, ViewError> {
    let Some(s) = summary_of(src, sel, Tables::NONE).await? else {
        return Ok(None);
    };
    Ok(Some((s.rows, s.time_min_us.zip(s.time_max_us))))
}

/// Events per bucket of `bucket_us` (its start, µs, and its events; empty buckets left
/// out) from the summary's minutes, when a bucket is whole minutes (so each minute falls in
/// one bucket).
pub(crate) async fn bins(
    src: &Source,
    sel: &Selection,
    bucket_us: i64,
) -> Result<Option<Vec<(i64, u64)>>, ViewError> {
    if bucket_us % MINUTE_US != 0 {
        return Ok(None);
    }
    let Some(s) = summary_of(src, sel, Tables::of(&[Table::Minutes])).await? else {
        return Ok(None);
    };
    let Some(minutes) = &s.minutes else {
        return Ok(None);
    };
    let per = bucket_us / MINUTE_US;
    let mut bins: Vec<(i64, u64)> = Vec::new();
    // Minutes are in order, so each bucket's are together.
    for (m, n) in minutes {
        let t = m.div_euclid(per) * bucket_us;
        match bins.last_mut() {
            Some(b) if b.0 == t => b.1 += n,
            _ => bins.push((t, *n)),
        }
    }
    Ok(Some(bins))
}

/// [`super::value_counts`] from the summary's head: the events, and the events with a
/// value in each of `fields`, when every one is a column whose values the summaries count
/// ([`FACTS`]).
pub(crate) async fn value_counts(
    src: &Source,
    fields: &[Field],
) -> Result<Option<(u64, Vec<u64>)>, ViewError> {
    let counted = |f: &Field| matches!(f, Field::Column(c) if FACTS.contains(c));
    if !fields.iter().all(counted) {
        return Ok(None);
    }
    let Some(s) = summary_of(src, &Selection::default(), Tables::NONE).await? else {
        return Ok(None);
    };
    let with_value = fields
        .iter()
        .map(|f| s.facts.get(f.column()).copied().unwrap_or(0))
        .collect();
    Ok(Some((s.rows, with_value)))
}
