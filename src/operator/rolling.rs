//! Rolling aggregates per key, emitted on every record: `key fields…, aggregates…`.

use super::rolling_plan::Plan;
use super::{KeyedOperator, KeyedRun};
use crate::record::{Row, RowKey, Value};
use crate::state::{CodecError, KeyContext, KeyedStateStore, StateCodec, ValueState};
use smallvec::SmallVec;
use sum_count::SumCount;

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFn {
    /// Sum (i64 wraps on overflow; f64 fields sum as f64).
    Sum,
    /// Number of records.
    Count,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Mean, as f64.
    Avg,
}

/// One aggregate: the function and the input field's index (none for count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aggregate {
    /// The function.
    pub func: AggFn,
    /// Index of the input field (`None` for count).
    pub field: Option<usize>,
}

/// The running accumulator of one aggregate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Acc {
    /// No value folded yet (e.g. only non-numeric inputs).
    Empty,
    Count(i64),
    /// Sum, min or max of an i64 or timestamp field (`ts` keeps the output type).
    Int {
        v: i64,
        ts: bool,
    },
    /// Sum, min or max of an f64 field.
    Float(f64),
    Avg {
        sum: f64,
        n: i64,
    },
}

/// Two inline (56 bytes, against 104 with four): the state table's slot holds the key and
/// this, so a smaller one means less table to grow and fewer cache lines per probe; more
/// aggregates spill to the heap, once per key.
pub(crate) type Accs = SmallVec<[Acc; 2]>;

/// The rolling aggregate operator over rows.
pub struct Rolling {
    aggs: Vec<Aggregate>,
    /// The key's fields in the input row, when known: the output's key values are then
    /// cloned from the input (one value copy) instead of decoded from the key's bytes.
    key_fields: Option<KeyFields>,
    /// The state, in the representation `aggs` compiled to.
    state: RollingState,
}

/// The state of [`Rolling`]: compact for the compiled sum + count plan, general otherwise.
/// Both are named "rolling" and encode their entries alike, so a checkpoint restores into
/// either.
enum RollingState {
    /// Any aggregates: a loop over the accumulators.
    General(ValueState<RowKey, AccState>),
    /// An i64 sum of `field` and a count ([`Plan::SumCount`]), in 24 bytes per key.
    SumCount {
        state: ValueState<RowKey, SumCount>,
        field: usize,
        sum_first: bool,
    },
}

/// The key's fields in the input row.
struct KeyFields {
    /// Their indices, in key order.
    fields: Vec<usize>,
    /// No index repeats (so each value can be moved out of the input).
    distinct: bool,
    /// The field, when the key is one field (its output row is written at once).
    one: Option<usize>,
}

/// The name of the rolling operator's state (in checkpoints).
const STATE_NAME: &str = "rolling";

/// The accumulators of one key (the state value).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AccState(pub(crate) Accs);

impl Rolling {
    /// A rolling operator computing `aggs` per key.
    pub fn new(aggs: Vec<Aggregate>) -> Self {
        let state = match Plan::compile(&aggs) {
            Plan::SumCount { field, sum_first } => RollingState::SumCount {
                state: ValueState::new(STATE_NAME),
                field,
                sum_first,
            },
            Plan::General => RollingState::General(ValueState::new(STATE_NAME)),
        };
        Rolling {
            aggs,
            key_fields: None,
            state,
        }
    }

    /// The same operator, told that its key is made of the input fields `fields` (in
    /// order), as `key_by` built it: the output's key values are copied from the input row.
    pub fn with_key_fields(mut self, fields: Vec<usize>) -> Self {
        let mut sorted = fields.clone();
        sorted.sort_unstable();
        sorted.dedup();
        self.key_fields = Some(KeyFields {
            distinct: sorted.len() == fields.len(),
            one: match fields.as_slice() {
                [i] => Some(*i),
                _ => None,
            },
            fields,
        });
        self
    }

    /// A rolling operator that never takes the compiled fast path (tests compare the two).
    #[cfg(test)]
    pub(crate) fn general(aggs: Vec<Aggregate>) -> Self {
        Rolling {
            state: RollingState::General(ValueState::new(STATE_NAME)),
            ..Rolling::new(aggs)
        }
    }

