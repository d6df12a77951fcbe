//! The rolling operator's batch loop, with a two-step prefetch of the state (issue 10, step 7).
//!
//! The stage's loop ([`KeyedRun::run`]) prefetches, 16 records ahead, every cache line of the
//! key's home slot and of the slot after it, because a third of the keys of a table 5/16–5/8
//! full sit past their home slot. With the rolling state's 88-byte slots that is 3–4 lines
//! per record, of which one to two are never read: `perf annotate` put two thirds of
//! `Rolling::prefetch`'s samples right after a `prefetcht0` (the line-fill buffers full).
//!
//! Here the prefetch takes two steps. [`HOME_AHEAD`] records ahead, the home slot's lines and
//! the line holding the next slot's hash ([`ValueState::prefetch_home`], 2–3 lines); then
//! [`PROBE_AHEAD`] records ahead, when those lines have arrived, the stored hashes are read and
//! the next slot's remaining lines are prefetched only when the key is there
//! ([`ValueState::prefetch_probe`]). The records are processed in order, one by one, exactly
//! as the stage's loop does; the first [`HOME_AHEAD`] of a batch get the one-step prefetch.

use crate::operator::KeyedRun;
use crate::record::{Row, RowKey};
use crate::state::{KeyContext, ValueState};

/// How many records ahead the first step prefetches the home slot.
pub(super) const HOME_AHEAD: usize = 16;

/// How many records ahead the second step reads the home slot's hashes.
pub(super) const PROBE_AHEAD: usize = 6;

/// Runs `process` over the records of `run` in order, prefetching each record's slot of
/// `state` in two steps (see the module docs).
#[inline]
pub(super) fn run_batch<V>(
    run: KeyedRun<'_, RowKey, Row>,
    state: &mut ValueState<RowKey, V>,
    out: &mut Vec<Row>,
    mut process: impl FnMut(&mut ValueState<RowKey, V>, &KeyContext<'_, RowKey>, &mut Row, &mut Vec<Row>),
) {
    let (start, mask) = (run.first_group, run.kg_mask);
    let local = |hash: u64| ((hash & mask) as u16).wrapping_sub(start) as usize;
    let hashes = run.hashes;
    // The first records of the batch: no time for two steps.
    for &h in hashes.iter().take(HOME_AHEAD) {
        state.prefetch(local(h), h);
    }
    for (i, ((&hash, key), value)) in hashes.iter().zip(run.keys).zip(run.values).enumerate() {
        if let Some(&h) = hashes.get(i + HOME_AHEAD) {
            state.prefetch_home(local(h), h);
        }
        if i + PROBE_AHEAD >= HOME_AHEAD {
            if let Some(&h) = hashes.get(i + PROBE_AHEAD) {
                state.prefetch_probe(local(h), h);
            }
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
