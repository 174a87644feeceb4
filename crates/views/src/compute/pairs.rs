//! Charts of two fields (treemap, heatmap, scatter plot), aggregated in the lake under a
//! selection: the top values of each field by size or count, and the sizes of their pairs.

use std::collections::HashMap;

use secviz_render::chart::{
    AxisKind, Category, HeatCell, Heatmap, Point, Scatter, TreeGroup, Treemap,
};

use super::{MAX_SERIES, column, counts, floats, label, measure, strings, where_sel};
use crate::error::ViewError;
use crate::field::{Field, FieldKind};
use crate::selection::{Selection, and_all};
use crate::source::Source;
use crate::spec::ViewSpec;
use crate::sql::Sql;

/// Leaves per treemap group.
const MAX_LEAVES: usize = 20;
/// Scatter points (distinct pairs) drawn.
const MAX_POINTS: usize = 5000;

async fn top_values(
    src: &Source,
    field: Field,
    k: usize,
    sel: &Selection,
    m: &str,
) -> Result<Vec<Option<String>>, ViewError> {
    let e = field.sql();
    let mut q = Sql::new(format!("SELECT {e} AS v, {m} AS s FROM events"));
    q.append(&where_sel(sel)?).push(&format!(
        " GROUP BY {e} ORDER BY s DESC, v ASC NULLS LAST LIMIT {k}"
    ));
    column(&src.collect(&q).await?, 0, strings)
}

/// `field IN (values)` (null values become `IS NULL`), parameterised.
fn member_of(field: Field, values: &[Option<String>]) -> Result<Sql, ViewError> {
    let mut sel = Selection::default();
    sel.values.insert(
        field.to_string(),
        values
            .iter()
            .map(|v| v.clone().map(crate::selection::Scalar::Text))
            .collect(),
    );
    sel.predicate()
}

