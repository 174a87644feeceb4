//! Chart data for the server-side SVG charts (`secviz chart`, thumbnails, the page without
//! JavaScript), computed under a selection: bar (top k + other), time line (stacked by a
//! series field), histogram of an amount, parallel coordinates, treemap, heatmap, scatter.

use std::collections::HashMap;

use secviz_render::chart::time::{Step, auto_bucket};
use secviz_render::chart::{AxisKind, BarChart, Bin, Category, Chart, ChartOptions, HeatCell, Heatmap, Histogram, Other, Point, Scatter, TreeGroup, Treemap};
use secviz_render::{Theme, svg_to_png};

use super::{column, counts, facets, floats, ints, parallel, strings, timeline};
use crate::error::ViewError;
use crate::field::{Field, FieldKind};
use crate::selection::{Selection, and_all};
use crate::source::Source;
use crate::spec::{ViewKind, ViewSpec};
use crate::sql::Sql;

/// Series drawn separately in a stacked time line before the rest is "other".
const MAX_SERIES: usize = 6;
/// Leaves per treemap group, scatter points.
const MAX_LEAVES: usize = 20;
const MAX_POINTS: usize = 5000;

fn measure(spec: &ViewSpec) -> (String, String) {
    match spec.size {
        Some(f) => (format!("sum(CAST({} AS DOUBLE))", f.sql()), f.to_string()),
        None => ("count(*)".into(), "events".into()),
    }
}

fn label(v: Option<String>) -> String {
    v.unwrap_or_else(|| "(none)".into())
}

/// `WHERE <selection>` as a fragment.
fn where_sel(sel: &Selection) -> Result<Sql, ViewError> {
    let mut s = Sql::new(" WHERE ");
    s.append(&sel.predicate()?);
    Ok(s)
}

