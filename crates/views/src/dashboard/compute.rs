//! A dashboard's panels computed over the lake: the one place a panel becomes numbers, which
//! the portal's pages, its big screen and its share links all call (through the portal's
//! per-interval cache, so every viewer gets the same computation).
//!
//! Every panel reads the dataset as `events` through [`Source`] (the lake's sandbox for
//! members) with fixed SQL and bound parameters. A panel that fails (a limit, the data)
//! says so in its own place; the rest of the dashboard still shows.

use std::collections::{BTreeMap, BTreeSet};

use secviz_lake::analyze::baseline::NOTABLE;
use secviz_lake::analyze::cells::each_row;
use secviz_lake::analyze::{Finding, Report};
use secviz_lake::query::Access;
use secviz_lake::{DatasetName, Lake};
use secviz_parse::schema::col;
use serde::Serialize;

use super::spec::{DashboardSpec, PanelKind, PanelSpec};
use crate::error::ViewError;
use crate::selection::{Scalar, Selection, time_param};
use crate::source::{Limits, Source};
use crate::sql::Sql;

const DAY_US: i64 = 86_400_000_000;

/// When a computation's windows end, and what the data spans.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Frame {
    /// The end of every window (exclusive), microseconds.
    pub end_us: i64,
    /// The data's newest event is older than the longest window: the windows end at it
    /// instead of at the clock (a log that ended, replayed or uploaded once).
    pub ended: bool,
    pub first_us: Option<i64>,
    pub latest_us: Option<i64>,
    pub lookback_days: u32,
}

/// One panel's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PanelData {
    pub from_us: i64,
    pub to_us: i64,
    pub body: Body,
    /// How long the panel took to compute, milliseconds (not part of what is shown).
    #[serde(skip)]
    pub ms: u64,
}