/// Groups (top k by size) and their largest leaves, in one pass over the events: the
/// (group, leaf) sizes are aggregated once, and the group totals, the group ranks and the
/// leaf ranks are computed over that (much smaller) result. Both measures (count and sum)
/// add up, so a group's size is the sum of its leaves'. An earlier form ran the group
/// expression over every row twice.
pub async fn treemap(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Treemap, ViewError> {
    let (g, l) = (spec.fields[0], spec.fields[1]);
    let (m, measure) = measure(spec);
    let mut q = Sql::new(format!(
        "SELECT g, l, s FROM (\
           SELECT g, l, s, \
             dense_rank() OVER (ORDER BY gs DESC, g ASC NULLS LAST) AS gr, \
             row_number() OVER (PARTITION BY g ORDER BY s DESC, l ASC NULLS LAST) AS rn \
           FROM (SELECT g, l, s, sum(s) OVER (PARTITION BY g) AS gs FROM (\
             SELECT {} AS g, {} AS l, {m} AS s FROM events",
        g.sql(),
        l.sql()
    ));
    q.append(&where_sel(sel)?).push(&format!(
        " GROUP BY 1, 2))) WHERE gr <= {} AND rn <= {MAX_LEAVES} ORDER BY gr, rn",
        spec.top_k
    ));
    let b = src.collect(&q).await?;
    let mut groups: Vec<TreeGroup> = Vec::new();
    let mut last: Option<Option<String>> = None;
    for ((gv, lv), s) in column(&b, 0, strings)?
        .into_iter()
        .zip(column(&b, 1, strings)?)
        .zip(column(&b, 2, floats)?)
    {
        if last.as_ref() != Some(&gv) {
            groups.push(TreeGroup {
                label: label(gv.clone()),
                children: Vec::new(),
            });
            last = Some(gv);
        }
        groups
            .last_mut()
            .expect("pushed above")
            .children
            .push(Category {
                label: label(lv),
                value: s.unwrap_or(0.0),
            });
    }
    Ok(Treemap {
        group_field: g.to_string(),
        leaf_field: l.to_string(),
        measure,
        groups,
    })
}

/// Top values of x and y, and the size of every pair among them.
pub async fn heatmap(src: &Source, spec: &ViewSpec, sel: &Selection) -> Result<Heatmap, ViewError> {
    let (xf, yf) = (spec.fields[0], spec.fields[1]);
    let (m, measure) = measure(spec);
    let xs = top_values(src, xf, spec.top_k.max(2), sel, &m).await?;
    let ys = top_values(src, yf, (spec.top_k * 2).clamp(2, 40), sel, &m).await?;
    let mut q = Sql::new(format!(
        "SELECT {} AS x, {} AS y, {m} AS s FROM events WHERE ",
        xf.sql(),
        yf.sql()
    ));
    q.append(&and_all(vec![
        sel.predicate()?,
        member_of(xf, &xs)?,
        member_of(yf, &ys)?,
    ]))
    .push(" GROUP BY 1, 2");
    let b = src.collect(&q).await?;
    let xi: HashMap<&Option<String>, u32> =
        xs.iter().enumerate().map(|(i, v)| (v, i as u32)).collect();
    let yi: HashMap<&Option<String>, u32> =
        ys.iter().enumerate().map(|(i, v)| (v, i as u32)).collect();
    let mut cells: Vec<HeatCell> = Vec::new();
    for ((x, y), s) in column(&b, 0, strings)?
        .iter()
        .zip(column(&b, 1, strings)?.iter())
        .zip(column(&b, 2, floats)?)
    {
        if let (Some(&x), Some(&y)) = (xi.get(x), yi.get(y)) {
            cells.push(HeatCell {
                x,
                y,
                value: s.unwrap_or(0.0),
            });
        }
    }
    cells.sort_by_key(|c| (c.y, c.x));
    Ok(Heatmap {
        x_label: xf.to_string(),
        y_label: yf.to_string(),
        measure,
        x: xs.into_iter().map(label).collect(),
        y: ys.into_iter().map(label).collect(),
        cells,
    })
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
    let num = |f: Field| {
        if f.kind() == FieldKind::Time {
            format!("CAST(CAST({} AS BIGINT) AS DOUBLE)", f.sql())
        } else {
            format!("CAST({} AS DOUBLE)", f.sql())
        }
    };
    let (groups, gexpr) = match spec.series {
        Some(s) => (
            top_values(src, s, MAX_SERIES, sel, "count(*)").await?,
            format!("CAST({} AS VARCHAR)", s.sql()),
        ),
        None => (Vec::new(), "''".to_string()),
    };
    let mut q = Sql::new(format!(
        "SELECT {} AS x, {} AS y, {gexpr} AS g, count(*) AS n FROM events",
        num(xf),
        num(yf)
    ));
    q.append(&where_sel(sel)?).push(&format!(" AND {} IS NOT NULL AND {} IS NOT NULL GROUP BY 1, 2, 3 ORDER BY n DESC, x, y, g LIMIT {MAX_POINTS}", xf.sql(), yf.sql()));
    let b = src.collect(&q).await?;
    let gi: HashMap<Option<String>, u32> = groups
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), i as u32))
        .collect();
    let mut names: Vec<String> = groups.into_iter().map(label).collect();
    let other = names.len() as u32;
    let mut used_other = false;
    let mut points = Vec::new();
    for (((x, y), g), n) in column(&b, 0, floats)?
        .into_iter()
        .zip(column(&b, 1, floats)?)
        .zip(column(&b, 2, strings)?)
        .zip(counts(&b, 3)?)
    {
        let (Some(x), Some(y)) = (x, y) else { continue };
        let group = if spec.series.is_some() {
            gi.get(&g).copied().unwrap_or_else(|| {
                used_other = true;
                other
            })
        } else {
            0
        };
        points.push(Point {
            x,
            y,
            value: n as f64,
            group,
        });
    }
    if used_other {
        names.push("other".into());
    }
    Ok(Scatter {
        x_label: xf.to_string(),
        y_label: yf.to_string(),
        x_kind: axis_kind(xf),
        y_kind: axis_kind(yf),
        groups: names,
        points,
    })
}
