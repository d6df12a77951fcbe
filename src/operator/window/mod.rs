//! Event-time windows per key: tumbling, sliding and (merging) session windows with the
//! aggregates of [`rolling`](super::rolling).
//!
//! Output row: the key fields, `window_start`, `window_end` (timestamps), then one value per
//! aggregate. A window `[start, end)` is emitted when the watermark reaches `end - 1`, and
//! again, updated, for every allowed-late record (one arriving after that but while the
//! watermark is below `end - 1 + allowed_lateness`). Its state is freed when the watermark
//! reaches `end - 1 + allowed_lateness`. A record none of whose windows accepts it any more
//! (or without a timestamp) goes to the side output `late`, unchanged.
//!
//! State: the windows of each key ([`Windows`] in a [`ValueState`]) and one event-time timer
//! per pending fire or cleanup time ([`TimerService`]), both per key group. The current
//! watermark is not keyed state: after a restore the runtime must call
//! [`KeyedOperator::on_watermark`] with the checkpointed watermark before any record (no
//! timer fires then: the due ones fired before the checkpoint).

mod assign;
mod state;
#[cfg(test)]
mod tests;

pub use assign::{WindowKind, WindowKindError, MAX_WINDOWS_PER_RECORD};
pub use state::{Win, Windows};

use super::rolling::{Aggregate, Rolling};
use super::KeyedOperator;
use crate::record::{Row, RowKey, Value};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};
use smallvec::SmallVec;

/// What a window operator computes.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowConfig {
    /// Tumbling, sliding or session.
    pub kind: WindowKind,
    /// How long after `end - 1` a window still accepts (and re-emits for) records, ms `>= 0`.
    pub allowed_lateness_ms: i64,
    /// Index of the event-time field (a timestamp or i64 of ms) in the input rows.
    pub ts_field: usize,
    /// The aggregates, in output order.
    pub aggs: Vec<Aggregate>,
}

/// The window operator over rows keyed by [`RowKey`]; see the module docs.
pub struct WindowOperator {
    cfg: WindowConfig,
    windows: ValueState<RowKey, Windows>,
    timers: TimerService<RowKey>,
    /// The current watermark (`i64::MIN`: none yet).
    watermark: i64,
    /// Late records not yet drained.
    late: Vec<Row>,
}

/// The event time of `row`'s field `i` (a timestamp or an integer), if it has one.
pub(crate) fn event_time(row: &Row, i: usize) -> Option<i64> {
    match row.get(i) {
        Some(Value::Ts(t) | Value::I64(t)) => Some(*t),
        _ => None,
    }
}

/// The output row of window `w` of `key`: key fields, bounds, aggregates.
fn emit(key: &RowKey, w: &Win, out: &mut Vec<Row>) {
    let mut row: Row = key.0.iter().cloned().collect();
    row.push(Value::Ts(w.start));
    row.push(Value::Ts(w.end));
    row.extend(w.accs.0.iter().map(Rolling::result));
    out.push(row);
}

impl WindowOperator {
    /// A window operator for `cfg`.
    ///
    /// # Errors
    /// [`WindowKindError`] when the window lengths are invalid.
    pub fn new(mut cfg: WindowConfig) -> Result<Self, WindowKindError> {
        cfg.kind.validate()?;
        cfg.allowed_lateness_ms = cfg.allowed_lateness_ms.max(0);
        Ok(WindowOperator {
            cfg,
            windows: ValueState::new("window"),
            timers: TimerService::new("window_timers"),
            watermark: i64::MIN,
            late: Vec::new(),
        })
    }

    /// The current watermark.
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// When the state of a window ending at `end` is freed (its cleanup timer).
    fn cleanup_time(&self, w: &Win) -> i64 {
        w.max_timestamp()
            .saturating_add(self.cfg.allowed_lateness_ms)
    }

    /// Whether a window is past its allowed lateness (accepts no record).
    fn is_late(&self, w: &Win) -> bool {
        self.cleanup_time(w) <= self.watermark
    }

    /// Registers the fire timer (or emits now, for a window the watermark already passed)
    /// and the cleanup timer of the updated window `w`.
    fn schedule(&mut self, ctx: &KeyContext<'_, RowKey>, w: &Win, out: &mut Vec<Row>) {
        if w.max_timestamp() <= self.watermark {
            emit(ctx.key, w, out);
        } else {
            self.timers
                .register(TimeDomain::EventTime, ctx, w.max_timestamp());
        }
        let cleanup = self.cleanup_time(w);
        self.timers.register(TimeDomain::EventTime, ctx, cleanup);
    }