/// The chart of a view under a selection (only the selected records are counted).
pub async fn chart(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Chart, ViewError> {
    let first = |what: &str| spec.fields.first().copied().ok_or_else(|| ViewError::BadRequest(format!("{what} needs a field")));
    Ok(match spec.kind {
        ViewKind::Timeline => Chart::Histogram(time_line(src, spec, sel).await?),
        ViewKind::Histogram => Chart::Histogram(histogram(src, first("a histogram")?, sel).await?),
        ViewKind::Parallel => {
            let (total, _) = facets::totals(src, sel).await?;
            Chart::Parallel(parallel::tuples(src, &spec.fields, sel, total).await?.to_chart(!sel.is_empty()))
        }
        ViewKind::Treemap => Chart::Treemap(treemap(src, spec, sel).await?),
        ViewKind::Heatmap => Chart::Heatmap(heatmap(src, spec, sel).await?),
        ViewKind::Scatter => Chart::Scatter(scatter(src, spec, sel).await?),
        ViewKind::Bar | ViewKind::Linked | ViewKind::Graph => Chart::Bar(bar(src, first("a bar chart")?, spec.top_k, sel).await?),
    })
}

/// Top `k` values of `field` among the selected records, and the rest as "other".
pub async fn bar(src: &Source, field: Field, k: usize, sel: &Selection) -> Result<BarChart, ViewError> {
    let e = field.sql();
    let mut q = Sql::new(format!("SELECT {e} AS v, count(*) AS n FROM events"));
    q.append(&where_sel(sel)?).push(&format!(" GROUP BY {e} ORDER BY n DESC, v ASC NULLS LAST LIMIT {k}"));
    let b = src.collect(&q).await?;
    let bars: Vec<Category> = column(&b, 0, strings)?.into_iter().zip(counts(&b, 1)?).map(|(v, n)| Category { label: label(v), value: n as f64 }).collect();
    let mut t = Sql::new(format!("SELECT count(*), count(DISTINCT {e}) + max(CASE WHEN {e} IS NULL THEN 1 ELSE 0 END) FROM events"));
    t.append(&where_sel(sel)?);
    let tb = src.collect(&t).await?;
    let total = counts(&tb, 0)?.first().copied().unwrap_or(0) as f64;
    let distinct = counts(&tb, 1)?.first().copied().unwrap_or(0);
    let shown: f64 = bars.iter().map(|c| c.value).sum();
    let other = (total > shown).then(|| Other { value: total - shown, values: distinct.saturating_sub(bars.len() as u64) });
    Ok(BarChart { field: field.to_string(), measure: "events".into(), bars, other })
}

/// Records per automatic time bucket, stacked by the top values of `spec.series`.
pub async fn time_line(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Histogram, ViewError> {
    let Some((lo, hi)) = timeline::span(src).await? else {
        return Ok(Histogram { x_label: "time".into(), measure: "events".into(), x_kind: AxisKind::Time, series: vec!["events".into()], bins: Vec::new(), bucket: None });
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
    let mut q = Sql::new(format!("SELECT {key} AS k, {series_expr} AS s, count(*) FROM events"));
    q.append(&where_sel(sel)?).push(" AND \"time\" IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2");
    let rows = src.collect(&q).await?;
    let keys = column(&rows, 0, ints)?;
    let series = column(&rows, 1, strings)?;
    let n = counts(&rows, 2)?;
    let slot: HashMap<&str, usize> = names.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let other = slot.get("other").copied();
    let mut bins: Vec<Bin> = Vec::new();
    for ((k, s), c) in keys.into_iter().zip(series).zip(n) {
        let Some(k) = k else { continue };
        let lo = (k * b) as f64;
        if bins.last().is_none_or(|l| l.lo != lo) {
            bins.push(Bin { lo, hi: lo + b as f64, values: vec![0.0; names.len()] });
        }
        let i = slot.get(label(s).as_str()).copied().or(other).unwrap_or(0);
        bins.last_mut().expect("pushed").values[i] += c as f64;
    }
    Ok(Histogram { x_label: "time".into(), measure: "events".into(), x_kind: AxisKind::Time, series: names, bins, bucket: Some(Step::Micros(b).describe()) })
}

/// An amount binned into about 30 nice-width buckets.
pub async fn histogram(src: &Source, field: Field, sel: &Selection) -> Result<Histogram, ViewError> {
    if field.kind() != FieldKind::Measure {
        return Err(ViewError::BadRequest(format!("{field} is not an amount: a histogram bins bytes, packets or durations")));
    }
    let e = field.sql();
    let mut r = Sql::new(format!("SELECT CAST(min({e}) AS DOUBLE), CAST(max({e}) AS DOUBLE) FROM events"));
    r.append(&where_sel(sel)?);
    let rb = src.collect(&r).await?;
    let (lo, hi) = (column(&rb, 0, floats)?.first().copied().flatten(), column(&rb, 1, floats)?.first().copied().flatten());
    let mut out = Histogram { x_label: field.to_string(), measure: "events".into(), x_kind: AxisKind::Number, series: vec!["events".into()], bins: Vec::new(), bucket: None };
    let (Some(lo), Some(hi)) = (lo, hi) else { return Ok(out) };
    let width = nice_width((hi - lo).max(1.0) / 30.0);
    let start = (lo / width).floor() * width;
    let mut q = Sql::new(format!("SELECT CAST(floor((CAST({e} AS DOUBLE) - {start}) / {width}) AS BIGINT) AS k, count(*) FROM events"));
    q.append(&where_sel(sel)?).push(&format!(" AND {e} IS NOT NULL GROUP BY 1 ORDER BY 1"));
    let b = src.collect(&q).await?;
    for (k, n) in column(&b, 0, ints)?.into_iter().zip(counts(&b, 1)?) {
        let Some(k) = k else { continue };
        let lo = start + k as f64 * width;
        out.bins.push(Bin { lo, hi: lo + width, values: vec![n as f64] });
    }
    out.bucket = Some(format!("{width}"));
    Ok(out)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_width(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|w| *w >= raw).unwrap_or(10.0 * mag).max(1.0)
}

async fn top_values(src: &Source, field: Field, k: usize, sel: &Selection, m: &str) -> Result<Vec<Option<String>>, ViewError> {
    let e = field.sql();
    let mut q = Sql::new(format!("SELECT {e} AS v, {m} AS s FROM events"));
    q.append(&where_sel(sel)?).push(&format!(" GROUP BY {e} ORDER BY s DESC, v ASC NULLS LAST LIMIT {k}"));
    column(&src.collect(&q).await?, 0, strings)
}

/// `field IN (values)` (null values become `IS NULL`), parameterised.
fn member_of(field: Field, values: &[Option<String>]) -> Result<Sql, ViewError> {
    let mut sel = Selection::default();
    sel.values.insert(field.to_string(), values.iter().map(|v| v.clone().map(crate::selection::Scalar::Text)).collect());
    sel.predicate()
}

/// Groups (top k by size) and their largest leaves.
pub async fn treemap(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Treemap, ViewError> {
    let (g, l) = (spec.fields[0], spec.fields[1]);
    let (m, measure) = measure(spec);
    let groups = top_values(src, g, spec.top_k, sel, &m).await?;
    let mut q = Sql::new(format!("SELECT g, l, s FROM (SELECT g, l, s, row_number() OVER (PARTITION BY g ORDER BY s DESC, l ASC NULLS LAST) AS rn FROM (SELECT {} AS g, {} AS l, {m} AS s FROM events WHERE ", g.sql(), l.sql()));
    q.append(&and_all(vec![sel.predicate()?, member_of(g, &groups)?])).push(&format!(" GROUP BY 1, 2)) WHERE rn <= {MAX_LEAVES} ORDER BY g, s DESC"));
    let b = src.collect(&q).await?;
    let mut by_group: HashMap<Option<String>, Vec<Category>> = HashMap::new();
    for ((gv, lv), s) in column(&b, 0, strings)?.into_iter().zip(column(&b, 1, strings)?).zip(column(&b, 2, floats)?) {
        by_group.entry(gv).or_default().push(Category { label: label(lv), value: s.unwrap_or(0.0) });
    }
    let groups = groups.into_iter().map(|gv| TreeGroup { children: by_group.remove(&gv).unwrap_or_default(), label: label(gv) }).collect();
    Ok(Treemap { group_field: g.to_string(), leaf_field: l.to_string(), measure, groups })
}

/// Top values of x and y, and the size of every pair among them.
pub async fn heatmap(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Heatmap, ViewError> {
    let (xf, yf) = (spec.fields[0], spec.fields[1]);
    let (m, measure) = measure(spec);
    let xs = top_values(src, xf, spec.top_k.max(2), sel, &m).await?;
    let ys = top_values(src, yf, (spec.top_k * 2).clamp(2, 40), sel, &m).await?;
    let mut q = Sql::new(format!("SELECT {} AS x, {} AS y, {m} AS s FROM events WHERE ", xf.sql(), yf.sql()));
    q.append(&and_all(vec![sel.predicate()?, member_of(xf, &xs)?, member_of(yf, &ys)?])).push(" GROUP BY 1, 2");
    let b = src.collect(&q).await?;
    let xi: HashMap<&Option<String>, u32> = xs.iter().enumerate().map(|(i, v)| (v, i as u32)).collect();
    let yi: HashMap<&Option<String>, u32> = ys.iter().enumerate().map(|(i, v)| (v, i as u32)).collect();
    let mut cells: Vec<HeatCell> = Vec::new();
    for ((x, y), s) in column(&b, 0, strings)?.iter().zip(column(&b, 1, strings)?.iter()).zip(column(&b, 2, floats)?) {
        if let (Some(&x), Some(&y)) = (xi.get(x), yi.get(y)) {
            cells.push(HeatCell { x, y, value: s.unwrap_or(0.0) });
        }
    }
    cells.sort_by_key(|c| (c.y, c.x));
    Ok(Heatmap { x_label: xf.to_string(), y_label: yf.to_string(), measure, x: xs.into_iter().map(label).collect(), y: ys.into_iter().map(label).collect(), cells })
}

fn axis_kind(f: Field) -> AxisKind {
    match f.kind() {
        FieldKind::Time => AxisKind::Time,
        FieldKind::Measure => AxisKind::Log,
        _ => AxisKind::Number,
    }
}

/// The most frequent distinct (x, y) pairs, coloured by the series field's top values.
pub async fn scatter(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Scatter, ViewError> {
    let (xf, yf) = (spec.fields[0], spec.fields[1]);
    let num = |f: Field| if f.kind() == FieldKind::Time { format!("CAST(CAST({} AS BIGINT) AS DOUBLE)", f.sql()) } else { format!("CAST({} AS DOUBLE)", f.sql()) };
    let (groups, gexpr) = match spec.series {
        Some(s) => (top_values(src, s, MAX_SERIES, sel, "count(*)").await?, format!("CAST({} AS VARCHAR)", s.sql())),
        None => (Vec::new(), "''".to_string()),
    };
    let mut q = Sql::new(format!("SELECT {} AS x, {} AS y, {gexpr} AS g, count(*) AS n FROM events", num(xf), num(yf)));
    q.append(&where_sel(sel)?).push(&format!(" AND {} IS NOT NULL AND {} IS NOT NULL GROUP BY 1, 2, 3 ORDER BY n DESC, x, y, g LIMIT {MAX_POINTS}", xf.sql(), yf.sql()));
    let b = src.collect(&q).await?;
    let gi: HashMap<Option<String>, u32> = groups.iter().enumerate().map(|(i, v)| (v.clone(), i as u32)).collect();
    let mut names: Vec<String> = groups.into_iter().map(label).collect();
    let other = names.len() as u32;
    let mut used_other = false;
    let mut points = Vec::new();
    for (((x, y), g), n) in column(&b, 0, floats)?.into_iter().zip(column(&b, 1, floats)?).zip(column(&b, 2, strings)?).zip(counts(&b, 3)?) {
        let (Some(x), Some(y)) = (x, y) else { continue };
        let group = if spec.series.is_some() {
            gi.get(&g).copied().unwrap_or_else(|| {
                used_other = true;
                other
            })
        } else {
            0
        };
        points.push(Point { x, y, value: n as f64, group });
    }
    if used_other {
        names.push("other".into());
    }
    Ok(Scatter { x_label: xf.to_string(), y_label: yf.to_string(), x_kind: axis_kind(xf), y_kind: axis_kind(yf), groups: names, points })
}

/// Output format of [`render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

/// Draws a view's chart: its data under the selection, a title from the spec (or one made
/// from the kind and fields), the dataset and counts under it.
pub async fn render(src: &Source, dataset: &str, spec: &ViewSpec, sel: &Selection, theme: Theme, width: f64) -> Result<String, ViewError> {
    let chart = chart(src, spec, sel).await?;
    let fields: Vec<String> = spec.fields.iter().map(Field::to_string).collect();
    let title = spec.title.clone().unwrap_or_else(|| match spec.kind {
        ViewKind::Timeline => "Events over time".to_string(),
        ViewKind::Bar | ViewKind::Linked | ViewKind::Graph => format!("Top {} values of {}", spec.top_k, fields.first().cloned().unwrap_or_default()),
        k => format!("{} of {}", serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(), fields.join(" × ")),
    });
    let (total, selected) = facets::totals(src, sel).await?;
    let mut subtitle = format!("dataset {dataset} · {} events", thousands(total));
    if !sel.is_empty() {
        subtitle.push_str(&format!(" · {} selected", thousands(selected)));
    }
    if let Some(f) = &spec.filter {
        subtitle.push_str(&format!(" · where {f}"));
    }
    Ok(secviz_render::chart::chart_svg(&chart, &ChartOptions { title, subtitle: Some(subtitle), width, height: None, theme }))
}

/// PNG of an SVG drawing at twice its size.
pub fn png(svg: &str) -> Result<Vec<u8>, ViewError> {
    svg_to_png(svg, 2.0).map_err(|e| ViewError::Internal(e.to_string()))
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
