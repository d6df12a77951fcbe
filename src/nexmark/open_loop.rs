//! The open-loop Nexmark row source of latency runs (`weir bench --nexmark qN --rate R`).
//!
//! The stream's events are scheduled on the wall clock by event number, whatever their kind:
//! worker `w` of `n` owns the counts `[w·N/n, (w+1)·N/n)` (as [`super::rows`]), and its `j`-th
//! count is due at `t0 + j·n/R`, where `t0` is the first poll of any split of any source of
//! the job (one shared origin, so the sources of a join stay on one schedule). A split emits
//! what is due, never earlier, and never waits for the engine: when it falls behind it emits
//! everything due at once (up to the batch size per poll), so a stall shows up as latency (no
//! coordinated omission). Each batch is stamped ([`crate::runtime::stamp`]) with the scheduled
//! time of its earliest row.
//!
//! Batching bound: a poll takes only what is due, and the source task sends a batch that is
//! not full at once, so a batch holds the events that fell due during one round of the
//! worker's loop — at low rates at most the idle back-off (200 µs of sleep plus the
//! scheduler's wake-up delay) — or, when the split is behind, a full batch.

use super::config::{kind_of, Kind, NexmarkConfig};
use super::rows::{date_time_index, row_of};
use super::source::split_ranges;
use crate::metrics::clock::now_ns;
use crate::record::{Row, Value};
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The shared schedule of a latency run: the offered rate, its origin, and when the last
/// event was emitted.
#[derive(Debug)]
pub struct Schedule {
    /// Offered events per second of the whole stream (all kinds), positive.
    pub rate: f64,
    /// The origin `t0` (ns on [`now_ns`]'s clock), set by the first poll.
    pub origin: Arc<OnceLock<u64>>,
    /// Latest time (ns) at which a split emitted rows.
    pub last_emit_ns: AtomicU64,
}

impl Schedule {
    /// A schedule of `rate` events per second (a rate that is not positive counts as 1/s).
    pub fn new(rate: f64) -> Arc<Self> {
        Arc::new(Schedule {
            rate: if rate.is_finite() && rate > 0.0 {
                rate
            } else {
                1.0
            },
            origin: Arc::new(OnceLock::new()),
            last_emit_ns: AtomicU64::new(0),
        })
    }
}

/// Rows of one kind of `config`'s stream, emitted on `schedule`.
pub struct OpenLoopRows {
    config: NexmarkConfig,
    kind: Kind,
    schedule: Arc<Schedule>,
    fields: Option<Vec<usize>>,
}

impl OpenLoopRows {
    /// The open-loop source of `kind`'s rows.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when the config is unusable.
    pub fn new(config: NexmarkConfig, kind: Kind, schedule: Arc<Schedule>) -> crate::Result<Self> {
        config.check().map_err(crate::Error::Config)?;
        Ok(OpenLoopRows {
            config,
            kind,
            schedule,
            fields: None,
        })
    }

    /// Keeps only the fields at `indices` (increasing) of each row, as the pruned plan's
    /// source does ([`super::rows::NexmarkRowSource::with_fields`]).
    #[must_use]
    pub fn with_fields(mut self, indices: Option<Vec<usize>>) -> Self {
        self.fields = indices.filter(|f| f.len() < super::rows::fields(self.kind).len());
        self
    }
}

impl Source<Row> for OpenLoopRows {
    fn name(&self) -> String {
        "nexmark".to_string()
    }

    fn replayable(&self) -> bool {
        true
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<Row>>> {
        let ranges = split_ranges(&self.config, worker, workers, resume)?;
        let first = ranges.first().map_or(0, |r| r.next);
        Ok(Box::new(OpenLoopSplit {
            config: self.config.clone(),
            kind: self.kind,
            fields: self.fields.clone(),
            interval_ns: 1e9 * workers.max(1) as f64 / self.schedule.rate,
            schedule: Arc::clone(&self.schedule),
            ranges,
            current: 0,
            first,
            read: 0,
        }))
    }
}

struct OpenLoopSplit {
    config: NexmarkConfig,
    kind: Kind,
    fields: Option<Vec<usize>>,
    schedule: Arc<Schedule>,
    /// Nanoseconds between this split's event counts.
    interval_ns: f64,
    ranges: Vec<RangePosition>,
    /// Ranges before this index are exhausted.
    current: usize,
    /// The split's first count (its `j = 0`).
    first: u64,
    read: u64,
}

impl OpenLoopSplit {
    /// Scheduled time of count `k` (ns, at least 1).
    fn scheduled(&self, origin: u64, k: u64) -> u64 {
        let j = k.saturating_sub(self.first) as f64;
        origin.saturating_add((j * self.interval_ns) as u64).max(1)
    }

