//! Flushes (dirty cached entries → a new run) and merges (newest runs → one run).
//!
//! Both build, per key group, a list of `(hash, tombstone, bytes)` sorted by hash whose bytes
//! borrow from one buffer per group (a flush) or straight from the mapped runs (a merge):
//! no allocation per entry. A merge is a k-way merge of the runs' groups, which are already
//! sorted by hash: entries of equal hash are compared by key (decoded only then, which is
//! rare) and the newest of each key wins, so merging needs neither a table of the keys seen
//! nor a sort.

use super::cache::Val;
use super::merge_policy;
use super::run::{write_run, GroupEntries, Run, RunEntry, RunError};
use super::run_writer::RunWriter;
use super::store::{stored_ts_if, MmapMaps};
use std::path::PathBuf;

/// One key group's flushed entries: `(hash, tombstone, start, end)` into its buffer.
type Spans = Vec<(u64, bool, usize, usize)>;

impl<K: Eq + Clone, V> MmapMaps<K, V> {
    /// Writes the dirty cached entries to a new run (then merges runs); marks them clean.
    ///
    /// # Errors
    /// Writing a run failed; the cache is unchanged.
    pub(crate) fn flush(&mut self) -> Result<(), RunError> {
        let n = self.range.len();
        let mut bufs: Vec<Vec<u8>> = Vec::with_capacity(n);
        let mut spans: Vec<Spans> = Vec::with_capacity(n);
        // An expired entry is not written: whatever older runs hold for its key is older,
        // so expired too.
        let dirty = |v: &Val<V>| v.dirty.get() && !self.stale(v.ts.get());
        for lg in 0..n {
            let (mut buf, mut idx) = (Vec::new(), Spans::new());
            for e in self.cache.group_where(lg, dirty) {
                let start = buf.len();
                self.encode_entry(e, None, &mut buf);
                idx.push((e.hash, e.val.value.is_none(), start, buf.len()));
            }
            idx.sort_unstable_by_key(|x| x.0);
            bufs.push(buf);
            spans.push(idx);
        }
        if spans.iter().all(Vec::is_empty) {
            return Ok(());
        }
        let groups: Vec<GroupEntries<'_>> = spans
            .iter()
            .zip(&bufs)
            .map(|(idx, buf)| idx.iter().map(|&(h, t, s, e)| (h, t, &buf[s..e])).collect())
            .collect();
        let path = self.next_path();
        let run = write_run(&path, self.range.clone(), self.ttl.is_some(), &groups)?;
        self.runs.push(run);
        self.cache.mark_clean();
        self.compact()
    }

    /// The path of the next run file.
    pub(super) fn next_path(&mut self) -> PathBuf {
        let path = self.dir.0.join(format!("run-{:06}.wr", self.next_run));
        self.next_run += 1;
        path
    }

    /// Merges runs while [`merge_policy::runs_to_merge`] says so.
    fn compact(&mut self) -> Result<(), RunError> {
        loop {
            let sizes: Vec<u64> = self.runs.iter().map(Run::entries).collect();
            match merge_policy::runs_to_merge(&sizes, self.cache_limit as u64) {
                Some(k) if k >= 2 => self.merge(k)?,
                _ => return Ok(()),
            }
        }
    }

    /// Merges the newest `k` runs into one (dropping deletions when that includes the oldest).
    pub(super) fn merge(&mut self, k: usize) -> Result<(), RunError> {
        let n = self.runs.len();
        let bottom = k == n;
        let path = self.next_path();
        let sources = &self.runs[n - k..];
        // One group at a time: a merge holds one group's entry references, not the run's.
        let mut out = RunWriter::create(&path, self.range.clone(), self.ttl.is_some())?;
        for lg in 0..self.range.len() {
            out.group(&self.merge_group(sources, self.kg(lg), bottom))?;
        }
        let merged = out.finish()?;
        for old in self.runs.drain(n - k..) {
            super::files::remove_run(old);
        }
        self.runs.push(merged);
        Ok(())
    }

    /// The merged entries of key group `kg` of `sources` (oldest first), in hash order.
    fn merge_group<'a>(&self, sources: &'a [Run], kg: u16, bottom: bool) -> GroupEntries<'a> {
        // Newest first: among entries of one key, the first one met wins.
        let mut heads: Vec<_> = sources
            .iter()
            .rev()
            .map(|r| r.group_entries(kg).peekable())
            .collect();
        let mut out = GroupEntries::new();
        let mut same: Vec<RunEntry<'a>> = Vec::new();
        while let Some(h) = heads
            .iter_mut()
            .filter_map(|i| i.peek().map(|e| e.hash))
            .min()
        {
            same.clear();
            for it in &mut heads {
                while let Some(e) = it.next_if(|e| e.hash == h) {
                    same.push(e);
                }
            }
            self.keep_newest(&same, bottom, &mut out);
        }
        out
    }

    /// Appends to `out` the newest entry of each key among `same` (entries of one hash,
    /// newest first), unless it is gone (a deletion reaching the oldest run, or expired).
    fn keep_newest<'a>(&self, same: &[RunEntry<'a>], bottom: bool, out: &mut GroupEntries<'a>) {
        let gone = |e: &RunEntry<'_>| (bottom && e.tombstone) || self.stale(stored_ts_if(self, *e));
        if let [e] = same {
            if !gone(e) {
                out.push((e.hash, e.tombstone, e.bytes));
            }
            return;
        }
        let mut keys: Vec<K> = Vec::with_capacity(same.len());
        for e in same {
            let Ok(key) = (self.codec.dec_k)(&mut &*e.bytes) else {
                continue;
            };
            if keys.contains(&key) {
                continue;
            }
            keys.push(key);
            if !gone(e) {
                out.push((e.hash, e.tombstone, e.bytes));
            }
        }
    }
}
