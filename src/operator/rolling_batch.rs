//! The rolling operator's batch loop (issue 10, step 7).
//!
//! The stage hands the operator a batch ([`KeyedRun`]); the default loop calls
//! `Rolling::process` per record, which dispatches on the plan and, as a call, saved and
//! restored registers per record. Here the plan is matched once per batch and the loop runs
//! with the plan's record function inlined; records are processed in order, one by one,
//! with the state of the record [`KeyedRun::prefetch_distance`] ahead prefetched, exactly
//! as the stage's loop does.
//!
//! A two-step prefetch was tried here and dropped (PERF.md, "Issue 10, step 7 (session 9)"):
//! the home slot and the next slot's hash first, then, a few records later, the next slot
//! only when the key is there. It issued a third fewer line prefetches, but the rolling
//! operator's share of the worker's cycles did not move (the stall moved from the prefetch
//! into the lookup), and it cost ~23 instructions per record.

use crate::operator::KeyedRun;
use crate::record::{Row, RowKey};
use crate::state::{KeyContext, ValueState};

/// Runs `process` over the records of `run` in order, prefetching the state of the record
/// `run.prefetch_distance` ahead.
#[inline]
pub(super) fn run_batch<V>(
    run: KeyedRun<'_, RowKey, Row>,
    state: &mut ValueState<RowKey, V>,
    out: &mut Vec<Row>,
    mut process: impl FnMut(
        &mut ValueState<RowKey, V>,
        &KeyContext<'_, RowKey>,
        &mut Row,
        &mut Vec<Row>,
    ),
) {
    let (start, mask, ahead) = (run.first_group, run.kg_mask, run.prefetch_distance);
    let local = |hash: u64| ((hash & mask) as u16).wrapping_sub(start) as usize;
    let hashes = run.hashes;
    for &h in hashes.iter().take(ahead) {
        state.prefetch(local(h), h);
    }
    for (i, ((&hash, key), value)) in hashes.iter().zip(run.keys).zip(run.values).enumerate() {
        if let Some(&h) = hashes.get(i + ahead) {
            state.prefetch(local(h), h);
        }
        let ctx = KeyContext {
            key,
            local_group: local(hash),
            hash,
            now_ms: run.now_ms,
        };
        process(state, &ctx, value, out);
    }
}

#[cfg(test)]
mod tests {
    use crate::operator::rolling::{AggFn, Aggregate, Rolling};
    use crate::operator::{KeyedOperator, KeyedRun};
    use crate::record::{Row, RowKey, Text, Value};
    use crate::state::key_group::key_group_range;
    use crate::state::{KeyContext, StableKey};
    use proptest::prelude::*;

    /// A rolling operator over key group 0 (of 1).
    fn op(aggs: &[Aggregate], key_fields: bool) -> Rolling {
        let mut op = Rolling::new(aggs.to_vec());
        if key_fields {
            op = op.with_key_fields(vec![0]);
        }
        for s in op.states() {
            s.set_key_groups(key_group_range(0, 1, 1));
        }
        op
    }

    fn row(k: u16, v: i64) -> (RowKey, Row) {
        // Keys of 1 to 60 bytes: inline and heap `RowKey`s, inline and heap strings.
        let s = format!("{k}").repeat(usize::from(k % 23) + 1);
        let key_value = Value::Str(Text::new(&s));
        let key = RowKey::from_values(std::slice::from_ref(&key_value));
        (key, [key_value, Value::I64(v)].into_iter().collect())
    }

    proptest! {
        /// The batch loop outputs what one `process` per record
        /// outputs, and leaves the same state, for batches of any size (shorter and longer
        /// than the prefetch distance, which varies too), both plans, with and without key fields.
        #[test]
        fn batches_equal_one_record_at_a_time(
            records in proptest::collection::vec((0u16..300, -9i64..9), 0..400),
            cuts in proptest::collection::vec(1usize..60, 1..12),
            general in any::<bool>(),
            key_fields in any::<bool>(),
            ahead in 0usize..40,
        ) {
            let sum = Aggregate { func: AggFn::Sum, field: Some(1) };
            let count = Aggregate { func: AggFn::Count, field: None };
            let max = Aggregate { func: AggFn::Max, field: Some(1) };
            let aggs = if general { vec![max, sum, count] } else { vec![sum, count] };
            let (mut batched, mut single) = (op(&aggs, key_fields), op(&aggs, key_fields));
            let (keys, rows): (Vec<RowKey>, Vec<Row>) =
                records.iter().map(|&(k, v)| row(k, v)).unzip();
            let hashes: Vec<u64> = keys.iter().map(StableKey::stable_hash).collect();
            let mut want = Vec::new();
            for ((key, hash), mut r) in keys.iter().zip(&hashes).zip(rows.clone()) {
                let ctx = KeyContext { key, local_group: 0, hash: *hash, now_ms: 0 };
                single.process(&ctx, &mut r, &mut want);
            }
            let mut got = Vec::new();
            let mut values = rows;
            let mut at = 0;
            // An empty batch first.
            let none = KeyedRun {
                hashes: &[],
                keys: &[],
                values: &mut [],
                first_group: 0,
                kg_mask: 0,
                now_ms: 0,
                prefetch_distance: ahead,
            };
            batched.process_batch(none, &mut got);
            for cut in cuts.iter().cycle() {
                if at >= keys.len() {
                    break;
                }
                let end = (at + cut).min(keys.len());
                let run = KeyedRun {
                    hashes: &hashes[at..end],
                    keys: &keys[at..end],
                    values: &mut values[at..end],
                    first_group: 0,
                    kg_mask: 0,
                    now_ms: 0,
                    prefetch_distance: ahead,
                };
                batched.process_batch(run, &mut got);
                at = end;
            }
            prop_assert_eq!(got, want);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            batched.states()[0].snapshot_group(0, 0, &mut a);
            single.states()[0].snapshot_group(0, 0, &mut b);
            prop_assert_eq!(a, b);
        }
    }
}
