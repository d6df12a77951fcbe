//! The interval join: each pair of rows of one key with
//! `right.ts ∈ [left.ts + lower, left.ts + upper]`, emitted exactly once (when the second of
//! the two arrives). Output row: the left row's fields, then the right row's.
//!
//! State is freed by the watermark: a left row can match no future right row (those have
//! `ts > watermark`) once `left.ts + upper <= watermark`, a right row no future left row once
//! `right.ts - lower <= watermark`; an event-time timer per key at those times drops them.
//! A row with `ts <= watermark` (or without a timestamp) is late: it goes, unchanged, to the
//! side output `late_left` or `late_right` (the inputs' schemas differ) and joins nothing.
//!
//! The current watermark is not keyed state: after a restore the runtime must call
//! `on_watermark` with the checkpointed watermark before any record.

use super::join_state::{concat, Sides, Stamped};
use super::window::event_time;
use super::KeyedCoOperator;
use crate::record::{Row, RowKey};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};

/// What an interval join matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntervalJoinConfig {
    /// Index of the timestamp field in left rows.
    pub left_ts: usize,
    /// Index of the timestamp field in right rows.
    pub right_ts: usize,
    /// Lower bound of `right.ts - left.ts`, ms (may be negative).
    pub lower: i64,
    /// Upper bound of `right.ts - left.ts`, ms, `>= lower`.
    pub upper: i64,
}

/// An interval join whose bounds cannot match anything.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("interval join: lower ({lower}ms) must not be greater than upper ({upper}ms)")]
pub struct IntervalError {
    /// The lower bound.
    pub lower: i64,
    /// The upper bound.
    pub upper: i64,
}

/// The interval join operator; see the module docs.
pub struct IntervalJoinOperator {
    cfg: IntervalJoinConfig,
    rows: ValueState<RowKey, Sides>,
    timers: TimerService<RowKey>,
    /// The current watermark (`i64::MIN`: none yet).
    watermark: i64,
    /// Late rows not yet drained: left, right.
    late: [Vec<Row>; 2],
    /// Late rows so far, both sides (for the run summary).
    late_count: u64,
}

impl IntervalJoinOperator {
    /// An interval join for `cfg`.
    ///
    /// # Errors
    /// [`IntervalError`] when `lower > upper`.
    pub fn new(cfg: IntervalJoinConfig) -> Result<Self, IntervalError> {
        if cfg.lower > cfg.upper {
            return Err(IntervalError {
                lower: cfg.lower,
                upper: cfg.upper,
            });
        }
        Ok(IntervalJoinOperator {
            cfg,
            rows: ValueState::new("interval_join"),
            timers: TimerService::new("interval_join_timers"),
            watermark: i64::MIN,
            late: [Vec::new(), Vec::new()],
            late_count: 0,
        })
    }

    /// When a left row stamped `ts` can be freed.
    fn left_expiry(&self, ts: i64) -> i64 {
        ts.saturating_add(self.cfg.upper)
    }

    /// When a right row stamped `ts` can be freed.
    fn right_expiry(&self, ts: i64) -> i64 {
        ts.saturating_sub(self.cfg.lower)
    }

    /// Whether `right_ts - left_ts` is within the bounds (without overflow).
    fn matches(&self, left_ts: i64, right_ts: i64) -> bool {
        let d = i128::from(right_ts) - i128::from(left_ts);
        i128::from(self.cfg.lower) <= d && d <= i128::from(self.cfg.upper)
    }

    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, left: bool, row: Row, out: &mut Vec<Row>) {
        let field = if left {
            self.cfg.left_ts
        } else {
            self.cfg.right_ts
        };
        let ts = match event_time(&row, field) {
            Some(ts) if ts > self.watermark => ts,
            _ => {
                self.late[usize::from(!left)].push(row);
                self.late_count += 1;
                return;
            }
        };
        let expiry = if left {
            self.left_expiry(ts)
        } else {
            self.right_expiry(ts)
        };
        // A row that can match no future row is joined with the stored ones, not stored.
        let keep = expiry > self.watermark;
        let mut sides = self.rows.clear(ctx).unwrap_or_default();
        if left {
            for r in sides.right.iter().filter(|r| self.matches(ts, r.stamp)) {
                out.push(concat(&row, &r.row));
            }
            if keep {
                sides.left.push(Stamped { stamp: ts, row });
            }
        } else {
            for l in sides.left.iter().filter(|l| self.matches(l.stamp, ts)) {
                out.push(concat(&l.row, &row));
            }
            if keep {
                sides.right.push(Stamped { stamp: ts, row });
            }
        }
        if keep {
            self.timers.register(TimeDomain::EventTime, ctx, expiry);
        }
        if !sides.is_empty() {
            self.rows.update(ctx, sides);
        }
    }

    /// Late rows so far, both sides (for the run summary).
    pub fn late_count(&self) -> u64 {
        self.late_count
    }

    /// Rows held, both sides, all keys (for tests and metrics).
    pub fn rows_held(&self) -> usize {
        self.rows
            .iter()
            .map(|(_, s)| s.left.len() + s.right.len())
            .sum()
    }
}

impl KeyedCoOperator<RowKey, Row, Row, Row> for IntervalJoinOperator {
    fn process1(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        self.process(ctx, true, input.clone(), out);
    }

    fn process2(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        self.process(ctx, false, input.clone(), out);
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.rows.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.rows, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, _out: &mut Vec<Row>) {
        if watermark_ms <= self.watermark {
            return;
        }
        let wm = watermark_ms;
        self.watermark = wm;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, wm) {
            let ctx = timer.ctx(0);
            let Some(mut sides) = self.rows.clear(&ctx) else {
                continue;
            };
            sides.left.retain(|l| self.left_expiry(l.stamp) > wm);
            sides.right.retain(|r| self.right_expiry(r.stamp) > wm);
            if !sides.is_empty() {
                self.rows.update(&ctx, sides);
            }
        }
    }

    fn side_outputs(&self) -> Vec<&'static str> {
        vec!["late_left", "late_right"]
    }

    fn drain_side(&mut self, index: usize, out: &mut Vec<Row>) {
        if let Some(late) = self.late.get_mut(index) {
            out.append(late);
        }
    }
}

#[cfg(test)]
#[path = "interval_join_tests.rs"]
mod tests;
