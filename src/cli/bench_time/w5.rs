//! W5: interval join of two generated streams. Orders: order `j` has key `j` and
//! `ts = j / 10` (10 orders per ms, in order); payments: payment `j` has the same key and
//! `ts = order ts + splitmix64(j ^ 0x5A5A) % 30 s` (so the payment stream is out of order by
//! up to 30 s, its watermark bound). Join where `payment.ts ∈ [order.ts, order.ts + 60 s]`,
//! emitting `(key, order ts, payment ts)` once per pair. `--events N` is N/2 orders and N/2
//! payments. Each side's rows are freed once the watermark makes a match impossible.

use super::source::StridedSource;
use super::{event_time, mix, outcome, Outcome};
use crate::operator::KeyedCoOperator;
use crate::runtime::{RunConfig, Stream};
use crate::sink::null::NullSink;
use crate::source::generator::splitmix64;
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Upper bound of `payment.ts − order.ts`, ms (the lower bound is 0).
const UPPER_MS: i64 = 60_000;
/// Largest payment delay, ms: the payment stream's out-of-orderness bound.
const DELAY_MS: i64 = 30_000;
/// Orders per ms of event time.
const PER_MS: u64 = 10;

/// key, ts (orders and payments alike).
type Event = (u64, i64);
/// key, order ts, payment ts.
type Out = (u64, i64, i64);

#[inline]
fn order(j: u64) -> Event {
    (j, (j / PER_MS) as i64)
}

#[inline]
fn payment(j: u64) -> Event {
    (
        j,
        (j / PER_MS) as i64 + (splitmix64(j ^ 0x5A5A) % DELAY_MS as u64) as i64,
    )
}

fn out_hash(o: &Out) -> u64 {
    mix(mix(o.0, o.1), o.2)
}

/// Orders and payments of `events` in all.
fn counts(events: u64) -> (u64, u64) {
    (events.div_ceil(2), events / 2)
}

/// The rows of one key waiting for a match: order and payment timestamps.
type Sides = (Vec<i64>, Vec<i64>);

/// The interval join on the typed API (the algorithm of the pipeline file's
/// `interval_join`): a row joins the other side's rows held for its key, then is held until
/// the watermark makes a match impossible (an event-time timer per key frees it).
pub(crate) struct Join {
    rows: ValueState<u64, Sides>,
    timers: TimerService<u64>,
    watermark: i64,
    late: u64,
    peak: usize,
    total: Arc<AtomicU64>,
}

impl Join {
    fn new(total: Arc<AtomicU64>) -> Self {
        Join {
            rows: ValueState::new("rows"),
            timers: TimerService::new("row_timers"),
            watermark: i64::MIN,
            late: 0,
            peak: 0,
            total,
        }
    }
}

impl KeyedCoOperator<u64, Event, Event, Out> for Join {
    fn process1(&mut self, ctx: &KeyContext<'_, u64>, input: &mut Event, out: &mut Vec<Out>) {
        let input = *input;
        let ts = input.1;
        if ts <= self.watermark {
            self.late += 1;
            return;
        }
        let sides = self.rows.get_or_insert_with(ctx, Sides::default);
        for &p in &sides.1 {
            if (ts..=ts + UPPER_MS).contains(&p) {
                out.push((input.0, ts, p));
            }
        }
        sides.0.push(ts);
        self.timers
            .register(TimeDomain::EventTime, ctx, ts + UPPER_MS);
    }

    fn process2(&mut self, ctx: &KeyContext<'_, u64>, input: &mut Event, out: &mut Vec<Out>) {
        let input = *input;
        let ts = input.1;
        if ts <= self.watermark {
            self.late += 1;
            return;
        }
        let sides = self.rows.get_or_insert_with(ctx, Sides::default);
        for &o in &sides.0 {
            if (o..=o + UPPER_MS).contains(&ts) {
                out.push((input.0, o, ts));
            }
        }
        sides.1.push(ts);
        self.timers.register(TimeDomain::EventTime, ctx, ts);
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.rows.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.rows, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, _out: &mut Vec<Out>) {
        if watermark_ms <= self.watermark {
            return;
        }
        self.peak = self.peak.max(self.rows.len());
        self.watermark = watermark_ms;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark_ms) {
            let ctx = timer.ctx(0);
            let sides = self.rows.get_or_insert_with(&ctx, Sides::default);
            sides.0.retain(|&o| o + UPPER_MS > watermark_ms);
            sides.1.retain(|&p| p > watermark_ms);
            if sides.0.is_empty() && sides.1.is_empty() {
                self.rows.clear(&ctx);
            }
        }
    }

    fn close(&mut self, _out: &mut Vec<Out>) {
        self.peak = self.peak.max(self.rows.len());
        self.total.fetch_add(self.peak as u64, Ordering::Relaxed);
    }
}

