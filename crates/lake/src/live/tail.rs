//! [`Tail`]: the whole new lines of a growing file, across rotation and truncation.
//!
//! A log is rotated by renaming it (`app.log` → `app.log.1`) and creating a new one, or by
//! copying and truncating it in place. The tail keeps the file it reads open, so a rename
//! does not take it away: it reads that file to its end, then goes on with the new file
//! under the path. A restart finds a renamed file again by its device and inode (and its
//! first bytes) among the files beside the path. Only whole lines are handed out; a
//! last line without its newline waits for it, unless the file was rotated away.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{LakeError, Result};
use crate::manifest::FileCursor;

/// Bytes of a file's start whose hash recognises it.
const HEAD_BYTES: u64 = 1024;

/// What [`Tail::next`] found.
pub(crate) enum Next {
    /// Whole lines, each ending with a newline.
    Lines(Vec<u8>),
    /// Nothing new yet.
    Nothing,
    /// The tail moved to another file (rotation or truncation), for this reason; lines
    /// are numbered from 1 again.
    Switched(String),
}

pub(crate) struct Tail {
    /// The path followed.
    path: PathBuf,
    /// The file being read: the one under `path`, or the one rotated away from it.
    file: File,
    /// Where that file was when opened (for messages).
    reading: PathBuf,
    dev: u64,
    ino: u64,
    /// Bytes consumed: up to the end of the last whole line handed out.
    offset: u64,
    /// Lines handed out.
    line: u64,
    /// Inside a line longer than one read: its rest is dropped (the line was rejected).
    skipping: bool,
}

