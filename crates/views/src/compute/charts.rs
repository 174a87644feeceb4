//! Chart data for the server-side SVG charts (`secviz chart`, thumbnails, the page without
//! JavaScript), computed under a selection: bar (top k + other), time line (stacked by a
//! series field), histogram of an amount, parallel coordinates, treemap, heatmap, scatter.

use std::collections::HashMap;

use secviz_graph::numbers::thousands;
use secviz_render::chart::time::{Step, auto_bucket};
use secviz_render::chart::{
    AxisKind, BarChart, Bin, Category, Chart, ChartOptions, Histogram, Other,
};
use secviz_render::{Theme, svg_to_png};

use super::{
    MAX_SERIES, column, counts, facets, floats, ints, label, pairs, parallel, strings, timeline,
    where_sel,
};
use crate::error::ViewError;
use crate::field::{Field, FieldKind};
use crate::selection::Selection;
use crate::source::Source;
use crate::spec::{ViewKind, ViewSpec};
use crate::sql::Sql;

/// The chart of a view under a selection (only the selected records are counted).
pub async fn chart(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Chart, ViewError> {
    let first = |what: &str| {
        spec.fields
            .first()
            .copied()
            .ok_or_else(|| ViewError::BadRequest(format!("{what} needs a field")))
    };
    Ok(match spec.kind {
        ViewKind::Timeline => Chart::Histogram(time_line(src, spec, sel).await?),
        ViewKind::Histogram => Chart::Histogram(histogram(src, first("a histogram")?, sel).await?),
        ViewKind::Parallel => {
            let (total, _) = facets::totals(src, sel).await?;
            Chart::Parallel(
                parallel::tuples(src, &spec.fields, sel, total)
                    .await?
                    .to_chart(!sel.is_empty()),
            )
        }
        ViewKind::Treemap => Chart::Treemap(pairs::treemap(src, spec, sel).await?),
        ViewKind::Heatmap => Chart::Heatmap(pairs::heatmap(src, spec, sel).await?),
        ViewKind::Scatter => Chart::Scatter(pairs::scatter(src, spec, sel).await?),
        ViewKind::Bar | ViewKind::Linked | ViewKind::Graph => {
            Chart::Bar(bar(src, first("a bar chart")?, spec.top_k, sel).await?)
        }
    })
}

/// Top `k` values of `field` among the selected records, and the rest as "other".
pub async fn bar(
    src: &Source,
    field: Field,
    k: usize,
    sel: &Selection,
) -> Result<BarChart, ViewError> {
    // A bar chart of the whole dataset is one facet: from the summaries, when they count it.
    if let Some((_, counted)) = super::summarized::facets(src, &[field], k, sel).await?
        && let Some(c) = counted.into_iter().next()
    {
        return Ok(BarChart {
            field: field.to_string(),
            measure: "events".into(),
            bars: c
                .values
                .into_iter()
                .map(|(v, n)| Category {
                    label: label(v),
                    value: n as f64,
                })
                .collect(),
            other: c.other.map(|(n, values)| Other {
                value: n as f64,
                values,
            }),
        });
    }
    let e = field.sql();
    let mut q = Sql::new(format!("SELECT {e} AS v, count(*) AS n FROM events"));
    q.append(&where_sel(sel)?).push(&format!(
        " GROUP BY {e} ORDER BY n DESC, v ASC NULLS LAST LIMIT {k}"
    ));
    let b = src.collect(&q).await?;
    let bars: Vec<Category> = column(&b, 0, strings)?
        .into_iter()
        .zip(counts(&b, 1)?)
        .map(|(v, n)| Category {
            label: label(v),
            value: n as f64,
        })
        .collect();
    let mut t = Sql::new(format!(
        "SELECT count(*), count(DISTINCT {e}) + max(CASE WHEN {e} IS NULL THEN 1 ELSE 0 END) FROM events"
    ));
    t.append(&where_sel(sel)?);
    let tb = src.collect(&t).await?;
    let total = counts(&tb, 0)?.first().copied().unwrap_or(0) as f64;
    let distinct = counts(&tb, 1)?.first().copied().unwrap_or(0);
    let shown: f64 = bars.iter().map(|c| c.value).sum();
    let other = (total > shown).then(|| Other {
        value: total - shown,
        values: distinct.saturating_sub(bars.len() as u64),
    });
    Ok(BarChart {
        field: field.to_string(),
        measure: "events".into(),
        bars,
        other,
    })
}

/// Records per automatic time bucket, stacked by the top values of `spec.series`.
pub async fn time_line(
    src: &Source,
    spec: &ViewSpec,
    sel: &Selection,
) -> Result<Histogram, ViewError> {
    let Some((lo, hi)) = timeline::span(src).await? else {
        return Ok(Histogram {
            x_label: "time".into(),
            measure: "events".into(),
            x_kind: AxisKind::Time,
            series: vec!["events".into()],
            bins: Vec::new(),
            bucket: None,
        });
    };
    let b = auto_bucket(lo, hi);
    let key = format!("CAST(floor(CAST(\"time\" AS DOUBLE) / {b}) AS BIGINT)");
    let (series_expr, names) = match spec.series {
        Some(f) => {
            let top = bar(src, f, MAX_SERIES, sel).await?;
            let mut names: Vec<String> = top.bars.iter().map(|c| c.label.clone()).collect();
            if top.other.is_some() {
                names.push("other".into());
            }
            (format!("CAST({} AS VARCHAR)", f.sql()), names)
        }
        None => ("'events'".into(), vec!["events".to_string()]),
    };
    let mut q = Sql::new(format!(
        "SELECT {key} AS k, {series_expr} AS s, count(*) FROM events"
    ));
    q.append(&where_sel(sel)?)
        .push(" AND \"time\" IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2");
    let rows = src.collect(&q).await?;
    let keys = column(&rows, 0, ints)?;
    let series = column(&rows, 1, strings)?;
    let n = counts(&rows, 2)?;
    let slot: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let other = slot.get("other").copied();
    let mut bins: Vec<Bin> = Vec::new();
    for ((k, s), c) in keys.into_iter().zip(series).zip(n) {
        let Some(k) = k else { continue };
        let lo = (k * b) as f64;
        if bins.last().is_none_or(|l| l.lo != lo) {
            bins.push(Bin {
                lo,
                hi: lo + b as f64,
                values: vec![0.0; names.len()],
            });
        }
        let i = slot.get(label(s).as_str()).copied().or(other).unwrap_or(0);
        bins.last_mut().expect("pushed").values[i] += c as f64;
    }
    Ok(Histogram {
        x_label: "time".into(),
        measure: "events".into(),
        x_kind: AxisKind::Time,
        series: names,
        bins,
        bucket: Some(Step::Micros(b).describe()),
    })
}

/// An amount binned into about 30 nice-width buckets.
pub async fn histogram(
    src: &Source,
    field: Field,
    sel: &Selection,
) -> Result<Histogram, ViewError> {
    if field.kind() != FieldKind::Measure {
        return Err(ViewError::BadRequest(format!(
            "{field} is not an amount: a histogram bins bytes, packets or durations"
        )));
    }
    let e = field.sql();
    let mut r = Sql::new(format!(
        "SELECT CAST(min({e}) AS DOUBLE), CAST(max({e}) AS DOUBLE) FROM events"
    ));
    r.append(&where_sel(sel)?);
    let rb = src.collect(&r).await?;
    let (lo, hi) = (
        column(&rb, 0, floats)?.first().copied().flatten(),
        column(&rb, 1, floats)?.first().copied().flatten(),
    );
    let mut out = Histogram {
        x_label: field.to_string(),
        measure: "events".into(),
        x_kind: AxisKind::Number,
        series: vec!["events".into()],
        bins: Vec::new(),
        bucket: None,
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(out);
    };
    let width = nice_width((hi - lo).max(1.0) / 30.0);
    let start = (lo / width).floor() * width;
    let mut q = Sql::new(format!(
        "SELECT CAST(floor((CAST({e} AS DOUBLE) - {start}) / {width}) AS BIGINT) AS k, count(*) FROM events"
    ));
    q.append(&where_sel(sel)?)
        .push(&format!(" AND {e} IS NOT NULL GROUP BY 1 ORDER BY 1"));
    let b = src.collect(&q).await?;
    for (k, n) in column(&b, 0, ints)?.into_iter().zip(counts(&b, 1)?) {
        let Some(k) = k else { continue };
        let lo = start + k as f64 * width;
        out.bins.push(Bin {
            lo,
            hi: lo + width,
            values: vec![n as f64],
        });
    }
    out.bucket = Some(format!("{width}"));
    Ok(out)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_width(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|w| *w >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0)
}

/// Output format of [`render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

/// Draws a view's chart: its data under the selection, a title from the spec (or one made
/// from the kind and fields), the dataset and counts under it.
pub async fn render(
    src: &Source,
    dataset: &str,
    spec: &ViewSpec,
    sel: &Selection,
    theme: Theme,
    width: f64,
) -> Result<String, ViewError> {
    let chart = chart(src, spec, sel).await?;
    let fields: Vec<String> = spec.fields.iter().map(Field::to_string).collect();
    let title = spec.title.clone().unwrap_or_else(|| match spec.kind {
        ViewKind::Timeline => "Events over time".to_string(),
        ViewKind::Bar | ViewKind::Linked | ViewKind::Graph => format!(
            "Top {} values of {}",
            spec.top_k,
            fields.first().cloned().unwrap_or_default()
        ),
        k => format!(
            "{} of {}",
            serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            fields.join(" × ")
        ),
    });
    let (total, selected) = facets::totals(src, sel).await?;
    let mut subtitle = format!("dataset {dataset} · {} events", thousands(total));
    if !sel.is_empty() {
        subtitle.push_str(&format!(" · {} selected", thousands(selected)));
    }
    if let Some(f) = &spec.filter {
        subtitle.push_str(&format!(" · where {f}"));
    }
    Ok(secviz_render::chart::chart_svg(
        &chart,
        &ChartOptions {
            title,
            subtitle: Some(subtitle),
            width,
            height: None,
            theme,
        },
    ))
}

/// PNG of an SVG drawing at twice its size.
pub fn png(svg: &str) -> Result<Vec<u8>, ViewError> {
    svg_to_png(svg, 2.0).map_err(|e| ViewError::Internal(e.to_string()))
}
