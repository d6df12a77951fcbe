//! Dead letters: malformed input lines, kept with their source, line number and reason.

use crate::error::Error;
use std::io::Write;
use std::path::PathBuf;
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

struct Shared {
    path: PathBuf,
    file: Mutex<Option<std::io::BufWriter<std::fs::File>>>,
}

/// A worker's handle on the job's dead-letter output. Bad records are rare, so writes take a
/// lock; the file is created on the first bad record. Lines are JSON:
/// `{"source":…,"line":…,"reason":…,"raw":…}`.
#[derive(Clone)]
pub struct DeadLetters {
    shared: Arc<Shared>,
    policy: OnError,
    count: u64,
}

impl DeadLetters {
    /// A dead-letter output writing to `path` with the given policy.
    pub fn new(path: PathBuf, policy: OnError) -> Self {
        DeadLetters {
            shared: Arc::new(Shared {
                path,
                file: Mutex::new(None),
            }),
            policy,
            count: 0,
        }
    }

    /// The dead-letter file path.
    pub fn path(&self) -> &std::path::Path {
        &self.shared.path
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
        let mut guard = self.shared.file.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            if let Some(parent) = self
                .shared
                .path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.shared.path)
                .map_err(|e| Error::io(&self.shared.path, e))?;
            *guard = Some(std::io::BufWriter::new(f));
        }
        let w = guard.as_mut().expect("opened above");
        writeln!(w, "{entry}").map_err(|e| Error::io(&self.shared.path, e))
    }

    /// Flushes the file if it was opened.
    ///
    /// # Errors
    /// [`Error::Io`] when the flush fails.
    pub fn flush(&self) -> crate::Result<()> {
        let mut guard = self.shared.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = guard.as_mut() {
            w.flush().map_err(|e| Error::io(&self.shared.path, e))?;
        }
        Ok(())
    }
}
