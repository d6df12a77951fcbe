//! Dead letters: malformed input lines, kept with their source, line number and reason.
//!
//! Each worker buffers the dead letters of its source split and appends them to the shared
//! file at every barrier it injects (and at the end of its input). Under checkpoints this makes
//! the file exactly-once: the appends for checkpoint *k* all happen before any for *k+1* (the
//! coordinator triggers *k+1* only after *k* completed), so the file length after the appends
//! of *k* is recorded in the MANIFEST, and a restore truncates the file to it — lines of
//! records that will be replayed are dropped, and a line torn by a crash is cut off.

use crate::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What to do with a malformed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Write it to the dead-letter file and go on (default).
    #[default]
    DeadLetter,
    /// Stop the job with the record's error (exit 65).
    Fail,
}

/// Above this many buffered bytes a worker appends its dead letters at once (bounded memory;
/// the file is then exactly-once only up to the records of the current epoch).
const MAX_BUFFERED: usize = 16 << 20;

struct Shared {
    path: PathBuf,
    /// The open file, created on the first append.
    file: Mutex<Option<std::fs::File>>,
    /// Lines of the final epoch, set aside by ended tasks ([`DeadLetters::defer`]) and appended
    /// once every worker ended ([`DeadLetters::append_deferred`]).
    deferred: Mutex<Vec<u8>>,
    /// Late records written (every handle).
    late: AtomicU64,
}

/// A worker's handle on the job's dead-letter output. Lines are JSON:
/// `{"source":…,"line":…,"reason":…,"raw":…}`.
#[derive(Clone)]
pub struct DeadLetters {
    shared: Arc<Shared>,
    policy: OnError,
    count: u64,
    /// Lines not yet appended to the file.
    buffer: Vec<u8>,
}

impl DeadLetters {
    /// A dead-letter output writing to `path` with the given policy.
    pub fn new(path: PathBuf, policy: OnError) -> Self {
        DeadLetters {
            shared: Arc::new(Shared {
                path,
                file: Mutex::new(None),
                deferred: Mutex::new(Vec::new()),
                late: AtomicU64::new(0),
            }),
            policy,
            count: 0,
            buffer: Vec::new(),
        }
    }

    /// The dead-letter file path.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Another handle on the same file and policy, with nothing buffered and a count of 0 (one
    /// per task that writes dead letters: each appends its own lines at its own barriers).
    pub fn handle(&self) -> DeadLetters {
        DeadLetters {
            shared: self.shared.clone(),
            policy: self.policy,
            count: 0,
            buffer: Vec::new(),
        }
    }

    /// Number of records this handle dead-lettered.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Reports a malformed record.
    ///
    /// # Errors
    /// [`Error::Data`] in fail-fast mode; [`Error::Io`] if the dead-letter file cannot be written.
    pub fn report(
        &mut self,
        source: &str,
        line: u64,
        reason: &str,
        raw: &[u8],
    ) -> crate::Result<()> {
        if self.policy == OnError::Fail {
            return Err(Error::Data {
                source_name: source.to_string(),
                line,
                reason: reason.to_string(),
            });
        }
        self.count += 1;
        let entry = serde_json::json!({
            "source": source,
            "line": line,
            "reason": reason,
            "raw": String::from_utf8_lossy(&raw[..raw.len().min(4096)]),
        });
        // Writing JSON into a Vec cannot fail.
        let _ = writeln!(self.buffer, "{entry}");
        if self.buffer.len() >= MAX_BUFFERED {
            self.append(false)?;
        }
        Ok(())
    }

    /// Reports a record that came too late for its stage (`line`: one JSON object, without
    /// newline). Never fails the job, whatever the policy: a late record is well-formed.
    ///
    /// # Errors
    /// [`Error::Io`] if the buffer had to be appended and the file cannot be written.
    pub fn report_late(&mut self, line: &[u8]) -> crate::Result<()> {
        self.shared.late.fetch_add(1, Ordering::Relaxed);
        self.buffer.extend_from_slice(line);
        self.buffer.push(b'\n');
        if self.buffer.len() >= MAX_BUFFERED {
            self.append(false)?;
        }
        Ok(())
    }

