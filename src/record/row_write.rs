//! Writing a decoded row's values into its inline slots without `SmallVec::push`.
//!
//! `push` asks "spilled?" (to find the length and buffer) and "full?" for every value: ~10
//! instructions a value, ~26 per 3-field CSV line (PERF.md, "Issue 10, step 6 (session 8)").
//! A decoder that knows its row is empty and its field count at most the inline capacity
//! takes the slots' pointer once and writes the values one after the other; the row's length
//! is set once, when the writer is dropped.

use super::{Row, Value};

/// Values a [`Row`] keeps inline.
const INLINE: usize = 8;

/// Writes values, in order, into the inline slots of an empty, unspilled row.
///
/// Invariant: `slots` points at the row's first inline slot. While `len <= INLINE`, the first
/// `len` slots hold values written by [`RowWriter::put`] that the row does not own yet (its
/// length is 0 until the writer is dropped, which sets it to `len`); `len > INLINE` means the
/// row took them already and further values are pushed.
pub(crate) struct RowWriter<'a> {
    row: &'a mut Row,
    slots: *mut Value,
    len: usize,
}

impl<'a> RowWriter<'a> {
    /// A writer for `row`, when `row` is empty and not spilled (its slots are the inline ones).
    #[inline]
    pub(crate) fn new(row: &'a mut Row) -> Option<Self> {
        if !row.is_empty() || row.spilled() || row.inline_size() != INLINE {
            return None;
        }
        let slots = row.as_mut_ptr();
        Some(RowWriter { row, slots, len: 0 })
    }

    /// Appends `v`. A value past the inline capacity is pushed the ordinary way (never, for a
    /// decoder that checked its field count).
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(crate) fn put(&mut self, v: Value) {
        if self.len < INLINE {
            // `slots` is the row's inline buffer of `INLINE` values (checked in `new`; the row
            // is borrowed by the writer, so it cannot spill or move meanwhile), and slot `len`
            // is past the values written so far: writing it overwrites nothing live.
            // SAFETY: `len < INLINE`, so the slot is within the buffer.
            unsafe { self.slots.add(self.len).write(v) };
            self.len += 1;
        } else {
            self.spill(v);
        }
    }

    /// [`RowWriter::put`] past the inline capacity: the row takes the written values, then `v`.
    #[cold]
    fn spill(&mut self, v: Value) {
        self.commit();
        self.len = INLINE + 1; // from now on, values are pushed
        self.row.push(v);
    }

    /// Hands the written values to the row.
    #[allow(unsafe_code)]
    #[inline(always)]
    fn commit(&mut self) {
        if (1..=INLINE).contains(&self.len) {
            // SAFETY: the first `len` inline slots were initialised by `put` (the invariant)
            // and the row's length was 0, so it now owns exactly them.
            unsafe { self.row.set_len(self.len) };
            self.len = 0;
        }
    }
}

/// Fills the new (empty, unspilled) `row` with `N ≤ 8` values of a shape decoder
/// (`csv_shape`, `json_shape`), each written once into its inline slot and the length set
/// once: value `k` is `Str(text(k))` when bit `k` of `STRINGS` is set, else `Ts(ints[k])`
/// when bit `k` of `ts` is, else `I64(ints[k])`. Each variant is written where it is made
/// (one store per value: a `Value` built first and then written copied its padding too).
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn write_shaped<const N: usize, const STRINGS: u32>(
    row: &mut Row,
    ts: u32,
    ints: &[i64; N],
    mut text: impl FnMut(usize) -> super::Text,
) {
    if !row.is_empty() || row.spilled() || row.inline_size() < N {
        // Never for a new row of a shape (at most 4 fields); kept safe rather than assumed.
        for (k, &i) in ints.iter().enumerate() {
            row.push(match () {
                _ if STRINGS >> k & 1 == 1 => Value::Str(text(k)),
                _ if ts >> k & 1 == 1 => Value::Ts(i),
                _ => Value::I64(i),
            });
        }
        return;
    }
    let slots = row.as_mut_ptr();
    for (k, &i) in ints.iter().enumerate() {
        // `slots` is the row's inline buffer of at least `N` values (checked above) and the
        // row is empty, so slot `k < N` holds nothing live.
        if STRINGS >> k & 1 == 1 {
            let v = Value::Str(text(k));
            // SAFETY: slot `k` is within the inline buffer and free (see above).
            unsafe { slots.add(k).write(v) };
        } else if ts >> k & 1 == 1 {
            // SAFETY: slot `k` is within the inline buffer and free (see above).
            unsafe { slots.add(k).write(Value::Ts(i)) };
        } else {
            // SAFETY: slot `k` is within the inline buffer and free (see above).
            unsafe { slots.add(k).write(Value::I64(i)) };
        }
    }
    // SAFETY: the loop initialised the first `N` slots and the row's length was 0, so it
    // now owns exactly them.
    unsafe { row.set_len(N) };
}

impl Drop for RowWriter<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.commit();
    }
}

#[cfg(test)]
mod tests {
    use super::{write_shaped, RowWriter};
    use crate::record::{Row, Text, Value};

    fn value(i: usize) -> Value {
        match i % 3 {
            0 => Value::I64(i as i64),
            1 => Value::Str(Text::new(&"long text ".repeat(i % 5 + 1))),
            _ => Value::Str(Text::new("k")),
        }
    }

    #[test]
    fn writes_as_push_would_at_every_length() {
        for n in 0..12 {
            let mut row = Row::new();
            {
                let mut w = RowWriter::new(&mut row).expect("an empty inline row");
                (0..n).for_each(|i| w.put(value(i)));
            }
            let want: Row = (0..n).map(value).collect();
            assert_eq!(row, want);
        }
    }

    #[test]
    fn refuses_rows_that_are_not_empty_or_spilled() {
        let mut row: Row = (0..1).map(value).collect();
        assert!(RowWriter::new(&mut row).is_none());
        let mut row: Row = (0..9).map(value).collect();
        row.clear();
        assert!(row.spilled());
        assert!(RowWriter::new(&mut row).is_none());
    }

    /// Every shape of 3 fields (string / timestamp / integer per field), on a new row and
    /// on a row that already holds a value (the pushing fallback): as pushed one by one.
    #[test]
    fn shaped_rows_hold_the_values_a_push_would() {
        const N: usize = 3;
        let ints = [7, -3, i64::MAX];
        let text = |k: usize| Text::new(&"s".repeat(k * 9));
        for ts in 0..8u32 {
            let expected = |strings: u32| -> Vec<Value> {
                (0..N)
                    .map(|k| match () {
                        _ if strings >> k & 1 == 1 => Value::Str(text(k)),
                        _ if ts >> k & 1 == 1 => Value::Ts(ints[k]),
                        _ => Value::I64(ints[k]),
                    })
                    .collect()
            };
            let mut new = Row::new();
            write_shaped::<N, 0b101>(&mut new, ts, &ints, text);
            assert_eq!(new.to_vec(), expected(0b101), "ts mask {ts:03b}");
            let mut used: Row = [Value::Null].into_iter().collect();
            write_shaped::<N, 0b010>(&mut used, ts, &ints, text);
            let mut want = vec![Value::Null];
            want.extend(expected(0b010));
            assert_eq!(used.to_vec(), want, "ts mask {ts:03b}, fallback");
        }
    }
}
