//! Per key group filters of a run's hashes, and the search of a group's sorted index.
//!
//! A lookup that misses the cache asks every run, newest first, for the key. Without help
//! each ask is a binary search of the run's index: with many keys, most records miss the
//! cache and most runs do not hold the key (new keys, or keys only an older run has), so
//! every record paid up to [`super::merge_policy::MAX_RUNS`] searches in mapped memory. A [`Filter`] per
//! run and key group answers "certainly not here" from a few bytes of RAM for all but ~1 %
//! of those asks.
//!
//! The filter is a *register-blocked* Bloom filter: one 64-bit word per key (chosen by the
//! high bits of the mixed hash), [`BITS_SET`] bits set in that word. One memory access per
//! query, at [`BITS_PER_KEY`] to twice that bits per key. Filters live in memory only (the
//! run file format is unchanged): a run written by this process gets them from the hashes
//! it writes, a run mapped by a restore builds a group's filter on that group's first
//! lookup (reading the group's index once, so the restore itself stays zero-copy).
//!
//! [`search`] finds a hash in a group's index by interpolation (stable hashes are uniform,
//! so a guess from the hash's value lands within a page of the answer), falling back to
//! bisection after a few guesses: a hit touches a few cache lines instead of the
//! ~log2(entries) pages of a plain binary search.

#![allow(unsafe_code)] // only for `_mm_prefetch`, see `Filter::prefetch`

/// Bits per key (at least; the word count is rounded up to a power of two).
const BITS_PER_KEY: usize = 12;
/// Bits set (and tested) per key in its word.
const BITS_SET: u32 = 5;
/// 2⁶⁴ / φ: spreads the hash's bits into the high ones (the low 7 bits of the stable hashes
/// of one key group are all equal: they are the key group).
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;
/// A second odd multiplier, for the bit positions inside the word.
const MIX2: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// A Bloom filter of 64-bit hashes; see the module docs.
#[derive(Debug)]
pub(crate) struct Filter {
    /// A power of two of words.
    words: Box<[u64]>,
    /// `64 - log2(words.len())`.
    shift: u32,
}

impl Filter {
    /// A filter holding `hashes` (`n` of them, an upper bound is fine).
    pub(crate) fn build(n: usize, hashes: impl Iterator<Item = u64>) -> Filter {
        let words = (n * BITS_PER_KEY).div_ceil(64).max(1).next_power_of_two();
        let mut f = Filter {
            words: vec![0u64; words].into_boxed_slice(),
            shift: 64 - words.trailing_zeros(),
        };
        for h in hashes {
            let (w, mask) = f.locate(h);
            f.words[w] |= mask;
        }
        f
    }

    /// The word of `hash` and the bits it sets there.
    #[inline]
    fn locate(&self, hash: u64) -> (usize, u64) {
        let x = hash.wrapping_mul(MIX);
        // `checked_shr`: a one-word filter has shift 64 (every hash maps to word 0).
        let w = x.checked_shr(self.shift).unwrap_or(0) as usize;
        let mut y = hash.rotate_right(7).wrapping_mul(MIX2);
        let mut mask = 0u64;
        for _ in 0..BITS_SET {
            mask |= 1 << (y >> 58);
            y <<= 6;
        }
        (w, mask)
    }

