//! `max_rows` over tumbling event-time windows (`window = "10s"`): per key and window, the
//! rows whose `field` equals the window's maximum (ties all kept), emitted once the watermark
//! closes the window, then freed. State is O(ties) per open window, not O(rows).
//!
//! A row belongs to the window `[t − t mod size, … + size)` of its time `t = row[at]`. With
//! `include_end`, a row exactly at a window's end (`t mod size = 0`) is also a candidate of
//! the window it ends (SQL's `BETWEEN window_end − size AND window_end`, Nexmark q7): it is
//! emitted there when its value equals that window's maximum, but does not count toward it;
//! such windows close one millisecond later, when the watermark reaches their end.

use super::aggregate_acc::order;
use super::window::event_time;
use super::KeyedOperator;
use crate::record::state_codec::{decode_rows, encode_rows};
use crate::record::{Row, RowKey, Value};
use crate::state::{CodecError, KeyContext, KeyedStateStore, StateCodec, ValueState};
use crate::time::{TimeDomain, TimerService};
use std::cmp::Ordering;

/// One open window of a key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Slot {
    /// The window's end (exclusive for members), ms.
    end: i64,
    /// The members tied at the window's largest value so far.
    best: Vec<Row>,
    /// Rows at exactly `end` (with `include_end`) not below `best`'s value.
    edge: Vec<Row>,
}

/// A key's open windows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Slots(Vec<Slot>);

/// The windowed max-rows operator.
pub struct WindowedMaxRows {
    field: usize,
    at: usize,
    size: i64,
    include_end: bool,
    slots: ValueState<RowKey, Slots>,
    timers: TimerService<RowKey>,
}

fn value(row: &Row, field: usize) -> &Value {
    row.get(field).unwrap_or(&Value::Null)
}

impl WindowedMaxRows {
    /// Keeps, per key and tumbling window of `size_ms` on `row[at]`, the rows with the largest
    /// `row[field]`; `include_end` as in the module documentation. `size_ms` is at least 1.
    pub fn new(field: usize, at: usize, size_ms: i64, include_end: bool) -> Self {
        WindowedMaxRows {
            field,
            at,
            size: size_ms.max(1),
            include_end,
            slots: ValueState::new("max_rows_window"),
            timers: TimerService::new("max_rows_window_timers"),
        }
    }

    /// The slot of the window ending at `end`, created (with its timer) if new.
    fn slot<'s>(
        slots: &'s mut Slots,
        timers: &mut TimerService<RowKey>,
        ctx: &KeyContext<'_, RowKey>,
        end: i64,
        close: i64,
    ) -> &'s mut Slot {
        let i = match slots.0.iter().position(|s| s.end == end) {
            Some(i) => i,
            None => {
                timers.register(TimeDomain::EventTime, ctx, close);
                slots.0.push(Slot {
                    end,
                    ..Slot::default()
                });
                slots.0.len() - 1
            }
        };
        &mut slots.0[i]
    }

    fn close_time(&self, end: i64) -> i64 {
        if self.include_end {
            end
        } else {
            end.saturating_sub(1)
        }
    }

    fn fire(&mut self, up_to: i64, out: &mut Vec<Row>) {
        let include_end = self.include_end;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, up_to) {
            let ctx = timer.ctx(0);
            let Some(Slots(slots)) = self.slots.clear(&ctx) else {
                continue;
            };
            let (due, open): (Vec<Slot>, Vec<Slot>) = slots
                .into_iter()
                .partition(|s| closes_by(s.end, include_end, up_to));
            if !open.is_empty() {
                self.slots.update(&ctx, Slots(open));
            }
            for slot in due {
                emit(slot, self.field, out);
            }
        }
    }
}

/// Whether the window ending at `end` is closed once the watermark is `up_to`.
fn closes_by(end: i64, include_end: bool, up_to: i64) -> bool {
    if include_end {
        end <= up_to
    } else {
        end.saturating_sub(1) <= up_to
    }
}

/// A closed window's rows: its tied members, then the end rows equal to their value.
fn emit(slot: Slot, field: usize, out: &mut Vec<Row>) {
    let Some(best) = slot.best.first().map(|r| value(r, field).clone()) else {
        return;
    };
    out.extend(slot.best);
    out.extend(
        slot.edge
            .into_iter()
            .filter(|r| order(value(r, field), &best) == Ordering::Equal),
    );
}

/// Adds a member row to its window's tied rows.
fn add_member(slot: &mut Slot, row: Row, field: usize) {
    let ord = match slot.best.first() {
        None => Ordering::Greater,
        Some(b) => order(value(&row, field), value(b, field)),
    };
    match ord {
        Ordering::Greater => {
            let v = value(&row, field).clone();
            slot.best.clear();
            slot.best.push(row);
            slot.edge
                .retain(|r| order(value(r, field), &v) != Ordering::Less);
        }
        Ordering::Equal => slot.best.push(row),
        Ordering::Less => {}
    }
}

/// Keeps an end row unless the window's maximum is already above it.
fn add_edge(slot: &mut Slot, row: &Row, field: usize) {
    let below = slot
        .best
        .first()
        .is_some_and(|b| order(value(row, field), value(b, field)) == Ordering::Less);
    if !below {
        slot.edge.push(row.clone());
    }
}

impl KeyedOperator<RowKey, Row, Row> for WindowedMaxRows {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        // Kept in state: a clone made on this thread (see `KeyedOperator::process`).
        let input = input.clone();
        let _ = out;
        let Some(t) = event_time(&input, self.at) else {
            return;
        };
        let start = t - t.rem_euclid(self.size);
        let end = start.saturating_add(self.size);
        let (field, size) = (self.field, self.size);
        let (close_prev, close_own) = (self.close_time(start), self.close_time(end));
        let slots = self.slots.get_or_insert_with(ctx, Slots::default);
        if self.include_end && t == start {
            let prev = Self::slot(slots, &mut self.timers, ctx, start, close_prev);
            debug_assert_eq!(prev.end + size, end);
            add_edge(prev, &input, field);
        }
        let own = Self::slot(slots, &mut self.timers, ctx, end, close_own);
        add_member(own, input, field);
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.slots.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.slots, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<Row>) {
        self.fire(watermark_ms, out);
    }

    fn close(&mut self, out: &mut Vec<Row>) {
        self.fire(i64::MAX, out);
    }
}

impl StateCodec for Slots {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).encode(out);
        for s in &self.0 {
            s.end.encode(out);
            encode_rows(&s.best, out);
            encode_rows(&s.edge, out);
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = u32::decode(input)? as usize;
        let mut slots = Vec::with_capacity(n.min(input.len() / 8));
        for _ in 0..n {
            let end = i64::decode(input)?;
            let best = decode_rows(input)?;
            let edge = decode_rows(input)?;
            slots.push(Slot { end, best, edge });
        }
        Ok(Slots(slots))
    }
}

#[cfg(test)]
#[path = "max_rows_window_tests.rs"]
mod tests;
