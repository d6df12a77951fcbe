//! Wall-clock pacing of a source: at most `rate` records per second, shared evenly by the
//! splits (a split that is ahead of its schedule is idle). Replay positions are the inner
//! source's; a restored split starts a new schedule at its first poll.

use super::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use std::time::Instant;

/// A split's schedule: record `j` is due `j / per_sec` seconds after the first poll.
pub(crate) struct Pace {
    per_sec: f64,
    /// Time of the first poll (the schedule's origin).
    start: Option<Instant>,
    /// Records emitted since `start`.
    pub(crate) emitted: u64,
}

impl Pace {
    /// A schedule of `per_sec` records per second (positive).
    pub(crate) fn new(per_sec: f64) -> Self {
        Pace {
            per_sec,
            start: None,
            emitted: 0,
        }
    }

    /// How many more records are due now.
    pub(crate) fn due(&mut self) -> u64 {
        let start = *self.start.get_or_insert_with(Instant::now);
        // Record j is due at j / per_sec: records 0..=floor(elapsed * per_sec) are due.
        let due = (start.elapsed().as_secs_f64() * self.per_sec) as u64 + 1;
        due.saturating_sub(self.emitted)
    }
}

/// `inner`, limited to `rate` records per second of wall time in all.
pub struct Paced<T> {
    inner: Box<dyn Source<T>>,
    rate: f64,
}

impl<T> Paced<T> {
    /// `inner` at most `rate` records per second (a rate that is not a positive finite number
    /// counts as 1 per second).
    pub fn new(inner: Box<dyn Source<T>>, rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        Paced { inner, rate }
    }
}

impl<T: 'static> Source<T> for Paced<T> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn replayable(&self) -> bool {
        self.inner.replayable()
    }

    fn check(&self) -> SourceResult<()> {
        self.inner.check()
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        Ok(Box::new(PacedSplit {
            inner: self.inner.open_split(worker, workers, resume)?,
            pace: Pace::new(self.rate / workers.max(1) as f64),
        }))
    }
}

struct PacedSplit<T> {
    inner: Box<dyn SourceSplit<T>>,
    pace: Pace,
}

impl<T> SourceSplit<T> for PacedSplit<T> {
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let due = self.pace.due();
        if due == 0 {
            return Ok(Poll::Idle);
        }
        let before = out.len();
        let max = max.min(usize::try_from(due).unwrap_or(usize::MAX));
        let poll = self.inner.poll_batch(out, max, dead)?;
        self.pace.emitted += (out.len() - before) as u64;
        Ok(poll)
    }

    fn position(&self) -> Vec<RangePosition> {
        self.inner.position()
    }

    fn records_read(&self) -> u64 {
        self.inner.records_read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::dead_letter::OnError;
    use crate::source::GeneratorSource;
    use std::time::Duration;

    #[test]
    fn splits_never_run_ahead_of_the_schedule_and_keep_positions() {
        let gen = GeneratorSource::new(1_000, 10, |k, v, ts| (k, v, ts));
        let paced = Paced::new(Box::new(gen), 400.0);
        let mut dead = DeadLetters::new("/nonexistent/dead".into(), OnError::Fail);
        let mut splits: Vec<_> = (0..2)
            .map(|w| paced.open_split(w, 2, None).expect("open"))
            .collect();
        let t0 = Instant::now();
        let mut got = [0u64; 2];
        while t0.elapsed() < Duration::from_millis(50) {
            for (w, split) in splits.iter_mut().enumerate() {
                let mut out = Vec::new();
                split.poll_batch(&mut out, 1_000, &mut dead).expect("poll");
                got[w] += out.len() as u64;
                // 200 per second per split: at most floor(t * 200) + 1 by now.
                let bound = (t0.elapsed().as_secs_f64() * 200.0) as u64 + 1;
                assert!(got[w] <= bound, "split {w}: {} > {bound}", got[w]);
            }
        }
        assert!(got.iter().all(|&n| n >= 1), "{got:?}");
        let next: u64 = splits.iter().map(|s| s.position()[0].next).sum();
        assert_eq!(
            next - 500,
            got.iter().sum::<u64>(),
            "positions are the inner ones"
        );
    }
}
