//! Builds the browser viewer (`web/`) with npm and leaves the bundle in `OUT_DIR/web/`,
//! where `src/assets.rs` embeds it with `include_bytes!`.
//!
//! `npm ci` runs when `web/node_modules` is missing or was installed from another
//! `package-lock.json` (a stamp file holds the lock's hash); then `npm run build` bundles
//! `web/src` with esbuild. Several cargo builds (one per target directory) may run this at
//! once over the same `web/`, so the npm steps hold a file lock on `web/.build.lock`.

use std::env;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

const STAMP: &str = "node_modules/.secviz-lock-hash";

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web = manifest
        .join("../../web")
        .canonicalize()
        .expect("the web/ folder exists next to crates/");
    for p in ["src", "package.json", "package-lock.json", "build.mjs"] {
        println!("cargo:rerun-if-changed={}", web.join(p).display());
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web");
    if let Err(e) = build(&web, &out) {
        panic!(
            "\n\nbuilding the secviz viewer in {} failed: {e}\nsecviz needs Node.js 20+ and npm on PATH (the npm registry must be reachable the first time).\n",
            web.display()
        );
    }
}

fn build(web: &Path, out: &Path) -> Result<(), String> {
    let lock = File::create(web.join(".build.lock"))
        .map_err(|e| format!("creating web/.build.lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("locking web/.build.lock: {e}"))?;
    let want = lock_hash(&web.join("package-lock.json"))
        .map_err(|e| format!("reading web/package-lock.json: {e}"))?;
    let have = fs::read_to_string(web.join(STAMP)).unwrap_or_default();
    if !web.join("node_modules").is_dir() || have.trim() != want {
        npm(web, &["ci", "--no-audit", "--no-fund", "--loglevel=error"])?;
        fs::write(web.join(STAMP), &want).map_err(|e| format!("writing {STAMP}: {e}"))?;
    }
    fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let outdir = format!("--outdir={}", out.display());
    npm(web, &["run", "build", "--silent", "--", &outdir])?;
    for f in ["viewer.js", "viewer.css"] {
        if !out.join(f).is_file() {
            return Err(format!("npm run build did not write {f}"));
        }
    }
    Ok(())
}

fn npm(dir: &Path, args: &[&str]) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("running npm {}: {e}", args.join(" ")))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm {} exited with {status}", args.join(" ")))
    }
}

/// A cheap content hash (FNV-1a, 64 bits) of the lock file: only used to notice a change.
fn lock_hash(path: &Path) -> io::Result<String> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Ok(format!("{h:016x}"))
}
