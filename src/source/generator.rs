//! The benchmark generator (WORKLOADS.md): event `i` has `key = splitmix64(i) % K`,
//! `value = i % 100`, `ts_ms = i / events_per_ms`. Deterministic, so every engine compared
//! on a workload sees the same events.

use super::paced::Pace;
use super::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use crate::error::Error;
use std::marker::PhantomData;

/// The splitmix64 mixer of WORKLOADS.md (wrapping arithmetic).
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Resource name of generator ranges in positions.
const RESOURCE: &str = "generator";

/// A source of `events` generated events over `keys` keys; `make(key, value, ts_ms)` builds a
/// record. Worker `w` of `n` generates the sequence numbers `[w*N/n, (w+1)*N/n)`.
#[derive(Clone, Debug)]
pub struct GeneratorSource<F> {
    events: u64,
    keys: u64,
    events_per_ms: u64,
    /// Events per second for the whole source, if limited.
    rate: Option<f64>,
    make: F,
}

impl<F> GeneratorSource<F> {
    /// `events` events over `keys` keys at 1000 events per millisecond of event time, not
    /// rate-limited.
    ///
    /// # Panics
    /// If `keys` is 0.
    pub fn new(events: u64, keys: u64, make: F) -> Self {
        assert!(keys > 0, "generator: keys must be positive");
        GeneratorSource {
            events,
            keys,
            events_per_ms: 1000,
            rate: None,
            make,
        }
    }

    /// Sets the events per millisecond of event time (`R_ms`).
    ///
    /// # Panics
    /// If `events_per_ms` is 0.
    pub fn events_per_ms(mut self, events_per_ms: u64) -> Self {
        assert!(
            events_per_ms > 0,
            "generator: events_per_ms must be positive"
        );
        self.events_per_ms = events_per_ms;
        self
    }

    /// Limits the source to `events_per_sec` events per second of wall time, shared evenly by
    /// the splits. Each split follows a schedule (its event `j` is due `j / rate` seconds
    /// after its first poll) and is idle when ahead of it.
    ///
    /// # Panics
    /// If `events_per_sec` is not a positive, finite number.
    pub fn rate_limit(mut self, events_per_sec: f64) -> Self {
        assert!(
            events_per_sec > 0.0 && events_per_sec.is_finite(),
            "generator: rate must be positive"
        );
        self.rate = Some(events_per_sec);
        self
    }

    /// Total number of events.
    pub fn events(&self) -> u64 {
        self.events
    }
}

impl<T: 'static, F> Source<T> for GeneratorSource<F>
where
    F: Fn(u64, i64, i64) -> T + Send + Sync + Clone + 'static,
{
    fn name(&self) -> String {
        RESOURCE.to_string()
    }

    fn replayable(&self) -> bool {
        true
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        if worker >= workers {
            return Err(Error::Runtime(format!(
                "generator: worker {worker} of {workers}"
            )));
        }
        let ranges =
            resume.unwrap_or_else(|| super::sequence_share(RESOURCE, self.events, worker, workers));
        let pace = self.rate.map(|rate| Pace::new(rate / workers as f64));
        Ok(Box::new(GeneratorSplit {
            ranges,
            current: 0,
            keys: self.keys,
            events_per_ms: self.events_per_ms,
            pace,
            make: self.make.clone(),
            _record: PhantomData,
        }))
    }
}

struct GeneratorSplit<F, T> {
    ranges: Vec<RangePosition>,
    current: usize,
    keys: u64,
    events_per_ms: u64,
    pace: Option<Pace>,
    make: F,
    _record: PhantomData<fn() -> T>,
}

