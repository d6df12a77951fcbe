//! Key groups: `key → stable hash → key group → worker` (Flink's KeyGroupRangeAssignment).
//!
//! The hash is persisted through checkpoints, so it must never change: it is XXH3-64 with
//! seed [`KEY_GROUP_SEED`] over the key's canonical bytes ([`StableKey::stable_hash`]).
//! `ahash` is used only for in-memory maps.

use std::ops::Range;

/// Default number of key groups (the maximum parallelism). A power of two.
pub const DEFAULT_MAX_PARALLELISM: u16 = 128;

/// Fixed seed of the key-group hash. Changing it invalidates every checkpoint.
pub const KEY_GROUP_SEED: u64 = 0x7765_6972_6b67_0001; // "weirkg" + 1

/// A key whose hash is stable across runs, machines and crate versions.
pub trait StableKey {
    /// XXH3-64 (seed [`KEY_GROUP_SEED`]) of the key's canonical bytes.
    fn stable_hash(&self) -> u64;
}

/// Hashes bytes with the stable key-group hash.
#[inline]
pub fn stable_hash_bytes(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(bytes, KEY_GROUP_SEED)
}

macro_rules! stable_int {
    ($($t:ty),*) => {$(
        impl StableKey for $t {
            #[inline]
            fn stable_hash(&self) -> u64 {
                // Canonical bytes: 8-byte little endian of the value widened to 64 bits.
                stable_hash_bytes(&(*self as u64).to_le_bytes())
            }
        }
    )*};
}
stable_int!(u8, u16, u32, u64, i8, i16, i32, i64, usize);

impl StableKey for str {
    #[inline]
    fn stable_hash(&self) -> u64 {
        stable_hash_bytes(self.as_bytes())
    }
}

impl StableKey for String {
    #[inline]
    fn stable_hash(&self) -> u64 {
        stable_hash_bytes(self.as_bytes())
    }
}

impl StableKey for () {
    #[inline]
    fn stable_hash(&self) -> u64 {
        0
    }
}

impl<A: StableKey, B: StableKey> StableKey for (A, B) {
    #[inline]
    fn stable_hash(&self) -> u64 {
        let (a, b) = (self.0.stable_hash(), self.1.stable_hash());
        let mut buf = [0u8; 16];
        buf[..8].copy_from_slice(&a.to_le_bytes());
        buf[8..].copy_from_slice(&b.to_le_bytes());
        stable_hash_bytes(&buf)
    }
}

/// Key group of a hash: `hash % max_parallelism` (max_parallelism is a power of two).
#[inline]
pub fn key_group_of_hash(hash: u64, max_parallelism: u16) -> u16 {
    debug_assert!(max_parallelism.is_power_of_two());
    (hash & (max_parallelism as u64 - 1)) as u16
}

/// The contiguous key-group range owned by `worker` of `workers`:
/// `[w*M/N, (w+1)*M/N)`.
pub fn key_group_range(worker: usize, workers: usize, max_parallelism: u16) -> Range<u16> {
    let m = max_parallelism as usize;
    let start = worker * m / workers;
    let end = (worker + 1) * m / workers;
    start as u16..end as u16
}

/// The worker owning a key group: the inverse of [`key_group_range`].
#[inline]
pub fn worker_for_key_group(kg: u16, workers: usize, max_parallelism: u16) -> usize {
    // Smallest w with (w+1)*M/N > kg, i.e. floor(kg*N/M) adjusted; Flink's formula.
    kg as usize * workers / max_parallelism as usize
}

/// A precomputed routing table from key group to worker.
#[derive(Clone, Debug)]
pub struct KeyGroupRouter {
    mask: u64,
    owner: Vec<u16>,
}

impl KeyGroupRouter {
    /// Builds the table for `workers` workers over `max_parallelism` key groups.
    pub fn new(workers: usize, max_parallelism: u16) -> Self {
        let owner = (0..max_parallelism)
            .map(|kg| worker_for_key_group(kg, workers, max_parallelism) as u16)
            .collect();
        KeyGroupRouter {
            mask: max_parallelism as u64 - 1,
            owner,
        }
    }

    /// Key group of a stable hash.
    #[inline]
    pub fn key_group(&self, hash: u64) -> u16 {
        (hash & self.mask) as u16
    }

    /// Worker owning a key group.
    #[inline]
    pub fn worker(&self, kg: u16) -> usize {
        self.owner[kg as usize] as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_all_groups_and_agree_with_owner() {
        for m in [1u16, 2, 8, 128, 1024] {
            for n in 1..=8usize {
                if n > m as usize {
                    continue;
                }
                let mut next = 0;
                for w in 0..n {
                    let r = key_group_range(w, n, m);
                    assert_eq!(r.start, next);
                    for kg in r.clone() {
                        assert_eq!(worker_for_key_group(kg, n, m), w, "m={m} n={n} kg={kg}");
                    }
                    next = r.end;
                }
                assert_eq!(next, m);
            }
        }
    }

    #[test]
    fn hash_is_frozen() {
        // These values are persisted through checkpoints: they must never change.
        assert_eq!(42u64.stable_hash(), stable_hash_bytes(&42u64.to_le_bytes()));
        assert_eq!(42i64.stable_hash(), 42u64.stable_hash());
        assert_eq!("abc".stable_hash(), String::from("abc").stable_hash());
        let frozen = stable_hash_bytes(b"weir");
        assert_eq!(
            frozen,
            xxhash_rust::xxh3::xxh3_64_with_seed(b"weir", KEY_GROUP_SEED)
        );
    }
}
