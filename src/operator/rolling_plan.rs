//! The rolling operator's aggregates compiled once into a plan (issue 10, step 5).
//!
//! The common pipeline aggregate, "sum of an i64 field and count" (`fixtures/rolling_sum.toml`),
//! is folded and output by one function that checks the state's shape once, instead of a loop
//! over the aggregates with a dispatch on the function, the accumulator and the input value
//! per aggregate. Every other combination, and the first record of a key (empty accumulators),
//! take the general path, which gives the same results.

use super::rolling::{Acc, AggFn, Aggregate};
use crate::record::{Row, Value};

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

    /// Folds `input` into `accs` and returns the two outputs, in aggregate order, when the plan
    /// is [`Plan::SumCount`], the accumulators hold an i64 sum and a count and the field is
    /// an i64; otherwise changes nothing and returns `None` (then fold with the general path).
    #[inline]
    pub(crate) fn fold(self, accs: &mut [Acc], input: &Row) -> Option<[Value; 2]> {
        let Plan::SumCount { field, sum_first } = self else {
            return None;
        };
        let Some(Value::I64(x)) = input.get(field) else {
            return None;
        };
        let (s, c) = match (sum_first, accs) {
            (true, [Acc::Int { v, ts: false }, Acc::Count(n)])
            | (false, [Acc::Count(n), Acc::Int { v, ts: false }]) => {
                *v = v.wrapping_add(*x);
                *n += 1;
                (*v, *n)
            }
            _ => return None,
        };
        Some(if sum_first {
            [Value::I64(s), Value::I64(c)]
        } else {
            [Value::I64(c), Value::I64(s)]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::rolling::Rolling;
    use crate::operator::KeyedOperator;
    use crate::record::RowKey;
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

    #[test]
    fn the_fast_fold_refuses_other_shapes_and_types() {
        let plan = Plan::SumCount {
            field: 0,
            sum_first: true,
        };
        let i: Row = [Value::I64(5)].into_iter().collect();
        let f: Row = [Value::F64(5.0)].into_iter().collect();
        let mut empty = [Acc::Empty, Acc::Empty];
        assert_eq!(plan.fold(&mut empty, &i), None);
        assert_eq!(empty, [Acc::Empty, Acc::Empty]);
        let mut ts = [Acc::Int { v: 1, ts: true }, Acc::Count(1)];
        assert_eq!(plan.fold(&mut ts, &i), None);
        let mut steady = [Acc::Int { v: 1, ts: false }, Acc::Count(1)];
        assert_eq!(plan.fold(&mut steady, &f), None);
        assert_eq!(
            plan.fold(&mut steady, &i),
            Some([Value::I64(6), Value::I64(2)])
        );
        assert_eq!(Plan::General.fold(&mut steady, &i), None);
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

    proptest! {
        /// The compiled plan outputs exactly what the general loop outputs, whatever the
        /// input types (an f64 or a timestamp turns the sum's accumulator off the fast path).
        #[test]
        fn compiled_equals_general(
            rows in proptest::collection::vec((0u8..4, value()), 1..60),
            sum_first in any::<bool>(),
        ) {
            let (sum, count) = (agg(AggFn::Sum, Some(1)), agg(AggFn::Count, None));
            let aggs = if sum_first { vec![sum, count] } else { vec![count, sum] };
            let mut fast = Rolling::new(aggs.clone());
            let mut slow = Rolling::general(aggs);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for op in [&mut fast, &mut slow] {
                for s in op.states() {
                    s.set_key_groups(key_group_range(0, 1, 1));
                }
            }
            for (k, v) in rows {
                let key = RowKey::from_values(&[Value::I64(k.into())]);
                let ctx = KeyContext {
                    key: &key,
                    local_group: 0,
                    hash: key.stable_hash(),
                    now_ms: 0,
                };
                let mut row: Row = [Value::I64(k.into()), v].into_iter().collect();
                fast.process(&ctx, &mut row, &mut a);
                slow.process(&ctx, &mut row, &mut b);
            }
            prop_assert_eq!(a, b);
        }
    }
}
