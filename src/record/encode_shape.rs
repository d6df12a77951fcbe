//! Row loops specialised to the plan's shape (issue 10, step 7).
//!
//! The general loop of [`Plan`] dispatches on each column's kind through a jump table and
//! keeps the row's state in memory around it (~25 instructions per column). Most output
//! schemas are integers (counts, sums, timestamps) after at most one leading string (the
//! key): for those, [`Shape::StrInts`] and [`Shape::Ints`] write the leading string, then
//! every other column with the same straight-line code (an integer, CSV's separator or
//! JSON's next head). The shape is chosen once per batch ([`encode_rows`]), so a row pays no
//! dispatch on it. A row that does not fit (another length, a null, another type, a string
//! that needs quotes or escapes) is rewound and written by the general path, as in [`Plan`].

#![allow(unsafe_code)]

use super::encode_plan::{text, Col, Kind, Plan};
use super::out_cursor::Cursor;
use super::{Row, Value};

/// Which row loop a plan's rows take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Integer columns ([`Kind::I64`] / [`Kind::Ts`]), after a string column if `lead`;
    /// `ts` when any of them is a timestamp (else each value is only checked for `I64`).
    Ints {
        /// The first column is a string ([`Kind::Str`]) and at least one integer follows.
        lead: bool,
        /// Some integer column is a timestamp.
        ts: bool,
    },
    /// Anything else: the general loop of [`Plan`].
    Other,
}

impl Shape {
    /// The shape of a plan with these columns.
    pub(super) fn of(cols: &[Col]) -> Shape {
        let int = |c: &Col| matches!(c.kind, Kind::I64 | Kind::Ts);
        let lead = cols.len() >= 2 && cols[0].kind == Kind::Str;
        let ints = &cols[usize::from(lead)..];
        if ints.is_empty() || !ints.iter().all(int) {
            return Shape::Other;
        }
        let ts = ints.iter().any(|c| c.kind == Kind::Ts);
        Shape::Ints { lead, ts }
    }
}

/// Writes every row of `batch`: through the plan's loop for its shape when the row fits,
/// else through `general` (which appends the row's line to the vector).
#[inline(always)]
pub(crate) fn encode_rows<const JSON: bool>(
    plan: &Plan,
    batch: &[Row],
    c: &mut Cursor<'_>,
    general: impl Fn(&Row, &mut Vec<u8>),
) {
    match plan.shape {
        Shape::Ints {
            lead: true,
            ts: false,
        } => {
            each(batch, c, &general, |r, c| {
                plan.ints_row::<JSON, true, false>(r, c)
            });
        }
        Shape::Ints {
            lead: true,
            ts: true,
        } => {
            each(batch, c, &general, |r, c| {
                plan.ints_row::<JSON, true, true>(r, c)
            });
        }
        Shape::Ints {
            lead: false,
            ts: false,
        } => {
            each(batch, c, &general, |r, c| {
                plan.ints_row::<JSON, false, false>(r, c)
            });
        }
        Shape::Ints {
            lead: false,
            ts: true,
        } => {
            each(batch, c, &general, |r, c| {
                plan.ints_row::<JSON, false, true>(r, c)
            });
        }
        Shape::Other => each(batch, c, &general, |r, c| {
            if JSON {
                plan.json_row(r, c)
            } else {
                plan.csv_row(r, c)
            }
        }),
    }
}