/// What a panel shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    Findings {
        rows: Vec<FindingRow>,
        /// Analyses that could not run on this data, with why.
        not_run: Vec<String>,
    },
    Rate(Rate),
    Hosts {
        column: &'static str,
        /// New values in the window (the rows are the busiest of them).
        total: u64,
        rows: Vec<HostRow>,
    },
    Logins {
        now: u64,
        before: u64,
        /// Events in the two windows that have a login outcome at all.
        outcomes: u64,
        rows: Vec<LoginRow>,
    },
    Talkers {
        rows: Vec<TalkerRow>,
    },
    /// A saved view drawn over the window, in the light and the dark theme (SVG).
    Picture {
        light: String,
        dark: String,
    },
    /// The panel could not be computed; the sentence says why.
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingRow {
    pub score: f64,
    pub notable: bool,
    /// Not among the findings of the window before this one.
    pub new: bool,
    pub analysis: &'static str,
    pub headline: String,
    pub selection: Selection,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rate {
    pub bucket_us: i64,
    pub counts: Vec<u64>,
    pub total: u64,
    /// The median count of the same window on the days before (`None`: no history).
    pub usual: Option<f64>,
    /// Days of history the median is of.
    pub days: u32,
    pub selection: Selection,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostRow {
    pub value: String,
    pub events: u64,
    pub first_us: Option<i64>,
    pub selection: Selection,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoginRow {
    pub src: String,
    pub failures: u64,
    pub accounts: u64,
    pub example_user: Option<String>,
    pub selection: Selection,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TalkerRow {
    pub src: String,
    pub now: u64,
    pub before: u64,
    /// 1-based ranks among the sources of each window, when in its top.
    pub rank_now: Option<usize>,
    pub rank_before: Option<usize>,
    pub selection: Selection,
}

/// Opens the dataset and finds where the windows end: at the clock, or at the newest event
/// when the data ended before the longest window began.
pub async fn frame(source: &Source, spec: &DashboardSpec, now_us: i64) -> Result<Frame, ViewError> {
    let t = format!("\"{}\"", col::TIME);
    let sql = Sql::new(format!(
        "SELECT CAST(min({t}) AS BIGINT), CAST(max({t}) AS BIGINT) FROM events"
    ));
    let batches = source.collect(&sql).await?;
    let (first_us, latest_us) = each_row(&batches, |r| Some((r.int(0), r.int(1))))
        .into_iter()
        .next()
        .unwrap_or((None, None));
    let ended = latest_us.is_some_and(|l| l < now_us - spec.longest_window());
    let end_us = match latest_us {
        Some(l) if ended => l + 1,
        _ => now_us,
    };
    Ok(Frame {
        end_us,
        ended,
        first_us,
        latest_us,
        lookback_days: spec.lookback_days,
    })
}

/// Computes one panel. Errors become the panel's [`Body::Failed`] sentence.
pub async fn panel(
    lake: &Lake,
    dataset: &DatasetName,
    source: &Source,
    frame: &Frame,
    p: &PanelSpec,
    limits: &Limits,
) -> PanelData {
    let started = std::time::Instant::now();
    let win = p.window.micros();
    let (from, to) = (frame.end_us - win, frame.end_us);
    let limit = p.limit.clamp(1, super::spec::MAX_LIMIT) as usize;
    let body = match p.kind {
        PanelKind::Findings => findings(lake, dataset, [from, to], limit, limits).await,
        PanelKind::Analysis => analysis(lake, dataset, p, [from, to], limit, limits).await,
        PanelKind::EventRate => rate(source, frame, p, [from, to]).await.map(Body::Rate),
        PanelKind::NewSources => new_hosts(source, frame, col::SRC_IP, [from, to], limit).await,
        PanelKind::NewDestinations => {
            new_hosts(source, frame, col::DST_IP, [from, to], limit).await
        }
        PanelKind::FailedLogins => failed_logins(source, [from, to], limit).await,
        PanelKind::TalkerChanges => talkers(source, [from, to], limit).await,
        PanelKind::View => picture(lake, dataset, p, [from, to], limits).await,
    };
    PanelData {
        from_us: from,
        to_us: to,
        body: body.unwrap_or_else(|e| Body::Failed(failure(&e))),
        ms: started.elapsed().as_millis() as u64,
    }
}

/// The sentence of a failed panel: the member's words for what stopped it.
fn failure(e: &ViewError) -> String {
    match e {
        ViewError::Internal(_) => "This panel could not be computed (an error of ours).".into(),
        other => format!("This panel could not be computed: {other}."),
    }
}

fn between(from: i64, to: i64) -> Selection {
    Selection {
        time: Some([from, to]),
        ..Selection::default()
    }
}

fn on(column: &str, value: &str, window: [i64; 2]) -> Selection {
    let mut s = between(window[0], window[1]);
    s.values.insert(
        column.to_string(),
        vec![Some(Scalar::Text(value.to_string()))],
    );
    s
}

/// The key that makes a finding "the same" in two windows: its analysis and what it is
/// about (not its counts, which move).
fn finding_key(f: &Finding) -> (String, BTreeMap<String, String>) {
    (f.analysis.to_string(), f.focus.values.clone())
}

async fn findings(
    lake: &Lake,
    dataset: &DatasetName,
    [from, to]: [i64; 2],
    limit: usize,
    limits: &Limits,
) -> Result<Body, ViewError> {
    let access = Access::Only(vec![dataset.clone()]);
    let q = limits.query();
    let now: Report = lake
        .analyze_all_between(&access, [from, to], None, &q)
        .await
        .map_err(analysis_error)?;
    // The window before, asked only what the shown findings' analyses found there.
    let shown: BTreeSet<&str> = now
        .findings
        .iter()
        .take(limit)
        .map(|f| f.analysis)
        .collect();
    let shown: Vec<&str> = shown.into_iter().collect();
    let before: BTreeSet<_> = if shown.is_empty() {
        BTreeSet::new()
    } else {
        lake.analyze_all_between(&access, [from - (to - from), from], Some(&shown), &q)
            .await
            .map_err(analysis_error)?
            .findings
            .iter()
            .map(finding_key)
            .collect()
    };
    let rows = now
        .findings
        .iter()
        .take(limit)
        .map(|f| finding_row(f, !before.contains(&finding_key(f)), [from, to]))
        .collect();
    let not_run = now
        .not_run
        .iter()
        .map(|n| format!("{}: {}", n.title, n.reason))
        .collect();
    Ok(Body::Findings { rows, not_run })
}

fn finding_row(f: &Finding, new: bool, window: [i64; 2]) -> FindingRow {
    let mut selection = f
        .focus
        .selection_json()
        .and_then(|j| Selection::from_json(&j).ok())
        .unwrap_or_default();
    if selection.time.is_none() {
        selection.time = Some(window);
    }
    FindingRow {
        score: f.score,
        notable: f.score >= NOTABLE,
        new,
        analysis: f.analysis,
        headline: f.headline.clone(),
        selection,
    }
}

async fn analysis(
    lake: &Lake,
    dataset: &DatasetName,
    p: &PanelSpec,
    window: [i64; 2],
    limit: usize,
    limits: &Limits,
) -> Result<Body, ViewError> {
    let (spec, params) = p
        .analysis_params()
        .map_err(|e| ViewError::BadRequest(e.0))?;
    let r = lake
        .analyze_between(
            &Access::Only(vec![dataset.clone()]),
            spec.name,
            &params,
            window,
            &limits.query(),
        )
        .await
        .map_err(analysis_error)?;
    Ok(Body::Findings {
        rows: r
            .findings
            .iter()
            .take(limit)
            .map(|f| finding_row(f, false, window))
            .collect(),
        not_run: r.not_run.into_iter().collect(),
    })
}

fn analysis_error(e: secviz_lake::analyze::AnalysisError) -> ViewError {
    use secviz_lake::analyze::AnalysisError as A;
    match e {
        A::Query(q) => ViewError::from_query(q, "analysis"),
        A::Lake(l) => l.into(),
        other => ViewError::BadRequest(other.to_string()),
    }
}

/// `"time" >= $a AND "time" < $b`, appended to `sql`.
fn time_between(sql: &mut Sql, from: i64, to: i64) {
    let t = format!("\"{}\"", col::TIME);
    sql.push(&format!("{t} >= "))
        .param(time_param(from))
        .push(&format!(" AND {t} < "))
        .param(time_param(to));
}

async fn rate(
    source: &Source,
    frame: &Frame,
    p: &PanelSpec,
    [from, to]: [i64; 2],
) -> Result<Rate, ViewError> {
    let t = format!("CAST(\"{}\" AS BIGINT)", col::TIME);
    let (n, width) = p.window.buckets();
    let mut sql = Sql::new(format!("SELECT CAST(({t} - "));
    sql.param(secviz_lake::datafusion::common::ScalarValue::Int64(Some(
        from,
    )))
    .push(&format!(
        ") / {width} AS BIGINT) AS b, count(*) FROM events WHERE "
    ));
    time_between(&mut sql, from, to);
    sql.push(" GROUP BY 1");
    let batches = source.collect(&sql).await?;
    let mut counts = vec![0u64; n as usize];
    for (b, c) in each_row(&batches, |r| Some((r.int(0)?, r.count(1)))) {
        if let Some(slot) = usize::try_from(b).ok().and_then(|i| counts.get_mut(i)) {
            *slot += c;
        }
    }
    // The same window on each of the days before, back to the lookback, counted only where
    // the data reaches that far back (a day before the first event is no evidence of a
    // quiet hour).
    let days = i64::from(frame.lookback_days);
    let base = from - days * DAY_US;
    let win = to - from;
    let mut sql = Sql::new(format!("SELECT CAST(({t} - "));
    let base_param = secviz_lake::datafusion::common::ScalarValue::Int64(Some(base));
    sql.param(base_param.clone()).push(&format!(
        ") / {DAY_US} AS BIGINT) AS d, count(*) FROM events WHERE "
    ));
    time_between(&mut sql, base, from);
    sql.push(&format!(" AND ({t} - "))
        .param(base_param)
        .push(&format!(") % {DAY_US} < {win} GROUP BY 1"));
    let batches = source.collect(&sql).await?;
    let by_day: BTreeMap<i64, u64> = each_row(&batches, |r| Some((r.int(0)?, r.count(1))))
        .into_iter()
        .collect();
    let covered: Vec<f64> = (0..days)
        .filter(|d| frame.first_us.is_some_and(|f| f <= base + d * DAY_US))
        .map(|d| by_day.get(&d).copied().unwrap_or(0) as f64)
        .collect();
    Ok(Rate {
        bucket_us: width,
        total: counts.iter().sum(),
        counts,
        usual: median(&covered),
        days: covered.len() as u32,
        selection: between(from, to),
    })
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

async fn new_hosts(
    source: &Source,
    frame: &Frame,
    column: &'static str,
    [from, to]: [i64; 2],
    limit: usize,
) -> Result<Body, ViewError> {
    let c = format!("\"{column}\"");
    let t = format!("\"{}\"", col::TIME);
    let since = from - i64::from(frame.lookback_days) * DAY_US;
    // A value is new when its first event since the lookback began lies in the window: one
    // aggregation over the lookback and the window. (`NOT IN` the lookback's values was a
    // hash join whose build side held one entry per event: a destination every event goes
    // to made each probe walk all of them, 13 s for 88 k events.)
    let mut sql = Sql::new(format!(
        "SELECT {c}, count(*) AS n, CAST(min({t}) AS BIGINT), count(*) OVER () AS total \
         FROM events WHERE {c} IS NOT NULL AND "
    ));
    time_between(&mut sql, since, to);
    sql.push(&format!(" GROUP BY {c} HAVING min({t}) >= "))
        .param(time_param(from))
        .push(&format!(" ORDER BY n DESC, {c} LIMIT {limit}"));
    let batches = source.collect(&sql).await?;
    let mut total = 0;
    let rows = each_row(&batches, |r| {
        total = r.count(3);
        let value = r.string(0)?;
        Some(HostRow {
            selection: on(column, &value, [from, to]),
            value,
            events: r.count(1),
            first_us: r.int(2),
        })
    });
    Ok(Body::Hosts {
        column,
        total,
        rows,
    })
}

async fn failed_logins(
    source: &Source,
    [from, to]: [i64; 2],
    limit: usize,
) -> Result<Body, ViewError> {
    let (src, user, auth) = (
        format!("\"{}\"", col::SRC_IP),
        format!("\"{}\"", col::USER),
        format!("\"{}\"", col::AUTH_RESULT),
    );
    let t = format!("\"{}\"", col::TIME);
    let before_from = from - (to - from);
    let mut sql = Sql::new(format!(
        "SELECT sum(CASE WHEN {auth} = 'failure' AND {t} >= "
    ));
    sql.param(time_param(from))
        .push(&format!(
            " THEN 1 ELSE 0 END), sum(CASE WHEN {auth} = 'failure' AND {t} < "
        ))
        .param(time_param(from))
        .push(&format!(
            " THEN 1 ELSE 0 END), count({auth}) FROM events WHERE "
        ));
    time_between(&mut sql, before_from, to);
    let batches = source.collect(&sql).await?;
    let (now, before, outcomes) =
        each_row(&batches, |r| Some((r.count(0), r.count(1), r.count(2))))
            .into_iter()
            .next()
            .unwrap_or_default();
    let mut sql = Sql::new(format!(
        "SELECT {src}, count(*) AS n, count(DISTINCT {user}), min({user}) FROM events \
         WHERE {auth} = 'failure' AND {src} IS NOT NULL AND "
    ));
    time_between(&mut sql, from, to);
    sql.push(&format!(
        " GROUP BY {src} ORDER BY n DESC, {src} LIMIT {limit}"
    ));
    let batches = source.collect(&sql).await?;
    let rows = each_row(&batches, |r| {
        let src = r.string(0)?;
        let mut selection = on(col::SRC_IP, &src, [from, to]);
        selection.values.insert(
            col::AUTH_RESULT.to_string(),
            vec![Some(Scalar::Text("failure".into()))],
        );
        Some(LoginRow {
            src,
            failures: r.count(1),
            accounts: r.count(2),
            example_user: r.string(3),
            selection,
        })
    });
    Ok(Body::Logins {
        now,
        before,
        outcomes,
        rows,
    })
}

async fn talkers(source: &Source, [from, to]: [i64; 2], limit: usize) -> Result<Body, ViewError> {
    let src = format!("\"{}\"", col::SRC_IP);
    let t = format!("\"{}\"", col::TIME);
    let before_from = from - (to - from);
    // The top sources of each window, with both windows' counts.
    let top = |order: &'static str| {
        let mut sql = Sql::new(format!("SELECT {src}, sum(CASE WHEN {t} >= "));
        sql.param(time_param(from))
            .push(&format!(" THEN 1 ELSE 0 END) AS now, sum(CASE WHEN {t} < "))
            .param(time_param(from))
            .push(&format!(
                " THEN 1 ELSE 0 END) AS before FROM events WHERE {src} IS NOT NULL AND "
            ));
        time_between(&mut sql, before_from, to);
        sql.push(&format!(
            " GROUP BY {src} ORDER BY {order} DESC, {src} LIMIT {limit}"
        ));
        sql
    };
    let read = |batches: &[secviz_lake::datafusion::arrow::record_batch::RecordBatch]| {
        each_row(batches, |r| Some((r.string(0)?, r.count(1), r.count(2))))
    };
    let now_top = read(&source.collect(&top("now")).await?);
    let before_top = read(&source.collect(&top("before")).await?);
    let rank = |list: &[(String, u64, u64)], s: &str, count: fn(&(String, u64, u64)) -> u64| {
        list.iter()
            .position(|r| r.0 == s && count(r) > 0)
            .map(|i| i + 1)
    };
    let mut seen = BTreeSet::new();
    let mut rows: Vec<TalkerRow> = now_top
        .iter()
        .chain(before_top.iter())
        .filter(|r| seen.insert(r.0.clone()))
        .map(|(s, now, before)| TalkerRow {
            rank_now: rank(&now_top, s, |r| r.1),
            rank_before: rank(&before_top, s, |r| r.2),
            selection: on(col::SRC_IP, s, [before_from, to]),
            src: s.clone(),
            now: *now,
            before: *before,
        })
        .collect();
    // Biggest moves first: a source that appeared, vanished or multiplied.
    rows.sort_by(|a, b| {
        change(b)
            .total_cmp(&change(a))
            .then_with(|| b.now.cmp(&a.now))
            .then_with(|| a.src.cmp(&b.src))
    });
    rows.truncate(limit);
    Ok(Body::Talkers { rows })
}

/// The saved view of `p` drawn over the window: the one drawing function posts use, with
/// the window ANDed to the view's own filter.
async fn picture(
    lake: &Lake,
    dataset: &DatasetName,
    p: &PanelSpec,
    [from, to]: [i64; 2],
    limits: &Limits,
) -> Result<Body, ViewError> {
    use crate::picture::{Look, draw};
    use secviz_render::Theme;
    let mut spec = p
        .view
        .clone()
        .ok_or_else(|| ViewError::BadRequest("the panel has no view".into()))?;
    let t = col::TIME;
    let window = format!(
        "\"{t}\" >= CAST('{}' AS TIMESTAMP) AND \"{t}\" < CAST('{}' AS TIMESTAMP)",
        secviz_lake::format_micros(from),
        secviz_lake::format_micros(to)
    );
    spec.filter = Some(
        match spec
            .filter
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            Some(f) => format!("({window}) AND ({f})"),
            None => window,
        },
    );
    let looks = [Look::picture(Theme::LIGHT), Look::picture(Theme::DARK)];
    let mut svgs = draw(lake, dataset, &spec, *limits, &looks)
        .await?
        .into_iter();
    match (svgs.next(), svgs.next()) {
        (Some(light), Some(dark)) => Ok(Body::Picture { light, dark }),
        _ => Err(ViewError::Internal("the view drew no picture".into())),
    }
}

/// How far a talker moved: the log of its ratio (both sides + 1), either way.
pub fn change(r: &TalkerRow) -> f64 {
    ((r.now as f64 + 1.0) / (r.before as f64 + 1.0)).ln().abs()
}

#[cfg(test)]
mod tests;
