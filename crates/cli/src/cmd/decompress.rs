//! The decompression limits of `secviz parse` and `secviz ingest`: two flags shared by both
//! commands (`advice` names them when a compressed input passes a limit).
//!
//! A gzip input may expand to 100 times its compressed size by default (text logs reach
//! 10-20x, a compression bomb ~1000x), with no limit on the total: the operator runs these
//! commands on their own files, so an unusual but genuine file only needs a flag.

use secviz_parse::Limits;

#[derive(clap::Args, Debug, Clone)]
pub struct DecompressArgs {
    /// Refuse a gzip input that expands to more than N times its compressed size (the
    /// first 16 MiB are always allowed); 0 turns the limit off.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_decompressed_ratio: u64,
    /// Refuse a gzip input that expands to more than this many bytes; default no limit.
    #[arg(long, value_name = "BYTES")]
    pub max_decompressed_bytes: Option<u64>,
}

impl DecompressArgs {
    /// Sets the parser's limits from the flags.
    pub fn apply(&self, limits: &mut Limits) {
        limits.max_decompressed_ratio =
            (self.max_decompressed_ratio > 0).then_some(self.max_decompressed_ratio);
        limits.max_decompressed_bytes = self.max_decompressed_bytes;
    }
}
