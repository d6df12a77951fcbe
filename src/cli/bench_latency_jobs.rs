//! The jobs of open-loop latency runs: W1 over stamped events, and any pipeline file whose
//! source is a generator, with each record carrying its event's scheduled time through the
//! pipeline's ops (a wrapper around the plan's keyed operator passes it on to the outputs).

use super::bench_w2::{Event, ToWall, W2Windows, WindowOut};
use super::build::{operator, RowOperator};
use crate::metrics::clock::now_ns;
use crate::metrics::metered;
use crate::operator::KeyedOperator;
use crate::pipeline::spec::{Plan, SourceSpec, StatelessOp};
use crate::record::{Row, RowKey, Value};
use crate::runtime::{Job, Stream};
use crate::sink::latency::LatencySink;
use crate::source::open_loop::{MakeEvent, OpenLoopSource};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use std::sync::Arc;
use std::time::Duration;

/// A job and the sink holding its latencies.
pub(crate) struct LatencyJob<T> {
    /// The job to run.
    pub job: Job,
    /// Its sink (read after the run).
    pub sink: LatencySink<T>,
    /// Events the source emits.
    pub events: u64,
}

/// W1's running sum passing the scheduled time on: `(key, value, stamp)` → `(key, sum, stamp)`.
struct W1Stamped {
    sum: ValueState<u64, i64>,
}

impl KeyedOperator<u64, (u64, i64, u64), (u64, i64, u64)> for W1Stamped {
    #[inline]
    fn process(
        &mut self,
        ctx: &KeyContext<'_, u64>,
        input: &mut (u64, i64, u64),
        out: &mut Vec<(u64, i64, u64)>,
    ) {
        let input = *input;
        let sum = self.sum.get_or_insert_with(ctx, || 0);
        *sum += input.1;
        out.push((input.0, *sum, input.2));
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.sum.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.sum]
    }
}

/// W1 at `rate` events/s for `duration` over `keys` keys.
pub(crate) fn w1(rate: f64, duration: Duration, keys: u64) -> LatencyJob<(u64, i64, u64)> {
    let make: MakeEvent<(u64, i64, u64)> = Arc::new(|k, v, _ts, s| (k, v, s));
    let source = OpenLoopSource::new(rate, duration, keys, make);
    let (events, origin) = (source.events(), source.origin());
    let sink = LatencySink::new(Arc::new(|o: &(u64, i64, u64)| o.2), origin);
    let per_group =
        (keys as usize).div_ceil(crate::state::DEFAULT_MAX_PARALLELISM as usize) * 21 / 20;
    let job = Stream::from_source(metered::source(Box::new(source)))
        .key_by(|e: &(u64, i64, u64)| e.0)
        .process(move || W1Stamped {
            sum: ValueState::new("sum").with_expected_keys_per_group(per_group),
        })
        .sink(metered::sink(Box::new(sink.clone())));
    LatencyJob { job, sink, events }
}

/// W2 (1 s tumbling windows, see [`super::bench_w2`]) at `rate` events/s for `duration`.
pub(crate) fn w2(rate: f64, duration: Duration, keys: u64) -> LatencyJob<WindowOut> {
    let make: MakeEvent<Event> = Arc::new(|k, v, ts, s| (k, v, ts, s));
    // Event time runs at the speed of wall time (1 s of events per second).
    let events_per_ms = ((rate / 1e3).round() as u64).max(1);
    let source = OpenLoopSource::new(rate, duration, keys, make).events_per_ms(events_per_ms);
    let (events, origin) = (source.events(), source.origin());
    let sink = LatencySink::new(Arc::new(|o: &WindowOut| o.4), Arc::clone(&origin));
    // The first event of time `end` is number end·events_per_ms, scheduled at i/rate.
    let to_wall: ToWall = Arc::new(move |end_ms| {
        let origin = origin.get().copied().unwrap_or(0);
        let i = end_ms.max(0) as f64 * events_per_ms as f64;
        origin.saturating_add((i * 1e9 / rate) as u64)
    });
    let job = Stream::from_source(metered::source(Box::new(source)))
        .key_by(|e: &Event| e.0)
        .process(move || W2Windows::new(Arc::clone(&to_wall)))
        .sink(metered::sink(Box::new(sink.clone())));
    LatencyJob { job, sink, events }
}

/// A row with the scheduled time of the event it comes from.
type Stamped = (Row, u64);

/// The plan's keyed operator, passing each input's stamp to its outputs; outputs without an
/// input (watermarks, timers, close) are stamped with their emission time.
struct StampedOperator {
    inner: RowOperator,
    scratch: Vec<Row>,
}

impl StampedOperator {
    fn stamp_now(&mut self, out: &mut Vec<Stamped>) {
        let now = now_ns();
        out.extend(self.scratch.drain(..).map(|r| (r, now)));
    }
}

impl KeyedOperator<RowKey, Stamped, Stamped> for StampedOperator {
    fn process(
        &mut self,
        ctx: &KeyContext<'_, RowKey>,
        input: &mut Stamped,
        out: &mut Vec<Stamped>,
    ) {
        let stamp = input.1;
        self.inner.process(ctx, &mut input.0, &mut self.scratch);
        out.extend(self.scratch.drain(..).map(|r| (r, stamp)));
    }
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.inner.prefetch(local_group, hash);
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        self.inner.states()
    }
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<Stamped>) {
        self.inner.on_watermark(watermark_ms, &mut self.scratch);
        self.stamp_now(out);
    }
    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<Stamped>) {
        self.inner.on_processing_time(now_ms, &mut self.scratch);
        self.stamp_now(out);
    }
    fn close(&mut self, out: &mut Vec<Stamped>) {
        self.inner.close(&mut self.scratch);
        self.stamp_now(out);
    }
}

fn apply(ops: &[StatelessOp], (row, stamp): Stamped) -> Option<Stamped> {
    ops.iter()
        .try_fold(row, |row, op| op.apply(row))
        .map(|r| (r, stamp))
}

/// The pipeline of `plan` fed by an open-loop generator at `rate` for `duration` (the
/// generator's `keys` and `events_per_ms` are the file's); `None` when its source is not a
/// generator.
pub(crate) fn pipeline(plan: &Plan, rate: f64, duration: Duration) -> Option<LatencyJob<Stamped>> {
    let SourceSpec::Generator(g) = &plan.source else {
        return None;
    };
    let make: MakeEvent<Stamped> = Arc::new(|k, v, ts, s| {
        let row: Row = [Value::I64(k as i64), Value::I64(v), Value::Ts(ts)]
            .into_iter()
            .collect();
        (row, s)
    });
    let source = OpenLoopSource::new(rate, duration, g.keys, make).events_per_ms(g.events_per_ms);
    let (events, origin) = (source.events(), source.origin());
    let sink = LatencySink::new(Arc::new(|o: &Stamped| o.1), origin);
    let pre = Arc::new(plan.pre.clone());
    let stream =
        Stream::from_source(metered::source(Box::new(source))).filter_map(move |s| apply(&pre, s));
    let job = match (plan.key.clone(), plan.keyed.clone()) {
        (Some(key), Some(keyed)) => {
            let post = Arc::new(plan.post.clone());
            stream
                .key_by(move |s: &Stamped| RowKey::from_fields(&s.0, &key))
                .process(move || StampedOperator {
                    inner: operator(&keyed),
                    scratch: Vec::new(),
                })
                .filter_map(move |s| apply(&post, s))
                .sink(metered::sink(Box::new(sink.clone())))
        }
        _ => stream.sink(metered::sink(Box::new(sink.clone()))),
    };
    Some(LatencyJob { job, sink, events })
}
