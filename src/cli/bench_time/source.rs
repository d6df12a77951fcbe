//! The event-time benchmark source: event `i` of `0..N` is `make(i)`, and worker `w` of `n`
//! emits the events `i ≡ w (mod n)` in order, so that every split's event time advances at
//! the same pace (a split holding the first half of the sequence would hold the combined
//! watermark back for the whole run).
//!
//! Not replayable: the benchmarks run without checkpoints.

use crate::error::Error;
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use std::marker::PhantomData;

/// Resource name in positions.
const RESOURCE: &str = "event-time-generator";

/// `events` events built by `make(i)`, strided over the splits.
pub(crate) struct StridedSource<F> {
    events: u64,
    make: F,
}

impl<F> StridedSource<F> {
    /// A source of `make(0..events)`.
    pub(crate) fn new(events: u64, make: F) -> Self {
        StridedSource { events, make }
    }
}

impl<T: 'static, F> Source<T> for StridedSource<F>
where
    F: Fn(u64) -> T + Send + Sync + Clone + 'static,
{
    fn name(&self) -> String {
        RESOURCE.to_string()
    }

    fn replayable(&self) -> bool {
        false
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        _resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        if worker >= workers {
            return Err(Error::Runtime(format!(
                "{RESOURCE}: worker {worker} of {workers}"
            )));
        }
        Ok(Box::new(StridedSplit {
            next: worker as u64,
            stride: workers as u64,
            end: self.events,
            make: self.make.clone(),
            _record: PhantomData,
        }))
    }
}

/// One worker's events: `next, next + stride, …` below `end`.
struct StridedSplit<F, T> {
    next: u64,
    stride: u64,
    end: u64,
    make: F,
    _record: PhantomData<fn() -> T>,
}

impl<F, T> SourceSplit<T> for StridedSplit<F, T>
where
    F: Fn(u64) -> T + Send,
{
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        _dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        if self.next >= self.end {
            return Ok(Poll::End);
        }
        let left = (self.end - self.next).div_ceil(self.stride);
        let count = left.min(max as u64);
        let (first, stride, make) = (self.next, self.stride, &self.make);
        out.extend((0..count).map(|j| make(first + j * stride)));
        self.next = first + count * stride;
        Ok(Poll::Ready)
    }

    fn position(&self) -> Vec<RangePosition> {
        vec![RangePosition {
            resource: RESOURCE.to_string(),
            next: self.next,
            end: self.end,
            ..RangePosition::default()
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::dead_letter::OnError;

    #[test]
    fn splits_partition_the_sequence_in_order() {
        let src = StridedSource::new(1003, |i: u64| i);
        for n in 1..=3 {
            let mut all = Vec::new();
            for w in 0..n {
                let mut split = src.open_split(w, n, None).unwrap();
                let mut dead = DeadLetters::new("/nonexistent/dead".into(), OnError::Fail);
                let mut mine = Vec::new();
                while split.poll_batch(&mut mine, 64, &mut dead).unwrap() != Poll::End {}
                assert!(mine.windows(2).all(|p| p[1] == p[0] + n as u64), "n = {n}");
                all.extend(mine);
            }
            all.sort_unstable();
            assert_eq!(all, (0..1003).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
