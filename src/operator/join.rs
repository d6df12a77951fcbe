//! The unbounded inner equi-join of two keyed row streams (both keyed by the join key).
//!
//! Both sides' rows are kept per key; a row that arrives is joined with the other side's
//! rows of its key, so every matching pair is emitted exactly once, when the second of the
//! two arrives. Output row: the left row's fields, then the right row's.
//!
//! With a TTL, a row is forgotten `ttl` after its stamp: the processing time it arrived at,
//! or (event-time TTL) its own timestamp field, against the watermark. A stored row matches
//! only while live, so what is freed never changes the output. An event-time row without a
//! timestamp is stamped with the current watermark.

use super::join_state::{concat, Sides, Stamped};
use super::window::event_time;
use super::KeyedCoOperator;
use crate::record::{Row, RowKey};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};

/// When stored rows expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinTtl {
    /// `millis` of processing time after the row arrived.
    Processing {
        /// Lifetime, ms.
        millis: i64,
    },
    /// When the watermark reaches the row's timestamp + `millis`.
    EventTime {
        /// Lifetime, ms.
        millis: i64,
        /// Index of the timestamp field in left rows.
        left_ts: usize,
        /// Index of the timestamp field in right rows.
        right_ts: usize,
    },
}

impl JoinTtl {
    fn millis(&self) -> i64 {
        match *self {
            JoinTtl::Processing { millis } | JoinTtl::EventTime { millis, .. } => millis.max(0),
        }
    }

    fn domain(&self) -> TimeDomain {
        match self {
            JoinTtl::Processing { .. } => TimeDomain::ProcessingTime,
            JoinTtl::EventTime { .. } => TimeDomain::EventTime,
        }
    }
}

/// Which input a row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// The join operator; see the module docs.
pub struct JoinOperator {
    ttl: Option<JoinTtl>,
    rows: ValueState<RowKey, Sides>,
    timers: TimerService<RowKey>,
    /// The current watermark (`i64::MIN`: none yet).
    watermark: i64,
}

impl JoinOperator {
    /// A join keeping rows forever, or until `ttl`.
    pub fn new(ttl: Option<JoinTtl>) -> Self {
        JoinOperator {
            ttl,
            rows: ValueState::new("join"),
            timers: TimerService::new("join_timers"),
            watermark: i64::MIN,
        }
    }

    /// The time rows expire against: the watermark or the processing time.
    fn now(&self, ctx: &KeyContext<'_, RowKey>) -> i64 {
        match self.ttl {
            Some(JoinTtl::Processing { .. }) => i64::try_from(ctx.now_ms).unwrap_or(i64::MAX),
            _ => self.watermark,
        }
    }

    fn stamp(&self, ctx: &KeyContext<'_, RowKey>, side: Side, row: &Row) -> i64 {
        match self.ttl {
            None => 0,
            Some(JoinTtl::Processing { .. }) => self.now(ctx),
            Some(JoinTtl::EventTime {
                left_ts, right_ts, ..
            }) => {
                let field = if side == Side::Left {
                    left_ts
                } else {
                    right_ts
                };
                event_time(row, field).unwrap_or(self.watermark)
            }
        }
    }

    /// Whether a row stamped `stamp` is still live at `now` (always without a TTL).
    fn live(&self, stamp: i64, now: i64) -> bool {
        self.ttl
            .is_none_or(|t| stamp.saturating_add(t.millis()) > now)
    }

    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, side: Side, row: Row, out: &mut Vec<Row>) {
        let now = self.now(ctx);
        let stamp = self.stamp(ctx, side, &row);
        let keep = self.live(stamp, now);
        let mut sides = self.rows.clear(ctx).unwrap_or_default();
        let others = match side {
            Side::Left => &sides.right,
            Side::Right => &sides.left,
        };
        for other in others.iter().filter(|o| self.live(o.stamp, now)) {
            out.push(match side {
                Side::Left => concat(&row, &other.row),
                Side::Right => concat(&other.row, &row),
            });
        }
        if keep {
            if let Some(ttl) = self.ttl {
                let expiry = stamp.saturating_add(ttl.millis());
                self.timers.register(ttl.domain(), ctx, expiry);
            }
            let mine = match side {
                Side::Left => &mut sides.left,
                Side::Right => &mut sides.right,
            };
            mine.push(Stamped { stamp, row });
        }
        if !sides.is_empty() {
            self.rows.update(ctx, sides);
        }
    }

    /// Frees the rows of every key with a timer due at `now` in `domain`.
    fn expire(&mut self, domain: TimeDomain, now: i64) {
        while let Some(timer) = self.timers.pop_due(domain, now) {
            let ctx = timer.ctx(u64::try_from(now).unwrap_or(0));
            let Some(mut sides) = self.rows.clear(&ctx) else {
                continue;
            };
            sides.left.retain(|r| self.live(r.stamp, now));
            sides.right.retain(|r| self.live(r.stamp, now));
            if !sides.is_empty() {
                self.rows.update(&ctx, sides);
            }
        }
    }

    /// Rows held, both sides, all keys (for tests and metrics).
    pub fn rows_held(&self) -> usize {
        self.rows
            .iter()
            .map(|(_, s)| s.left.len() + s.right.len())
            .sum()
    }
}

impl KeyedCoOperator<RowKey, Row, Row, Row> for JoinOperator {
    fn process1(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        self.process(ctx, Side::Left, input.clone(), out);
    }

    fn process2(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        self.process(ctx, Side::Right, input.clone(), out);
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
        self.watermark = watermark_ms;
        if matches!(self.ttl, Some(JoinTtl::EventTime { .. })) {
            self.expire(TimeDomain::EventTime, watermark_ms);
        }
    }

    fn on_processing_time(&mut self, now_ms: u64, _out: &mut Vec<Row>) {
        if matches!(self.ttl, Some(JoinTtl::Processing { .. })) {
            let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
            self.expire(TimeDomain::ProcessingTime, now);
        }
    }
}

#[cfg(test)]
#[path = "join_tests.rs"]
pub(crate) mod tests;
