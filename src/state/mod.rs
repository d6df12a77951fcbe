//! Keyed state, scoped to the current key and stored per key group.
//!
//! An operator owns its state objects (e.g. [`ValueState`]) as fields. The runtime sets the
//! current key in a [`KeyContext`] before the operator sees a record; every state call takes
//! that context. Each state object keeps one map per owned key group so that checkpoints can
//! write, and a restore with another worker count can read, one section per key group
//! ([`KeyedStateStore`]).

pub mod aggregating;
pub mod backend;
pub mod codec;
pub mod expiry;
#[cfg(test)]
mod expiry_tests;
mod groups;
pub mod key_group;
pub mod list;
pub mod map;
pub mod memory_budget;
pub(crate) mod mmap;
pub mod operator;
pub mod reducing;
pub mod table;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;
pub mod value;

pub use aggregating::{AggregatingState, Aggregator};
pub use backend::{BackendKind, StateBackend};
pub use codec::{CodecError, StateCodec};
pub use expiry::TtlTime;
pub use key_group::{KeyGroupRouter, StableKey, DEFAULT_MAX_PARALLELISM};
pub use list::ListState;
pub use map::MapState;
pub use mmap::{Damage, Detected, RestoreChecks, RunError, RunFile, RunSource, RunsDurable};
pub use operator::{OperatorListState, OperatorStateStore, UnionListState};
pub use reducing::ReducingState;
pub use table::KeyTable;
pub use value::ValueState;

use std::ops::Range;

/// The key the runtime is processing now, with its key group and the processing time.
#[derive(Debug)]
pub struct KeyContext<'a, K> {
    /// The current key.
    pub key: &'a K,
    /// Index of the key's group *within the worker's range* (`kg - range.start`).
    pub local_group: usize,
    /// The key's stable hash ([`StableKey::stable_hash`]), computed once at the source; state
    /// tables may use it instead of hashing the key again.
    pub hash: u64,
    /// Processing time in milliseconds since the epoch, read once per batch (for TTL).
    pub now_ms: u64,
}

/// Time-to-live of state entries (Flink's semantics: an expired entry reads as absent). In
/// processing time by default (`with_ttl`), or in event time (`with_event_time_ttl`: the clock
/// is the stage's watermark); expired entries are freed incrementally, so memory stays bounded
/// for an unbounded stream of fresh keys ([`expiry`]).
///
/// An entry written (or, with `refresh_on_read`, read) at `t` is expired from
/// `t + millis` on. The unit of expiry is one key's whole entry: a key's list
/// ([`ListState`]) or map ([`MapState`]) expires as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ttl {
    /// Lifetime of an entry in milliseconds.
    pub millis: u64,
    /// Whether reads also refresh the entry's timestamp (otherwise only writes do).
    pub refresh_on_read: bool,
}

impl Ttl {
    /// A TTL of `millis` refreshed by writes only.
    pub const fn after_write(millis: u64) -> Self {
        Ttl {
            millis,
            refresh_on_read: false,
        }
    }

    /// A TTL of `millis` refreshed by reads and writes.
    pub const fn after_access(millis: u64) -> Self {
        Ttl {
            millis,
            refresh_on_read: true,
        }
    }
}

/// A keyed state object as the runtime sees it: per key-group snapshot and restore.
pub trait KeyedStateStore: Send {
    /// The state's name, unique within its operator (part of the checkpoint format).
    fn name(&self) -> &str;
    /// Sets the key groups this worker owns; drops all content. Called before restore/processing.
    fn set_key_groups(&mut self, range: Range<u16>);
    /// Selects where the entries live ([`StateBackend`]); called before
    /// [`KeyedStateStore::set_key_groups`], drops all content. The default ignores it (the
    /// state stays in memory: fine for small, non-keyed-table state such as timers).
    fn set_backend(&mut self, backend: &StateBackend) {
        let _ = backend;
    }
    /// Appends the encoded entries of key group `kg` to `out`; returns the number of entries.
    /// Expired TTL entries (relative to `now_ms`) are skipped.
    fn snapshot_group(&self, kg: u16, now_ms: u64, out: &mut Vec<u8>) -> usize;
    /// Adds the entries of an encoded section of key group `kg` (which must be in range).
    ///
    /// # Errors
    /// [`CodecError`] when the bytes do not decode.
    fn restore_group(&mut self, kg: u16, bytes: &[u8]) -> Result<(), CodecError>;
    /// Checks that an encoded section would restore (decodes it, keeps nothing); a restore
    /// runs it over a checkpoint before any worker starts, so that an unusable checkpoint is
    /// skipped for an older one. The default accepts everything (the restore itself still
    /// rejects bad bytes, then without fallback).
    ///
    /// # Errors
    /// [`CodecError`] when the bytes do not decode.
    fn check_section(&self, bytes: &[u8]) -> Result<(), CodecError> {
        let _ = bytes;
        Ok(())
    }
    /// mmap backend: writes the changes since the previous call as a new run file and
    /// hard-links every run file of the state into `dest` (an incremental checkpoint, see
    /// `mmap`); returns the files, oldest first. `None` for state kept on the heap.
    ///
    /// # Errors
    /// [`RunError`] when writing or linking fails.
    fn checkpoint_files(
        &mut self,
        dest: &std::path::Path,
    ) -> Result<Option<Vec<RunFile>>, RunError> {
        let _ = dest;
        Ok(None)
    }
    /// [`KeyedStateStore::checkpoint_files`] with the linking and fsyncing left to a
    /// background thread: returns at once with the files and the wait for them to be durable
    /// (the acknowledgement of the checkpoint waits, the worker does not). The default does
    /// it all before returning.
    ///
    /// # Errors
    /// [`RunError`] when writing the new run fails.
    fn start_checkpoint_files(
        &mut self,
        dest: &std::path::Path,
    ) -> Result<Option<(Vec<RunFile>, RunsDurable)>, RunError> {
        Ok(self
            .checkpoint_files(dest)?
            .map(|files| (files, RunsDurable::ready())))
    }
    /// mmap backend: replaces the content with the run files `names` of directory `src`
    /// (as [`KeyedStateStore::checkpoint_files`] listed them), mapped without decoding;
    /// `false` for state kept on the heap (nothing done).
    ///
    /// # Errors
    /// [`RunError`] when a file is missing or damaged (the state is then empty).
    fn restore_files(
        &mut self,
        src: &std::path::Path,
        names: &[RunSource],
    ) -> Result<bool, RunError> {
        let _ = (src, names);
        Ok(false)
    }
    /// Number of entries in key group `kg` (with TTL, expired entries not yet removed count).
    fn entries_in_group(&self, kg: u16) -> usize;
    /// The stage's watermark advanced to `watermark`: the clock of event-time TTL. The
    /// runtime calls it on every advance, before the operator's `on_watermark`. The default
    /// ignores it.
    fn advance_watermark(&mut self, watermark: i64) {
        let _ = watermark;
    }
}
