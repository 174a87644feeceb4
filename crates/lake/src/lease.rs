//! Read leases: how a reader on this machine tells a compaction which files it may still
//! be reading.
//!
//! A query reads the files of the manifest version it saw when it started; a compaction
//! commits a newer version without some of them ([`crate::compact`]). The replaced files
//! are only deleted once no reader can need them. A reader takes a lease *before* it reads
//! a manifest, and writes that manifest's version into it afterwards:
//! `locks/leases/<dataset>/<id>.lease`, locked by the reader for as long as it runs. A
//! lease without a version yet blocks every deletion, so there is no moment where a
//! reader has read a manifest that a sweep does not know of.
//!
//! The lock is the liveness test: a reader killed with `kill -9` loses its lock with its
//! process, and the next sweep removes its lease. Only local lakes have leases; on an
//! object store, where readers run on other machines, retired files wait
//! [`crate::lake::GC_GRACE_SECS`] instead.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{LakeError, Result};
use crate::name::DatasetName;

/// A running reader's claim on one dataset. Released when dropped.
#[derive(Debug)]
pub struct ReadLease {
    file: File,
    path: PathBuf,
}

fn lease_dir(root: &Path, name: &DatasetName) -> PathBuf {
    root.join("locks").join("leases").join(name.as_str())
}

impl ReadLease {
    /// Takes a lease (without a version yet) on `name` under the lake at `root`.
    pub(crate) fn take(root: &Path, name: &DatasetName) -> Result<ReadLease> {
        let dir = lease_dir(root, name);
        let ctx = |e| LakeError::io(format!("taking a read lease in {}", dir.display()), e);
        fs::create_dir_all(&dir).map_err(ctx)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        // Locked under a name sweeps ignore, then renamed: a sweep never sees an unlocked
        // lease of a living reader.
        let tmp = dir.join(format!("{id}.new"));
        let path = dir.join(format!("{id}.lease"));
        let file = File::options()
            .create_new(true)
            .write(true)
            .open(&tmp)
            .map_err(ctx)?;
        file.lock().map_err(ctx)?;
        fs::rename(&tmp, &path).map_err(ctx)?;
        Ok(ReadLease { file, path })
    }

    /// Records the manifest version the reader read.
    pub(crate) fn set_version(&mut self, version: u64) {
        // A lease left without its version only blocks deletion longer than needed.
        let _ = self.file.set_len(0);
        let _ = self.file.write_all(version.to_string().as_bytes());
    }
}

impl Drop for ReadLease {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The oldest manifest version a living reader of `name` may be reading: `Some(0)` while a
/// reader has not recorded its version yet, `None` when no reader runs. Leases of readers
/// that died are removed on the way.
pub(crate) fn oldest_read(root: &Path, name: &DatasetName) -> Option<u64> {
    let dir = lease_dir(root, name);
    let entries = fs::read_dir(&dir).ok()?;
    let mut oldest: Option<u64> = None;
    for e in entries.flatten() {
        let path = e.path();
        let leased = path.extension().is_some_and(|x| x == "lease");
        let stale_new = path.extension().is_some_and(|x| x == "new")
            && e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 60);
        if stale_new {
            let _ = fs::remove_file(&path);
            continue;
        }
        if !leased {
            continue;
        }
        let Ok(file) = File::options().read(true).write(true).open(&path) else {
            continue;
        };
        match file.try_lock() {
            // Nobody holds it: its reader is gone.
            Ok(()) => {
                let _ = fs::remove_file(&path);
            }
            Err(_) => {
                let version = fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                oldest = Some(oldest.map_or(version, |o| o.min(version)));
            }
        }
    }
    oldest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_counts_while_held_and_a_dead_ones_is_swept() {
        let root = tempfile::tempdir().unwrap();
        let name = DatasetName::parse("live").unwrap();
        assert_eq!(oldest_read(root.path(), &name), None);
        let mut a = ReadLease::take(root.path(), &name).unwrap();
        // No version yet: everything may be read.
        assert_eq!(oldest_read(root.path(), &name), Some(0));
        a.set_version(7);
        let mut b = ReadLease::take(root.path(), &name).unwrap();
        b.set_version(9);
        assert_eq!(oldest_read(root.path(), &name), Some(7));
        drop(a);
        assert_eq!(oldest_read(root.path(), &name), Some(9));
        // A reader that died: its file stays, unlocked.
        let dead = lease_dir(root.path(), &name).join("dead.lease");
        fs::write(&dead, "1").unwrap();
        assert_eq!(oldest_read(root.path(), &name), Some(9));
        assert!(!dead.exists(), "the dead reader's lease is removed");
        drop(b);
        assert_eq!(oldest_read(root.path(), &name), None);
    }
}
