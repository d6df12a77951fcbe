//! Moving a short row into another worker's batch without its unused inline slots.
//!
//! A [`Row`] is a `SmallVec` of 8 inline [`Value`]s: 136 bytes, of which a row of three fields
//! uses 56 (three values and the length word); the other slots are uninitialised memory. When
//! a batch is routed to several workers, every row is copied once into its destination's
//! batch ([`super::scatter`]): copying only the first four values and the length word of a
//! short row writes 72 bytes instead of 136, and that much less crosses to the other core, for
//! ~13 instructions (with the test) instead of 18 (PERF.md, "Issue 10, step 8 (session 10):
//! two workers").
//!
//! The layout of a `SmallVec` is the compiler's choice (with the `union` feature, a word holding
//! the capacity or, inline, the length, and a union of the inline values and the heap pointer
//! and length; rustc places the union first), so it is checked once on a probe row; where it is
//! not as expected, every row is moved whole.

use super::scatter::move_item;
use crate::record::{Row, Value};
use std::any::TypeId;
use std::mem::size_of;
use std::sync::OnceLock;

/// Most values a row may hold to be moved by its prefix.
const SHORT: usize = 4;

/// Bytes of a row's first `SHORT` inline values.
const VALUES: usize = SHORT * size_of::<Value>();

/// Offset of the length word, after the 8 inline values.
const WORD_AT: usize = 8 * size_of::<Value>();

/// Whether a [`Row`] is its 8 inline values followed by one word, so that a row held inline
/// is whole in its first `len` values and its last word (checked once, on a probe row).
fn prefix_layout() -> bool {
    static LAYOUT: OnceLock<bool> = OnceLock::new();
    *LAYOUT.get_or_init(|| {
        let probe: Row = (0..3).map(Value::I64).collect();
        let base = (&probe as *const Row).cast::<u8>();
        size_of::<Row>() == WORD_AT + size_of::<usize>()
            && !probe.spilled()
            && probe.as_ptr().cast::<u8>() == base
    })
}

/// Whether records of type `I` are rows to be moved by [`move_record`]'s prefix copy: `I` is
/// [`Row`] and the probe found the expected layout.
#[inline]
pub fn enabled<I: 'static>() -> bool {
    TypeId::of::<I>() == TypeId::of::<Row>() && prefix_layout()
}

/// Moves one record from `src` to `dst` as [`move_item`] does; when `short_rows` (the value of
/// [`enabled`] for `I`), a row held inline with at most [`SHORT`] values is moved by its first
/// [`VALUES`] bytes and its length word, leaving `dst`'s other inline slots uninitialised.
///
/// Callers guarantee what `copy_nonoverlapping(src, dst, 1)` needs: `src` valid for reading
/// one `I`, `dst` valid for writing one, both aligned, the two not overlapping.
#[allow(unsafe_code)]
#[inline(always)]
// SAFETY: the contract above; a prefix copy covers every initialised byte of the row (below).
pub unsafe fn move_record<I: 'static>(src: *const I, dst: *mut I, short_rows: bool) {
    if short_rows {
        let row = src.cast::<Row>();
        // SAFETY: `short_rows` means `I` is `Row` (`enabled`); `src` is valid for reads.
        let short = unsafe { !(*row).spilled() && (*row).len() <= SHORT };
        if short {
            // The probe found the inline values at offset 0 and the word at `WORD_AT`; the row
            // is inline with at most `SHORT` values, so bytes `VALUES..WORD_AT` are unused
            // inline slots (`MaybeUninit` in the `SmallVec`'s union), needing no value.
            let (s, d) = (row.cast::<u8>(), dst.cast::<u8>());
            // SAFETY: both point to a whole `Row` (the caller's contract), not overlapping;
            // bytes `0..VALUES` and `WORD_AT..WORD_AT + 8` lie within it.
            unsafe {
                std::ptr::copy_nonoverlapping(s, d, VALUES);
                std::ptr::copy_nonoverlapping(s.add(WORD_AT), d.add(WORD_AT), size_of::<usize>());
            }
            return;
        }
    }
    // SAFETY: the caller's contract.
    unsafe { move_item(src, dst) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{scatter::scatter, Batch, KeyedBatch};
    use crate::record::Text;

    /// A row of `n` values: strings short and long (heap), integers, nulls and timestamps.
    fn row(n: usize, seed: usize) -> Row {
        (0..n)
            .map(|j| match (seed + j) % 5 {
                0 => Value::Str(Text::new(&format!("s{seed}-{j}"))),
                1 => Value::Str(Text::new(&"L".repeat(20 + seed % 7))),
                2 => Value::I64((seed * 31 + j) as i64),
                3 => Value::Null,
                _ => Value::Ts(seed as i64 - 7),
            })
            .collect()
    }

    #[test]
    fn rows_have_the_layout_of_the_prefix_copy() {
        assert!(enabled::<Row>(), "the fast path is the one tested below");
        assert!(!enabled::<Vec<Value>>());
    }

    #[test]
    fn rows_of_every_length_arrive_equal_and_are_dropped_once() {
        let rows: Vec<Row> = (0..400).map(|i| row(i % 12, i)).collect();
        assert!(rows.iter().any(|r| r.spilled()));
        let mut bufs: Vec<KeyedBatch<u64, Row>> =
            (0..3).map(|_| KeyedBatch::with_capacity(1)).collect();
        let hashes: Vec<u64> = (0..400).collect();
        let mut keys = hashes.clone();
        let mut values = rows.clone();
        scatter(
            &mut bufs,
            |h| (h % 3) as usize,
            &hashes,
            &mut keys,
            &mut values,
        );
        for (d, b) in bufs.iter_mut().enumerate() {
            let (h, k, v) = b.parts_mut();
            let want: Vec<&Row> = rows.iter().skip(d).step_by(3).collect();
            assert_eq!(h, k);
            assert_eq!(v.iter().collect::<Vec<_>>(), want);
            // A moved row is a whole row: it grows and clones like any other.
            for r in v.iter_mut() {
                r.push(Value::I64(1));
                assert_eq!(r.clone(), *r);
            }
        }
    }
}
