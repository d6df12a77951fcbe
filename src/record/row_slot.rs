//! Appending an empty [`Row`] to a batch in place.
//!
//! `Vec::push(Row::new())` builds the row and then copies all of its 136 bytes into the
//! batch (a `memcpy` call of ~30 instructions), although only its length is initialised.
//! Writing the new row straight into the batch's spare capacity initialises the length
//! there and copies nothing (PERF.md, "Issue 10, step 5 (session 7)").

use super::Row;

/// Appends an empty row to `out` and returns it, to be filled where it stays.
#[inline]
pub fn push_empty(out: &mut Vec<Row>) -> &mut Row {
    out.reserve(1);
    let len = out.len();
    if let Some(spare) = out.spare_capacity_mut().first_mut() {
        spare.write(Row::new());
        // `spare` is the slot at index `len`, within the capacity reserved above, and
        // `MaybeUninit::write` just initialised it with a row.
        #[allow(unsafe_code)]
        // SAFETY: so the first `len + 1` elements are initialised and within capacity.
        unsafe {
            out.set_len(len + 1);
        }
    } else {
        // Unreachable (one slot was reserved); kept safe rather than assumed.
        out.push(Row::new());
    }
    let last = out.len() - 1;
    &mut out[last]
}

#[cfg(test)]
mod tests {
    use super::push_empty;
    use crate::record::{Row, Text, Value};

    #[test]
    fn appends_an_empty_row_that_stays_where_it_was_filled() {
        let mut out: Vec<Row> = Vec::new();
        for i in 0..100 {
            let row = push_empty(&mut out);
            assert!(row.is_empty());
            row.push(Value::I64(i));
            row.push(Value::Str(Text::new(&"x".repeat(i as usize % 40))));
        }
        assert_eq!(out.len(), 100);
        for (i, row) in out.iter().enumerate() {
            assert_eq!(row[0], Value::I64(i as i64));
            assert_eq!(row[1], Value::Str(Text::new(&"x".repeat(i % 40))));
        }
    }
}
