//! Serves the explorer over a dataset for the viewer frame benchmark (`bench/views/run.sh`),
//! ingesting a log into it first when it does not exist yet; prints the URL, then serves
//! until killed. The graph view is two-node src_ip → dst_ip.
//!
//! `SECVIZ_DATA=DIR SECVIZ_BENCH_DATASET=NAME SECVIZ_BENCH_INPUT=LOG cargo bench -p secviz-views --bench serve`

use secviz_lake::{DatasetName, IngestOptions, IngestSource, Lake};
use secviz_views::{Field, GraphSpec, ViewSpec};

fn main() {
    let data = std::env::var("SECVIZ_DATA").expect("SECVIZ_DATA");
    let name =
        DatasetName::parse(&std::env::var("SECVIZ_BENCH_DATASET").expect("SECVIZ_BENCH_DATASET"))
            .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let lake = Lake::open(&data).unwrap();
        if lake.manifest(&name).await.unwrap().is_none() {
            let input = std::env::var("SECVIZ_BENCH_INPUT").expect("SECVIZ_BENCH_INPUT");
            lake.ingest(
                &name,
                vec![IngestSource::path(input)],
                IngestOptions::default(),
                Box::new(|_| {}),
                Box::new(|_, _| {}),
            )
            .await
            .unwrap();
        }
        let f = |n| Field::parse(n).unwrap();
        let spec = ViewSpec {
            fields: vec![f("src_ip"), f("dst_ip")],
            graph: Some(GraphSpec {
                source: f("src_ip"),
                event: None,
                target: f("dst_ip"),
                rules: String::new(),
                seed: 1,
            }),
            ..ViewSpec::linked_default()
        };
        let app = secviz_viewer::page::explorer(
            lake,
            name,
            spec,
            secviz_sandbox::Executor::new(secviz_sandbox::ExecutorConfig::for_machine(
                "views-bench",
            )),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("http://{}/", listener.local_addr().unwrap());
        axum::serve(listener, app).await.unwrap();
    });
}