    /// Folds a record into its tumbling or sliding windows. Timers are registered when a
    /// window is created (its times never change); the key's windows are updated in place.
    fn process_fixed(
        &mut self,
        ctx: &KeyContext<'_, RowKey>,
        ts: i64,
        row: Row,
        out: &mut Vec<Row>,
    ) {
        let WindowOperator {
            cfg,
            windows,
            timers,
            watermark,
            late,
        } = self;
        let (wm, lateness) = (*watermark, cfg.allowed_lateness_ms);
        let mut set: Option<&mut Windows> = None;
        for (start, end) in cfg.kind.assign(ts) {
            let max_ts = end.saturating_sub(1);
            let cleanup = max_ts.saturating_add(lateness);
            if cleanup <= wm {
                continue;
            }
            if set.is_none() {
                set = Some(windows.get_or_insert_with(ctx, Windows::default));
            }
            let Some(set) = set.as_deref_mut() else {
                continue;
            };
            let found = set.0.iter().position(|w| w.start == start && w.end == end);
            let i = found.unwrap_or_else(|| {
                set.0.push(Win::empty(start, end, cfg.aggs.len()));
                if max_ts > wm {
                    timers.register(TimeDomain::EventTime, ctx, max_ts);
                }
                if cleanup != max_ts {
                    timers.register(TimeDomain::EventTime, ctx, cleanup);
                }
                set.0.len() - 1
            });
            set.0[i].fold(&cfg.aggs, &row);
            if max_ts <= wm {
                emit(ctx.key, &set.0[i], out);
            }
        }
        if set.is_none() {
            late.push(row);
        }
    }

    fn process_session(
        &mut self,
        ctx: &KeyContext<'_, RowKey>,
        ts: i64,
        row: Row,
        out: &mut Vec<Row>,
    ) {
        let n = self.cfg.aggs.len();
        let Some(&(start, end)) = self.cfg.kind.assign(ts).first() else {
            self.late.push(row);
            return;
        };
        let mut merged = Win::empty(start, end, n);
        let set = self.windows.clear(ctx).unwrap_or_default();
        let (overlapping, mut kept): (Vec<Win>, Vec<Win>) = set
            .0
            .into_iter()
            .partition(|w| w.start < merged.end && merged.start < w.end);
        if overlapping.is_empty() && self.is_late(&merged) {
            self.late.push(row);
            if !kept.is_empty() {
                self.windows.update(ctx, Windows(SmallVec::from_vec(kept)));
            }
            return;
        }
        for w in &overlapping {
            merged.merge(&self.cfg.aggs, w);
        }
        merged.fold(&self.cfg.aggs, &row);
        // Timers of the merged-away windows that no remaining window needs.
        kept.push(merged.clone());
        let needed: Vec<i64> = kept
            .iter()
            .flat_map(|w| [w.max_timestamp(), self.cleanup_time(w)])
            .collect();
        for w in &overlapping {
            for t in [w.max_timestamp(), self.cleanup_time(w)] {
                if !needed.contains(&t) {
                    self.timers.delete(TimeDomain::EventTime, ctx, t);
                }
            }
        }
        self.schedule(ctx, &merged, out);
        self.windows.update(ctx, Windows(SmallVec::from_vec(kept)));
    }

    /// Handles a due timer at `time` of `key`: emits the windows ending there, frees those
    /// past their cleanup time.
    fn on_timer(&mut self, ctx: &KeyContext<'_, RowKey>, time: i64, out: &mut Vec<Row>) {
        let Some(mut set) = self.windows.clear(ctx) else {
            return;
        };
        for w in &set.0 {
            if w.max_timestamp() == time {
                emit(ctx.key, w, out);
            }
        }
        set.0.retain(|w| self.cleanup_time(w) > time);
        if !set.0.is_empty() {
            self.windows.update(ctx, set);
        }
    }
}

impl KeyedOperator<RowKey, Row, Row> for WindowOperator {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: Row, out: &mut Vec<Row>) {
        let Some(ts) = event_time(&input, self.cfg.ts_field) else {
            self.late.push(input);
            return;
        };
        if self.cfg.kind.is_merging() {
            self.process_session(ctx, ts, input, out);
        } else {
            self.process_fixed(ctx, ts, input, out);
        }
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.windows.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.windows, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<Row>) {
        if watermark_ms <= self.watermark {
            return;
        }
        self.watermark = watermark_ms;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark_ms) {
            self.on_timer(&timer.ctx(0), timer.time, out);
        }
    }

    fn side_outputs(&self) -> Vec<&'static str> {
        vec!["late"]
    }

    fn drain_side(&mut self, index: usize, out: &mut Vec<Row>) {
        if index == 0 {
            out.append(&mut self.late);
        }
    }
}
