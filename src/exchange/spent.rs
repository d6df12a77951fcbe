//! Clearing spent batches cheaply: rows that hold nothing on the heap are not dropped one
//! value at a time.
//!
//! A spent batch of the command line's row path is cleared on the thread that made its rows
//! (the sender's [`super::Outbox`], a sink after encoding). Running each [`Row`]'s destructor
//! visits every value and calls the string destructor for each string, ~100 instructions per
//! record with its key (PERF.md, "Issue 10, step 5 (session 7): exchange and stage"). Most rows
//! of such a path own no heap memory at all — their strings are inline (up to
//! [`crate::record::Text::INLINE`] bytes) and the row is not spilled — so a batch whose rows
//! are all of that kind is cleared by forgetting them. Rows with long (heap) strings are not
//! dropped value by value either: one pass moves every heap string's buffer to the thread's
//! free list under a single borrow of it (`Text::with_pool`), which leaves those rows
//! plain too (a spilled row is still dropped as usual). Batches of other record
//! types (the typed API) are cleared with `Vec::clear` (the type test is resolved at compile
//! time).
//!
//! Until the process makes its first heap text ([`Text::any_heap_made`]) — for good, in a
//! pipeline whose strings are all short — no value can own heap memory, and a row is checked
//! by one test (not spilled) instead of a look at each value (PERF.md, "Issue 10, step 7 (session 9):
//! the exchange, the stage and the emitters").

use crate::record::{Row, RowKey, Text, Value};
use std::any::Any;

/// Whether dropping `v` would free nothing (no heap string).
#[inline]
fn value_is_plain(v: &Value) -> bool {
    match v {
        Value::Str(t) => !t.is_heap_allocated(),
        _ => true,
    }
}

/// Whether dropping `values` (the inline part of a row or key) would free nothing. A fold
/// without early exit: one test per value and no branch (rows are short, and almost always
/// plain).
#[inline]
fn values_are_plain(values: &[Value]) -> bool {
    values
        .iter()
        .fold(true, |plain, v| plain & value_is_plain(v))
}

/// Whether dropping `row` would free nothing: not spilled, no heap string.
#[inline]
pub fn row_is_plain(row: &Row) -> bool {
    !row.spilled() && values_are_plain(row)
}

/// Whether dropping `key` would free nothing: its canonical bytes are inline.
#[inline]
pub fn key_is_plain(key: &RowKey) -> bool {
    !key.is_heap_allocated()
}

/// Empties `items` (keeping its capacity); when every item is plain by `plain`, without
/// running their destructors.
#[inline]
fn clear_plain<T>(items: &mut Vec<T>, plain: impl Fn(&T) -> bool) {
    if items.iter().fold(true, |all, item| all & plain(item)) {
        // Each item owns no heap memory (`plain`: a row not spilled whose texts are all
        // inline — known of every text, or made so by `clear_rows` — or a key whose
        // canonical bytes are inline) and none is read after this.
        #[allow(unsafe_code)]
        // SAFETY: 0 ≤ capacity; skipping these destructors leaks nothing (see above).
        unsafe {
            items.set_len(0)
        };
    } else {
        items.clear();
    }
}

/// Empties a batch of rows; `texts_inline`: no heap text exists (then a row that is not
/// spilled owns no heap memory, whatever its values). Otherwise the heap texts' buffers go
/// back to the free list first, in one pass under one borrow of it, which leaves every row
/// that is not spilled plain.
#[inline]
fn clear_rows(rows: &mut Vec<Row>, texts_inline: bool) {
    if !texts_inline {
        Text::with_pool(|texts| {
            for row in rows.iter_mut() {
                for v in row.iter_mut() {
                    if let Value::Str(t) = v {
                        texts.release(t);
                    }
                }
            }
        });
    }
    clear_plain(rows, |row| !row.spilled());
}

