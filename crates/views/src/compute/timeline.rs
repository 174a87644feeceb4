//! The time line: records per automatic time bucket (about 60 to 200 buckets over the
//! view's time span, on calendar-aligned boundaries), whole view and selection.

use secviz_render::chart::time::{Step, auto_bucket};
use serde::Serialize;

use super::{column, counts, ints, selected_count};
use crate::error::ViewError;
use crate::selection::Selection;
use crate::source::Source;
use crate::sql::Sql;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeBin {
    /// Bucket start, microseconds since the epoch (UTC).
    pub t: i64,
    pub total: u64,
    pub selected: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Timeline {
    pub bucket_us: i64,
    /// The bucket width in words ("15 minutes").
    pub bucket: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub bins: Vec<TimeBin>,
    /// Counted by the dataset's summaries, not by a pass over its rows.
    pub from_summaries: bool,
}

/// The time span of the view, `None` when no record has a time.
pub async fn span(src: &Source) -> Result<Option<(i64, i64)>, ViewError> {
    if let Some((_, span)) = super::summarized::head(src, &Selection::default()).await? {
        return Ok(span);
    }
    let b = src
        .collect(&Sql::new(
            "SELECT CAST(min(\"time\") AS BIGINT), CAST(max(\"time\") AS BIGINT) FROM events",
        ))
        .await?;
    let lo = column(&b, 0, ints)?.first().copied().flatten();
    let hi = column(&b, 1, ints)?.first().copied().flatten();
    Ok(lo.zip(hi))
}

/// Records per bucket; empty buckets are left out.
pub async fn timeline(src: &Source, sel: &Selection) -> Result<Timeline, ViewError> {
    let Some((lo, hi)) = span(src).await? else {
        return Ok(Timeline {
            bucket_us: 1_000_000,
            bucket: "1 second".into(),
            min: None,
            max: None,
            bins: Vec::new(),
            from_summaries: false,
        });
    };
    let b = auto_bucket(lo, hi);
    let (bins, from_summaries) = match super::summarized::bins(src, sel, b).await? {
        Some(bins) => (
            bins.into_iter()
                .map(|(t, n)| TimeBin {
                    t,
                    total: n,
                    selected: n,
                })
                .collect(),
            true,
        ),
        None => (bins(src, sel, b).await?, false),
    };
    Ok(Timeline {
        bucket_us: b,
        bucket: Step::Micros(b).describe(),
        min: Some(lo.div_euclid(b) * b),
        max: Some(hi),
        bins,
        from_summaries,
    })
}

/// Records per bucket of `b` µs, by SQL.
async fn bins(src: &Source, sel: &Selection, b: i64) -> Result<Vec<TimeBin>, ViewError> {
    // Floor division, so times before 1970 land in the right bucket too.
    let k = format!("CAST(floor(CAST(\"time\" AS DOUBLE) / {b}) AS BIGINT)");
    let mut q = Sql::new(format!("SELECT {k} AS k, count(*) AS total, "));
    q.append(&selected_count(sel)?)
        .push(" AS selected FROM events WHERE \"time\" IS NOT NULL GROUP BY 1 ORDER BY 1");
    let batches = src.collect(&q).await?;
    let keys = column(&batches, 0, ints)?;
    let totals = counts(&batches, 1)?;
    let sels = counts(&batches, 2)?;
    Ok(keys
        .into_iter()
        .zip(totals)
        .zip(sels)
        .filter_map(|((k, total), selected)| {
            k.map(|k| TimeBin {
                t: k * b,
                total,
                selected,
            })
        })
        .collect())
}
