//! Running the compiled stateless ops on rows.

use super::expr::Expr;
use super::expr_eval::Node;
use super::spec::{Cmp, StatelessOp};
use crate::record::{Row, Value};
use std::cmp::Ordering;

impl Cmp {
    /// Whether `ord` (left compared with right) satisfies the comparison.
    pub fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Ne => ord != Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

/// Orders two values of the same type: i64 with i64, f64 with f64, strings lexicographically
/// (by bytes), timestamps as milliseconds. `None` for null, NaN or mismatched types.
pub fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::I64(a), Value::I64(b)) | (Value::Ts(a), Value::Ts(b)) => Some(a.cmp(b)),
        (Value::F64(a), Value::F64(b)) => a.partial_cmp(b),
        (Value::Str(a), Value::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

impl StatelessOp {
    /// Runs the op on one row: `Some(row)` to pass it on (projected for `Select`), `None` to
    /// drop it. A filter drops rows whose field is null, NaN or of another type than the
    /// constant (the comparison is then undefined, SQL-style).
    pub fn apply(&self, mut row: Row) -> Option<Row> {
        self.apply_in_place(&mut row).then_some(row)
    }

    /// Runs the op on `row` in place: false to drop it (see [`StatelessOp::apply`]). A select
    /// moves each field to its new place (cloning only fields it names twice), so it does not
    /// allocate for long strings.
    #[inline]
    pub fn apply_in_place(&self, row: &mut Row) -> bool {
        match self {
            StatelessOp::Filter {
                index,
                cmp,
                constant,
            } => row
                .get(*index)
                .and_then(|v| compare(v, constant))
                .is_some_and(|ord| cmp.holds(ord)),
            StatelessOp::Select { indices } => {
                select(row, indices);
                true
            }
            StatelessOp::Where(e) => e.test(row),
            StatelessOp::Project(columns) => {
                project(row, columns);
                true
            }
        }
    }
}

/// Keeps the fields `indices` of `row`, in that order. When they are increasing (the usual
/// projection), field `indices[j]` is swapped down to place `j` and the rest truncated: no row
/// is copied. Otherwise a new row takes each field, cloned only when it is named again later.
fn select(row: &mut Row, indices: &[usize]) {
    let increasing = indices.windows(2).all(|w| w[0] < w[1]);
    if increasing && indices.last().is_none_or(|&i| i < row.len()) {
        for (j, &i) in indices.iter().enumerate() {
            row.swap(j, i);
        }
        row.truncate(indices.len());
        return;
    }
    let mut out = Row::new();
    for (j, &i) in indices.iter().enumerate() {
        let last_use = !indices[j + 1..].contains(&i);
        out.push(match row.get_mut(i) {
            Some(v) if last_use => std::mem::replace(v, Value::Null),
            Some(v) => v.clone(),
            None => Value::Null,
        });
    }
    *row = out;
}

/// Replaces `row` with the values of `columns`. Computed columns are evaluated first (they
/// read the row); then a column that only names a field moves that field at its last use,
/// and clones it at earlier ones, so passing a string through does not allocate.
fn project(row: &mut Row, columns: &[Expr]) {
    if in_place(columns, row.len()) {
        project_in_place(row, columns);
    } else {
        project_new(row, columns);
    }
}

/// [`project`] into a new row.
fn project_new(row: &mut Row, columns: &[Expr]) {
    let mut out: Row = columns
        .iter()
        .map(|c| match c.node {
            Node::Field(_) => Value::Null,
            _ => c.value(row),
        })
        .collect();
    for (j, (c, slot)) in columns.iter().zip(out.iter_mut()).enumerate() {
        let Node::Field(i) = c.node else { continue };
        let used_later = columns[j + 1..]
            .iter()
            .any(|later| matches!(later.node, Node::Field(k) if k == i));
        *slot = match row.get_mut(i) {
            Some(v) if !used_later => std::mem::replace(v, Value::Null),
            Some(v) => v.clone(),
            None => Value::Null,
        };
    }
    *row = out;
}

/// Whether the passed-through fields of `columns` can be moved down within the row: they
/// are increasing, each at or after its column's place, and inside a row of `len` fields.
fn in_place(columns: &[Expr], len: usize) -> bool {
    let mut last = None;
    columns.iter().enumerate().all(|(j, c)| match c.node {
        Node::Field(i) => {
            let ok = i >= j && i < len && last.is_none_or(|l| i > l);
            last = Some(i);
            ok
        }
        _ => true,
    })
}

/// [`project`] without a new row (see [`in_place`]): the computed columns are evaluated
/// first, then each passed-through field is swapped down to its place (as a select does),
/// the row truncated and the computed values written to theirs.
fn project_in_place(row: &mut Row, columns: &[Expr]) {
    let computed: smallvec::SmallVec<[(usize, Value); 2]> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(c.node, Node::Field(_)))
        .map(|(j, c)| (j, c.value(row)))
        .collect();
    for (j, c) in columns.iter().enumerate() {
        if let Node::Field(i) = c.node {
            row.swap(j, i);
        }
    }
    row.truncate(columns.len());
    for (j, v) in computed {
        match row.get_mut(j) {
            Some(slot) => *slot = v,
            // Computed columns past the input's fields come last, in order.
            None => row.push(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Row;

    fn row(values: &[Value]) -> Row {
        values.iter().cloned().collect()
    }

    fn filter(index: usize, cmp: Cmp, constant: Value) -> StatelessOp {
        StatelessOp::Filter {
            index,
            cmp,
            constant,
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn filter_i64_every_comparison() {
        let r = row(&[s("a"), Value::I64(10)]);
        let cases = [
            (Cmp::Eq, 10, true),
            (Cmp::Eq, 11, false),
            (Cmp::Ne, 11, true),
            (Cmp::Ne, 10, false),
            (Cmp::Lt, 11, true),
            (Cmp::Lt, 10, false),
            (Cmp::Le, 10, true),
            (Cmp::Le, 9, false),
            (Cmp::Gt, 9, true),
            (Cmp::Gt, 10, false),
            (Cmp::Ge, 10, true),
            (Cmp::Ge, 11, false),
        ];
        for (cmp, c, keep) in cases {
            let out = filter(1, cmp, Value::I64(c)).apply(r.clone());
            assert_eq!(out.is_some(), keep, "10 {cmp:?} {c}");
            if keep {
                assert_eq!(out.unwrap(), r);
            }
        }
    }

    #[test]
    fn filter_f64_string_and_timestamp() {
        let r = row(&[s("bob"), Value::F64(2.5), Value::Ts(1_000)]);
        assert!(filter(1, Cmp::Gt, Value::F64(2.0))
            .apply(r.clone())
            .is_some());
        assert!(filter(1, Cmp::Lt, Value::F64(2.0))
            .apply(r.clone())
            .is_none());
        // Lexicographic: "bob" > "alice", "bob" < "bobby".
        assert!(filter(0, Cmp::Gt, s("alice")).apply(r.clone()).is_some());
        assert!(filter(0, Cmp::Lt, s("bobby")).apply(r.clone()).is_some());
        assert!(filter(0, Cmp::Eq, s("Bob")).apply(r.clone()).is_none());
        assert!(filter(2, Cmp::Ge, Value::Ts(1_000))
            .apply(r.clone())
            .is_some());
        assert!(filter(2, Cmp::Gt, Value::Ts(1_000)).apply(r).is_none());
    }

    #[test]
    fn filter_drops_null_nan_and_mismatched_types() {
        let null = row(&[Value::Null]);
        assert!(filter(0, Cmp::Ne, Value::I64(1)).apply(null).is_none());
        let nan = row(&[Value::F64(f64::NAN)]);
        assert!(filter(0, Cmp::Ne, Value::F64(1.0)).apply(nan).is_none());
        let int = row(&[Value::I64(1)]);
        assert!(filter(0, Cmp::Eq, Value::F64(1.0))
            .apply(int.clone())
            .is_none());
        // Out-of-range index: dropped, not a panic.
        assert!(filter(5, Cmp::Eq, Value::I64(1)).apply(int).is_none());
    }

    #[test]
    fn select_projects_reorders_and_duplicates() {
        let r = row(&[s("k"), Value::I64(7), Value::Ts(3)]);
        let op = StatelessOp::Select {
            indices: vec![2, 0, 1, 1],
        };
        let out = op.apply(r).unwrap();
        assert_eq!(
            out.as_slice(),
            &[Value::Ts(3), s("k"), Value::I64(7), Value::I64(7)]
        );
        let op = StatelessOp::Select { indices: vec![1] };
        assert_eq!(
            op.apply(row(&[s("k"), Value::I64(7)])).unwrap().as_slice(),
            &[Value::I64(7)]
        );
    }

    #[test]
    fn increasing_select_in_place_agrees_with_a_naive_projection() {
        let fields: Vec<Value> = (0..8)
            .map(|i| {
                if i % 2 == 0 {
                    s(&format!("a long string value number {i}, not inline"))
                } else {
                    Value::I64(i)
                }
            })
            .collect();
        let naive = |ix: &[usize]| -> Vec<Value> {
            ix.iter()
                .map(|&i| fields.get(i).cloned().unwrap_or(Value::Null))
                .collect()
        };
        let cases: [&[usize]; 7] = [
            &[0, 1, 2, 5, 6],
            &[],
            &[7],
            &[0, 1, 2, 3, 4, 5, 6, 7],
            &[1, 3, 9],
            &[6, 2],
            &[3, 3],
        ];
        for ix in cases {
            let op = StatelessOp::Select {
                indices: ix.to_vec(),
            };
            let out = op.apply(row(&fields)).unwrap();
            assert_eq!(out.as_slice(), naive(ix).as_slice(), "{ix:?}");
        }
    }

    #[test]
    fn project_moves_fields_after_computing_columns() {
        use crate::record::{Field, FieldType, Schema};
        let schema = Schema {
            fields: [("p", FieldType::I64), ("x", FieldType::String)]
                .iter()
                .map(|(n, ty)| Field {
                    name: (*n).to_string(),
                    ty: *ty,
                })
                .collect(),
        };
        let col = |t: &str| Expr::compile(t, &schema).unwrap();
        let long = s("an extra string long enough to live on the heap");
        let op = StatelessOp::Project(vec![
            col("x"),
            col("decimal(p * 908, 3)"),
            col("p"),
            col("len(x)"),
            col("x"),
        ]);
        let out = op.apply(row(&[Value::I64(-5), long.clone()])).unwrap();
        assert_eq!(
            out.as_slice(),
            &[
                long.clone(),
                s("-4.540"),
                Value::I64(-5),
                Value::I64(47),
                long
            ]
        );
    }

    #[test]
    fn projecting_in_place_gives_what_a_new_row_gives() {
        use crate::record::{Field, FieldType, Schema};
        let names = ["a", "b", "c", "d", "e"];
        let schema = Schema {
            fields: names
                .iter()
                .map(|n| Field {
                    name: (*n).to_string(),
                    ty: FieldType::I64,
                })
                .collect(),
        };
        let col = |t: &str| Expr::compile(t, &schema).unwrap();
        let input = row(&[0, 1, 2, 3, 4].map(Value::I64));
        let cases: &[&[&str]] = &[
            &["a", "b", "c * 908", "d", "e"],
            &["b", "a + 1"],
            &["a + 1", "b"],
            &["c", "e", "a * 2", "b - 1"],
            &["a", "b", "c", "d", "e", "a + b", "e * e"],
            &["d", "c"],
            &["b", "b"],
        ];
        let mut in_place_cases = 0;
        for cols in cases {
            let columns: Vec<Expr> = cols.iter().map(|t| col(t)).collect();
            let (mut fast, mut slow) = (input.clone(), input.clone());
            if in_place(&columns, fast.len()) {
                in_place_cases += 1;
                project_in_place(&mut fast, &columns);
            } else {
                project_new(&mut fast, &columns);
            }
            project_new(&mut slow, &columns);
            assert_eq!(fast, slow, "{cols:?}");
        }
        assert_eq!(in_place_cases, 5);
    }
}
