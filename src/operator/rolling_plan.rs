//! The rolling operator's aggregates compiled once into a plan (issue 10, step 5).
//!
//! The common pipeline aggregate, "sum of an i64 field and count" (`fixtures/rolling_sum.toml`),
//! keeps a compact state per key (`rolling_sum_count.rs`, 24 bytes instead of 56) folded and
//! output by one function, instead of a loop over the aggregates with a dispatch on the
//! function, the accumulator and the input value per aggregate. Every other combination takes
//! the general path; both give the same results and the same checkpoint bytes.

use super::rolling::{AggFn, Aggregate};

/// How [`super::rolling::Rolling`] folds a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Exactly two aggregates: an i64 sum of `field` and a count, the sum first when
    /// `sum_first`.
    SumCount { field: usize, sum_first: bool },
    /// Anything else: a loop over the aggregates.
    General,
}

impl Plan {
    /// The plan for `aggs`.
    pub(crate) fn compile(aggs: &[Aggregate]) -> Plan {
        let sum = |a: &Aggregate| match (a.func, a.field) {
            (AggFn::Sum, Some(field)) => Some(field),
            _ => None,
        };
        let count = |a: &Aggregate| a.func == AggFn::Count;
        match aggs {
            [a, b] if count(b) => sum(a).map_or(Plan::General, |field| Plan::SumCount {
                field,
                sum_first: true,
            }),
            [a, b] if count(a) => sum(b).map_or(Plan::General, |field| Plan::SumCount {
                field,
                sum_first: false,
            }),
            _ => Plan::General,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::rolling::Rolling;
    use crate::operator::KeyedOperator;
    use crate::record::{Row, RowKey, Value};
    use crate::state::key_group::key_group_range;
    use crate::state::{KeyContext, StableKey};
    use proptest::prelude::*;

    fn agg(func: AggFn, field: Option<usize>) -> Aggregate {
        Aggregate { func, field }
    }

    #[test]
    fn only_an_i64_sum_with_a_count_is_compiled() {
        let (sum, count) = (agg(AggFn::Sum, Some(1)), agg(AggFn::Count, None));
        assert_eq!(
            Plan::compile(&[sum, count]),
            Plan::SumCount {
                field: 1,
                sum_first: true
            }
        );
        assert_eq!(
            Plan::compile(&[count, sum]),
            Plan::SumCount {
                field: 1,
                sum_first: false
            }
        );
        for other in [
            vec![sum],
            vec![sum, count, count],
            vec![agg(AggFn::Max, Some(1)), count],
            vec![count, count],
        ] {
            assert_eq!(Plan::compile(&other), Plan::General, "{other:?}");
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            8 => (-5i64..5).prop_map(Value::I64),
            1 => any::<i64>().prop_map(Value::I64),
            1 => (-5i64..5).prop_map(Value::Ts),
            1 => (-5i64..5).prop_map(|x| Value::F64(x as f64 / 2.0)),
            1 => Just(Value::Null),
        ]
    }

    /// Feeds `rows` (key, sum input; `None`: the row lacks the field) to `op`.
    fn feed(op: &mut Rolling, rows: &[(u8, Option<Value>)]) -> Vec<Row> {
        let mut out = Vec::new();
        for (k, v) in rows {
            let key = RowKey::from_values(&[Value::I64((*k).into())]);
            let ctx = KeyContext {
                key: &key,
                local_group: 0,
                hash: key.stable_hash(),
                now_ms: 0,
            };
            let mut row: Row = std::iter::once(Value::I64((*k).into()))
                .chain(v.clone())
                .collect();
            op.process(&ctx, &mut row, &mut out);
        }
        out
    }

    /// A rolling operator with empty state for key group 0 (compiled or general).
    fn op(aggs: &[Aggregate], compiled: bool) -> Rolling {
        let mut op = if compiled {
            Rolling::new(aggs.to_vec())
        } else {
            Rolling::general(aggs.to_vec())
        };
        for s in op.states() {
            s.set_key_groups(key_group_range(0, 1, 1));
        }
        op
    }

    /// The encoded entries of key group 0.
    fn snapshot(op: &mut Rolling) -> Vec<u8> {
        let mut bytes = Vec::new();
        op.states()[0].snapshot_group(0, 0, &mut bytes);
        bytes
    }

    proptest! {
        /// The compiled plan (with its compact state) outputs exactly what the general loop
        /// outputs, whatever the input types (an f64 or a timestamp turns the sum off the i64
        /// path), writes the same checkpoint bytes, and each restores the other's checkpoint.
        #[test]
        fn compiled_equals_general(
            rows in proptest::collection::vec((0u8..4, proptest::option::weighted(0.95, value())), 1..60),
            more in proptest::collection::vec((0u8..6, proptest::option::weighted(0.95, value())), 0..30),
            sum_first in any::<bool>(),
        ) {
            let (sum, count) = (agg(AggFn::Sum, Some(1)), agg(AggFn::Count, None));
            let aggs = if sum_first { vec![sum, count] } else { vec![count, sum] };
            let (mut fast, mut slow) = (op(&aggs, true), op(&aggs, false));
            prop_assert_eq!(feed(&mut fast, &rows), feed(&mut slow, &rows));
            let bytes = snapshot(&mut fast);
            prop_assert_eq!(&bytes, &snapshot(&mut slow));
            let (mut fast2, mut slow2) = (op(&aggs, true), op(&aggs, false));
            fast2.states()[0].restore_group(0, &bytes).unwrap();
            slow2.states()[0].restore_group(0, &bytes).unwrap();
            let expected = feed(&mut slow, &more);
            prop_assert_eq!(&feed(&mut fast, &more), &expected);
            prop_assert_eq!(&feed(&mut fast2, &more), &expected);
            prop_assert_eq!(&feed(&mut slow2, &more), &expected);
        }
    }
}
