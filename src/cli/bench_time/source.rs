//! The event-time benchmark source: event `i` of `0..N` is `make(i)`, and worker `w` of `n`
//! emits the events `i ≡ w (mod n)` in order, so that every split's event time advances at
//! the same pace (a split holding the first half of the sequence would hold the combined
//! watermark back for the whole run).
//!
//! Strided splits advance together only if their workers run at the same speed; nothing in
//! the rings bounds how far one split runs ahead of another (the stages drain each source's
//! rings whatever the others do), and the records of the split ahead wait in the windows'
//! state until the slowest split's watermark catches up. So the splits align themselves
//! (Flink's watermark alignment): a split more than [`MAX_AHEAD_BATCHES`] batches ahead of the
//! slowest split reads nothing until it catches up (see PERF.md, "W2 scaling and timer
//! buckets").
//!
//! Not replayable: the benchmarks run without checkpoints.

use crate::error::Error;
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use crossbeam_utils::CachePadded;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Resource name in positions.
const RESOURCE: &str = "event-time-generator";

/// How many of its batches a split may read ahead of the slowest split.
pub(crate) const MAX_AHEAD_BATCHES: u64 = 8;

/// The position (`next` event) of every split, `u64::MAX` once it ended; sized by the first
/// split opened.
#[derive(Default)]
struct Progress(OnceLock<Box<[CachePadded<AtomicU64>]>>);

impl Progress {
    fn slots(&self, workers: usize) -> &[CachePadded<AtomicU64>] {
        self.0.get_or_init(|| {
            (0..workers as u64)
                .map(|w| AtomicU64::new(w).into())
                .collect()
        })
    }
}

/// `events` events built by `make(i)`, strided over the splits.
pub(crate) struct StridedSource<F> {
    events: u64,
    make: F,
    progress: Arc<Progress>,
}

impl<F> StridedSource<F> {
    /// A source of `make(0..events)`.
    pub(crate) fn new(events: u64, make: F) -> Self {
        StridedSource {
            events,
            make,
            progress: Arc::default(),
        }
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
        if self.progress.slots(workers).len() != workers {
            return Err(Error::Runtime(format!(
                "{RESOURCE}: opened for another number of workers than {workers}"
            )));
        }
        Ok(Box::new(StridedSplit {
            progress: self.progress.clone(),
            worker,
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
    /// Every split's position (this one's at `worker`).
    progress: Arc<Progress>,
    worker: usize,
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
        let slots = self.progress.slots(self.stride as usize);
        if self.next >= self.end {
            slots[self.worker].store(u64::MAX, Ordering::Release);
            return Ok(Poll::End);
        }
        // The slowest split is never ahead of itself, so some split always reads.
        let slowest = slots.iter().map(|s| s.load(Ordering::Acquire)).min();
        let lead = MAX_AHEAD_BATCHES * max as u64 * self.stride;
        if slowest.is_some_and(|m| self.next > m.saturating_add(lead)) {
            return Ok(Poll::Idle);
        }
        let left = (self.end - self.next).div_ceil(self.stride);
        let count = left.min(max as u64);
        let (first, stride, make) = (self.next, self.stride, &self.make);
        out.extend((0..count).map(|j| make(first + j * stride)));
        self.next = first + count * stride;
        slots[self.worker].store(self.next, Ordering::Release);
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

    fn dead() -> DeadLetters {
        DeadLetters::new("/nonexistent/dead".into(), OnError::Fail)
    }

    #[test]
    fn splits_partition_the_sequence_in_order() {
        for n in 1..=3 {
            let src = StridedSource::new(100_003, |i: u64| i);
            let mut splits: Vec<_> = (0..n)
                .map(|w| src.open_split(w, n, None).unwrap())
                .collect();
            let mut mine = vec![Vec::new(); n];
            let mut ended = vec![false; n];
            while !ended.iter().all(|&e| e) {
                for w in 0..n {
                    if !ended[w] {
                        ended[w] = splits[w].poll_batch(&mut mine[w], 64, &mut dead()).unwrap()
                            == Poll::End;
                    }
                }
            }
            let mut all = Vec::new();
            for m in mine {
                assert!(m.windows(2).all(|p| p[1] == p[0] + n as u64), "n = {n}");
                all.extend(m);
            }
            all.sort_unstable();
            assert_eq!(all, (0..100_003).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn a_split_ahead_of_the_slowest_waits_for_it() {
        let src = StridedSource::new(1_000_000, |i: u64| i);
        let (mut a, mut b) = (
            src.open_split(0, 2, None).unwrap(),
            src.open_split(1, 2, None).unwrap(),
        );
        let (mut out, mut polls) = (Vec::new(), 0);
        while a.poll_batch(&mut out, 10, &mut dead()).unwrap() == Poll::Ready {
            polls += 1;
            assert!(polls < 1000, "split 0 never paused");
        }
        // It read MAX_AHEAD_BATCHES batches past split 1's position (1), and a batch more.
        let lead = MAX_AHEAD_BATCHES * 10 * 2;
        assert_eq!(out.len() as u64, lead / 2 + 10);
        assert_eq!(a.poll_batch(&mut out, 10, &mut dead()).unwrap(), Poll::Idle);
        // Split 1 catches up by one batch: split 0 may read one more.
        b.poll_batch(&mut Vec::new(), 10, &mut dead()).unwrap();
        assert_eq!(
            a.poll_batch(&mut out, 10, &mut dead()).unwrap(),
            Poll::Ready
        );
        assert_eq!(a.poll_batch(&mut out, 10, &mut dead()).unwrap(), Poll::Idle);
    }
}