    /// Folds the aggregate's input value of `row` into `acc`, in place.
    #[inline]
    pub(crate) fn fold(agg: &Aggregate, acc: &mut Acc, row: &Row) {
        // The steady state of a count and of an i64 sum, with one check each; the first
        // record of a key, other types and functions take the general path (same results).
        match (agg.func, &mut *acc) {
            (AggFn::Count, Acc::Count(n)) => {
                *n += 1;
                return;
            }
            (AggFn::Sum, Acc::Int { v, ts: false }) => {
                if let Some(Value::I64(x)) = agg.field.and_then(|i| row.get(i)) {
                    *v = v.wrapping_add(*x);
                    return;
                }
            }
            _ => {}
        }
        Self::fold_general(agg, acc, row);
    }

    /// [`Rolling::fold`] for every function, accumulator state and input type.
    #[inline]
    fn fold_general(agg: &Aggregate, acc: &mut Acc, row: &Row) {
        let value = agg.field.and_then(|i| row.get(i));
        match agg.func {
            AggFn::Count => match acc {
                Acc::Count(n) => *n += 1,
                _ => *acc = Acc::Count(1),
            },
            AggFn::Avg => {
                let x = value.and_then(Value::as_f64).unwrap_or(0.0);
                match acc {
                    Acc::Avg { sum, n } => {
                        *sum += x;
                        *n += 1;
                    }
                    _ => *acc = Acc::Avg { sum: x, n: 1 },
                }
            }
            func => match value {
                Some(Value::I64(x)) => fold_int(func, acc, *x, false),
                Some(Value::Ts(x)) => fold_int(func, acc, *x, true),
                Some(Value::F64(x)) => match acc {
                    Acc::Float(v) => *v = combine(func, *v, *x, |a, b| a + b, f64::min, f64::max),
                    _ => *acc = Acc::Float(*x),
                },
                // Strings and nulls leave the accumulator as it is.
                _ => {}
            },
        }
    }

    /// The output value of an accumulator.
    #[inline]
    pub(crate) fn result(acc: &Acc) -> Value {
        match acc {
            Acc::Empty => Value::Null,
            Acc::Count(n) => Value::I64(*n),
            Acc::Int { v, ts: false } => Value::I64(*v),
            Acc::Int { v, ts: true } => Value::Ts(*v),
            Acc::Float(v) => Value::F64(*v),
            Acc::Avg { sum, n } => Value::F64(sum / *n as f64),
        }
    }
}

/// Folds an i64 (or timestamp, `ts`) into a sum/min/max accumulator; the output type follows
/// the latest value.
#[inline]
fn fold_int(func: AggFn, acc: &mut Acc, x: i64, ts: bool) {
    let v = match acc {
        Acc::Int { v, .. } => combine(func, *v, x, i64::wrapping_add, i64::min, i64::max),
        _ => x,
    };
    *acc = Acc::Int { v, ts };
}

/// `func` (sum, min or max) of the running value `cur` and `x`.
#[inline]
fn combine<T>(
    func: AggFn,
    cur: T,
    x: T,
    sum: fn(T, T) -> T,
    min: fn(T, T) -> T,
    max: fn(T, T) -> T,
) -> T {
    match func {
        AggFn::Sum => sum(cur, x),
        AggFn::Min => min(cur, x),
        AggFn::Max => max(cur, x),
        AggFn::Count | AggFn::Avg => x,
    }
}

impl KeyedOperator<RowKey, Row, Row> for Rolling {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        let Rolling {
            aggs,
            key_fields,
            state,
        } = self;
        let key_fields = key_fields.as_ref();
        match state {
            RollingState::SumCount {
                state,
                field,
                sum_first,
            } => process_sum_count(state, (*field, *sum_first), key_fields, ctx, input, out),
            RollingState::General(state) => {
                process_general(state, aggs, key_fields, ctx, input, out)
            }
        }
    }

    /// The records in order with the state prefetched ahead, as the default does, but with
    /// one dispatch on the plan per batch and the plan's record function inlined
    /// (`rolling_batch.rs`).
    fn process_batch(&mut self, run: KeyedRun<'_, RowKey, Row>, out: &mut Vec<Row>) {
        let Rolling {
            aggs,
            key_fields,
            state,
        } = self;
        let key_fields = key_fields.as_ref();
        match state {
            RollingState::SumCount {
                state,
                field,
                sum_first,
            } => {
                let plan = (*field, *sum_first);
                batch::run_batch(run, state, out, |state, ctx, input, out| {
                    process_sum_count(state, plan, key_fields, ctx, input, out)
                })
            }
            RollingState::General(state) => {
                batch::run_batch(run, state, out, |state, ctx, input, out| {
                    process_general(state, aggs, key_fields, ctx, input, out)
                })
            }
        }
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        match &self.state {
            RollingState::SumCount { state, .. } => state.prefetch(local_group, hash),
            RollingState::General(state) => state.prefetch(local_group, hash),
        }
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        match &mut self.state {
            RollingState::SumCount { state, .. } => vec![state],
            RollingState::General(state) => vec![state],
        }
    }
}

