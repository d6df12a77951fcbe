//! Deduplication with an event-time TTL: emit a record the first time its key is seen, and
//! again once the watermark passes the first record's timestamp + `ttl`.
//!
//! The key's state (the time it is forgotten) is freed by an event-time timer, so the state
//! held is the keys seen within the last `ttl` of event time, however many keys pass. A
//! record without a timestamp is stamped with the current watermark.
//!
//! The current watermark is not keyed state: after a restore the runtime must call
//! `on_watermark` with the checkpointed watermark before any record.

use super::window::event_time;
use super::KeyedOperator;
use crate::record::{Row, RowKey};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};

/// The event-time dedup operator.
pub struct EventTimeDedup {
    ts_field: usize,
    ttl_ms: i64,
    /// Per key: the event time at which it is forgotten.
    expiry: ValueState<RowKey, i64>,
    timers: TimerService<RowKey>,
    watermark: i64,
}

impl EventTimeDedup {
    /// Keys are forgotten when the watermark reaches their first record's field `ts_field`
    /// plus `ttl_ms` (at least 1 ms).
    pub fn new(ts_field: usize, ttl_ms: i64) -> Self {
        EventTimeDedup {
            ts_field,
            ttl_ms: ttl_ms.max(1),
            expiry: ValueState::new("dedup_event"),
            timers: TimerService::new("dedup_event_timers"),
            watermark: i64::MIN,
        }
    }

    /// Keys remembered now.
    pub fn keys_held(&self) -> usize {
        self.expiry.len()
    }
}

impl KeyedOperator<RowKey, Row, Row> for EventTimeDedup {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        if self.expiry.get(ctx).is_some_and(|&e| e > self.watermark) {
            return;
        }
        let ts = event_time(input, self.ts_field).unwrap_or(self.watermark);
        let expiry = ts.saturating_add(self.ttl_ms);
        // A clone made on this thread (see `KeyedOperator::process`).
        out.push(input.clone());
        if expiry > self.watermark {
            self.expiry.update(ctx, expiry);
            self.timers.register(TimeDomain::EventTime, ctx, expiry);
        } else {
            self.expiry.clear(ctx);
        }
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.expiry.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.expiry, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, _out: &mut Vec<Row>) {
        if watermark_ms <= self.watermark {
            return;
        }
        self.watermark = watermark_ms;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark_ms) {
            let ctx = timer.ctx(0);
            if self.expiry.get(&ctx).is_some_and(|&e| e <= watermark_ms) {
                self.expiry.clear(&ctx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::join::tests::{events, row, Ev};
    use crate::operator::test_harness::{key, sorted, Workers};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Against a map of each key's forget time, never freed; and the keys held after
        /// each watermark are exactly the keys not yet forgotten.
        #[test]
        fn matches_oracle_and_frees_forgotten_keys(evs in events(), ttl in 1i64..50) {
            let mk = move || EventTimeDedup::new(2, ttl);
            let mut w = Workers::new(1, &mk, |op: &mut EventTimeDedup| KeyedOperator::states(op));
            let mut forget: BTreeMap<u8, i64> = BTreeMap::new();
            let mut wm = i64::MIN;
            for ev in &evs {
                let (mut out, mut want) = (Vec::new(), Vec::new());
                match *ev {
                    Ev::Rec { k, ts, v, .. } => {
                        w.with_key(&key(&format!("k{k}")), 0, |op, ctx| op.process(ctx, &mut row(k, ts, v), &mut out));
                        if forget.get(&k).is_none_or(|&e| e <= wm) {
                            want.push(row(k, ts, v));
                            forget.insert(k, ts + ttl);
                        }
                    }
                    Ev::Wm(t) => {
                        wm = wm.max(t);
                        w.ops.iter_mut().for_each(|(_, op)| op.on_watermark(t, &mut out));
                        let held: usize = w.ops.iter().map(|(_, op)| op.keys_held()).sum();
                        prop_assert_eq!(held, forget.values().filter(|&&e| e > wm).count());
                    }
                    Ev::Rescale(n) => {
                        w.rescale(n, &mk);
                        w.ops.iter_mut().for_each(|(_, op)| op.on_watermark(wm, &mut out));
                    }
                }
                prop_assert_eq!(sorted(&out), sorted(&want));
            }
        }
    }

    #[test]
    fn state_stays_bounded_for_an_unbounded_stream_of_fresh_keys() {
        let mk = || EventTimeDedup::new(2, 1_000);
        let mut w = Workers::new(2, &mk, |op: &mut EventTimeDedup| KeyedOperator::states(op));
        let mut out = Vec::new();
        let mut max_held = 0;
        for i in 0..20_000i64 {
            let k = key(&i.to_string()); // every key is new
            w.with_key(&k, 0, |op, ctx| {
                op.process(ctx, &mut row(0, i, i), &mut out)
            });
            if i % 100 == 0 {
                w.ops
                    .iter_mut()
                    .for_each(|(_, op)| op.on_watermark(i - 1, &mut out));
                let held: usize = w.ops.iter().map(|(_, op)| op.keys_held()).sum();
                max_held = max_held.max(held);
            }
        }
        assert_eq!(out.len(), 20_000);
        assert!(
            max_held <= 1_101,
            "keys of the last ttl (+ one watermark step): {max_held}"
        );
    }
}
