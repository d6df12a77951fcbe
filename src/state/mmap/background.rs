//! The worker's side of [`super::writer_thread`]: taking in finished writes and merges, and
//! starting a checkpoint whose links and fsyncs run in the background.

use super::files::RunFile;
use super::run::{Run, RunError};
use super::store::MmapMaps;
use super::writer_thread::{Done, Link, RunsDurable};
use std::path::{Path, PathBuf};

impl<K: Eq + Clone, V> MmapMaps<K, V> {
    /// Takes in the writer threads' reports: written runs are switched to their file, finished
    /// merges replace their sources (then the next due merge starts). With `block`, waits for
    /// at least one report when a job is outstanding.
    pub(super) fn poll_writer(&mut self, block: bool) {
        let mut merged = false;
        for done in self.writer.poll(block) {
            match done {
                Done::Written { path, result } => self.written(&path, result),
                Done::Merged {
                    sources,
                    out,
                    result,
                } => merged |= self.install(&sources, out, result),
            }
        }
        if merged {
            self.compact();
        }
    }

    /// Waits until no write or merge is outstanding (installing the merges that follow), and
    /// every removal queued is done.
    pub(crate) fn settle(&mut self) {
        loop {
            while self.writer.busy() {
                self.poll_writer(true);
            }
            self.poll_writer(false);
            if !self.writer.busy() {
                break;
            }
        }
        if let Err(e) = self.writer.link(Vec::new()).wait() {
            tracing::warn!("mmap state: {e}");
        }
    }

    fn written(&mut self, path: &Path, result: Result<(), RunError>) {
        let Some(run) = self.runs.iter_mut().find(|r| r.path() == path) else {
            return; // merged away or dropped by a restore meanwhile
        };
        let result = result.and_then(|()| run.remap());
        if let Err(e) = result {
            tracing::error!(
                "mmap state: {e}; the run stays in memory, written again at the next checkpoint"
            );
            self.unwritten.push(path.to_path_buf());
        }
    }

    /// Replaces the runs `sources` (still contiguous, oldest first) by the merged run `out`;
    /// returns whether it did. Otherwise (a failed merge, or runs dropped by a restore) `out`
    /// is removed.
    fn install(&mut self, sources: &[PathBuf], out: PathBuf, result: Result<(), RunError>) -> bool {
        if let Err(e) = result {
            if !matches!(&e, RunError::Io { source, .. } if source.kind() == std::io::ErrorKind::Interrupted)
            {
                tracing::error!("mmap state: merge failed: {e}; keeping the runs");
            }
            return false;
        }
        let at = self
            .runs
            .iter()
            .position(|r| Some(r.path()) == sources.first().map(PathBuf::as_path));
        let place = at.filter(|&i| {
            self.runs.len() >= i + sources.len()
                && self.runs[i..i + sources.len()]
                    .iter()
                    .zip(sources)
                    .all(|(r, s)| r.path() == s)
        });
        let opened = place.map(|_| Run::open(&out, None));
        let (i, merged) = match (place, opened) {
            (Some(i), Some(Ok(run))) => (i, run),
            (_, opened) => {
                if let Some(Err(e)) = opened {
                    tracing::error!("mmap state: merged run: {e}; keeping the runs");
                }
                self.writer.remove(vec![out]);
                return false;
            }
        };
        let old: Vec<Run> = self.runs.splice(i..i + sources.len(), [merged]).collect();
        let paths = old.iter().map(|r| r.path().to_path_buf()).collect();
        self.unwritten.retain(|p| !sources.contains(p));
        drop(old);
        // After every link queued before: a checkpoint may still be linking them.
        self.writer.remove(paths);
        true
    }

    /// Starts a checkpoint into `dest`: the dirty entries become a new run, then every run is
    /// linked into `dest` and the files new to checkpoints are fsynced, in the background.
    /// Returns the files (oldest first, the order [`MmapMaps::restore_files`] needs) and the
    /// wait for them.
    ///
    /// # Errors
    /// [`RunError`] when the flush fails.
    pub(crate) fn start_checkpoint(
        &mut self,
        dest: &Path,
    ) -> Result<(Vec<RunFile>, RunsDurable), RunError> {
        self.flush()?;
        for path in std::mem::take(&mut self.unwritten) {
            if let Some(bytes) = self
                .runs
                .iter()
                .find(|r| r.path() == path)
                .and_then(|r| r.in_memory_bytes().cloned())
            {
                self.writer.write(path, bytes);
            }
        }
        let prefix = self
            .dir
            .0
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("weir-state")
            .to_string();
        let copies = !same_device(&self.dir.0, dest);
        let mut out = Vec::with_capacity(self.runs.len());
        let mut links = Vec::with_capacity(self.runs.len());
        for run in &mut self.runs {
            let file = run
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("run");
            let name = format!("{prefix}-{file}");
            // A copy (no hard link across file systems) is written for this checkpoint: its
            // bytes count as new, and it is fsynced before the MANIFEST commits.
            let new = !run.checkpointed || copies;
            links.push(Link {
                src: run.path().to_path_buf(),
                dst: dest.join(&name),
                sync: new,
            });
            out.push(RunFile {
                name,
                bytes: run.file_len(),
                new,
            });
            run.checkpointed = true;
        }
        Ok((out, self.writer.link(links)))
    }
}

/// Whether `a` and `b` are on one file system (hard links work); `true` when unknown.
fn same_device(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev(),
        _ => true,
    }
}
