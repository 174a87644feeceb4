//! The draft page: the state of the draft's data (with its ingest's progress while it runs),
//! the parse report, the view form, the preview and the text. Shown by `show`, and again by
//! `submit` and `attach` with what the member typed and what was wrong.

use axum::http::StatusCode;
use axum::response::Response;

use super::load::DraftText;
use crate::data::anon;
use crate::data::presets;
use crate::data::recipe::{FIELD_CHOICES, KINDS, Recipe, ViewForm};
use crate::data::summary::ParseReport;
use crate::data::upload::human_bytes;
use crate::db::datasets::{self, DatasetRow, Reader};
use crate::db::ids::UserId;
use crate::db::jobs::{self, JobRow};
use crate::db::states::{DatasetStatus, JobState};
use crate::db::{drafts, tags};
use crate::error::AppError;
use crate::handlers::{post_form, render};
use crate::state::AppState;
use crate::views::{Chrome, ColumnView, DraftPage, PostForm, PresetView, RejectView, TagChoice};
use crate::web::Visitor;
use secviz_graph::numbers::thousands;

/// Renders the draft page.
pub async fn page(
    state: &AppState,
    v: &Visitor,
    draft: &drafts::DraftRow,
    view: ViewForm,
    text: DraftText,
    mut errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let me = v.user.as_ref().map(|u| u.id);
    let (ds, owned) = readable_dataset(state, draft, me, &mut errors).await?;
    let job = match &ds {
        Some(d) => jobs::latest_for_dataset(&state.db, &d.id).await?,
        None => None,
    };
    let report = ds
        .as_ref()
        .and_then(|d| ParseReport::from_json(&d.summary))
        .unwrap_or_default();
    let ds_status = ds.as_ref().map(|d| d.status);
    let running = ds_status.is_some_and(|s| s.is_ingesting());
    let progress = job
        .as_ref()
        .filter(|_| running)
        .map(Progress::of)
        .unwrap_or_default();
    let tag_choices = tag_choices(state, &text.tags).await?;
    let ready = ds_status == Some(DatasetStatus::Ready);
    let preview = (ready && Recipe::from_json(&draft.recipe).is_some())
        .then(|| format!("/drafts/{}/preview.svg?v={}", draft.id, draft.updated_at));
    let time_span = match (&report.time_min, &report.time_max) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => String::new(),
    };
    // Only what the member may read: a withdrawn remix's data has no columns here.
    let profile: &[secviz_lake::ColumnProfile] = if ds.is_some() { &report.columns } else { &[] };
    let presets = presets::presets(profile)
        .into_iter()
        .map(|p| PresetView {
            key: p.key,
            current: p.form == view,
            question: p.question,
        })
        .collect();
    let columns = profile
        .iter()
        .map(|c| ColumnView {
            name: c.name.clone(),
            kind: c.kind.clone(),
            values: c.values,
            distinct: c
                .distinct
                .map(|d| format!("about {}", thousands(d)))
                .unwrap_or_default(),
        })
        .collect();
    let tpl = DraftPage {
        chrome: Chrome::new(v),
        id: draft.id,
        errors,
        status: ds_status.map_or("none", |s| s.as_str()).to_string(),
        refresh: running,
        error: ds.as_ref().map(|d| d.error.clone()).unwrap_or_default(),
        label: ds.as_ref().map(|d| d.label.clone()).unwrap_or_default(),
        format: ds.as_ref().map(|d| d.format.clone()).unwrap_or_default(),
        anonymized: ds.as_ref().is_none_or(|d| d.is_anonymized()),
        covered: anon::COVERED,
        percent: progress.percent,
        bytes_read: progress.bytes_read,
        bytes_total: progress.bytes_total,
        records: progress.records,
        events: progress.events,
        rejected_now: progress.rejected,
        phase: progress.phase,
        read: report.read,
        parsed: report.parsed,
        skipped: report.skipped,
        rows: ds.as_ref().map(|d| d.row_count).unwrap_or(0),
        rejected: report
            .rejected
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect(),
        damage: report.damage.clone(),
        rejects: report
            .rejects
            .iter()
            .filter(|_| owned)
            .map(|r| RejectView {
                line: r.line,
                reason: r.reason.clone(),
                detail: r.detail.clone(),
                raw: r.raw.clone(),
            })
            .collect(),
        time_span,
        year_note: report.year_note.clone(),
        view,
        columns,
        presets,
        kinds: KINDS,
        field_choices: FIELD_CHOICES,
        analyses: secviz_lake::analyze::ANALYSES
            .iter()
            .map(|a| (a.name, a.title))
            .collect(),
        preview,
        title: text.title,
        body: text.body,
        tag_choices,
        remixed_from: draft.remixed_from,
        data: post_form::data_choices(state),
        form: PostForm::default(),
    };
    render(status, &tpl)
}

/// The draft's dataset as `me` may see it, and whether it is theirs. A remix's data is
/// another member's: shown only while they publish it (issue 14), and its rejected lines,
/// which no post publishes, only to them. Data withdrawn since adds an error for the member.
async fn readable_dataset(
    state: &AppState,
    draft: &drafts::DraftRow,
    me: Option<UserId>,
    errors: &mut Vec<String>,
) -> Result<(Option<DatasetRow>, bool), AppError> {
    let ds = match draft.dataset_id.as_deref() {
        Some(id) => datasets::get(&state.db, id).await?,
        None => None,
    };
    let owned = ds.as_ref().is_some_and(|d| Some(d.owner_id) == me);
    let ds = match ds {
        Some(d) if !owned => {
            let reader = Reader {
                user: me,
                moderator: false,
            };
            if datasets::may_read(&state.db, &d.id, reader).await? {
                Some(d)
            } else {
                errors.push(
                    "The data of this remix was withdrawn by its owner or a moderator: attach data of your own.".into(),
                );
                None
            }
        }
        other => other,
    };
    Ok((ds, owned))
}

/// How far a running ingest got, as the page shows it (empty when none runs).
#[derive(Debug, Default, PartialEq)]
struct Progress {
    percent: u64,
    bytes_read: String,
    bytes_total: String,
    records: i64,
    events: i64,
    rejected: i64,
    phase: String,
}

impl Progress {
    fn of(j: &JobRow) -> Progress {
        Progress {
            percent: if j.bytes_total > 0 {
                (j.bytes_read.max(0) as u64 * 100 / j.bytes_total as u64).min(100)
            } else {
                0
            },
            bytes_read: human_bytes(j.bytes_read.max(0) as u64),
            bytes_total: human_bytes(j.bytes_total.max(0) as u64),
            records: j.records,
            events: j.events,
            rejected: j.rejected,
            phase: if j.state == JobState::Queued {
                "waiting for a worker".to_string()
            } else {
                j.phase.clone()
            },
        }
    }
}

/// The site's tags, the draft's checked.
async fn tag_choices(state: &AppState, chosen: &[String]) -> Result<Vec<TagChoice>, AppError> {
    Ok(tags::list(&state.db)
        .await?
        .into_iter()
        .map(|t| TagChoice {
            checked: chosen.contains(&t.slug),
            slug: t.slug,
        })
        .collect())
}
