//! A sparse in-memory index of one key group of a run: every [`STRIDE`]th hash of the group's
//! sorted index (a "fence").
//!
//! A lookup that passes a run's Bloom filter must find the hash in the group's on-disk index.
//! When the run's pages are cold (state several times the memory the process may use), every
//! probe of a search over the whole index can be a page fault that reads the disk: a
//! bisection of 100 000 entries touches ~17 index entries on ~10 different pages, and even
//! interpolation touches a few. With the fences in RAM (8 bytes per [`STRIDE`] entries: an
//! eighth of a byte per key) the search narrows the hash to a window of at most [`STRIDE`]
//! consecutive index entries (1 KiB: one page, at most two) before it reads the file, so a
//! cold lookup costs that index page plus the entry's data page.
//!
//! Fences are built from the hashes when a run is written, or on the group's first lookup for
//! a run this process did not write (a restore maps runs without reading their indexes). A
//! damaged (unsorted) index gives wrong windows, hence missing entries, never a panic.

use super::filter::Filter;
use super::run::GroupEntries;

/// Index entries per fence.
pub(crate) const STRIDE: usize = 64;

/// The fences of one key group; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Sparse {
    /// `hash[i * STRIDE]` for every `i` with `i * STRIDE < count`.
    fences: Box<[u64]>,
}

impl Sparse {
    /// The fences of a group whose hashes (sorted) are `hashes`.
    pub(crate) fn build(hashes: impl Iterator<Item = u64>) -> Sparse {
        Sparse {
            fences: hashes.step_by(STRIDE).collect(),
        }
    }

    /// The index entries `w` of a group of `count` entries such that the first entry whose
    /// hash is `>= target` is one of `w.start..=w.end` (`w.end == count`: none is).
    pub(crate) fn window(&self, count: usize, target: u64) -> std::ops::Range<usize> {
        let p = self.fences.partition_point(|&f| f < target);
        if p == 0 {
            return 0..0;
        }
        // Entries up to fence p - 1 are < target; the entry at fence p (if any) is >= target.
        let end = match p == self.fences.len() {
            true => count,
            false => (p * STRIDE).min(count),
        };
        let start = ((p - 1) * STRIDE + 1).min(end);
        start..end
    }

    /// Bytes of memory the fences hold.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.fences.len() * 8
    }
}

/// The filter and the sparse index of a group about to be written (sorted by hash).
pub(crate) fn aids(g: &GroupEntries<'_>) -> (Filter, Sparse) {
    let hashes = || g.iter().map(|(h, _, _)| *h);
    (Filter::build(g.len(), hashes()), Sparse::build(hashes()))
}

#[cfg(test)]
#[path = "sparse_tests.rs"]
mod tests;