/// Writes each row by `fast`, or by `general` where `fast` declines it.
#[inline(always)]
fn each(
    batch: &[Row],
    c: &mut Cursor<'_>,
    general: &impl Fn(&Row, &mut Vec<u8>),
    fast: impl Fn(&Row, &mut Cursor<'_>) -> bool,
) {
    for row in batch {
        if !fast(row, c) {
            c.with_vec(|out| general(row, out));
        }
    }
}

impl Plan {
    /// Writes `row` when it fits a plan of shape [`Shape::Ints`] with these `lead` (`LEAD`)
    /// and `ts` (`TS`) and returns true; otherwise writes nothing (the cursor is rewound)
    /// and returns false.
    #[inline(always)]
    fn ints_row<const JSON: bool, const LEAD: bool, const TS: bool>(
        &self,
        row: &Row,
        c: &mut Cursor<'_>,
    ) -> bool {
        let values = row.as_slice();
        if values.len() != self.cols.len() {
            return false;
        }
        let bound = self.bound;
        c.ensure(bound);
        let start = c.len();
        if self.ints::<JSON, LEAD, TS>(values, c, bound) {
            true
        } else {
            c.rewind(start);
            false
        }
    }

    /// The body of [`Plan::ints_row`] for `values` (as many as the plan's columns), with
    /// `bound` bytes of room ensured; false as soon as a value does not fit.
    #[inline(always)]
    fn ints<const JSON: bool, const LEAD: bool, const TS: bool>(
        &self,
        values: &[Value],
        c: &mut Cursor<'_>,
        bound: usize,
    ) -> bool {
        let (mut cols, mut values) = (&self.cols[..], values);
        // Before each column the room left covers the rest of the row (`bound` minus what was
        // written since it was ensured, keeping HEAD bytes of slack): its head (or separator)
        // and at most MAX_SCALAR bytes of value are in `bound`; a longer string ensures its
        // length on top of `bound` before it is written.
        if LEAD {
            let (Some((col, rest_cols)), Some((value, rest))) =
                (cols.split_first(), values.split_first())
            else {
                return false;
            };
            let Value::Str(s) = value else {
                return false;
            };
            // SAFETY: within the room described above.
            unsafe {
                if JSON {
                    col.head(c);
                }
                if !text::<JSON>(c, s, bound) {
                    return false;
                }
                if !JSON {
                    c.byte(b',');
                }
            }
            (cols, values) = (rest_cols, rest);
        }
        // Columns and values advance as two pointers (a zip of the slices indexes both);
        // CSV without timestamps reads no column at all.
        let mut cols = cols.iter();
        for value in values {
            let x = if TS || JSON {
                let Some(col) = cols.next() else {
                    return false;
                };
                if JSON {
                    // SAFETY: within the room described above.
                    unsafe { col.head(c) };
                }
                match (TS && col.kind == Kind::Ts, value) {
                    (true, Value::Ts(x)) | (false, Value::I64(x)) => *x,
                    _ => return false,
                }
            } else {
                match value {
                    Value::I64(x) => *x,
                    _ => return false,
                }
            };
            // SAFETY: within the room described above.
            unsafe {
                c.i64(x);
                if !JSON {
                    c.byte(b',');
                }
            }
        }
        if JSON {
            // SAFETY: the tail is in `bound` (with HEAD bytes of slack).
            unsafe { self.tail.head(c) };
        } else {
            // The last separator becomes the line's end.
            // SAFETY: a row of the shape has at least one column, so a separator was written.
            unsafe { c.set_last(b'\n') };
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{Plan, Shape};
    use crate::record::{Field, FieldType, Schema};

    fn shape(types: &[FieldType]) -> Option<Shape> {
        let fields = types.iter().enumerate();
        let schema = Schema {
            fields: fields
                .map(|(i, &ty)| Field {
                    name: format!("f{i}"),
                    ty,
                })
                .collect(),
        };
        let csv = Plan::csv(&schema).map(|p| p.shape);
        let json = Plan::json(&schema, vec![b",\"f\":".to_vec(); types.len()]).map(|p| p.shape);
        assert_eq!(csv, json);
        csv
    }

    #[test]
    fn shapes_of_schemas() {
        use FieldType::{String as S, Timestamp as T, F64, I64};
        let ints = |lead, ts| Some(Shape::Ints { lead, ts });
        assert_eq!(shape(&[S, I64, I64]), ints(true, false));
        assert_eq!(shape(&[S, I64, T]), ints(true, true));
        assert_eq!(shape(&[I64]), ints(false, false));
        assert_eq!(shape(&[T, I64]), ints(false, true));
        assert_eq!(shape(&[S]), Some(Shape::Other));
        assert_eq!(shape(&[S, S, I64]), Some(Shape::Other));
        assert_eq!(shape(&[S, I64, F64]), Some(Shape::Other));
        assert_eq!(shape(&[I64, S]), Some(Shape::Other));
        assert_eq!(shape(&[]), None);
    }
}
