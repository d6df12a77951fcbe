//! W2 of WORKLOADS.md for open-loop latency runs: per key, 1 s tumbling event-time windows,
//! emitting `(key, window_start, count, sum)` when the watermark passes the window's end, with
//! watermark = max_ts − 200 ms.
//!
//! The runtime does not propagate watermarks yet, so each worker's operator derives its own
//! from the timestamps it sees (their maximum − 200 ms). The open-loop generator interleaves
//! the splits' events by sequence number, so every worker's maximum follows the same schedule.
//! Window contents are keyed state (checkpointed); the index of pending window ends is the
//! operator's own (a benchmark operator: it is not restored). An output is stamped with the
//! scheduled time of its window's end, so its latency is measured from the window end (the
//! method of Hazelcast Jet's published figures) and includes the 200 ms the watermark waits.
//! Windows closed by the end of input (not by the watermark) are emitted but are no samples.

use crate::operator::KeyedOperator;
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Window length (ms of event time).
pub(crate) const WINDOW_MS: i64 = 1000;
/// Out-of-orderness bound of the watermark (ms).
pub(crate) const LATENESS_MS: i64 = 200;

/// An input event: key, value, timestamp (ms), scheduled time (ns).
pub(crate) type Event = (u64, i64, i64, u64);
/// An output: key, window start, count, sum, scheduled time of the window end (ns).
pub(crate) type WindowOut = (u64, i64, i64, i64, u64);

/// Maps a window end (event-time ms) to its scheduled wall time (ns).
pub(crate) type ToWall = Arc<dyn Fn(i64) -> u64 + Send + Sync>;

/// The W2 operator of one worker.
pub(crate) struct W2Windows {
    /// Per key, its open windows: (start, count, sum).
    windows: ValueState<u64, Vec<(i64, i64, i64)>>,
    /// Window end → the keys with that window open (key, local group, hash).
    pending: BTreeMap<i64, Vec<(u64, usize, u64)>>,
    max_ts: i64,
    to_wall: ToWall,
}

impl W2Windows {
    /// An operator stamping outputs with `to_wall`.
    pub(crate) fn new(to_wall: ToWall) -> Self {
        W2Windows {
            windows: ValueState::new("windows"),
            pending: BTreeMap::new(),
            max_ts: i64::MIN,
            to_wall,
        }
    }

    /// Emits every window ending at or before `watermark`; `end_of_input` stamps them with
    /// `u64::MAX` (closed by the end of the run, not by the watermark: not latency samples).
    fn fire(&mut self, watermark: i64, end_of_input: bool, out: &mut Vec<WindowOut>) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > watermark {
                break;
            }
            let (end, keys) = entry.remove_entry();
            let stamp = if end_of_input {
                u64::MAX
            } else {
                (self.to_wall)(end)
            };
            for (key, local_group, hash) in keys {
                let ctx = KeyContext {
                    key: &key,
                    local_group,
                    hash,
                    now_ms: 0,
                };
                let windows = self.windows.get_or_insert_with(&ctx, Vec::new);
                if let Some(i) = windows.iter().position(|w| w.0 + WINDOW_MS == end) {
                    let (start, count, sum) = windows.swap_remove(i);
                    out.push((key, start, count, sum, stamp));
                }
                if windows.is_empty() {
                    self.windows.clear(&ctx);
                }
            }
        }
    }
}

impl KeyedOperator<u64, Event, WindowOut> for W2Windows {
    fn process(&mut self, ctx: &KeyContext<'_, u64>, input: &mut Event, out: &mut Vec<WindowOut>) {
        let input = *input;
        let (key, value, ts, _) = input;
        let start = ts - ts.rem_euclid(WINDOW_MS);
        let windows = self.windows.get_or_insert_with(ctx, Vec::new);
        match windows.iter_mut().find(|w| w.0 == start) {
            Some(w) => {
                w.1 += 1;
                w.2 += value;
            }
            None => {
                windows.push((start, 1, value));
                self.pending.entry(start + WINDOW_MS).or_default().push((
                    key,
                    ctx.local_group,
                    ctx.hash,
                ));
            }
        }
        if ts > self.max_ts {
            self.max_ts = ts;
            self.fire(ts.saturating_sub(LATENESS_MS), false, out);
        }
    }

    fn prefetch(&self, local_group: usize, hash: u64) {
        self.windows.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.windows]
    }

    /// End of input: every open window fires (stamped as no latency sample).
    fn close(&mut self, out: &mut Vec<WindowOut>) {
        self.fire(i64::MAX, true, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(key: &u64) -> KeyContext<'_, u64> {
        KeyContext {
            key,
            local_group: 0,
            hash: crate::state::key_group::stable_hash_bytes(&key.to_le_bytes()),
            now_ms: 0,
        }
    }

    #[test]
    fn windows_fire_when_the_watermark_passes_their_end() {
        let mut op = W2Windows::new(Arc::new(|end| end as u64 * 10));
        for s in op.states() {
            s.set_key_groups(0..1);
        }
        let mut out = Vec::new();
        // key 1: ts 100, 900 (window 0); key 2: ts 950 (window 0); key 1: ts 1100 (window 1).
        for (k, v, ts) in [(1u64, 5i64, 100i64), (1, 7, 900), (2, 1, 950), (1, 2, 1100)] {
            op.process(&ctx(&k), &mut (k, v, ts, 0), &mut out);
        }
        assert!(out.is_empty(), "watermark 900 < window end 1000");
        op.process(&ctx(&2), &mut (2, 3, 1200, 0), &mut out);
        out.sort_unstable();
        assert_eq!(out, [(1, 0, 2, 12, 10_000), (2, 0, 1, 1, 10_000)]);
        out.clear();
        op.close(&mut out);
        out.sort_unstable();
        assert_eq!(out, [(1, 1000, 1, 2, u64::MAX), (2, 1000, 1, 3, u64::MAX)]);
        assert_eq!(op.windows.len(), 0, "fired windows leave no state");
    }
}
