//! The rows with the largest value of a field per key, emitted once event time closes the key
//! (`type = "max_rows"`): Nexmark q5's "auctions with num ≥ the window's maximum", keyed by
//! the window.
//!
//! Each key holds the rows tied at its largest `field` so far (a smaller row is dropped, a
//! larger one replaces them). The key closes when the watermark reaches `row[at] − 1` (a
//! window's end minus 1 ms, when the window itself fires); its rows are then emitted, in
//! arrival order, and its state is freed. State and timers are per key group and checkpointed.

use super::aggregate_acc::order;
use super::window::event_time;
use super::KeyedOperator;
use crate::record::state_codec::{decode_rows, encode_rows};
use crate::record::{Row, RowKey, Value};
use crate::state::{CodecError, KeyContext, KeyedStateStore, StateCodec, ValueState};
use crate::time::{TimeDomain, TimerService};
use std::cmp::Ordering;

/// The rows tied at a key's largest value so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tied(Vec<Row>);

/// The max-rows operator.
pub struct MaxRows {
    field: usize,
    at: usize,
    best: ValueState<RowKey, Tied>,
    timers: TimerService<RowKey>,
}

impl MaxRows {
    /// Keeps the rows with the largest `row[field]` per key, emitted when the watermark
    /// reaches `row[at] − 1` (`at`: a timestamp field, the same for a key's rows).
    pub fn new(field: usize, at: usize) -> Self {
        MaxRows {
            field,
            at,
            best: ValueState::new("max_rows"),
            timers: TimerService::new("max_rows_timers"),
        }
    }

    fn fire(&mut self, up_to: i64, out: &mut Vec<Row>) {
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, up_to) {
            let ctx = timer.ctx(0);
            if let Some(Tied(rows)) = self.best.clear(&ctx) {
                out.extend(rows);
            }
        }
    }
}

impl KeyedOperator<RowKey, Row, Row> for MaxRows {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        // Kept in state: a clone made on this thread (see `KeyedOperator::process`).
        let input = input.clone();
        let _ = out;
        let close = event_time(&input, self.at).map_or(i64::MAX, |t| t.saturating_sub(1));
        let field = self.field;
        let tied = self.best.get_or_insert_with(ctx, Tied::default);
        let ord = match tied.0.first() {
            None => Ordering::Greater,
            Some(best) => order(
                input.get(field).unwrap_or(&Value::Null),
                best.get(field).unwrap_or(&Value::Null),
            ),
        };
        match ord {
            Ordering::Greater => {
                tied.0.clear();
                tied.0.push(input);
            }
            Ordering::Equal => tied.0.push(input),
            Ordering::Less => {}
        }
        self.timers.register(TimeDomain::EventTime, ctx, close);
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.best.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.best, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<Row>) {
        self.fire(watermark_ms, out);
    }

    fn close(&mut self, out: &mut Vec<Row>) {
        self.fire(i64::MAX, out);
    }
}

impl StateCodec for Tied {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_rows(&self.0, out);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        decode_rows(input).map(Tied)
    }
}

#[cfg(test)]
#[path = "max_rows_tests.rs"]
mod tests;
