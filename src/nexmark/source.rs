//! The Nexmark [`Source`]: worker `w` of `n` generates the event counts
//! `[w·N/n, (w+1)·N/n)`. Positions are count ranges, so a split replays from any recorded
//! position (and a restore with another worker count just takes the remaining ranges). The
//! config's `rate` is an event-time rate: it spaces the timestamps, it never sleeps.

use super::config::NexmarkConfig;
use super::generate::event;
use super::model::Event;
use crate::error::Error;
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};

/// Resource name of Nexmark ranges in positions.
const RESOURCE: &str = "nexmark";

/// A source of the Nexmark events of a config.
#[derive(Clone, Debug)]
pub struct NexmarkSource {
    config: NexmarkConfig,
}

impl NexmarkSource {
    /// The source of `config`'s events.
    ///
    /// # Errors
    /// [`Error::Config`] when the config is unusable (see [`NexmarkConfig::check`]).
    pub fn new(config: NexmarkConfig) -> crate::Result<Self> {
        config.check().map_err(Error::Config)?;
        Ok(NexmarkSource { config })
    }

    /// The generator's config.
    pub fn config(&self) -> &NexmarkConfig {
        &self.config
    }
}

/// Worker `worker` of `workers`' share of the event sequence: its checkpointed ranges when
/// resuming, else an even split by event number.
pub(crate) fn split_ranges(
    config: &NexmarkConfig,
    worker: usize,
    workers: usize,
    resume: Option<Vec<RangePosition>>,
) -> SourceResult<Vec<RangePosition>> {
    if worker >= workers {
        return Err(Error::Runtime(format!(
            "nexmark: worker {worker} of {workers}"
        )));
    }
    Ok(resume
        .unwrap_or_else(|| crate::source::sequence_share(RESOURCE, config.events, worker, workers)))
}

impl Source<Event> for NexmarkSource {
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
    ) -> SourceResult<Box<dyn SourceSplit<Event>>> {
        let ranges = split_ranges(&self.config, worker, workers, resume)?;
        Ok(Box::new(NexmarkSplit {
            config: self.config.clone(),
            ranges,
            current: 0,
            read: 0,
        }))
    }
}

/// One worker's ranges of event counts.
struct NexmarkSplit {
    config: NexmarkConfig,
    ranges: Vec<RangePosition>,
    /// Ranges before this index are exhausted.
    current: usize,
    read: u64,
}

impl SourceSplit<Event> for NexmarkSplit {
    fn poll_batch(
        &mut self,
        out: &mut Vec<Event>,
        max: usize,
        _dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let Some(offset) = self.ranges[self.current..]
            .iter()
            .position(|r| r.next < r.end)
        else {
            self.current = self.ranges.len();
            return Ok(Poll::End);
        };
        self.current += offset;
        let range = &mut self.ranges[self.current];
        let count = (max as u64).min(range.end - range.next);
        let first = range.next;
        out.extend((first..first + count).map(|k| event(&self.config, k)));
        range.next = first + count;
        range.max_event_time = out.last().map(Event::date_time).or(range.max_event_time);
        self.read += count;
        Ok(Poll::Ready)
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

    fn dead() -> DeadLetters {
        DeadLetters::new("/nonexistent/dead".into(), OnError::Fail)
    }

    fn drain(split: &mut dyn SourceSplit<Event>, max: usize, limit: usize) -> Vec<Event> {
        let mut out = Vec::new();
        while out.len() < limit {
            let want = max.min(limit - out.len());
            match split.poll_batch(&mut out, want, &mut dead()) {
                Ok(Poll::Ready) => {}
                Ok(_) => break,
                Err(e) => panic!("{e}"),
            }
        }
        out
    }

    fn source(mode: Mode, events: u64) -> NexmarkSource {
        NexmarkSource::new(NexmarkConfig::new(mode, events)).expect("valid config")
    }

    #[test]
    fn splits_partition_the_stream() {
        for mode in [Mode::Beam, Mode::Flink] {
            let s = source(mode, 1003);
            let want: Vec<Event> = (0..1003).map(|k| event(s.config(), k)).collect();
            for n in 1..=3 {
                let mut all = Vec::new();
                for w in 0..n {
                    let mut split = s.open_split(w, n, None).expect("split");
                    all.extend(drain(split.as_mut(), 64, usize::MAX));
                }
                assert_eq!(all, want, "{mode:?}, {n} workers");
            }
        }
    }

    #[test]
    fn resume_continues_from_the_position() {
        let s = source(Mode::Flink, 500);
        let want: Vec<Event> = (0..500).map(|k| event(s.config(), k)).collect();
        for n in 1..=3 {
            let (mut parts, mut positions) = (Vec::new(), Vec::new());
            for w in 0..n {
                let mut split = s.open_split(w, n, None).expect("split");
                parts.push(drain(split.as_mut(), 7, 50));
                positions.extend(split.position());
            }
            // Rescale: one worker takes every remaining range.
            let rest = drain(
                s.open_split(0, 1, Some(positions.clone()))
                    .expect("split")
                    .as_mut(),
                64,
                usize::MAX,
            );
            let mut all: Vec<Event> = parts.concat();
            all.extend(rest);
            let mut got: Vec<i64> = all.iter().map(|e| position_of(&want, e)).collect();
            got.sort_unstable();
            assert_eq!(got, (0..500).collect::<Vec<i64>>(), "{n} workers");
            assert!(positions.iter().all(|r| r.resource == "nexmark"));
        }
    }

    /// The count of `e` in `want` (events are distinct by content).
    fn position_of(want: &[Event], e: &Event) -> i64 {
        want.iter().position(|w| w == e).map_or(-1, |p| p as i64)
    }

    #[test]
    fn a_bad_config_is_a_typed_error() {
        let mut c = NexmarkConfig::new(Mode::Beam, 10);
        c.rate = 0;
        assert!(matches!(NexmarkSource::new(c), Err(Error::Config(_))));
    }
}
