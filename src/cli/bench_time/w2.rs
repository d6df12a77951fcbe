//! W2: per key, 1 s tumbling event-time windows with count, sum, min and max, emitted when
//! the watermark passes the window's end. Event `i`: `key = splitmix64(i) % K`,
//! `value = i % 100`, `ts = i / 1000 − splitmix64(i ^ 0xABCD) % 200` (out of order by up to
//! 200 ms); watermark = largest timestamp − 200 ms (− 1, so nothing is late).

use super::windowed::WindowBench;
use super::{mix, Outcome};
use crate::operator::window::{WindowFunction, WindowKind};
use crate::runtime::RunConfig;
use crate::source::generator::splitmix64;
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::time::Instant;

/// Window length, ms.
const SIZE_MS: i64 = 1000;
/// Out-of-orderness bound (and largest displacement), ms.
const BOUND_MS: i64 = 200;
/// Events per ms of event time.
const PER_MS: u64 = 1000;

/// key, value, ts.
type Event = (u64, i64, i64);
/// key, window start, count, sum, min, max.
type Out = (u64, i64, i64, i64, i64, i64);
/// (count, sum), (min, max).
type Acc = ((i64, i64), (i64, i64));

/// Event `i` of W2 over `keys` keys.
#[inline]
pub(crate) fn event(i: u64, keys: u64) -> Event {
    let ts = (i / PER_MS) as i64 - (splitmix64(i ^ 0xABCD) % BOUND_MS as u64) as i64;
    (splitmix64(i) % keys, (i % 100) as i64, ts)
}

/// The output hash (order-independent once summed).
fn out_hash(o: &Out) -> u64 {
    [o.1, o.2, o.3, o.4, o.5]
        .iter()
        .fold(o.0, |h, &x| mix(h, x))
}

/// Count, sum, min and max of the values.
#[derive(Clone, Copy)]
struct W2Fn;

impl WindowFunction<u64, Event, Out> for W2Fn {
    type Acc = Acc;
    #[inline]
    fn timestamp(&self, input: &Event) -> Option<i64> {
        Some(input.2)
    }
    fn create(&self) -> Acc {
        ((0, 0), (i64::MAX, i64::MIN))
    }
    #[inline]
    fn add(&self, acc: &mut Acc, input: &Event) {
        fold(acc, input.1);
    }
    fn merge(&self, acc: &mut Acc, other: &Acc) {
        acc.0 .0 += other.0 .0;
        acc.0 .1 += other.0 .1;
        acc.1 .0 = acc.1 .0.min(other.1 .0);
        acc.1 .1 = acc.1 .1.max(other.1 .1);
    }
    fn output(&self, key: &u64, start: i64, _end: i64, acc: &Acc) -> Out {
        (*key, start, acc.0 .0, acc.0 .1, acc.1 .0, acc.1 .1)
    }
    fn late(&self, _input: Event) -> Option<Out> {
        None
    }
}

#[inline]
fn fold(acc: &mut Acc, v: i64) {
    acc.0 .0 += 1;
    acc.0 .1 += v;
    acc.1 .0 = acc.1 .0.min(v);
    acc.1 .1 = acc.1 .1.max(v);
}

/// W2 on the engine.
///
/// # Errors
/// Engine failures.
pub(crate) fn engine(events: u64, keys: u64, config: &RunConfig) -> crate::Result<Outcome> {
    WindowBench {
        name: "w2",
        event,
        key: |e: &Event| e.0,
        ts: |e: &Event| e.2,
        bound_ms: BOUND_MS,
        kind: WindowKind::Tumbling { size: SIZE_MS },
        function: W2Fn,
        out_hash,
    }
    .engine(events, keys, config)
}

/// The baseline: one thread, events in order in batches of 1024, the open windows per key in
/// a hash map, window ends in an ordered map of end → keys; after each batch, the windows
/// the watermark passed fire and are freed.
pub(crate) fn baseline(events: u64, keys: u64) -> Outcome {
    const BATCH: u64 = 1024;
    let started = Instant::now();
    let mut open: ahash::AHashMap<u64, SmallVec<[(i64, Acc); 2]>> =
        ahash::AHashMap::with_capacity(keys as usize);
    let mut due: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    let (mut outputs, mut checksum, mut peak, mut max_ts) = (0u64, 0u64, 0usize, i64::MIN);
    let mut fire = |open: &mut ahash::AHashMap<_, SmallVec<[(i64, Acc); 2]>>,
                    due: &mut BTreeMap<i64, Vec<u64>>,
                    watermark: i64| {
        while let Some(entry) = due.first_entry() {
            if *entry.key() - 1 > watermark {
                break;
            }
            let (end, ks) = entry.remove_entry();
            for k in ks {
                let Some(ws) = open.get_mut(&k) else { continue };
                if let Some(i) = ws.iter().position(|w| w.0 == end - SIZE_MS) {
                    let (start, a) = ws.swap_remove(i);
                    checksum = checksum
                        .wrapping_add(out_hash(&(k, start, a.0 .0, a.0 .1, a.1 .0, a.1 .1)));
                    outputs += 1;
                }
                if ws.is_empty() {
                    open.remove(&k);
                }
            }
        }
    };
    let mut i = 0;
    while i < events {
        let end = (i + BATCH).min(events);
        for j in i..end {
            let (k, v, ts) = event(j, keys);
            max_ts = max_ts.max(ts);
            let start = ts - ts.rem_euclid(SIZE_MS);
            let ws = open.entry(k).or_default();
            match ws.iter_mut().find(|w| w.0 == start) {
                Some(w) => fold(&mut w.1, v),
                None => {
                    let mut a = W2Fn.create();
                    fold(&mut a, v);
                    ws.push((start, a));
                    due.entry(start + SIZE_MS).or_default().push(k);
                }
            }
        }
        peak = peak.max(open.len());
        fire(&mut open, &mut due, max_ts - BOUND_MS - 1);
        i = end;
    }
    fire(&mut open, &mut due, i64::MAX);
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
    fn events_stay_within_the_bound_and_every_window_fires_once() {
        // 3,000 events (3 ms) over 7 keys: windows -1000 (displaced events) and 0.
        let b = baseline(3000, 7);
        let mut windows = std::collections::HashMap::new();
        for i in 0..3000 {
            let (k, v, ts) = event(i, 7);
            assert!((i / PER_MS) as i64 - ts < BOUND_MS && ts <= (i / PER_MS) as i64);
            let w: &mut Acc = windows
                .entry((k, ts.div_euclid(SIZE_MS) * SIZE_MS))
                .or_insert(W2Fn.create());
            fold(w, v);
        }
        let sum = windows.iter().fold(0u64, |s, ((k, start), a)| {
            s.wrapping_add(out_hash(&(*k, *start, a.0 .0, a.0 .1, a.1 .0, a.1 .1)))
        });
        assert_eq!((b.outputs, b.checksum), (windows.len() as u64, sum));
    }
}
