//! W3: per key, session windows with a 30 s gap, emitting `(key, start, end, count)` when the
//! watermark passes a session's end. Event `i`: `key = splitmix64(i) % K`,
//! `ts = i / 10 − splitmix64(i ^ 0xABCD) % 200` (10 events per ms, out of order by up to
//! 200 ms, so sessions also grow backwards and merge); watermark = largest timestamp − 200 ms.

use super::windowed::WindowBench;
use super::{mix, Outcome};
use crate::operator::window::{WindowFunction, WindowKind};
use crate::runtime::RunConfig;
use crate::source::generator::splitmix64;
use smallvec::SmallVec;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Inactivity gap closing a session, ms.
const GAP_MS: i64 = 30_000;
/// Out-of-orderness bound (and largest displacement), ms.
const BOUND_MS: i64 = 200;
/// Events per ms of event time.
const PER_MS: u64 = 10;

/// key, ts.
type Event = (u64, i64);
/// key, start, end, count.
type Out = (u64, i64, i64, i64);

/// Event `i` of W3 over `keys` keys.
#[inline]
fn event(i: u64, keys: u64) -> Event {
    let ts = (i / PER_MS) as i64 - (splitmix64(i ^ 0xABCD) % BOUND_MS as u64) as i64;
    (splitmix64(i) % keys, ts)
}

fn out_hash(o: &Out) -> u64 {
    mix(mix(mix(o.0, o.1), o.2), o.3)
}

/// Counts a session's events.
#[derive(Clone, Copy)]
struct W3Fn;

impl WindowFunction<u64, Event, Out> for W3Fn {
    type Acc = i64;
    #[inline]
    fn timestamp(&self, input: &Event) -> Option<i64> {
        Some(input.1)
    }
    fn create(&self) -> i64 {
        0
    }
    #[inline]
    fn add(&self, acc: &mut i64, _input: &Event) {
        *acc += 1;
    }
    fn merge(&self, acc: &mut i64, other: &i64) {
        *acc += other;
    }
    fn output(&self, key: &u64, start: i64, end: i64, acc: &i64) -> Out {
        (*key, start, end, *acc)
    }
    fn late(&self, _input: Event) -> Option<Out> {
        None
    }
}

/// W3 on the engine.
///
/// # Errors
/// Engine failures.
pub(crate) fn engine(events: u64, keys: u64, config: &RunConfig) -> crate::Result<Outcome> {
    WindowBench {
        name: "w3",
        event,
        key: |e: &Event| e.0,
        ts: |e: &Event| e.1,
        bound_ms: BOUND_MS,
        kind: WindowKind::Session { gap: GAP_MS },
        function: W3Fn,
        out_hash,
    }
    .engine(events, keys, config)
}

/// A key's open sessions: (start, end, count).
type Sessions = SmallVec<[(i64, i64, i64); 1]>;

/// Adds the event at `ts` to `ws`, merging the sessions it overlaps; returns the end of the
/// session it landed in.
fn add(ws: &mut Sessions, ts: i64) -> i64 {
    let (mut start, mut end, mut count) = (ts, ts + GAP_MS, 1);
    let (s0, e0) = (start, end);
    ws.retain(|w| {
        let overlaps = w.0 < e0 && s0 < w.1;
        if overlaps {
            start = start.min(w.0);
            end = end.max(w.1);
            count += w.2;
        }
        !overlaps
    });
    ws.push((start, end, count));
    end
}

/// The baseline: one thread, events in order in batches of 1024, each key's sessions in a
/// hash map, a min-heap of (end − 1, key) as the timers (entries of sessions since extended
/// are skipped when popped); after each batch, the sessions the watermark passed fire.
pub(crate) fn baseline(events: u64, keys: u64) -> Outcome {
    const BATCH: u64 = 1024;
    let started = Instant::now();
    let mut open: ahash::AHashMap<u64, Sessions> = ahash::AHashMap::with_capacity(keys as usize);
    let mut timers: BinaryHeap<Reverse<(i64, u64)>> = BinaryHeap::new();
    let (mut outputs, mut checksum, mut peak, mut max_ts) = (0u64, 0u64, 0usize, i64::MIN);
    let mut fire = |open: &mut ahash::AHashMap<u64, Sessions>,
                    timers: &mut BinaryHeap<Reverse<(i64, u64)>>,
                    watermark: i64| {
        while let Some(&Reverse((t, k))) = timers.peek() {
            if t > watermark {
                break;
            }
            timers.pop();
            let Some(ws) = open.get_mut(&k) else { continue };
            ws.retain(|w| {
                if w.1 - 1 == t {
                    checksum = checksum.wrapping_add(out_hash(&(k, w.0, w.1, w.2)));
                    outputs += 1;
                }
                w.1 - 1 > t
            });
            if ws.is_empty() {
                open.remove(&k);
            }
        }
    };
    let mut i = 0;
    while i < events {
        let end = (i + BATCH).min(events);
        for j in i..end {
            let (k, ts) = event(j, keys);
            max_ts = max_ts.max(ts);
            let session_end = add(open.entry(k).or_default(), ts);
            timers.push(Reverse((session_end - 1, k)));
        }
        peak = peak.max(open.len());
        fire(&mut open, &mut timers, max_ts - BOUND_MS - 1);
        i = end;
    }
    fire(&mut open, &mut timers, i64::MAX);
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

    /// Sessions from the sorted timestamps of each key: a gap of `GAP_MS` or more ends one.
    #[test]
    fn baseline_sessions_match_sorted_gaps() {
        let (n, keys) = (1_000_000, 100_000);
        let mut per_key: Vec<Vec<i64>> = vec![Vec::new(); keys as usize];
        for i in 0..n {
            let (k, ts) = event(i, keys);
            per_key[k as usize].push(ts);
        }
        let (mut outputs, mut sum) = (0u64, 0u64);
        for (k, ts) in per_key.iter_mut().enumerate() {
            ts.sort_unstable();
            let mut start = 0;
            for j in 1..=ts.len() {
                if j == ts.len() || ts[j] - ts[j - 1] >= GAP_MS {
                    let o = (k as u64, ts[start], ts[j - 1] + GAP_MS, (j - start) as i64);
                    sum = sum.wrapping_add(out_hash(&o));
                    outputs += 1;
                    start = j;
                }
            }
        }
        let b = baseline(n, keys);
        assert!(outputs > keys, "some keys have several sessions");
        assert_eq!((b.outputs, b.checksum), (outputs, sum));
    }
}
