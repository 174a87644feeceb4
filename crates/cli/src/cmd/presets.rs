//! `secviz presets --dataset D`: the portal's preset views for a dataset of the lake, each a
//! question the data can answer, chosen from the columns it holds (best first). `--write DIR`
//! writes each as a view spec that `secviz chart --spec` and `secviz view` draw.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use secviz_lake::DatasetName;
use secviz_lake::query::{Access, QueryLimits};

use super::datasets::{DataArg, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// The dataset.
    #[arg(long, short = 'd')]
    pub dataset: DatasetName,
    /// Write each preset's view spec to DIR/KEY.json.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
    /// Print JSON: [{key, question, spec}].
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let lake = a.data.open()?;
    let columns = runtime()?.block_on(async {
        lake.require(&a.dataset)
            .await
            .with_context(|| format!("opening dataset {}", a.dataset))?;
        anyhow::Ok(
            lake.profile(
                &Access::Only(vec![a.dataset.clone()]),
                &QueryLimits::unlimited(),
            )
            .await?,
        )
    })?;
    let presets = secviz_portal::preset_specs(&columns, a.dataset.as_str());
    if presets.is_empty() {
        eprintln!(
            "no preset fits dataset {}: it holds {}",
            a.dataset,
            columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(dir) = &a.write {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for p in &presets {
            let path = dir.join(format!("{}.json", p.key));
            std::fs::write(&path, serde_json::to_string_pretty(&p.spec)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if a.json {
        let out: Vec<serde_json::Value> = presets
            .iter()
            .map(|p| serde_json::json!({"key": p.key, "question": p.question, "spec": p.spec}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for p in &presets {
            println!("{:<12} {}", p.key, p.question);
        }
    }
    Ok(ExitCode::SUCCESS)
}
