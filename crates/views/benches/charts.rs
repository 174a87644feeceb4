//! Server-side chart rendering on a large dataset: for each chart type, the time from the
//! recipe to the SVG (lake aggregation + drawing) and to PNG, median of repeated runs.
//! Run by `bench/views/run.sh`, which ingests 1,000,000 generated events first:
//!
//! `SECVIZ_DATA=DIR SECVIZ_BENCH_DATASET=NAME [SECVIZ_BENCH_INPUT=LOG] cargo bench -p secviz-views --bench charts`
//! (the log is ingested first when the dataset does not exist yet)
//!
//! Prints one JSON line per chart type: `{"chart":..,"svg_ms":..,"png_ms":..,"bytes":..}`.

use std::time::Instant;

use secviz_lake::{DatasetName, IngestOptions, IngestSource, Lake};
use secviz_render::Theme;
use secviz_views::compute::charts;
use secviz_views::{Limits, Selection, Source, ViewSpec};

const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let data = std::env::var("SECVIZ_DATA").expect("SECVIZ_DATA names the data directory");
    let name = std::env::var("SECVIZ_BENCH_DATASET").unwrap_or_else(|_| "bench".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let lake = Lake::open(&data).unwrap();
        let ds = DatasetName::parse(&name).unwrap();
        if lake.manifest(&ds).await.unwrap().is_none() {
            let input = std::env::var("SECVIZ_BENCH_INPUT").expect("SECVIZ_BENCH_INPUT names the log to ingest first");
            let t = Instant::now();
            let sources = vec![IngestSource::path(&input)];
            let r = lake.ingest(&ds, sources, IngestOptions::default(), Box::new(|_| {}), Box::new(|_, _| {})).await.unwrap();
            eprintln!("ingested {} events in {:.1} s", r.rows, t.elapsed().as_secs_f64());
        }
        let limits = Limits::operator();
        for (label, json) in [
            ("bar", r#"{"kind":"bar","fields":["dst_port"]}"#),
            ("timeline", r#"{"kind":"timeline","series":"action"}"#),
            ("histogram", r#"{"kind":"histogram","fields":["bytes"]}"#),
            ("parallel", r#"{"kind":"parallel","fields":["src_ip","dst_ip","dst_port"]}"#),
            ("treemap", r#"{"kind":"treemap","fields":["dst_ip/24","dst_ip"]}"#),
            ("heatmap", r#"{"kind":"heatmap","fields":["dst_port","src_ip/24"]}"#),
            ("scatter", r#"{"kind":"scatter","fields":["time","dst_port"],"series":"protocol"}"#),
        ] {
            let spec = ViewSpec::from_json(json).unwrap();
            let (mut svg_ms, mut png_ms, mut bytes) = (Vec::new(), Vec::new(), 0);
            for _ in 0..RUNS {
                let t0 = Instant::now();
                let src = Source::open(&lake, &ds, None, limits).await.unwrap();
                let svg = charts::render(&src, &name, &spec, &Selection::default(), Theme::LIGHT, 800.0).await.unwrap();
                svg_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                let t1 = Instant::now();
                let png = charts::png(&svg).unwrap();
                png_ms.push(t1.elapsed().as_secs_f64() * 1000.0);
                bytes = png.len();
            }
            println!("{}", serde_json::json!({"chart": label, "svg_ms": median(svg_ms), "png_ms": median(png_ms), "png_bytes": bytes}));
        }
    });
}
