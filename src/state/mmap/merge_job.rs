//! A merge of runs as a self-contained job: the rules it needs (key comparison, TTL) as plain
//! data and function pointers, so that it runs on the writer thread
//! ([`super::writer_thread`]) as well as on the worker ([`super::store::MmapMaps::merge`]).
//!
//! A merge is a k-way merge of the runs' hash-sorted groups: entries of equal hash are
//! compared by key (decoded only then, which is rare) and the newest of each key wins, so
//! merging needs neither a table of the keys seen nor a sort. Deletions are dropped when the
//! merge reaches the oldest run, expired entries always. The merged run is written one key
//! group at a time ([`RunWriter`]).

use super::lazy::RunChecks;
use super::run::{GroupEntries, Run, RunEntry, RunError};
use super::run_writer::RunWriter;
use crate::state::expiry::Clock;
use crate::state::{StateCodec, Ttl};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What decides which entries a merge keeps.
#[derive(Clone, Copy)]
pub(crate) struct MergeRules {
    /// Whether two entries' bytes start with equal keys (decoded as the state's key type).
    pub key_eq: fn(&[u8], &[u8]) -> bool,
    /// The length of the key that starts an entry's bytes (`None`: it does not decode).
    pub key_len: fn(&[u8]) -> Option<usize>,
    /// TTL and the newest clock seen: entries expired at it are dropped.
    pub expiry: Option<(Ttl, Clock)>,
    /// Whether the merge includes the oldest run (then deletions are dropped too).
    pub bottom: bool,
}

impl MergeRules {
    /// Whether a merge drops `e`.
    fn gone(&self, e: &RunEntry<'_>) -> bool {
        if self.bottom && e.tombstone {
            return true;
        }
        let Some((ttl, clock)) = &self.expiry else {
            return false;
        };
        let ts = (self.key_len)(e.bytes)
            .and_then(|n| e.bytes.get(n..))
            .and_then(|mut rest| u64::decode(&mut rest).ok())
            .unwrap_or(0);
        clock.expired(ttl, ts)
    }
}

/// Whether `a` and `b` start with equal keys of type `K`.
pub(crate) fn key_eq<K: StateCodec + Eq>(a: &[u8], b: &[u8]) -> bool {
    matches!((K::decode(&mut &*a), K::decode(&mut &*b)), (Ok(x), Ok(y)) if x == y)
}

/// The length of the `K` that starts `b`.
pub(crate) fn key_len<K: StateCodec>(b: &[u8]) -> Option<usize> {
    let mut rest = b;
    K::decode(&mut rest).ok().map(|_| b.len() - rest.len())
}

/// A merge to run on the writer thread: the source runs' files (oldest first, each with the
/// key groups whose entries count), the merged run's path and key groups.
pub(crate) struct MergeJob {
    /// Source files, oldest first, with their limits ([`Run::limit_to`]) and, for a
    /// restored run not yet fully checked, its lazy checks ([`super::lazy`]): the merge
    /// checks each group before reading it, as the worker would, so damaged bytes never
    /// reach a merged run unreported.
    pub sources: Vec<(PathBuf, Range<u16>, Option<Arc<RunChecks>>)>,
    /// Where the merged run goes.
    pub out: PathBuf,
    /// The key groups written (the state's owned ones).
    pub range: Range<u16>,
    /// Whether entries carry timestamps.
    pub timed: bool,
    /// What to keep.
    pub rules: MergeRules,
}

impl MergeJob {
    /// Maps the sources and writes the merged run; stops early (nothing left behind) when
    /// `cancel` is set.
    ///
    /// # Errors
    /// A source cannot be opened, writing failed, or the job was cancelled.
    pub(crate) fn run(&self, cancel: &AtomicBool) -> Result<Run, RunError> {
        let mut runs = Vec::with_capacity(self.sources.len());
        for (path, limit, checks) in &self.sources {
            let mut run = Run::open(path, None)?;
            run.limit_to(limit.clone());
            if let Some(checks) = checks {
                run.check_lazily(Arc::clone(checks));
            }
            runs.push(run);
        }
        let merged = merge_runs(
            &runs,
            &self.out,
            self.range.clone(),
            self.timed,
            self.rules,
            cancel,
        )?;
        // Durable before the worker installs it: a checkpoint may link it any time later.
        std::fs::File::open(&self.out)
            .and_then(|f| f.sync_all())
            .map_err(|source| RunError::Io {
                path: self.out.clone(),
                source,
            })?;
        Ok(merged)
    }
}

/// Merges `sources` (oldest first) into a new run at `out` holding the groups `range`.
///
/// # Errors
/// Writing failed, or `cancel` was set (the partial files are removed).
pub(crate) fn merge_runs(
    sources: &[Run],
    out: &Path,
    range: Range<u16>,
    timed: bool,
    rules: MergeRules,
    cancel: &AtomicBool,
) -> Result<Run, RunError> {
    let mut w = RunWriter::create(out, range.clone(), timed)?;
    for kg in range {
        if cancel.load(Ordering::Relaxed) {
            return Err(RunError::Io {
                path: out.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::Interrupted, "merge cancelled"),
            });
        }
        w.group(&merge_group(sources, kg, &rules))?;
    }
    w.finish()
}

/// The merged entries of key group `kg` of `sources` (oldest first), in hash order.
fn merge_group<'a>(sources: &'a [Run], kg: u16, rules: &MergeRules) -> GroupEntries<'a> {
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
        keep_newest(&same, rules, &mut out);
    }
    out
}

/// Appends to `out` the newest entry of each key among `same` (entries of one hash, newest
/// first), unless the rules drop it.
fn keep_newest<'a>(same: &[RunEntry<'a>], rules: &MergeRules, out: &mut GroupEntries<'a>) {
    if let [e] = same {
        if !rules.gone(e) {
            out.push((e.hash, e.tombstone, e.bytes));
        }
        return;
    }
    let mut kept: Vec<&[u8]> = Vec::with_capacity(same.len());
    for e in same {
        if (rules.key_len)(e.bytes).is_none() {
            continue; // does not decode: dropped, as a lookup would never find it
        }
        if kept.iter().any(|k| (rules.key_eq)(k, e.bytes)) {
            continue;
        }
        kept.push(e.bytes);
        if !rules.gone(e) {
            out.push((e.hash, e.tombstone, e.bytes));
        }
    }
}
