//! `--threads`, shared by `secviz parse` and `secviz ingest`: how many threads parse a
//! large text input. The output is the same whatever the number (`secviz_parse`'s
//! parallel driver keeps input order and line numbers), so the default is every core.

#[derive(clap::Args, Debug, Clone)]
pub struct ThreadsArg {
    /// Threads that parse a text input larger than 256 KiB (the output is the same for
    /// any number); default: one per core.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

impl ThreadsArg {
    pub fn get(&self) -> usize {
        match self.threads {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}
