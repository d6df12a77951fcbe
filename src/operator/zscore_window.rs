//! Per-key anomaly score over a window of event time (`process zscore` with `window`): the
//! z-score of a field against the mean and sample standard deviation of the key's earlier
//! records whose timestamps fall in `(ts - window, ts]`; the record is emitted with the score
//! appended (null until `min_count` records are in the window).
//!
//! The key's values are kept sorted by timestamp. A value can be in no future on-time
//! record's window once `t + window <= watermark` (those records have `ts > watermark`): an
//! event-time timer then frees it, so the state is the last `window` of event time per key.
//! A late record is scored against the values still held. A record without a timestamp is
//! stamped with the current watermark; one without a numeric field is dropped, as in
//! [`ZScore`](super::zscore::ZScore).
//!
//! The current watermark is not keyed state: after a restore the runtime must call
//! `on_watermark` with the checkpointed watermark before any record.

use super::window::event_time;
use super::zscore::score;
use super::KeyedOperator;
use crate::record::{Row, RowKey, Value};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};

/// What a windowed z-score computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowedZScoreConfig {
    /// Index of the scored numeric field.
    pub field: usize,
    /// Index of the event-time field.
    pub ts_field: usize,
    /// Length of the window, ms (at least 1).
    pub window_ms: i64,
    /// Emit only records with `|score| >= threshold`.
    pub threshold: Option<f64>,
    /// Values needed in the window before a record is scored (at least 2).
    pub min_count: u64,
}

/// The windowed z-score operator; see the module docs.
pub struct WindowedZScore {
    cfg: WindowedZScoreConfig,
    /// Per key: `(timestamp, value)` sorted by timestamp (arrival order among equals).
    values: ValueState<RowKey, Vec<(i64, f64)>>,
    timers: TimerService<RowKey>,
    watermark: i64,
}

/// Count, mean and sum of squared deviations of `xs` (two passes).
fn moments(xs: &[(i64, f64)]) -> (u64, f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (0, 0.0, 0.0);
    }
    let mean = xs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let m2 = xs.iter().map(|p| (p.1 - mean) * (p.1 - mean)).sum();
    (n as u64, mean, m2)
}

impl WindowedZScore {
    /// A windowed z-score for `cfg`.
    pub fn new(mut cfg: WindowedZScoreConfig) -> Self {
        cfg.window_ms = cfg.window_ms.max(1);
        cfg.min_count = cfg.min_count.max(2);
        WindowedZScore {
            cfg,
            values: ValueState::new("zscore_window"),
            timers: TimerService::new("zscore_window_timers"),
            watermark: i64::MIN,
        }
    }

    /// Values held, all keys.
    pub fn values_held(&self) -> usize {
        self.values.iter().map(|(_, v)| v.len()).sum()
    }
}

