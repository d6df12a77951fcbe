//! Test helpers: key contexts computed the way the runtime does (128 key groups).

use super::key_group::{key_group_of_hash, key_group_range};
use super::{KeyContext, StableKey};
use std::ops::Range;

/// Number of key groups in the tests.
pub(crate) const MAX_PAR: u16 = 128;

/// All key groups (a single worker).
pub(crate) const RANGE_ALL: Range<u16> = 0..MAX_PAR;

/// Key group of `key`.
pub(crate) fn kg<K: StableKey + ?Sized>(key: &K) -> u16 {
    key_group_of_hash(key.stable_hash(), MAX_PAR)
}

/// Key groups owned by `worker` of `workers`.
pub(crate) fn owned(worker: usize, workers: usize) -> Range<u16> {
    key_group_range(worker, workers, MAX_PAR)
}

/// The context of `key` on the worker owning `range`.
///
/// # Panics
/// When `key`'s group is outside `range`.
pub(crate) fn ctx<'a, K: StableKey>(
    key: &'a K,
    range: &Range<u16>,
    now_ms: u64,
) -> KeyContext<'a, K> {
    let g = kg(key);
    assert!(range.contains(&g), "key group {g} not in {range:?}");
    KeyContext {
        key,
        local_group: (g - range.start) as usize,
        hash: key.stable_hash(),
        now_ms,
    }
}

/// The worker of `workers` whose [`owned`] range holds key group `g`.
///
/// Derived from the ranges on purpose: `key_group::worker_for_key_group` does not invert
/// `key_group_range` for worker counts that do not divide 128 (e.g. 3).
pub(crate) fn owner(g: u16, workers: usize) -> usize {
    (0..workers)
        .find(|&w| owned(w, workers).contains(&g))
        .expect("ranges cover all groups")
}
