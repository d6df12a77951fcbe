//! The latency sink of open-loop benchmarks: records each output's end-to-end latency (its
//! receive time minus the scheduled time of the event that produced it) into its partition's
//! histogram; the clock is read once per batch.

use super::{Sink, SinkPartition, SinkStats};
use crate::metrics::clock::now_ns;
use crate::metrics::LatencyRecorder;
use std::sync::{Arc, Mutex, OnceLock};

/// Reads the scheduled time (ns) an output carries.
pub type Stamp<T> = Arc<dyn Fn(&T) -> u64 + Send + Sync>;

/// Discards outputs, keeping their latencies. Clones share the results.
pub struct LatencySink<T> {
    stamp: Stamp<T>,
    origin: Arc<OnceLock<u64>>,
    finished: Arc<Mutex<Vec<LatencyRecorder>>>,
}

impl<T> Clone for LatencySink<T> {
    fn clone(&self) -> Self {
        LatencySink {
            stamp: Arc::clone(&self.stamp),
            origin: Arc::clone(&self.origin),
            finished: Arc::clone(&self.finished),
        }
    }
}

impl<T> LatencySink<T> {
    /// A sink reading stamps with `stamp`, with intervals counted from the source's `origin`.
    pub fn new(stamp: Stamp<T>, origin: Arc<OnceLock<u64>>) -> Self {
        LatencySink {
            stamp,
            origin,
            finished: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The partitions' recorders merged (after the run); `None` when nothing was recorded.
    pub fn merged(&self) -> Option<LatencyRecorder> {
        let done = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        let mut it = done.iter();
        let mut all = it.next()?.clone();
        for r in it {
            all.merge(r);
        }
        Some(all)
    }
}

impl<T: 'static> Sink<T> for LatencySink<T> {
    fn open_partition(
        &self,
        worker: usize,
        _workers: usize,
        _transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>> {
        Ok(Box::new(LatencyPartition {
            stamp: Arc::clone(&self.stamp),
            origin: Arc::clone(&self.origin),
            recorder: None,
            finished: Arc::clone(&self.finished),
            stats: SinkStats::default(),
            live: crate::metrics::live::get().map(|l| l.worker(worker)),
            published_ns: 0,
        }))
    }
}

struct LatencyPartition<T> {
    stamp: Stamp<T>,
    origin: Arc<OnceLock<u64>>,
    /// Created at the first batch or barrier (the origin is set by then).
    recorder: Option<LatencyRecorder>,
    finished: Arc<Mutex<Vec<LatencyRecorder>>>,
    stats: SinkStats,
    /// The worker's live counters (metrics endpoint), when enabled.
    live: Option<Arc<crate::metrics::live::WorkerCounters>>,
    /// When the latency summary was last published (ns).
    published_ns: u64,
}

/// How often a partition publishes its latency summary to the live counters (100 ms).
const PUBLISH_NS: u64 = 100_000_000;

impl<T> LatencyPartition<T> {
    /// Publishes p50/p99/p99.9/max of the samples so far to the live counters.
    fn publish(&mut self, now: u64) {
        self.published_ns = now;
        if let (Some(live), Some(r)) = (&self.live, &self.recorder) {
            let quantiles = crate::metrics::live::LATENCY_QUANTILES;
            for (slot, q) in live.latency_ns.iter().zip(quantiles) {
                slot.store(r.quantile_ns(q), std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    fn recorder(&mut self, now: u64) -> &mut LatencyRecorder {
        let origin = *self.origin.get_or_init(|| now);
        self.recorder
            .get_or_insert_with(|| LatencyRecorder::new(origin))
    }
}

impl<T> SinkPartition<T> for LatencyPartition<T> {
    fn write_batch(&mut self, batch: &[T]) -> crate::Result<()> {
        let now = now_ns();
        let stamp = Arc::clone(&self.stamp);
        self.recorder(now)
            .record_batch(now, batch.iter().map(|r| stamp(r)));
        self.stats.records += batch.len() as u64;
        if now.saturating_sub(self.published_ns) >= PUBLISH_NS {
            self.publish(now);
        }
        Ok(())
    }

    fn pre_commit(&mut self, _epoch: u64) -> crate::Result<()> {
        let now = now_ns();
        self.recorder(now).checkpoint(now);
        Ok(())
    }

    fn finish(&mut self) -> crate::Result<SinkStats> {
        if let Some(r) = self.recorder.take() {
            self.finished
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(r);
        }
        Ok(self.stats)
    }
}