impl<F, T> SourceSplit<T> for GeneratorSplit<F, T>
where
    F: Fn(u64, i64, i64) -> T + Send,
{
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        _dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let Some(range) = self.ranges[self.current..]
            .iter_mut()
            .find(|r| r.next < r.end)
        else {
            self.current = self.ranges.len();
            return Ok(Poll::End);
        };
        let mut count = (max as u64).min(range.end - range.next);
        if let Some(pace) = &mut self.pace {
            count = count.min(pace.due());
            if count == 0 {
                return Ok(Poll::Idle);
            }
            pace.emitted += count;
        }
        let (keys, per_ms, make) = (self.keys, self.events_per_ms, &self.make);
        let first = range.next;
        out.extend(
            (first..first + count)
                .map(|i| make(splitmix64(i) % keys, (i % 100) as i64, (i / per_ms) as i64)),
        );
        range.next = first + count;
        Ok(Poll::Ready)
    }

    fn position(&self) -> Vec<RangePosition> {
        self.ranges.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::dead_letter::OnError;

    type Event = (u64, i64, i64);

    fn gen(events: u64, keys: u64) -> GeneratorSource<fn(u64, i64, i64) -> Event> {
        GeneratorSource::new(events, keys, |k, v, t| (k, v, t))
    }

    fn dead() -> DeadLetters {
        DeadLetters::new("/nonexistent/dead".into(), OnError::Fail)
    }

    fn drain(split: &mut dyn SourceSplit<Event>, max: usize, limit: usize) -> Vec<Event> {
        let mut out = Vec::new();
        while out.len() < limit {
            let want = max.min(limit - out.len());
            match split.poll_batch(&mut out, want, &mut dead()).unwrap() {
                Poll::End => break,
                Poll::Idle => std::thread::yield_now(),
                Poll::Ready => {}
            }
        }
        out
    }

    #[test]
    fn splitmix64_matches_the_reference() {
        // Reference values of splitmix64 seeded with 0 (the first outputs of the PRNG).
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn events_follow_the_formula_and_splits_partition_the_sequence() {
        let g = gen(1003, 17).events_per_ms(10);
        let want: Vec<Event> = (0..1003u64)
            .map(|i| (splitmix64(i) % 17, (i % 100) as i64, (i / 10) as i64))
            .collect();
        for n in 1..=4 {
            let mut all = Vec::new();
            for w in 0..n {
                all.extend(drain(
                    g.open_split(w, n, None).unwrap().as_mut(),
                    64,
                    usize::MAX,
                ));
            }
            assert_eq!(all, want, "n = {n}");
        }
    }

    #[test]
    fn resume_continues_from_the_position() {
        let g = gen(1000, 5);
        for n in 1..=3 {
            let (mut all, mut positions) = (Vec::new(), Vec::new());
            for w in 0..n {
                let mut split = g.open_split(w, n, None).unwrap();
                all.extend(drain(split.as_mut(), 7, 100));
                positions.extend(split.position());
            }
            assert!(positions
                .iter()
                .all(|r| r.resource == "generator" && r.line == 0));
            // Rescale: every remaining range goes to one worker.
            all.extend(drain(
                g.open_split(0, 1, Some(positions)).unwrap().as_mut(),
                64,
                usize::MAX,
            ));
            all.sort_unstable();
            let mut want = drain(g.open_split(0, 1, None).unwrap().as_mut(), 4096, usize::MAX);
            want.sort_unstable();
            assert_eq!(all, want, "n = {n}");
        }
    }

    #[test]
    fn rate_limit_follows_the_schedule() {
        // 600 events/s over 2 splits: 300 each, 60 events per split take ~0.2 s.
        let g = gen(120, 3).rate_limit(600.0);
        let started = std::time::Instant::now();
        let mut splits: Vec<_> = (0..2).map(|w| g.open_split(w, 2, None).unwrap()).collect();
        let (mut out, mut idle, mut ended) = (Vec::new(), 0, [false; 2]);
        while !ended.iter().all(|e| *e) {
            for (w, split) in splits.iter_mut().enumerate() {
                match split.poll_batch(&mut out, 1000, &mut dead()).unwrap() {
                    Poll::Idle => idle += 1,
                    Poll::End => ended[w] = true,
                    Poll::Ready => {}
                }
            }
            // Never ahead of schedule: at most floor(t * rate) + 1 events per split.
            let allowed = 2 * ((started.elapsed().as_secs_f64() * 300.0) as usize + 1);
            assert!(
                out.len() <= allowed,
                "{} events after {:?}",
                out.len(),
                started.elapsed()
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(out.len(), 120);
        assert!(idle > 0);
        assert!(started.elapsed().as_secs_f64() >= 59.0 / 300.0);
    }
}