/// [`Rolling::process`] under the compiled sum + count plan: `plan` is the sum's field and
/// whether the sum comes first. Inlined into the batch loop: as a call it saved and restored
/// registers per record.
#[inline(always)]
fn process_sum_count(
    state: &mut ValueState<RowKey, SumCount>,
    (field, sum_first): (usize, bool),
    key_fields: Option<&KeyFields>,
    ctx: &KeyContext<'_, RowKey>,
    input: &mut Row,
    out: &mut Vec<Row>,
) {
    let [a, b] = state
        .get_or_insert_with(ctx, || SumCount::new(sum_first))
        .fold(input.get(field));
    if let Some(KeyFields { one: Some(i), .. }) = key_fields {
        // One key field: the whole row at once.
        // A `match`, not `map_or`: that call was left out of line (13 instructions a record).
        let key = match input.get_mut(*i) {
            Some(v) => key_value(v, true),
            None => Value::Null,
        };
        push_row(out, [key, a, b]);
        return;
    }
    let row = output_row(out, key_fields, ctx, input);
    row.push(a);
    row.push(b);
}

/// [`Rolling::process`] for any aggregates: a loop over the accumulators.
#[inline]
fn process_general(
    state: &mut ValueState<RowKey, AccState>,
    aggs: &[Aggregate],
    key_fields: Option<&KeyFields>,
    ctx: &KeyContext<'_, RowKey>,
    input: &mut Row,
    out: &mut Vec<Row>,
) {
    let state =
        state.get_or_insert_with(ctx, || AccState(aggs.iter().map(|_| Acc::Empty).collect()));
    for (agg, acc) in aggs.iter().zip(state.0.iter_mut()) {
        Rolling::fold(agg, acc, input);
    }
    let row = output_row(out, key_fields, ctx, input);
    // A push per value: `SmallVec::extend` through the iterator cost ~4x as much.
    for acc in state.0.iter() {
        row.push(Rolling::result(acc));
    }
}

impl StateCodec for AccState {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.0.len() as u16).encode(out);
        for acc in &self.0 {
            match acc {
                Acc::Empty => out.push(4),
                Acc::Count(n) => {
                    out.push(0);
                    n.encode(out);
                }
                Acc::Int { v, ts } => {
                    out.push(1);
                    v.encode(out);
                    ts.encode(out);
                }
                Acc::Float(v) => {
                    out.push(2);
                    v.encode(out);
                }
                Acc::Avg { sum, n } => {
                    out.push(3);
                    sum.encode(out);
                    n.encode(out);
                }
            }
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = u16::decode(input)?;
        let mut accs = Accs::new();
        for _ in 0..n {
            accs.push(match u8::decode(input)? {
                0 => Acc::Count(i64::decode(input)?),
                1 => Acc::Int {
                    v: i64::decode(input)?,
                    ts: bool::decode(input)?,
                },
                2 => Acc::Float(f64::decode(input)?),
                4 => Acc::Empty,
                3 => Acc::Avg {
                    sum: f64::decode(input)?,
                    n: i64::decode(input)?,
                },
                _ => return Err(CodecError::Invalid("accumulator tag")),
            });
        }
        Ok(AccState(accs))
    }
}

#[path = "rolling_sum_count.rs"]
mod sum_count;

#[path = "rolling_batch.rs"]
mod batch;

