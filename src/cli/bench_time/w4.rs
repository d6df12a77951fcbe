//! W4: dedup. Event `i`: `id = splitmix64(i % (N·9/10))` (the last tenth repeats the first),
//! `value = i % 100`, `ts = i / 1000`; keep the first event of each id and drop repeats
//! within a 10 min event-time TTL (the id is forgotten when the watermark passes its first
//! timestamp + TTL, by an event-time timer). Output: the kept events; the checksum covers
//! their ids, so it does not depend on which of two copies a parallel run meets first.

use super::source::StridedSource;
use super::{event_time, mix, outcome, Outcome};
use crate::operator::KeyedOperator;
use crate::runtime::{RunConfig, Stream};
use crate::sink::null::NullSink;
use crate::source::generator::splitmix64;
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use crate::time::{TimeDomain, TimerService};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How long an id is remembered, ms of event time.
const TTL_MS: i64 = 600_000;
/// Events per ms of event time.
const PER_MS: u64 = 1000;

/// id, value, ts.
type Event = (u64, i64, i64);

/// Event `i` of W4 among `events`.
#[inline]
fn event(i: u64, events: u64) -> Event {
    let distinct = (events * 9 / 10).max(1);
    (
        splitmix64(i % distinct),
        (i % 100) as i64,
        (i / PER_MS) as i64,
    )
}

fn out_hash(o: &Event) -> u64 {
    mix(o.0, 0)
}

/// Dedup with an event-time TTL on the typed API (the algorithm of the pipeline file's
/// `process dedup` with `ttl`).
struct Dedup {
    /// Per id: the event time at which it is forgotten.
    expiry: ValueState<u64, i64>,
    timers: TimerService<u64>,
    watermark: i64,
    peak: usize,
    total: Arc<AtomicU64>,
}

impl KeyedOperator<u64, Event, Event> for Dedup {
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, u64>, input: &mut Event, out: &mut Vec<Event>) {
        let input = *input;
        if self.expiry.get(ctx).is_some_and(|&e| e > self.watermark) {
            return;
        }
        let expiry = input.2.saturating_add(TTL_MS);
        out.push(input);
        self.expiry.update(ctx, expiry);
        self.timers.register(TimeDomain::EventTime, ctx, expiry);
    }
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.expiry.prefetch(local_group, hash);
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.expiry, &mut self.timers]
    }
    fn on_watermark(&mut self, watermark_ms: i64, _out: &mut Vec<Event>) {
        if watermark_ms <= self.watermark {
            return;
        }
        self.peak = self.peak.max(self.expiry.len());
        self.watermark = watermark_ms;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark_ms) {
            let ctx = timer.ctx(0);
            if self.expiry.get(&ctx).is_some_and(|&e| e <= watermark_ms) {
                self.expiry.clear(&ctx);
            }
        }
    }
    fn close(&mut self, _out: &mut Vec<Event>) {
        self.peak = self.peak.max(self.expiry.len());
        self.total.fetch_add(self.peak as u64, Ordering::Relaxed);
    }
}

/// W4 on the engine.
///
/// # Errors
/// Engine failures.
pub(crate) fn engine(events: u64, _keys: u64, config: &RunConfig) -> crate::Result<Outcome> {
    let peak = Arc::new(AtomicU64::new(0));
    let total = peak.clone();
    let per_group = (events * 9 / 10).div_ceil(u64::from(crate::state::DEFAULT_MAX_PARALLELISM));
    let source = StridedSource::new(events, move |i| event(i, events));
    let report = Stream::from_source_with_event_time(
        Some("w4"),
        Box::new(source),
        event_time(|e: &Event| e.2, 0),
    )
    .key_by(|e: &Event| e.0)
    .process(move || Dedup {
        expiry: ValueState::new("expiry").with_expected_keys_per_group(per_group as usize),
        timers: TimerService::new("expiry_timers"),
        watermark: i64::MIN,
        peak: 0,
        total: total.clone(),
    })
    .sink(NullSink::new(out_hash))
    .run(config)?;
    Ok(outcome(&report, peak.load(Ordering::Relaxed)))
}

/// The baseline: one thread, events in order in batches of 1024, id → expiry in a hash map,
/// the timers in a FIFO (expiries arrive in time order); after each batch the ids the
/// watermark passed are forgotten.
pub(crate) fn baseline(events: u64, _keys: u64) -> Outcome {
    const BATCH: u64 = 1024;
    let started = Instant::now();
    let mut seen: ahash::AHashMap<u64, i64> =
        ahash::AHashMap::with_capacity((events * 9 / 10) as usize);
    let mut timers: VecDeque<(i64, u64)> = VecDeque::new();
    let (mut outputs, mut checksum, mut peak) = (0u64, 0u64, 0usize);
    let (mut max_ts, mut watermark) = (i64::MIN, i64::MIN);
    let mut i = 0;
    while i < events {
        let end = (i + BATCH).min(events);
        for j in i..end {
            let e = event(j, events);
            max_ts = max_ts.max(e.2);
            if seen.get(&e.0).is_some_and(|&x| x > watermark) {
                continue;
            }
            outputs += 1;
            checksum = checksum.wrapping_add(out_hash(&e));
            let expiry = e.2 + TTL_MS;
            seen.insert(e.0, expiry);
            timers.push_back((expiry, e.0));
        }
        peak = peak.max(seen.len());
        watermark = max_ts - 1;
        while let Some(&(t, id)) = timers.front() {
            if t > watermark {
                break;
            }
            timers.pop_front();
            if seen.get(&id).is_some_and(|&x| x <= watermark) {
                seen.remove(&id);
            }
        }
        i = end;
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
    fn baseline_keeps_each_id_once_within_the_ttl() {
        // 100,000 events span 100 ms of event time: every repeat is within the TTL.
        let n = 100_000;
        let b = baseline(n, 1);
        let ids: std::collections::HashSet<u64> = (0..n).map(|i| event(i, n).0).collect();
        let sum = ids.iter().fold(0u64, |s, &id| s.wrapping_add(mix(id, 0)));
        assert_eq!(ids.len() as u64, n * 9 / 10);
        assert_eq!((b.outputs, b.checksum), (ids.len() as u64, sum));
    }
}
