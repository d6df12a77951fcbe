//! The open-loop generator of latency benchmarks: the WORKLOADS.md events, each stamped with
//! the time it is *scheduled* at, so that a stall shows up as latency (no coordinated
//! omission).
//!
//! Worker `w` of `n` emits the events `i ≡ w (mod n)`, its `j`-th at `t0 + j·n/rate` — so
//! event `i` is due at about `t0 + i/rate` — where `t0` is the first poll of any split. A
//! split that falls behind emits everything that is due at once, still stamped with the
//! scheduled times; it never waits for the pipeline (open loop). It ends after `duration`.

use super::generator::splitmix64;
use super::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use crate::metrics::clock::now_ns;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Resource name in positions.
const RESOURCE: &str = "open-loop";

/// Builds a record from `(key, value, ts_ms, scheduled_ns)`.
pub type MakeEvent<T> = Arc<dyn Fn(u64, i64, i64, u64) -> T + Send + Sync>;

/// Events at a fixed rate for a fixed time, stamped with their scheduled time.
pub struct OpenLoopSource<T> {
    rate: f64,
    events: u64,
    keys: u64,
    events_per_ms: u64,
    make: MakeEvent<T>,
    /// The schedule origin (ns on [`now_ns`]'s clock), set by the first poll.
    origin: Arc<OnceLock<u64>>,
}

impl<T> OpenLoopSource<T> {
    /// `rate` events/s (positive) for `duration`, over `keys` keys (at least 1).
    pub fn new(rate: f64, duration: Duration, keys: u64, make: MakeEvent<T>) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        OpenLoopSource {
            rate,
            events: (rate * duration.as_secs_f64()).ceil() as u64,
            keys: keys.max(1),
            events_per_ms: 1000,
            make,
            origin: Arc::new(OnceLock::new()),
        }
    }

    /// Sets the events per millisecond of event time (at least 1).
    pub fn events_per_ms(mut self, events_per_ms: u64) -> Self {
        self.events_per_ms = events_per_ms.max(1);
        self
    }

    /// The events the run will emit.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The schedule origin, shared with the latency sink (set at the first poll).
    pub fn origin(&self) -> Arc<OnceLock<u64>> {
        Arc::clone(&self.origin)
    }
}

impl<T: 'static> Source<T> for OpenLoopSource<T> {
    fn name(&self) -> String {
        RESOURCE.to_string()
    }

    /// The schedule restarts on restore, so this source is not replayable.
    fn replayable(&self) -> bool {
        false
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        _resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        let n = workers.max(1) as u64;
        Ok(Box::new(OpenLoopSplit {
            next: worker as u64,
            step: n,
            end: self.events,
            interval_ns: 1e9 * n as f64 / self.rate,
            emitted: 0,
            keys: self.keys,
            events_per_ms: self.events_per_ms,
            make: Arc::clone(&self.make),
            origin: Arc::clone(&self.origin),
        }))
    }
}

struct OpenLoopSplit<T> {
    /// Next event number; this split's events are `next, next + step, …` below `end`.
    next: u64,
    step: u64,
    end: u64,
    /// Nanoseconds between this split's events.
    interval_ns: f64,
    /// Events this split emitted (its `j`).
    emitted: u64,
    keys: u64,
    events_per_ms: u64,
    make: MakeEvent<T>,
    origin: Arc<OnceLock<u64>>,
}

impl<T> SourceSplit<T> for OpenLoopSplit<T> {
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        _dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        if self.next >= self.end {
            return Ok(Poll::End);
        }
        let origin = *self.origin.get_or_init(now_ns);
        let elapsed = now_ns().saturating_sub(origin) as f64;
        // Events j with j * interval <= elapsed are due.
        let due = (elapsed / self.interval_ns) as u64 + 1;
        let count = due.saturating_sub(self.emitted).min(max as u64);
        if count == 0 {
            return Ok(Poll::Idle);
        }
        for _ in 0..count {
            if self.next >= self.end {
                break;
            }
            let i = self.next;
            let scheduled = origin + (self.emitted as f64 * self.interval_ns) as u64;
            out.push((self.make)(
                splitmix64(i) % self.keys,
                (i % 100) as i64,
                (i / self.events_per_ms) as i64,
                scheduled,
            ));
            self.next += self.step;
            self.emitted += 1;
        }
        Ok(Poll::Ready)
    }

    fn position(&self) -> Vec<RangePosition> {
        Vec::new()
    }

    fn records_read(&self) -> u64 {
        self.emitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::dead_letter::OnError;

    #[test]
    fn events_are_stamped_with_their_schedule_and_never_early() {
        let make: MakeEvent<(u64, u64)> = Arc::new(|_k, v, _t, s| (v as u64, s));
        let src = OpenLoopSource::new(20_000.0, Duration::from_millis(100), 7, make);
        assert_eq!(src.events(), 2_000);
        let mut splits: Vec<_> = (0..2)
            .map(|w| src.open_split(w, 2, None).unwrap())
            .collect();
        let mut dead = DeadLetters::new("/nonexistent".into(), OnError::Fail);
        let mut out = Vec::new();
        let mut ended = [false; 2];
        while !ended.iter().all(|e| *e) {
            for (w, s) in splits.iter_mut().enumerate() {
                let before = out.len();
                if s.poll_batch(&mut out, 64, &mut dead).unwrap() == Poll::End {
                    ended[w] = true;
                }
                let now = now_ns();
                assert!(
                    out[before..].iter().all(|(_, sched)| *sched <= now),
                    "early"
                );
            }
        }
        assert_eq!(out.len(), 2_000);
        let origin = *src.origin().get().unwrap();
        // Split 0's j-th event (i = 2j) is due at origin + j * 100 µs.
        let mut mine: Vec<u64> = out.iter().map(|(_, s)| s - origin).collect();
        mine.sort_unstable();
        assert_eq!(mine[0], 0);
        assert_eq!(mine[1998], 99_900_000);
        let values: u64 = out.iter().map(|(v, _)| v).sum();
        assert_eq!(values, (0..2_000u64).map(|i| i % 100).sum::<u64>());
    }
}
