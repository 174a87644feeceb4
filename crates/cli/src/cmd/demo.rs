//! `secviz demo`: fills an empty site with generated datasets and data posts (a botnet link
//! graph, DNS traffic as linked views, a firewall puzzle), so a newcomer sees a live gallery
//! at once. The work is `secviz_portal::demo`; a site with posts or datasets is refused.

use std::process::ExitCode;

use anyhow::Context;

use super::serve::DataArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Seed of the generated logs: the same seed gives the same data and pictures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = args.data.config();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(secviz_portal::demo::run(config, args.seed))?;
    for p in &report.posts {
        println!("post {:>4}  {:>6} events  {}", p.id, p.events, p.title);
    }
    println!(
        "{} demo posts by member `{}`; start the portal with `secviz serve --data {}` and open the gallery.",
        report.posts.len(),
        secviz_portal::demo::DEMO_USER,
        args.data.data.display()
    );
    Ok(ExitCode::SUCCESS)
}