    /// Late records written through every handle of this file.
    pub fn late_count(&self) -> u64 {
        self.shared.late.load(Ordering::Relaxed)
    }

    /// Sets the buffered lines aside for [`DeadLetters::append_deferred`] (an ended task:
    /// appending now could put lines of the final epoch before another worker's lines of the
    /// previous checkpoint; see `crate::runtime::late_letters`).
    pub fn defer(&mut self) {
        if !self.buffer.is_empty() {
            let mut d = self
                .shared
                .deferred
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            d.append(&mut self.buffer);
        }
    }

    /// Appends the lines set aside by [`DeadLetters::defer`] (once every worker ended);
    /// returns the file's length after it.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be created or written.
    pub fn append_deferred(&mut self) -> crate::Result<u64> {
        let lines = std::mem::take(
            &mut *self
                .shared
                .deferred
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        self.buffer.extend_from_slice(&lines);
        self.append(false)
    }

    /// Appends the buffered lines to the file (made durable with `sync`), and returns the file's
    /// length after the append (0 when it was never created).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be created or written.
    pub fn append(&mut self, sync: bool) -> crate::Result<u64> {
        let path = &self.shared.path;
        let mut guard = self.shared.file.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() && self.buffer.is_empty() {
            return Ok(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
        }
        if guard.is_none() {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            *guard = Some(f);
        }
        let f = guard.as_mut().expect("opened above");
        f.write_all(&self.buffer).map_err(|e| Error::io(path, e))?;
        self.buffer.clear();
        if sync {
            f.sync_data().map_err(|e| Error::io(path, e))?;
        }
        f.metadata()
            .map(|m| m.len())
            .map_err(|e| Error::io(path, e))
    }

    /// The file's current length (0 when it does not exist), appending nothing.
    ///
    /// # Errors
    /// [`Error::Io`] when the open file's length cannot be read.
    pub fn file_len(&self) -> crate::Result<u64> {
        let path = &self.shared.path;
        let guard = self.shared.file.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(f) => f
                .metadata()
                .map(|m| m.len())
                .map_err(|e| Error::io(path, e)),
            None => Ok(std::fs::metadata(path).map_or(0, |m| m.len())),
        }
    }

    /// Appends what is buffered (end of input).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn flush(&mut self) -> crate::Result<()> {
        self.append(false).map(|_| ())
    }
}

/// On restore: cuts the dead-letter file at `path` back to `len` bytes, the length the restored
/// checkpoint recorded (dead letters of replayed records, and any torn line, go).
///
/// # Errors
/// [`Error::Io`] when the file exists but cannot be truncated.
pub fn truncate_to(path: &Path, len: u64) -> crate::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > len => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            f.set_len(len).map_err(|e| Error::io(path, e))?;
            f.sync_all().map_err(|e| Error::io(path, e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_until_append_then_truncates_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dead.jsonl");
        let mut a = DeadLetters::new(path.clone(), OnError::DeadLetter);
        let mut b = a.clone();
        a.report("f", 3, "bad", b"x").unwrap();
        assert!(!path.exists(), "nothing is written before an append");
        let after_a = a.append(true).unwrap();
        b.report("f", 9, "worse", b"y").unwrap();
        let after_b = b.append(true).unwrap();
        assert!(after_b > after_a);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        truncate_to(&path, after_a).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"line\":3"));
        assert_eq!((a.count(), b.count()), (1, 1));
    }

    #[test]
    fn fail_fast_returns_the_record_error() {
        let mut d = DeadLetters::new(PathBuf::from("/nonexistent/x"), OnError::Fail);
        let err = d
            .report("in.csv", 7, "expected 3 fields, found 2", b"a,b")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad record in in.csv line 7: expected 3 fields, found 2"
        );
    }
}
