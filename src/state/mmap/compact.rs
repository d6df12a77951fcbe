//! Flushes (dirty cached entries → a new run) and the choice of merges (newest runs → one
//! run; the merge itself is [`super::merge_job`]).
//!
//! A flush visits the dirtied entries only (the cache's dirty list), encodes each group's into
//! one buffer, sorts them by hash and builds the run file's bytes in memory: the run is readable
//! at once, and its file is written by the writer thread while the worker goes on
//! ([`super::writer_thread`]). Merges run on the merge thread and are installed by
//! [`MmapMaps::poll_writer`].

use super::merge_job::{MergeJob, MergeRules};
use super::merge_policy::{self, MAX_RUNS};
use super::run::{build_run, GroupEntries, Run, RunError};
use super::store::MmapMaps;
use std::path::PathBuf;

/// One key group's flushed entries: `(hash, tombstone, start, end)` into its buffer.
type Spans = Vec<(u64, bool, usize, usize)>;

/// Runs beyond which a flush waits for the running merge (merges fell behind the flushes).
const WAIT_FOR_MERGE_RUNS: usize = 2 * MAX_RUNS;

impl<K: Eq + Clone, V> MmapMaps<K, V> {
    /// Makes the dirty cached entries a new run (readable at once, its file written in the
    /// background), marks them clean, then starts a merge when one is due.
    ///
    /// # Errors
    /// An entry or a group too big for a run; the entries stay dirty in the cache.
    pub(crate) fn flush(&mut self) -> Result<(), RunError> {
        self.poll_writer(false);
        let n = self.range.len();
        let mut bufs: Vec<Vec<u8>> = Vec::with_capacity(n);
        let mut spans: Vec<Spans> = Vec::with_capacity(n);
        let mut taken = Vec::with_capacity(n);
        for lg in 0..n {
            let (mut buf, mut idx) = (Vec::new(), Spans::new());
            let dirty = self.cache.take_dirty(lg);
            // An expired entry is not written: whatever older runs hold for its key is older,
            // so expired too.
            for e in dirty.iter().filter(|e| !self.stale(e.val.ts.get())) {
                let start = buf.len();
                self.encode_entry(*e, None, &mut buf);
                idx.push((e.hash, e.val.value.is_none(), start, buf.len()));
            }
            idx.sort_unstable_by_key(|x| x.0);
            bufs.push(buf);
            spans.push(idx);
            taken.push(dirty);
        }
        if spans.iter().all(Vec::is_empty) {
            return Ok(());
        }
        let groups: Vec<GroupEntries<'_>> = spans
            .iter()
            .zip(&bufs)
            .map(|(idx, buf)| idx.iter().map(|&(h, t, s, e)| (h, t, &buf[s..e])).collect())
            .collect();
        let path = self.dir.0.join(format!("run-{:06}.wr", self.next_run));
        let run = match build_run(&path, self.range.clone(), self.ttl.is_some(), &groups) {
            Ok(run) => run,
            Err(e) => {
                for (lg, dirty) in taken.iter().enumerate() {
                    for e in dirty {
                        self.cache.mark(lg, e.hash, e.key, e.val);
                    }
                }
                return Err(e);
            }
        };
        drop((groups, taken));
        self.next_run += 1;
        let bytes = run.in_memory_bytes().cloned();
        self.runs.push(run);
        if let Some(bytes) = bytes {
            self.writer.write(path, bytes);
        }
        while self.runs.len() > WAIT_FOR_MERGE_RUNS && self.writer.merging() {
            self.poll_writer(true);
        }
        self.compact();
        Ok(())
    }

    /// The path of the next run file.
    pub(super) fn next_path(&mut self) -> PathBuf {
        let path = self.dir.0.join(format!("run-{:06}.wr", self.next_run));
        self.next_run += 1;
        path
    }

    /// How many of the newest runs to merge now ([`merge_policy::runs_to_merge`]); `None`
    /// when no merge is due.
    fn due(&self) -> Option<usize> {
        let sizes: Vec<u64> = self.runs.iter().map(Run::entries).collect();
        merge_policy::runs_to_merge(&sizes, self.cache_limit as u64).filter(|&k| k >= 2)
    }

    /// Starts the merge that is due, if any and none is running (the next one is chosen when
    /// this one is installed).
    pub(super) fn compact(&mut self) {
        if self.writer.merging() {
            return;
        }
        let Some(k) = self.due() else { return };
        let n = self.runs.len();
        let rules = self.merge_rules(k == n);
        let job = MergeJob {
            sources: self.runs[n - k..]
                .iter()
                .map(|r| (r.path().to_path_buf(), r.limit(), r.lazy_checks()))
                .collect(),
            out: self.next_path(),
            range: self.range.clone(),
            timed: self.ttl.is_some(),
            rules,
        };
        self.writer.merge(job);
    }

    fn merge_rules(&self, bottom: bool) -> MergeRules {
        MergeRules {
            key_eq: self.codec.key_eq,
            key_len: self.codec.key_len,
            expiry: self.ttl.zip(self.last_clock.get()),
            bottom,
        }
    }

    /// Merges the newest `k` runs into one on this thread (dropping deletions when that
    /// includes the oldest), after the background jobs are done.
    ///
    /// # Errors
    /// Writing the merged run failed; the runs are unchanged.
    #[cfg(test)]
    pub(super) fn merge(&mut self, k: usize) -> Result<(), RunError> {
        use super::merge_job::merge_runs;
        use std::sync::atomic::AtomicBool;
        self.settle();
        let n = self.runs.len();
        let path = self.next_path();
        let rules = self.merge_rules(k == n);
        let merged = merge_runs(
            &self.runs[n - k..],
            &path,
            self.range.clone(),
            self.ttl.is_some(),
            rules,
            &AtomicBool::new(false),
        )?;
        for old in self.runs.drain(n - k..) {
            super::files::remove_run(old);
        }
        self.runs.push(merged);
        Ok(())
    }
}
