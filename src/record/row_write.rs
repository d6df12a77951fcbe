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

impl Drop for RowWriter<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.commit();
    }
}

#[cfg(test)]
mod tests {
    use super::RowWriter;
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
}