impl KeyedOperator<RowKey, Row, Row> for WindowedZScore {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, mut input: Row, out: &mut Vec<Row>) {
        let Some(x) = input.get(self.cfg.field).and_then(Value::as_f64) else {
            return;
        };
        let ts = event_time(&input, self.cfg.ts_field).unwrap_or(self.watermark);
        let window = self.cfg.window_ms;
        let held = self.values.get_or_insert_with(ctx, Vec::new);
        let lo = held.partition_point(|p| p.0 <= ts.saturating_sub(window));
        let hi = held.partition_point(|p| p.0 <= ts);
        let s = score(&moments(&held[lo..hi]), x, self.cfg.min_count);
        let expiry = ts.saturating_add(window);
        if expiry > self.watermark {
            held.insert(hi, (ts, x));
            self.timers.register(TimeDomain::EventTime, ctx, expiry);
        } else if held.is_empty() {
            self.values.clear(ctx);
        }
        let emit = match (self.cfg.threshold, s) {
            (None, _) => true,
            (Some(t), Some(s)) => s.abs() >= t,
            (Some(_), None) => false,
        };
        if emit {
            input.push(s.map_or(Value::Null, Value::F64));
            out.push(input);
        }
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.values.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.values, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, _out: &mut Vec<Row>) {
        if watermark_ms <= self.watermark {
            return;
        }
        self.watermark = watermark_ms;
        let window = self.cfg.window_ms;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark_ms) {
            let ctx = timer.ctx(0);
            let Some(mut held) = self.values.clear(&ctx) else {
                continue;
            };
            held.retain(|p| p.0.saturating_add(window) > watermark_ms);
            if !held.is_empty() {
                self.values.update(&ctx, held);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::join::tests::{events, row, Ev};
    use crate::operator::test_harness::{key, Workers};
    use proptest::prelude::*;

    /// The scores of one step's outputs, by value (`v` is unique per record in the test).
    fn scores(rows: &[Row]) -> Vec<(i64, Option<f64>)> {
        let mut v: Vec<_> = rows
            .iter()
            .map(|r| match (&r[1], &r[3]) {
                (Value::I64(v), Value::F64(s)) => (*v, Some(*s)),
                (Value::I64(v), _) => (*v, None),
                _ => (i64::MIN, None),
            })
            .collect();
        v.sort_by_key(|p| p.0);
        v
    }

    proptest! {
        /// Against every earlier record of the key in `(ts - window, ts]` that is not yet
        /// past `watermark - window` (what an on-time record can still see), one pass each.
        #[test]
        fn matches_naive_window_statistics(evs in events(), window in 1i64..40) {
            let cfg = WindowedZScoreConfig { field: 1, ts_field: 2, window_ms: window, threshold: None, min_count: 2 };
            let mk = move || WindowedZScore::new(cfg);
            let mut w = Workers::new(1, &mk, |op: &mut WindowedZScore| KeyedOperator::states(op));
            let mut seen: Vec<(u8, i64, f64)> = Vec::new();
            let mut wm = i64::MIN;
            for (i, ev) in evs.iter().enumerate() {
                let mut out = Vec::new();
                match *ev {
                    Ev::Rec { k, ts, .. } => {
                        let v = (i as i64 * 7919) % 101; // unique per step, varied
                        w.with_key(&key(&format!("k{k}")), 0, |op, ctx| op.process(ctx, row(k, ts, v), &mut out));
                        let floor = ts.max(wm).saturating_sub(window);
                        let xs: Vec<f64> = seen.iter().filter(|(k2, t, _)| *k2 == k && *t > floor && *t <= ts).map(|p| p.2).collect();
                        let want = (xs.len() >= 2).then(|| {
                            let n = xs.len() as f64;
                            let mean = xs.iter().sum::<f64>() / n;
                            let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                            (v as f64 - mean) / sd
                        }).filter(|s| s.is_finite());
                        let got = scores(&out);
                        prop_assert_eq!(got.len(), 1);
                        match (got[0].1, want) {
                            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b),
                            (a, b) => prop_assert_eq!(a, b),
                        }
                        seen.push((k, ts, v as f64));
                    }
                    Ev::Wm(t) => {
                        wm = wm.max(t);
                        w.ops.iter_mut().for_each(|(_, op)| op.on_watermark(t, &mut out));
                        let held: usize = w.ops.iter().map(|(_, op)| op.values_held()).sum();
                        let live = seen.iter().filter(|p| p.1.saturating_add(window) > wm).count();
                        prop_assert_eq!(held, live, "state is the last window of event time");
                    }
                    Ev::Rescale(n) => {
                        w.rescale(n, &mk);
                        w.ops.iter_mut().for_each(|(_, op)| op.on_watermark(wm, &mut out));
                    }
                }
            }
        }
    }

    #[test]
    fn flags_a_planted_outlier_only() {
        let cfg = WindowedZScoreConfig {
            field: 1,
            ts_field: 2,
            window_ms: 1_000,
            threshold: Some(4.0),
            min_count: 5,
        };
        let mut w = Workers::new(
            1,
            &|| WindowedZScore::new(cfg),
            |op: &mut WindowedZScore| KeyedOperator::states(op),
        );
        let mut out = Vec::new();
        for i in 0..200i64 {
            let v = if i == 150 { 1_000 } else { 100 + i % 7 };
            w.with_key(&key("k1"), 0, |op, ctx| {
                op.process(ctx, row(1, i * 10, v), &mut out)
            });
        }
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0][1], Value::I64(1_000));
    }
}