/// Empties a spent batch of records (keeping its capacity): batches of [`Row`]s and
/// [`RowKey`]s whose items own no heap memory skip the destructors; anything else is
/// `Vec::clear`.
#[inline]
pub fn clear_spent<T: 'static>(items: &mut Vec<T>) {
    let any = items as &mut dyn Any;
    if let Some(rows) = any.downcast_mut::<Vec<Row>>() {
        // The flag is read after the batch is ours: a heap text in it was made (and the flag
        // set) before it was handed to this thread.
        clear_rows(rows, !Text::any_heap_made());
    } else if let Some(keys) = any.downcast_mut::<Vec<RowKey>>() {
        clear_plain(keys, key_is_plain);
    } else {
        items.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Text;
    use smallvec::smallvec;

    fn row(key: &str) -> Row {
        smallvec![Value::Str(Text::new(key)), Value::I64(1), Value::Ts(2)]
    }

    #[test]
    fn plain_rows_are_told_from_heap_owning_ones() {
        assert!(row_is_plain(&row("short")));
        assert!(!row_is_plain(&row(&"x".repeat(40))));
        let spilled: Row = (0..9).map(Value::I64).collect();
        assert!(spilled.spilled());
        assert!(!row_is_plain(&spilled));
        assert!(key_is_plain(&RowKey::from_value(&Value::Str(Text::new(
            "k"
        )))));
        assert!(!key_is_plain(&RowKey::from_value(&Value::Str(Text::new(
            &"k".repeat(60)
        )))));
    }

    #[test]
    fn every_kind_of_batch_is_emptied_and_keeps_its_capacity() {
        let mut plain: Vec<Row> = (0..10).map(|i| row(&i.to_string())).collect();
        let mut mixed: Vec<Row> = vec![row("a"), row(&"y".repeat(50)), row("b")];
        let mut keys: Vec<RowKey> =
            vec![RowKey::from_value(&Value::Str(Text::new(&"z".repeat(60))))];
        let mut other: Vec<String> = vec!["s".repeat(100)];
        let caps = (
            plain.capacity(),
            mixed.capacity(),
            keys.capacity(),
            other.capacity(),
        );
        clear_spent(&mut plain);
        clear_spent(&mut mixed);
        clear_spent(&mut keys);
        clear_spent(&mut other);
        assert!(plain.is_empty() && mixed.is_empty() && keys.is_empty() && other.is_empty());
        let after = (
            plain.capacity(),
            mixed.capacity(),
            keys.capacity(),
            other.capacity(),
        );
        assert_eq!(caps, after);
    }

    use proptest::prelude::*;

    proptest! {
        /// Where every text is inline, the one test of the fast path (not spilled) decides
        /// as the check of every value does.
        #[test]
        fn without_heap_texts_not_spilled_means_plain(
            values in proptest::collection::vec(
                prop_oneof![
                    any::<i64>().prop_map(Value::I64),
                    "[a-z0-9]{0,15}".prop_map(|s: String| Value::Str(Text::new(&s))),
                    Just(Value::Null),
                ],
                0..12,
            ),
        ) {
            let row: Row = values.into_iter().collect();
            prop_assert_eq!(!row.spilled(), row_is_plain(&row));
        }
    }

    #[test]
    fn rows_are_emptied_either_way_and_heap_texts_dropped_when_some_exist() {
        for texts_inline in [false, true] {
            let mut rows: Vec<Row> = vec![row("a"), (0..9).map(Value::I64).collect()];
            let cap = rows.capacity();
            clear_rows(&mut rows, texts_inline);
            assert!(rows.is_empty() && rows.capacity() == cap);
        }
        let long = "v".repeat(40);
        let mut rows = vec![row("a"), row(&long)];
        let before = match &rows[1][0] {
            Value::Str(t) => t.as_str().as_ptr(),
            _ => unreachable!(),
        };
        clear_rows(&mut rows, false);
        assert_eq!(
            Text::new(&long).as_str().as_ptr(),
            before,
            "dropped, not leaked"
        );
    }

    #[test]
    fn a_batch_with_heap_texts_and_a_spilled_row_gives_every_buffer_back() {
        let long = |c: &str| c.repeat(Text::INLINE + 1 + 20);
        let mut spilled: Row = (0..9).map(Value::I64).collect();
        spilled.push(Value::Str(Text::new(&long("s"))));
        let mut rows = vec![row(&long("a")), row("b"), spilled, row(&long("c"))];
        let ptrs: Vec<*const u8> = [(0, 0), (2, 9), (3, 0)]
            .iter()
            .map(|&(r, v)| match &rows[r][v] {
                Value::Str(t) => t.as_str().as_ptr(),
                _ => unreachable!(),
            })
            .collect();
        clear_rows(&mut rows, false);
        assert!(rows.is_empty());
        // All three buffers are on this thread's free list: the next three long texts take
        // them (in some order).
        let again: Vec<Text> = (0..3).map(|_| Text::new(&long("z"))).collect();
        for p in ptrs {
            assert!(again.iter().any(|t| t.as_str().as_ptr() == p), "leaked");
        }
    }

    #[test]
    fn making_a_heap_text_is_noted_for_good() {
        let t = Text::new(&"h".repeat(Text::INLINE + 1));
        assert!(t.is_heap_allocated() && Text::any_heap_made());
        drop(t);
        assert!(Text::any_heap_made());
    }

    #[test]
    fn heap_strings_of_a_cleared_batch_are_released() {
        // A long string's buffer goes back to this thread's free list when its row is dropped,
        // and the next long string built here takes it: the same address.
        let long = "w".repeat(64);
        let mut rows = vec![row(&long)];
        let before = match &rows[0][0] {
            Value::Str(t) => t.as_str().as_ptr(),
            _ => unreachable!(),
        };
        clear_spent(&mut rows);
        let again = Text::new(&long);
        assert_eq!(
            again.as_str().as_ptr(),
            before,
            "the buffer was dropped, not leaked"
        );
    }
}
