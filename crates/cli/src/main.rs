//! `secviz`: one binary for the portal and for people who script.
//!
//! Each subcommand lives in its own module under `cmd/` with an `Args` struct (clap)
//! and a `run` function; this file only dispatches. Errors reach the user through
//! anyhow with their whole context chain, and a non-zero exit code.
//!
//! Not here: any logic a library could hold. Parsing, storage, views, drawing and the portal
//! are the library crates'; a subcommand turns its flags into their options and prints.

mod cmd;

use clap::{Parser, Subcommand};

/// secviz: analytics and visualization of security data.
#[derive(Parser)]
#[command(name = "secviz", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web portal.
    Serve(cmd::serve::Args),
    /// Manage portal members from the command line (e.g. the first admin).
    User(cmd::user::Args),
    /// Parse logs into the event schema and print them as CSV or JSON lines.
    Parse(cmd::parse::Args),
    /// Parse logs into a dataset of the lake.
    Ingest(cmd::ingest::Args),
    /// Run SQL over the lake's datasets.
    Query(cmd::query::Args),
    /// Run a query worker: stages of queries from `query --workers` and `serve --workers`.
    Worker(cmd::worker::Args),
    /// List the lake's datasets.
    Datasets(cmd::datasets::Args),
    /// Remove a dataset from the lake.
    Rm(cmd::rm::Args),
    /// Run built-in analyses over a dataset.
    Analyze(cmd::analyze::Args),
    /// Build a link graph (AfterGlow-compatible) and write DOT, SVG, PNG, GEXF, ...
    Graph(cmd::graph::Args),
    /// Draw a chart of a dataset or a log file as SVG or PNG.
    Chart(cmd::chart::Args),
    /// The preset views that fit a dataset: the questions its data can answer.
    Presets(cmd::presets::Args),
    /// Fill an empty portal with generated datasets and posts.
    Demo(cmd::demo::Args),
    /// Explore a dataset in the browser: linked graph, charts and brushing, served locally.
    View(cmd::view::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => cmd::serve::run(a),
        Command::User(a) => cmd::user::run(a),
        Command::Parse(a) => cmd::parse::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Query(a) => cmd::query::run(a),
        Command::Worker(a) => cmd::worker::run(a),
        Command::Datasets(a) => cmd::datasets::run(a),
        Command::Rm(a) => cmd::rm::run(a),
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Graph(a) => cmd::graph::run(a),
        Command::Chart(a) => cmd::chart::run(a),
        Command::Presets(a) => cmd::presets::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::View(a) => cmd::view::run(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            match cmd::advice::for_chain(&err) {
                Some(advice) => eprintln!("error: {err:#}; {advice}"),
                None => eprintln!("error: {err:#}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The network listeners are on loopback unless the operator names another address:
    /// `--syslog` alone does not open a receiver to the world.
    #[test]
    fn listeners_default_to_loopback() {
        let cli = Cli::try_parse_from(["secviz", "serve", "--syslog"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("not serve");
        };
        let syslog = a.syslog.syslog.expect("--syslog turns the receiver on");
        assert!(syslog.ip().is_loopback(), "{syslog}");
        assert!(a.addr.ip().is_loopback(), "{}", a.addr);
        let cli = Cli::try_parse_from(["secviz", "serve"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("not serve");
        };
        assert!(a.syslog.syslog.is_none(), "no receiver unless asked for");
        let cli = Cli::try_parse_from(["secviz", "serve", "--syslog", "0.0.0.0:514"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("not serve");
        };
        assert_eq!(a.syslog.syslog, Some("0.0.0.0:514".parse().unwrap()));
    }
}
