//! The rolling operator's output rows (the row of a one-field key written in place: issue 10,
//! step 7).
//!
//! The output row of the compiled sum + count plan with a one-field key is three values:
//! the key's value (moved out of the input row) and the two aggregates. Three
//! `SmallVec::push`es each check whether the row has spilled, compare its length with its
//! capacity and store the length back; here the three values are stored in the new row's
//! inline buffer at once and the length is set once.

#![allow(unsafe_code)] // writing a fresh row's inline buffer, see `push_row`

use super::KeyFields;
use crate::record::row_slot::push_empty;
use crate::record::{Row, RowKey, Value};
use crate::state::KeyContext;

/// Appends a row of exactly `values` to `out`, written where it stays.
#[inline]
pub(super) fn push_row<const N: usize>(out: &mut Vec<Row>, values: [Value; N]) {
    let row = push_empty(out);
    if row.is_empty() && row.capacity() >= N {
        let at = row.as_mut_ptr().cast::<[Value; N]>();
        // `row` is empty with room for at least `N` values (checked above), so its first `N`
        // slots are unused capacity.
        // SAFETY: writing `N` values there and setting the length to `N` initialises exactly
        // the elements the row then holds (none are overwritten or leaked).
        unsafe {
            at.write(values);
            row.set_len(N);
        }
    } else {
        // Unreachable (a new row is empty with 8 inline slots); kept safe rather than assumed.
        row.extend(values);
    }
}

/// Appends the output row of `input` to `out`, with the key's values, and returns it for the
/// aggregates. The row is built in its slot of `out` (not moved afterwards, nor copied in as
/// an empty row). Key values are cloned from the input's key fields (or decoded from the
/// key's bytes): a long string takes a buffer recycled on this thread (`record::Text`), while
/// the input row goes back to the thread that made it.
#[inline]
pub(super) fn output_row<'o>(
    out: &'o mut Vec<Row>,
    key_fields: Option<&KeyFields>,
    ctx: &KeyContext<'_, RowKey>,
    input: &mut Row,
) -> &'o mut Row {
    let row = push_empty(out);
    match key_fields {
        Some(KeyFields {
            fields, distinct, ..
        }) => {
            for &i in fields.iter() {
                row.push(match input.get_mut(i) {
                    Some(v) => key_value(v, *distinct),
                    None => Value::Null,
                });
            }
        }
        None => ctx.key.append_to(row),
    }
    row
}

/// The output's copy of the input's key value `v`: moved out of the input (a 16-byte copy;
/// `Value::clone` went through the stack with overlapping stores the loads could not forward
/// from, ~17 % of the worker's samples) when the key's fields are `distinct` and `v` holds no
/// heap buffer, else cloned (a heap string's buffer stays with the thread that made it, see
/// [`crate::operator::KeyedOperator::process`]). The input is dropped after the operator has seen it.
#[inline]
pub(super) fn key_value(v: &mut Value, distinct: bool) -> Value {
    match v {
        Value::Str(t) if t.is_heap_allocated() => Value::Str(t.clone()),
        v if distinct => std::mem::replace(v, Value::Null),
        v => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Text;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::I64),
            any::<f64>().prop_map(Value::F64),
            any::<i64>().prop_map(Value::Ts),
            Just(Value::Null),
            ".{0,40}".prop_map(|s| Value::Str(Text::new(&s))),
        ]
    }

    proptest! {
        /// Rows pushed in place equal rows built with `push`, after any rows before them;
        /// heap strings among the values are moved in, not leaked or freed twice (Miri and
        /// the allocation tests would see it; here their contents must survive).
        #[test]
        fn equals_pushing_each_value(
            rows in proptest::collection::vec(proptest::array::uniform3(value()), 1..40),
        ) {
            let mut fast: Vec<Row> = Vec::new();
            let mut slow: Vec<Row> = Vec::new();
            for r in &rows {
                push_row(&mut fast, r.clone());
                let mut row = Row::new();
                for v in r.iter().cloned() {
                    row.push(v);
                }
                slow.push(row);
            }
            prop_assert_eq!(&fast, &slow);
            let mut two: Vec<Row> = Vec::new();
            for r in &rows {
                push_row(&mut two, [r[0].clone(), r[2].clone()]);
            }
            for (a, b) in two.iter().zip(&rows) {
                prop_assert_eq!(a.as_slice(), &[b[0].clone(), b[2].clone()][..]);
            }
        }
    }
}