    /// Whether `hash` may have been added (false: it certainly was not).
    #[inline]
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        let (w, mask) = self.locate(hash);
        self.words.get(w).is_some_and(|word| word & mask == mask)
    }

    /// Hints the CPU to load the word of `hash` (a no-op off x86-64).
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        if let Some(word) = self.words.get(self.locate(hash).0) {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let p: *const u64 = word;
            // SAFETY: prefetching is a hint that never faults or reads into the program, and
            // the address lies inside a live slice.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    /// Bytes of memory the filter holds.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}

/// Interpolation guesses before [`search`] bisects.
const GUESSES: usize = 4;
/// Below this many candidates [`search`] bisects straight away.
const SMALL: usize = 16;

/// The first `i` in `0..n` with `hash_at(i) >= target` (`hash_at` non-decreasing; `None`
/// reads as `u64::MAX`, i.e. "not before"), found by interpolation then bisection.
pub(crate) fn search(n: usize, target: u64, hash_at: impl Fn(usize) -> Option<u64>) -> usize {
    let at = |i| hash_at(i).unwrap_or(u64::MAX);
    // Invariant: entries before `lo` are < target, entries from `hi` on are >= target, and
    // the hashes in lo..hi lie in lo_h..=hi_h.
    let (mut lo, mut hi) = (0usize, n);
    let (mut lo_h, mut hi_h) = (0u64, u64::MAX);
    for _ in 0..GUESSES {
        if hi - lo <= SMALL {
            break;
        }
        // Saturating: a damaged (unsorted) index may break the invariant; the answer is
        // then wrong, as bisection's would be, but nothing overflows.
        let width = hi_h.saturating_sub(lo_h);
        let span = u128::from(width) + 1;
        let off = u128::from(target.saturating_sub(lo_h).min(width));
        let i = lo + ((off * (hi - lo) as u128) / span) as usize;
        let i = i.min(hi - 1);
        let h = at(i);
        if h < target {
            (lo, lo_h) = (i + 1, h);
        } else {
            (hi, hi_h) = (i, h);
        }
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at(mid) < target {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::generator::splitmix64;

    #[test]
    fn a_filter_has_no_false_negatives_and_few_false_positives() {
        // Hashes of one key group: equal low 7 bits, as the state's are.
        let hashes: Vec<u64> = (0..10_000u64).map(|i| splitmix64(i) << 7 | 5).collect();
        let f = Filter::build(hashes.len(), hashes.iter().copied());
        assert!(hashes.iter().all(|&h| f.may_contain(h)));
        let others = (10_000..110_000u64).map(|i| splitmix64(i) << 7 | 5);
        let false_pos = others.filter(|&h| f.may_contain(h)).count();
        // 12–24 bits per key, 5 bits set: well under 3 % (a filter that says "maybe" to
        // everything would give 100 000).
        assert!(false_pos < 3_000, "false positives: {false_pos}");
        assert!(f.bytes() <= hashes.len() * 24 / 8);
    }

    #[test]
    fn empty_and_tiny_filters_work() {
        let f = Filter::build(0, std::iter::empty());
        assert!(!f.may_contain(42));
        let f = Filter::build(1, [42].into_iter());
        assert!(f.may_contain(42));
    }

    #[test]
    fn search_agrees_with_a_linear_scan() {
        let mut v: Vec<u64> = (0..5000u64).map(splitmix64).collect();
        v.extend([0, 0, u64::MAX, u64::MAX, 77, 77, 77]);
        v.sort_unstable();
        for n in [0, 1, 2, 17, 100, v.len()] {
            let s = &v[..n];
            let probes = s.iter().copied().chain([0, 1, 76, 77, 78, u64::MAX]);
            let probes: Vec<u64> = probes
                .chain((0..200).map(|i| splitmix64(i + 9999)))
                .collect();
            for t in probes {
                let want = s.iter().position(|&h| h >= t).unwrap_or(n);
                assert_eq!(search(n, t, |i| s.get(i).copied()), want, "n={n} t={t}");
            }
        }
    }

    #[test]
    fn search_of_skewed_hashes_is_still_correct() {
        // All but one hash tiny: interpolation guesses badly and bisection must finish.
        let mut v: Vec<u64> = (0..1000u64).collect();
        v.push(u64::MAX - 1);
        for t in [0, 500, 999, 1000, u64::MAX - 1, u64::MAX] {
            let want = v.iter().position(|&h| h >= t).unwrap_or(v.len());
            assert_eq!(search(v.len(), t, |i| v.get(i).copied()), want);
        }
    }
}
