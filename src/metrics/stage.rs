//! Live counters of one stage on one worker (published by its task once per step, never per
//! record): records in and out, its event-time watermark, and the messages waiting in its
//! input rings (backpressure).

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// One stage's counters on one worker.
#[derive(Debug)]
pub struct StageCounters {
    /// The stage's name.
    pub stage: String,
    /// The worker.
    pub worker: usize,
    /// Records the stage read from its input rings.
    pub records_in: CachePadded<AtomicU64>,
    /// Records the stage emitted (main and side outputs).
    pub records_out: CachePadded<AtomicU64>,
    /// The stage's combined event-time watermark in ms (`i64::MIN`: none yet).
    pub watermark_ms: CachePadded<AtomicI64>,
    /// Messages waiting in the stage's input rings when it last looked.
    pub queued: CachePadded<AtomicU64>,
    /// Records the stage sent to its late side outputs (`late`, `late_left`, `late_right`).
    pub late: CachePadded<AtomicU64>,
    /// Keyed state entries of the stage on this worker at its last checkpoint.
    pub state_entries: CachePadded<AtomicU64>,
    /// Encoded bytes of that state.
    pub state_bytes: CachePadded<AtomicU64>,
}

impl StageCounters {
    /// Counters of `stage` on `worker`, all zero.
    pub fn new(stage: &str, worker: usize) -> Self {
        StageCounters {
            stage: stage.to_string(),
            worker,
            records_in: CachePadded::new(AtomicU64::new(0)),
            records_out: CachePadded::new(AtomicU64::new(0)),
            watermark_ms: CachePadded::new(AtomicI64::new(i64::MIN)),
            queued: CachePadded::new(AtomicU64::new(0)),
            late: CachePadded::new(AtomicU64::new(0)),
            state_entries: CachePadded::new(AtomicU64::new(0)),
            state_bytes: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// Publishes the size of the stage's keyed state (at a checkpoint).
    pub fn publish_state(&self, entries: u64, bytes: u64) {
        self.state_entries.store(entries, Ordering::Relaxed);
        self.state_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Publishes the task's running figures.
    pub fn publish(
        &self,
        records_in: u64,
        records_out: u64,
        late: u64,
        watermark_ms: i64,
        queued: u64,
    ) {
        self.late.store(late, Ordering::Relaxed);
        self.records_in.store(records_in, Ordering::Relaxed);
        self.records_out.store(records_out, Ordering::Relaxed);
        self.watermark_ms.store(watermark_ms, Ordering::Relaxed);
        self.queued.store(queued, Ordering::Relaxed);
    }
}

/// A snapshot of one stage's counters on one worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageSnapshot {
    /// The stage.
    pub stage: String,
    /// The worker.
    pub worker: usize,
    /// See [`StageCounters::records_in`].
    pub records_in: u64,
    /// See [`StageCounters::records_out`].
    pub records_out: u64,
    /// See [`StageCounters::watermark_ms`].
    pub watermark_ms: i64,
    /// See [`StageCounters::queued`].
    pub queued: u64,
    /// See [`StageCounters::late`].
    pub late: u64,
    /// See [`StageCounters::state_entries`].
    pub state_entries: u64,
    /// See [`StageCounters::state_bytes`].
    pub state_bytes: u64,
}

impl StageCounters {
    /// The counters now.
    pub fn snapshot(&self) -> StageSnapshot {
        StageSnapshot {
            stage: self.stage.clone(),
            worker: self.worker,
            records_in: self.records_in.load(Ordering::Relaxed),
            records_out: self.records_out.load(Ordering::Relaxed),
            watermark_ms: self.watermark_ms.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            late: self.late.load(Ordering::Relaxed),
            state_entries: self.state_entries.load(Ordering::Relaxed),
            state_bytes: self.state_bytes.load(Ordering::Relaxed),
        }
    }
}