#[path = "rolling_row.rs"]
mod row;
use row::{key_value, output_row, push_row};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::key_group::key_group_range;

    fn key(s: &str) -> RowKey {
        RowKey::from_values(&[Value::Str(s.into())])
    }

    #[test]
    fn two_accumulators_stay_inline_in_56_bytes() {
        assert_eq!(std::mem::size_of::<AccState>(), 56);
        let two = AccState([Acc::Count(1), Acc::Float(2.0)].into_iter().collect());
        assert!(!two.0.spilled());
    }

    #[test]
    fn sums_counts_min_max_avg_per_key() {
        let mut op = Rolling::new(vec![
            Aggregate {
                func: AggFn::Sum,
                field: Some(1),
            },
            Aggregate {
                func: AggFn::Count,
                field: None,
            },
            Aggregate {
                func: AggFn::Min,
                field: Some(1),
            },
            Aggregate {
                func: AggFn::Max,
                field: Some(2),
            },
            Aggregate {
                func: AggFn::Avg,
                field: Some(1),
            },
        ]);
        for s in op.states() {
            s.set_key_groups(key_group_range(0, 1, 1));
        }
        let mut out = Vec::new();
        let rows = [("a", 5, 1.5), ("b", 1, 0.5), ("a", -2, 3.0), ("a", 3, 2.0)];
        for (k, v, f) in rows {
            let key = key(k);
            let ctx = KeyContext {
                key: &key,
                local_group: 0,
                hash: crate::state::StableKey::stable_hash(&key),
                now_ms: 0,
            };
            let mut row: Row = [Value::Str(k.into()), Value::I64(v), Value::F64(f)]
                .into_iter()
                .collect();
            op.process(&ctx, &mut row, &mut out);
        }
        let last = out.last().unwrap();
        assert_eq!(
            last.as_slice(),
            &[
                Value::Str("a".into()),
                Value::I64(6),
                Value::I64(3),
                Value::I64(-2),
                Value::F64(3.0),
                Value::F64(2.0)
            ]
        );
        assert_eq!(out[1].as_slice()[1..3], [Value::I64(1), Value::I64(1)]);
        // Snapshot/restore round trip keeps the accumulators.
        let mut bytes = Vec::new();
        op.states()[0].snapshot_group(0, 0, &mut bytes);
        let mut copy = Rolling::new(op.aggs.clone());
        copy.states()[0].set_key_groups(0..1);
        copy.states()[0].restore_group(0, &bytes).unwrap();
        assert_eq!(copy.states()[0].entries_in_group(0), 2);
    }

    #[test]
    fn key_values_copied_from_the_input_equal_the_decoded_key() {
        // Keys of a string (short, long, multi-byte), and of two fields incl. a missing one.
        let aggs = vec![Aggregate {
            func: AggFn::Count,
            field: None,
        }];
        let cases: [(Vec<usize>, Row); 6] = [
            (
                vec![0],
                [Value::Str("k".into()), Value::I64(1)]
                    .into_iter()
                    .collect(),
            ),
            (
                vec![0],
                [Value::Str("é".repeat(30).as_str().into()), Value::I64(1)]
                    .into_iter()
                    .collect(),
            ),
            (
                vec![1, 0],
                [Value::Str("x".into()), Value::Ts(7)].into_iter().collect(),
            ),
            (
                vec![0, 5],
                [Value::F64(-0.0), Value::I64(2)].into_iter().collect(),
            ),
            // A repeated field (its value cannot simply be moved out twice).
            (
                vec![0, 0],
                [Value::Str("k".into()), Value::I64(1)]
                    .into_iter()
                    .collect(),
            ),
            (
                vec![1, 0, 1],
                [Value::Str("x".repeat(50).as_str().into()), Value::I64(3)]
                    .into_iter()
                    .collect(),
            ),
        ];
        for (fields, row) in cases {
            let key = crate::record::key_hash::row_key(&row, &fields);
            let ctx = KeyContext {
                key: &key,
                local_group: 0,
                hash: crate::state::StableKey::stable_hash(&key),
                now_ms: 0,
            };
            let mut outs = Vec::new();
            for mut op in [
                Rolling::new(aggs.clone()),
                Rolling::new(aggs.clone()).with_key_fields(fields.clone()),
            ] {
                for s in op.states() {
                    s.set_key_groups(key_group_range(0, 1, 1));
                }
                let mut out = Vec::new();
                op.process(&ctx, &mut row.clone(), &mut out);
                outs.push(out);
            }
            assert_eq!(outs[0], outs[1], "key fields {fields:?}");
        }
    }
}
