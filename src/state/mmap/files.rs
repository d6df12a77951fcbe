//! Incremental checkpoints and zero-copy restores of the mmap backend, at the level of one
//! state object.
//!
//! A checkpoint ([`MmapMaps::checkpoint_files`]) writes the dirty cached entries as one new
//! run, then hard-links every current run into the checkpoint directory (copying when a link
//! is impossible, e.g. across file systems). Runs are immutable, so a run already linked by an
//! earlier checkpoint is *shared*: only the new run (and any run a merge produced since) is
//! written. The file system counts the links: deleting an old checkpoint directory removes its
//! links only, never a file a retained checkpoint still needs, and a merge that drops a run from
//! the working directory leaves the checkpoints' links alone. A checkpoint directory holds whole
//! files or nothing, so a kill -9 at any moment leaves no half-written run in it (runs are
//! written under a temporary name and renamed).
//!
//! A restore ([`MmapMaps::restore_files`]) links the checkpoint's runs into a fresh working
//! directory and maps them, and the first record can be processed at once: the checksums of
//! the owned key groups' bytes are checked lazily (a group on its first access, the rest by a
//! validator thread, all before the next checkpoint: see [`super::lazy`]); entries are decoded
//! only when accessed. [`MmapMaps::restore_files_checked`] checks them all first. Runs of
//! other workers' key groups (a rescale) are usable as they are: lookups only ever ask a run for
//! the owned groups, and merges write only those.

use super::run::{Run, RunError};
use super::store::MmapMaps;
use std::path::{Path, PathBuf};

/// A run file of a checkpoint, as `MmapMaps::checkpoint_files` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFile {
    /// File name inside the checkpoint directory.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Written for this checkpoint: new since the previous one, or copied because it could not
    /// be hard-linked (otherwise shared with an earlier checkpoint).
    pub new: bool,
}

/// A run file to restore from: its name in the checkpoint directory and the key groups whose
/// entries in it count (those its writer owned; other groups it may hold are ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSource {
    /// File name inside the checkpoint directory.
    pub name: String,
    /// The key groups its writer owned.
    pub key_groups: std::ops::Range<u16>,
}

/// Hard-links `src` to `dst`, or copies it when linking fails; returns whether it copied.
fn link_or_copy(src: &Path, dst: &Path) -> std::io::Result<bool> {
    match std::fs::hard_link(src, dst) {
        Ok(()) => Ok(false),
        Err(_) => std::fs::copy(src, dst).map(|_| true),
    }
}

impl<K: Eq + Clone, V> MmapMaps<K, V> {
    /// Writes the dirty entries to a new run and links every run into `dest`, the new files
    /// fsynced; returns the files, oldest first (the order [`MmapMaps::restore_files`] needs).
    /// [`MmapMaps::start_checkpoint`] without the wait.
    ///
    /// # Errors
    /// [`RunError`] when writing or linking fails (files already linked stay in `dest`).
    pub(crate) fn checkpoint_files(&mut self, dest: &Path) -> Result<Vec<RunFile>, RunError> {
        let (files, durable) = self.start_checkpoint(dest)?;
        durable.wait()?;
        Ok(files)
    }

    /// Replaces the content with the runs `names` (oldest first) of the checkpoint directory
    /// `src`, linked into the working directory and mapped; the checksums of the owned key
    /// groups are checked lazily (registered with this thread's
    /// [`super::lazy::RestoreChecks`]). All or nothing: on error the state is empty.
    ///
    /// # Errors
    /// [`RunError`] when a file is missing, its header or directory is damaged, or it is of
    /// the other TTL mode.
    pub(crate) fn restore_files(
        &mut self,
        src: &Path,
        names: &[RunSource],
    ) -> Result<(), RunError> {
        self.restore_runs(src, names, true)
    }

    /// [`MmapMaps::restore_files`] checking the owned key groups' checksums before it returns.
    ///
    /// # Errors
    /// As [`MmapMaps::restore_files`]; also a group whose bytes do not match their checksum.
    pub(crate) fn restore_files_checked(
        &mut self,
        src: &Path,
        names: &[RunSource],
    ) -> Result<(), RunError> {
        self.restore_runs(src, names, false)
    }

