//! Per-key anomaly score over a window of event time (`process zscore` with `window`).
//!
//! A record with event time `ts` is scored against the mean and sample standard deviation of
//! the *other* records of its key whose timestamps fall in `(ts - window, ts]`: the record
//! itself is left out, so that an outlier does not pull the statistics it is measured against
//! toward itself (with a window of a few dozen values, including it would cap its own score).
//! The record is emitted with the score appended (null while fewer than `min_count` other
//! values are in its window, or when they do not vary); with a `threshold`, only records with
//! `|score| >= threshold` are emitted.
//!
//! A record is scored when the watermark reaches its timestamp, not when it arrives: then
//! every on-time record of its window is in, whatever order the input had, so the score
//! depends only on the records, not on their arrival order, the number of workers or the
//! batching. Records are therefore emitted in event-time order per key, one watermark after
//! they arrive. A late record (at or behind the watermark when it arrives) or one without a
//! timestamp (taken as the watermark) is scored at once against the values still held; a
//! record without a numeric value is dropped, as in [`ZScore`](super::zscore::ZScore).
//!
//! State per key is the last `window` of event time plus the records not yet scored: a value
//! no future record can see (`ts + window <= watermark`) is freed by an event-time timer. Each
//! key holds one timer, at [`Entries::next_due`]; both are keyed state, checkpointed per key
//! group (so a restore may rescale). Scoring a record costs the number of values in its
//! window; an arriving record costs a binary search and an insertion into its key's vector
//! (a shift of the few later entries when it is out of order).
//!
//! The current watermark is not keyed state: after a restore the runtime must call
//! `on_watermark` with the checkpointed watermark before any record.

pub mod entries;
#[cfg(test)]
mod tests;

use super::window::event_time;
use super::zscore::score;
use super::KeyedOperator;
use crate::record::{Row, RowKey, Value};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};
pub use entries::{Entries, Entry};

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
    /// Other values needed in the window before a record is scored (at least 2).
    pub min_count: u64,
}

/// The windowed z-score operator; see the module docs.
pub struct WindowedZScore {
    cfg: WindowedZScoreConfig,
    /// Per key: the records of the window and those waiting to be scored.
    entries: ValueState<RowKey, Entries>,
    /// One event-time timer per key with entries, at its [`Entries::next_due`].
    timers: TimerService<RowKey>,
    watermark: i64,
    /// Boxes of rows already scored, reused for the next pending rows (at most
    /// [`SPARE_ROWS`]): every record waits in a box, which must not be allocated each time.
    #[allow(clippy::vec_box)] // the boxes themselves are what is kept for reuse
    spare_rows: Vec<Box<Row>>,
}

/// Most boxes [`WindowedZScore`] keeps for reuse.
const SPARE_ROWS: usize = 1 << 16;

/// `row` in a box from `spare`, or in a new one.
#[allow(clippy::vec_box)] // the boxes themselves are what is kept for reuse
fn boxed(spare: &mut Vec<Box<Row>>, row: Row) -> Box<Row> {
    match spare.pop() {
        Some(mut b) => {
            *b = row;
            b
        }
        None => Box::new(row),
    }
}

impl WindowedZScore {
    /// A windowed z-score for `cfg`.
    pub fn new(mut cfg: WindowedZScoreConfig) -> Self {
        cfg.window_ms = cfg.window_ms.max(1);
        cfg.min_count = cfg.min_count.max(2);
        WindowedZScore {
            cfg,
            entries: ValueState::new("zscore_window"),
            timers: TimerService::new("zscore_window_timers"),
            watermark: i64::MIN,
            spare_rows: Vec::new(),
        }
    }

    /// Values held (scored and pending), all keys.
    pub fn values_held(&self) -> usize {
        self.entries.iter().map(|(_, v)| v.len()).sum()
    }

