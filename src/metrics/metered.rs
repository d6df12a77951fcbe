//! Wrappers that feed [`super::live`]: a source whose splits publish their record and
//! dead-letter counts after every batch, a sink whose partitions publish theirs.

use super::live::{self, WorkerCounters};
use crate::sink::{Sink, SinkPartition, SinkStats};
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// `source`, counted when live counters are enabled (else unchanged).
pub fn source<T: 'static>(source: Box<dyn Source<T>>) -> Box<dyn Source<T>> {
    if live::get().is_some() {
        Box::new(MeteredSource(source))
    } else {
        source
    }
}

/// `sink`, counted when live counters are enabled (else unchanged).
pub fn sink<T: 'static>(sink: Box<dyn Sink<T>>) -> Box<dyn Sink<T>> {
    if live::get().is_some() {
        Box::new(MeteredSink(sink))
    } else {
        sink
    }
}

struct MeteredSource<T>(Box<dyn Source<T>>);

impl<T: 'static> Source<T> for MeteredSource<T> {
    fn name(&self) -> String {
        self.0.name()
    }
    fn replayable(&self) -> bool {
        self.0.replayable()
    }
    fn check(&self) -> SourceResult<()> {
        self.0.check()
    }
    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        let inner = self.0.open_split(worker, workers, resume)?;
        let Some(live) = live::get() else {
            return Ok(inner);
        };
        Ok(Box::new(MeteredSplit {
            inner,
            counters: live.worker(worker),
            records: 0,
        }))
    }
}

struct MeteredSplit<T> {
    inner: Box<dyn SourceSplit<T>>,
    counters: Arc<WorkerCounters>,
    /// Local count; published after every batch.
    records: u64,
}

impl<T> SourceSplit<T> for MeteredSplit<T> {
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let before = out.len();
        let poll = self.inner.poll_batch(out, max, dead)?;
        let got = (out.len() - before) as u64;
        if got > 0 {
            self.records += got;
            self.counters
                .source_records
                .store(self.records, Ordering::Relaxed);
        }
        self.counters
            .dead_letters
            .store(dead.count(), Ordering::Relaxed);
        Ok(poll)
    }
    fn position(&self) -> Vec<RangePosition> {
        self.inner.position()
    }
    fn records_read(&self) -> u64 {
        self.inner.records_read()
    }
}

struct MeteredSink<T>(Box<dyn Sink<T>>);

impl<T: 'static> Sink<T> for MeteredSink<T> {
    fn check(&self) -> crate::Result<()> {
        self.0.check()
    }
    fn open_partition(
        &self,
        worker: usize,
        workers: usize,
        transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>> {
        let inner = self.0.open_partition(worker, workers, transactional)?;
        let Some(live) = live::get() else {
            return Ok(inner);
        };
        Ok(Box::new(MeteredPartition {
            inner,
            counters: live.worker(worker),
            records: 0,
            barriers: 0,
        }))
    }
    fn commit(&self, epoch: u64) -> crate::Result<()> {
        self.0.commit(epoch)
    }
    fn recover(&self, epoch: Option<u64>) -> crate::Result<()> {
        self.0.recover(epoch)
    }
    fn exactly_once(&self) -> bool {
        self.0.exactly_once()
    }
}

struct MeteredPartition<T> {
    inner: Box<dyn SinkPartition<T>>,
    counters: Arc<WorkerCounters>,
    records: u64,
    barriers: u64,
}

impl<T> SinkPartition<T> for MeteredPartition<T> {
    fn write_batch(&mut self, batch: &[T]) -> crate::Result<()> {
        self.inner.write_batch(batch)?;
        self.records += batch.len() as u64;
        self.counters
            .sink_records
            .store(self.records, Ordering::Relaxed);
        Ok(())
    }
    fn pre_commit(&mut self, epoch: u64) -> crate::Result<()> {
        self.inner.pre_commit(epoch)?;
        self.barriers += 1;
        self.counters
            .barriers
            .store(self.barriers, Ordering::Relaxed);
        Ok(())
    }
    fn finish(&mut self) -> crate::Result<SinkStats> {
        self.inner.finish()
    }
}