    fn restore_runs(
        &mut self,
        src: &Path,
        names: &[RunSource],
        lazy: bool,
    ) -> Result<(), RunError> {
        self.clear_all();
        let mut runs = Vec::with_capacity(names.len());
        let result = self.link_runs(src, names, lazy, &mut runs);
        if result.is_err() {
            for run in runs.drain(..) {
                remove_run(run);
            }
        }
        self.runs = runs;
        result?;
        self.merge_if_narrower()
    }

    /// After a restore that merged several writers' key groups into this one (scale-in): a
    /// run limited to fewer groups than this state owns could not be listed under this
    /// worker's key groups by the next checkpoint (its entries of the other groups would count
    /// again, e.g. stale ones of a file shared after an earlier scale-out), so all runs are
    /// merged into one holding only the live entries of the owned groups.
    ///
    /// # Errors
    /// Writing the merged run failed (the state is then empty, as for a failed restore).
    fn merge_if_narrower(&mut self) -> Result<(), RunError> {
        let owned = self.range.clone();
        let narrower = |r: &Run| {
            let l = r.limit();
            l.start > owned.start || l.end < owned.end
        };
        if !self.runs.iter().any(narrower) {
            return Ok(());
        }
        let path = self.next_path();
        let rules = super::merge_job::MergeRules {
            key_eq: self.codec.key_eq,
            key_len: self.codec.key_len,
            expiry: None,
            bottom: true,
        };
        let merged = super::merge_job::merge_runs(
            &self.runs,
            &path,
            owned,
            self.ttl.is_some(),
            rules,
            &std::sync::atomic::AtomicBool::new(false),
        );
        match merged {
            Ok(run) => {
                for old in std::mem::take(&mut self.runs) {
                    remove_run(old);
                }
                self.runs.push(run);
                Ok(())
            }
            Err(e) => {
                self.clear_all();
                Err(e)
            }
        }
    }

    fn link_runs(
        &mut self,
        src: &Path,
        names: &[RunSource],
        lazy: bool,
        runs: &mut Vec<Run>,
    ) -> Result<(), RunError> {
        for source in names {
            let from = src.join(&source.name);
            let to = self.dir.0.join(format!("run-{:06}.wr", self.next_run));
            self.next_run += 1;
            link_or_copy(&from, &to).map_err(|source| RunError::Io {
                path: from.clone(),
                source,
            })?;
            let owned = source.key_groups.start.max(self.range.start)
                ..source.key_groups.end.min(self.range.end);
            let run = Run::open(&to, (!lazy).then(|| owned.clone()));
            let run = run.and_then(|run| match lazy {
                true => check_lazily(run, &from, &to, owned),
                false => Ok(run),
            });
            let mut run = match run {
                Ok(run) => run,
                Err(e) => {
                    let _ = std::fs::remove_file(&to);
                    return Err(match e {
                        // Name the checkpoint's file, not the working link.
                        RunError::Damaged { what, .. } => RunError::Damaged { path: from, what },
                        other => other,
                    });
                }
            };
            run.checkpointed = true;
            run.limit_to(source.key_groups.clone());
            let mismatch = run.timed() != self.ttl.is_some();
            runs.push(run);
            if mismatch {
                return Err(RunError::OtherTtl { path: from });
            }
        }
        Ok(())
    }

    /// Drops every entry and run.
    fn clear_all(&mut self) {
        self.settle();
        self.unwritten.clear();
        self.cache.clear();
        for run in self.runs.drain(..) {
            remove_run(run);
        }
    }
}

/// Registers the lazy checks of `run` (linked from `from` to `to`) for its `owned` groups.
fn check_lazily(
    mut run: Run,
    from: &Path,
    to: &Path,
    owned: std::ops::Range<u16>,
) -> Result<Run, RunError> {
    let (bytes, range) = run.bytes();
    let checks =
        super::lazy::register(from, to, bytes, range, owned).map_err(|source| RunError::Io {
            path: to.to_path_buf(),
            source,
        })?;
    run.check_lazily(checks);
    Ok(run)
}

/// Unmaps `run` and removes its working file.
pub(super) fn remove_run(run: Run) {
    let path: PathBuf = run.path().to_path_buf();
    drop(run);
    let _ = std::fs::remove_file(path);
}