fn identity(m: &fs::Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

fn io_err(what: String) -> impl FnOnce(io::Error) -> LakeError {
    move |e| LakeError::io(what, e)
}

/// SHA-256 of the first `n` bytes of `file`.
fn head_hash(file: &File, n: u64) -> io::Result<String> {
    let mut buf = vec![0u8; n as usize];
    let mut got = 0usize;
    while got < buf.len() {
        let k = file.read_at(&mut buf[got..], got as u64)?;
        if k == 0 {
            break;
        }
        got += k;
    }
    buf.truncate(got);
    Ok(hex::encode(Sha256::digest(&buf)))
}

impl Tail {
    /// Opens `path` where `cursor` left it: the same file at its offset, or the file it
    /// was rotated to, found beside it. Returns a note when it cannot go on where it
    /// was (the file was truncated or is gone), and then starts at the beginning.
    pub fn open(path: &Path, cursor: Option<&FileCursor>) -> Result<(Tail, Option<String>)> {
        let file =
            File::open(path).map_err(io_err(format!("opening {} to follow", path.display())))?;
        let meta = file
            .metadata()
            .map_err(io_err(format!("reading {}", path.display())))?;
        if !meta.is_file() {
            return Err(LakeError::Invalid(format!(
                "{} is not a regular file; only files can be followed",
                path.display()
            )));
        }
        let fresh = |file: File, meta: &fs::Metadata| {
            let (dev, ino) = identity(meta);
            Tail {
                path: path.to_path_buf(),
                file,
                reading: path.to_path_buf(),
                dev,
                ino,
                offset: 0,
                line: 0,
                skipping: false,
            }
        };
        let Some(c) = cursor else {
            return Ok((fresh(file, &meta), None));
        };
        let same = |f: &File, m: &fs::Metadata| {
            identity(m) == (c.dev, c.ino)
                && m.len() >= c.offset
                && head_hash(f, c.head_bytes).is_ok_and(|h| h == c.head_sha256)
        };
        if same(&file, &meta) {
            let mut t = fresh(file, &meta);
            t.offset = c.offset;
            t.line = c.line;
            return Ok((t, None));
        }
        // Rotated away: look for it beside the path.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let Ok(m) = e.metadata() else { continue };
                if !m.is_file() || identity(&m) != (c.dev, c.ino) {
                    continue;
                }
                let Ok(f) = File::open(e.path()) else {
                    continue;
                };
                if same(&f, &m) {
                    let mut t = fresh(f, &m);
                    t.reading = e.path();
                    t.offset = c.offset;
                    t.line = c.line;
                    return Ok((t, None));
                }
            }
        }
        let note = format!(
            "the file read before (up to line {}) is no longer at {} or beside it, or was \
             truncated: reading {} from its start",
            c.line,
            path.display(),
            path.display()
        );
        Ok((fresh(file, &meta), Some(note)))
    }

    /// Where the next read starts, to commit with the lines read before it.
    pub fn cursor(&self) -> Result<FileCursor> {
        let head_bytes = self.offset.min(HEAD_BYTES);
        let head_sha256 = head_hash(&self.file, head_bytes)
            .map_err(io_err(format!("reading {}", self.reading.display())))?;
        Ok(FileCursor {
            dev: self.dev,
            ino: self.ino,
            offset: self.offset,
            line: self.line,
            head_sha256,
            head_bytes,
        })
    }

    /// Lines handed out of the file being read.
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The file being read (the path followed, or where it was rotated to).
    pub fn reading(&self) -> &Path {
        &self.reading
    }

    /// The first bytes of the file being read, up to `max` (for detecting its format and
    /// reading its header).
    pub fn start(&self, max: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; max];
        let mut got = 0;
        while got < max {
            let k = self
                .file
                .read_at(&mut buf[got..], got as u64)
                .map_err(io_err(format!("reading {}", self.reading.display())))?;
            if k == 0 {
                break;
            }
            got += k;
        }
        buf.truncate(got);
        Ok(buf)
    }

    /// The next whole lines, at most `max` bytes of them (a longer line is handed out cut,
    /// with a newline added, and its rest dropped: the parser rejects it as too long).
    pub fn next(&mut self, max: usize) -> Result<Next> {
        let ctx = || io_err(format!("reading {}", self.reading.display()));
        let len = self.file.metadata().map_err(ctx())?.len();
        if len < self.offset {
            // Truncated in place (copytruncate): the new content starts at 0.
            self.offset = 0;
            self.line = 0;
            self.skipping = false;
            return Ok(Next::Switched(format!(
                "{} was truncated: reading it from its start",
                self.reading.display()
            )));
        }
        let want = (len - self.offset).min(max as u64) as usize;
        let mut buf = vec![0u8; want];
        let mut got = 0;
        while got < want {
            let k = self
                .file
                .read_at(&mut buf[got..], self.offset + got as u64)
                .map_err(ctx())?;
            if k == 0 {
                break;
            }
            got += k;
        }
        buf.truncate(got);
        if self.skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    self.offset += i as u64 + 1;
                    self.skipping = false;
                    buf.drain(..=i);
                }
                None => {
                    self.offset += buf.len() as u64;
                    return Ok(Next::Nothing);
                }
            }
        }
        if let Some(i) = memchr::memrchr(b'\n', &buf) {
            buf.truncate(i + 1);
            return Ok(self.hand_out(buf, 0));
        }
        if !buf.is_empty() && buf.len() + 1 >= max {
            // One line longer than a read: hand out its start, drop the rest.
            self.skipping = true;
            buf.push(b'\n');
            return Ok(self.hand_out(buf, 1));
        }
        // No whole line. Was the file rotated away under us?
        let rotated = match fs::metadata(&self.path) {
            Ok(m) => identity(&m) != (self.dev, self.ino),
            Err(_) => false,
        };
        if !rotated {
            return Ok(Next::Nothing);
        }
        if !buf.is_empty() {
            // The rotated file's last line never got its newline: it is complete now.
            buf.push(b'\n');
            return Ok(self.hand_out(buf, 1));
        }
        let file = File::open(&self.path).map_err(io_err(format!(
            "opening {} after rotation",
            self.path.display()
        )))?;
        let meta = file.metadata().map_err(ctx())?;
        let was = std::mem::replace(&mut self.reading, self.path.clone());
        (self.dev, self.ino) = identity(&meta);
        self.file = file;
        self.offset = 0;
        self.line = 0;
        Ok(Next::Switched(format!(
            "{} was rotated ({} read to its end): reading the new file",
            self.path.display(),
            was.display()
        )))
    }

    /// Hands out `buf`, of which the last `added` bytes were not read from the file.
    fn hand_out(&mut self, buf: Vec<u8>, added: u64) -> Next {
        let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
        self.offset += buf.len() as u64 - added;
        self.line += lines;
        Next::Lines(buf)
    }
}