    fn row(&self, k: u64) -> Row {
        match self.kind {
            Kind::Bid => super::fast_bid::bid_row(&self.config, k),
            _ => row_of(super::generate::event(&self.config, k)),
        }
    }
}

impl SourceSplit<Row> for OpenLoopSplit {
    fn poll_batch(
        &mut self,
        out: &mut Vec<Row>,
        max: usize,
        _dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let now = now_ns();
        let origin = *self.schedule.origin.get_or_init(|| now);
        // Counts j with j·interval <= now − origin are due.
        let due = self.first + (now.saturating_sub(origin) as f64 / self.interval_ns) as u64 + 1;
        let (start, ts_index) = (out.len(), date_time_index(self.kind));
        let mut earliest = None;
        while out.len() - start < max.max(1) {
            let Some(range) = self.ranges.get_mut(self.current) else {
                break;
            };
            if range.next >= range.end {
                self.current += 1;
                continue;
            }
            let k = range.next;
            if k >= due {
                break;
            }
            range.next += 1;
            if kind_of(self.config.event_id(k)) != self.kind {
                continue;
            }
            let mut row = self.row(k);
            if let Some(Value::Ts(t)) = row.get(ts_index) {
                let range = &mut self.ranges[self.current];
                range.max_event_time = Some(range.max_event_time.map_or(*t, |m| m.max(*t)));
            }
            if let Some(keep) = &self.fields {
                super::rows::keep_fields(&mut row, keep);
            }
            earliest.get_or_insert(k);
            out.push(row);
        }
        self.read += (out.len() - start) as u64;
        if let Some(k) = earliest {
            crate::runtime::stamp::set(self.scheduled(origin, k));
            self.schedule.last_emit_ns.fetch_max(now, Ordering::Relaxed);
        }
        Ok(if self.current >= self.ranges.len() {
            Poll::End
        } else if out.len() > start {
            Poll::Ready
        } else {
            Poll::Idle
        })
    }

    fn position(&self) -> Vec<RangePosition> {
        self.ranges.clone()
    }

    fn records_read(&self) -> u64 {
        self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::config::Mode;
    use crate::source::dead_letter::OnError;

    #[test]
    fn rows_follow_the_schedule_by_event_number_and_are_stamped() {
        let config = NexmarkConfig::new(Mode::Flink, 400);
        let schedule = Schedule::new(20_000.0); // 50 µs per event, 20 ms in all
        let src = OpenLoopRows::new(config.clone(), Kind::Bid, Arc::clone(&schedule))
            .expect("valid config");
        let mut dead = DeadLetters::new("/nonexistent/dead".into(), OnError::Fail);
        let mut splits: Vec<_> = (0..2)
            .map(|w| src.open_split(w, 2, None).expect("split"))
            .collect();
        let mut ended = [false; 2];
        let mut rows = 0;
        while !ended.iter().all(|e| *e) {
            for (w, split) in splits.iter_mut().enumerate() {
                let mut out = Vec::new();
                crate::runtime::stamp::set(crate::runtime::stamp::NONE);
                let poll = split.poll_batch(&mut out, 16, &mut dead).expect("poll");
                ended[w] |= poll == Poll::End;
                let stamp = crate::runtime::stamp::current();
                if !out.is_empty() {
                    assert!(stamp != 0 && stamp <= now_ns(), "stamped, never early");
                }
                rows += out.len();
            }
        }
        let bids = (0..400)
            .filter(|&k| kind_of(config.event_id(k)) == Kind::Bid)
            .count();
        assert_eq!(rows, bids);
        let origin = *schedule.origin.get().expect("set by the first poll");
        // The last count of each split (j = 199) is due 199 · 100 µs after the origin.
        assert!(schedule.last_emit_ns.load(Ordering::Relaxed) >= origin + 19_900_000);
    }
}
