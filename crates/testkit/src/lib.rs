//! What the integration tests of every crate share, and nothing else: where the shared data
//! that is not part of the repository lives (real public logs in `data/real`, the seeded
//! generator `tools/gen_security_data.py`, the reference outputs of peer tools in
//! `conformance`), and what a test that measures its own process needs of its runner.
//!
//! One rule, in one place: the folder named by `SECVIZ_SHARED`, or else `../shared` next to
//! the repository. A test that cannot find it fails with a message that says where it looked
//! and how to point it elsewhere; nothing falls back to a path of one machine.
//!
//! [`s3`]: a real S3-compatible server (moto) on loopback for the object-store tests.

pub mod s3;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable that names the shared folder.
pub const ENV: &str = "SECVIZ_SHARED";

/// The shared folder. Panics, saying where it looked, when it is missing.
pub fn shared_dir() -> PathBuf {
    let (dir, how) = match std::env::var_os(ENV) {
        Some(v) if !v.is_empty() => (PathBuf::from(v), format!("{ENV} names it")),
        _ => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            format!("../shared next to the repository; {ENV} is not set"),
        ),
    };
    if !dir.join("data/real").is_dir() {
        panic!(
            "the shared test data is missing: no folder {}/data/real ({how}). \
             Set {ENV} to the folder that holds data/real, tools and conformance.",
            dir.display()
        );
    }
    dir
}

/// A file or folder under the shared folder, which must exist.
pub fn shared(rel: &str) -> PathBuf {
    let path = shared_dir().join(rel);
    assert!(
        path.exists(),
        "the shared test data has no {} (in {})",
        rel,
        shared_dir().display()
    );
    path
}

/// A file or folder of the real public samples (`data/real/<rel>`).
pub fn real(rel: &str) -> PathBuf {
    shared(&format!("data/real/{rel}"))
}

/// An AfterGlow conformance case folder (`conformance/afterglow/<name>`), or the folder of
/// all of them when `name` is empty.
pub fn afterglow_case(name: &str) -> PathBuf {
    let dir = shared("conformance/afterglow");
    if name.is_empty() { dir } else { dir.join(name) }
}

/// The seeded generator of pf logs, botnet flows and AfterGlow CSV.
pub fn generator() -> PathBuf {
    shared("tools/gen_security_data.py")
}

/// Runs the generator (`--kind KIND --lines N --seed S --out OUT`) and returns `out`.
/// Panics with the generator's own message when it fails.
pub fn generate(kind: &str, lines: usize, seed: u64, out: &Path) -> PathBuf {
    let run = Command::new("python3")
        .arg(generator())
        .args(["--kind", kind, "--lines", &lines.to_string()])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(out)
        .output()
        .expect("python3 runs the shared generator");
    assert!(
        run.status.success(),
        "the generator failed for {kind} x {lines}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out.to_path_buf()
}

/// Whether a message shown to a person holds what Rust's debug output looks like: a CamelCase name directly
/// followed by `(` (`ParserError(`, `Literal(`); SQL's function names are lower case.
pub fn has_debug_name(m: &str) -> bool {
    m.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '('))
        .filter_map(|w| w.split_once('('))
        .any(|(name, _)| {
            name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && name.chars().any(|c| c.is_ascii_lowercase())
        })
}

/// Fails the calling test unless it is the only test running in its process.
///
/// Some tests measure their own process (its resident memory through `/proc/self`, or the
/// latency of a server it runs): a neighbouring test in the same process would make the
/// figure meaningless, and a test that passes on a meaningless figure is worse than one
/// that fails. `cargo nextest run` (the suite's runner, `.config/nextest.toml`) gives every
/// test its own process; `cargo test` shares one process between the tests of a binary
/// unless it runs them one at a time.
pub fn require_own_process(what: &str) {
    let per_test = std::env::var("NEXTEST_EXECUTION_MODE").is_ok_and(|m| m == "process-per-test");
    let args: Vec<String> = std::env::args().collect();
    let one_thread = std::env::var("RUST_TEST_THREADS").is_ok_and(|t| t.trim() == "1")
        || args.iter().any(|a| a == "--test-threads=1")
        || args
            .windows(2)
            .any(|w| w[0] == "--test-threads" && w[1] == "1");
    assert!(
        per_test || one_thread,
        "{what} measures this process, so it must run alone in it: run the suite with \
         `cargo nextest run` (as ./scripts/test.sh does), or this test with \
         `cargo test ... -- --test-threads=1`"
    );
}
