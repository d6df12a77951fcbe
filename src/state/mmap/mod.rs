//! The mmap state backend: keyed state in memory-mapped run files, with a bounded cache.
//!
//! Layout, chosen for a first version that is simple to get right:
//!
//! - a **cache** ([`cache::Cache`]) of decoded entries per key group: every access goes
//!   through it, so hot keys are served at heap speed (values sit inline in the table's
//!   slots, as the heap backend's do); writes mark entries dirty;
//! - immutable, sorted **runs** ([`run::Run`]): when the cache holds `cache_entries`
//!   entries, its dirty entries (values and deletions) are written to a new run and the cache
//!   is emptied. A lookup that misses the cache asks the runs, newest first, in the key's
//!   group: a per run and group Bloom filter (in RAM) rules out most runs, and the index of
//!   the others is searched by interpolation ([`filter`]); the OS pages the touched parts in
//!   (cold parts cost page faults, not RAM);
//! - **merges**: after a flush, [`merge_policy`] decides which of the newest runs to merge
//!   (size-tiered, fan-in 4: O(log(state / cache)) runs, each entry rewritten
//!   O(log₄(state / cache)) times); a miss reads one window of a run's index found through
//!   its in-RAM [`sparse`] index. Deletions are
//!   dropped when the merge reaches the oldest run. A merge streams the runs' sorted groups
//!   ([`compact`]): no per-entry allocation, no table of seen keys.
//!
//! Entries in runs are encoded exactly as checkpoint sections encode them, so a snapshot copies
//! stored entries without decoding their values, and a section restores into a run. The
//! working files live in a directory this object creates (unique name) and removes, with only
//! the files it wrote, when dropped.

mod access;
mod background;
mod backing;
pub(crate) mod bulk;
pub(crate) mod cache;
mod compact;
#[cfg(test)]
mod dirty_tests;
mod files;
#[cfg(test)]
mod files_tests;
mod filter;
pub(crate) mod lazy;
#[cfg(test)]
mod lazy_tests;
mod merge_job;
mod merge_policy;
#[cfg(test)]
mod merge_tests;
pub(crate) mod run;
mod run_writer;
mod sections;
mod sparse;
mod stale;
mod store;
#[cfg(test)]
mod tests;
mod writer_thread;

pub use files::{RunFile, RunSource};
pub use lazy::{Damage, Detected, RestoreChecks};
pub use run::RunError;
pub(crate) use store::{Codec, MmapMaps};
pub use writer_thread::RunsDurable;

use crate::state::backend::StateBackend;
use crate::state::{StableKey, StateCodec, Ttl};
use std::ops::Range;
use std::path::PathBuf;

/// What a state object needs to build its [`MmapMaps`] whenever its key groups are set.
pub(crate) struct MmapConfig<K, V> {
    dir: Option<PathBuf>,
    cache_entries: usize,
    codec: Codec<K, V>,
}

impl<K: Eq + Clone, V> MmapConfig<K, V> {
    /// The configuration for `backend` (`None` for the heap backend).
    pub(crate) fn for_backend(backend: &StateBackend) -> Option<Self>
    where
        K: StateCodec + StableKey,
        V: StateCodec,
    {
        match backend {
            StateBackend::Heap => None,
            StateBackend::Mmap { dir, cache_entries } => Some(MmapConfig {
                dir: dir.clone(),
                cache_entries: *cache_entries,
                codec: Codec::of(),
            }),
        }
    }

    /// Empty mmap storage for `range`; `None` (with an error logged: the state then stays
    /// on the heap, correct but not larger than memory) when the working directory cannot be
    /// created.
    pub(crate) fn build(&self, range: Range<u16>, ttl: Option<Ttl>) -> Option<Box<MmapMaps<K, V>>> {
        let dir = self.dir.as_deref();
        match MmapMaps::new(self.codec, range, ttl, dir, self.cache_entries) {
            Ok(m) => Some(Box::new(m)),
            Err(e) => {
                tracing::error!("mmap state backend: working directory under {dir:?}: {e}; state stays on the heap");
                None
            }
        }
    }
}