/// W5 on the engine.
///
/// # Errors
/// Engine failures.
pub(crate) fn engine(events: u64, _keys: u64, config: &RunConfig) -> crate::Result<Outcome> {
    let peak = Arc::new(AtomicU64::new(0));
    let total = peak.clone();
    let (orders, payments) = counts(events);
    let orders = Stream::from_source_with_event_time(
        Some("orders"),
        Box::new(StridedSource::new(orders, order)),
        event_time(|e: &Event| e.1, 0),
    )
    .key_by(|e: &Event| e.0);
    let payments = Stream::from_source_with_event_time(
        Some("payments"),
        Box::new(StridedSource::new(payments, payment)),
        event_time(|e: &Event| e.1, DELAY_MS),
    )
    .key_by(|e: &Event| e.0);
    let report = orders
        .connect(payments)
        .process(move || Join::new(total.clone()))
        .sink(NullSink::new(out_hash))
        .run(config)?;
    Ok(outcome(&report, peak.load(Ordering::Relaxed)))
}

/// The baseline: one thread; per batch, 1024 orders then 1024 payments; each key's waiting
/// rows in a hash map, a min-heap of (free time, key) as the timers; after each batch the
/// rows the watermark (the smaller of the two streams') makes unmatchable are freed.
pub(crate) fn baseline(events: u64, _keys: u64) -> Outcome {
    const BATCH: u64 = 1024;
    let started = Instant::now();
    let (n_orders, n_payments) = counts(events);
    let mut rows: ahash::AHashMap<u64, Sides> = ahash::AHashMap::new();
    let mut timers: BinaryHeap<Reverse<(i64, u64)>> = BinaryHeap::new();
    let (mut outputs, mut checksum, mut peak) = (0u64, 0u64, 0usize);
    let mut emit = |o: Out| {
        outputs += 1;
        checksum = checksum.wrapping_add(out_hash(&o));
    };
    let (mut max_order, mut max_payment) = (i64::MIN, i64::MIN);
    let mut j = 0;
    while j < n_orders.max(n_payments) {
        let end = j + BATCH;
        for (k, ts) in (j..end.min(n_orders)).map(order) {
            max_order = max_order.max(ts);
            let sides = rows.entry(k).or_default();
            sides
                .1
                .iter()
                .filter(|&&p| (ts..=ts + UPPER_MS).contains(&p))
                .for_each(|&p| emit((k, ts, p)));
            sides.0.push(ts);
            timers.push(Reverse((ts + UPPER_MS, k)));
        }
        for (k, ts) in (j..end.min(n_payments)).map(payment) {
            max_payment = max_payment.max(ts);
            let sides = rows.entry(k).or_default();
            sides
                .0
                .iter()
                .filter(|&&o| (o..=o + UPPER_MS).contains(&ts))
                .for_each(|&o| emit((k, o, ts)));
            sides.1.push(ts);
            timers.push(Reverse((ts, k)));
        }
        peak = peak.max(rows.len());
        let ended =
            |n: u64, max: i64, bound: i64| if end >= n { i64::MAX } else { max - bound - 1 };
        let watermark = ended(n_orders, max_order, 0).min(ended(n_payments, max_payment, DELAY_MS));
        while let Some(&Reverse((t, k))) = timers.peek() {
            if t > watermark {
                break;
            }
            timers.pop();
            if let Some(sides) = rows.get_mut(&k) {
                sides.0.retain(|&o| o + UPPER_MS > watermark);
                sides.1.retain(|&p| p > watermark);
                if sides.0.is_empty() && sides.1.is_empty() {
                    rows.remove(&k);
                }
            }
        }
        j = end;
    }
    Outcome {
        elapsed: started.elapsed(),
        outputs,
        checksum,
        state_peak: peak as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_meets_its_payment_once() {
        // 2,000,000 events: 100 s of orders, longer than the 30 s delay plus the 60 s
        // interval, so rows are freed during the run.
        let n = 2_000_000;
        let b = baseline(n, 0);
        let (orders, payments) = counts(n);
        let sum = (0..orders.min(payments)).fold(0u64, |s, j| {
            s.wrapping_add(out_hash(&(j, order(j).1, payment(j).1)))
        });
        assert_eq!((b.outputs, b.checksum), (orders.min(payments), sum));
        assert!(b.state_peak < orders, "rows were freed: {}", b.state_peak);
    }
}