    /// Appends the score to `row` and emits it when it passes the threshold.
    fn emit(&self, mut row: Row, s: Option<f64>, out: &mut Vec<Row>) {
        let pass = match (self.cfg.threshold, s) {
            (None, _) => true,
            (Some(t), Some(s)) => s.abs() >= t,
            (Some(_), None) => false,
        };
        if pass {
            row.push(s.map_or(Value::Null, Value::F64));
            out.push(row);
        }
    }

    /// Scores the pending entries of one key with `ts <= up_to`, in timestamp order.
    fn fire(&mut self, es: &mut Entries, up_to: i64, out: &mut Vec<Row>) {
        let (window, min_count) = (self.cfg.window_ms, self.cfg.min_count);
        for i in es.first_pending()..es.0.len() {
            let e = &es.0[i];
            if e.ts > up_to {
                break;
            }
            let s = score(&es.moments(e.ts, window, Some(i)), e.x, min_count);
            if let Some(mut boxed) = es.0[i].row.take() {
                let row = std::mem::take(&mut *boxed);
                if self.spare_rows.len() < SPARE_ROWS {
                    self.spare_rows.push(boxed);
                }
                self.emit(row, s, out);
            }
        }
    }
}

/// Moves the key's timer from `before` to `after` (its next due time before and after an
/// edit of its entries).
fn reschedule(
    timers: &mut TimerService<RowKey>,
    ctx: &KeyContext<'_, RowKey>,
    before: Option<i64>,
    after: Option<i64>,
) {
    if before == after {
        return;
    }
    if let Some(t) = before {
        timers.delete(TimeDomain::EventTime, ctx, t);
    }
    if let Some(t) = after {
        timers.register(TimeDomain::EventTime, ctx, t);
    }
}

impl KeyedOperator<RowKey, Row, Row> for WindowedZScore {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        // Kept in state: a clone made on this thread (see `KeyedOperator::process`).
        let input = input.clone();
        let Some(x) = input.get(self.cfg.field).and_then(Value::as_f64) else {
            return;
        };
        let window = self.cfg.window_ms;
        let es = self.entries.get_or_insert_with(ctx, Entries::default);
        // On time: after the watermark, and after every record already scored (which only
        // a restored operator, before its first watermark, could not tell from the watermark).
        let after = self.watermark.max(es.last_scored().unwrap_or(i64::MIN));
        let ts = event_time(&input, self.cfg.ts_field).filter(|&t| t > after);
        let before = es.next_due(window);
        match ts {
            Some(ts) => es.insert(Entry {
                ts,
                x,
                row: Some(boxed(&mut self.spare_rows, input)),
            }),
            None => {
                // Late (or no timestamp): score now against what is still held.
                let ts = event_time(&input, self.cfg.ts_field).unwrap_or(self.watermark);
                let s = score(&es.moments(ts, window, None), x, self.cfg.min_count);
                if ts.saturating_add(window) > self.watermark {
                    es.insert(Entry { ts, x, row: None });
                }
                let after = es.next_due(window);
                if es.is_empty() {
                    self.entries.clear(ctx);
                }
                reschedule(&mut self.timers, ctx, before, after);
                return self.emit(input, s, out);
            }
        }
        let after = es.next_due(window);
        reschedule(&mut self.timers, ctx, before, after);
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.entries.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.entries, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<Row>) {
        if watermark_ms <= self.watermark {
            return;
        }
        self.watermark = watermark_ms;
        let window = self.cfg.window_ms;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark_ms) {
            let ctx = timer.ctx(0);
            let Some(mut es) = self.entries.clear(&ctx) else {
                continue;
            };
            self.fire(&mut es, watermark_ms, out);
            es.evict(watermark_ms, window);
            // Every pending entry is now after the watermark, and so is every entry's
            // `ts + window`: the next due time is in the future.
            if let Some(t) = es.next_due(window) {
                self.timers.register(TimeDomain::EventTime, &ctx, t);
                self.entries.update(&ctx, es);
            }
        }
    }
}
