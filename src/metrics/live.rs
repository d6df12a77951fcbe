//! Live counters of a running job: per worker, plain counters its source split and sink
//! partition publish once per batch (a relaxed store of a local count — never per record), read
//! by the metrics endpoint and the progress line.
//!
//! The registry is process-wide (like the stop request): [`enable`] it before the job is built,
//! and [`crate::metrics::metered`] wraps the job's source and sink to feed it.

use crossbeam_utils::CachePadded;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// One worker's counters.
#[derive(Default)]
pub struct WorkerCounters {
    /// Records its source split produced.
    pub source_records: CachePadded<AtomicU64>,
    /// Records its sink partition received.
    pub sink_records: CachePadded<AtomicU64>,
    /// Records its split dead-lettered.
    pub dead_letters: CachePadded<AtomicU64>,
    /// Checkpoint barriers its sink partition passed.
    pub barriers: CachePadded<AtomicU64>,
    /// End-to-end latency of its outputs so far (latency runs only), ns: p50, p99, p99.9, max;
    /// published about every 100 ms.
    pub latency_ns: [AtomicU64; 4],
}

/// The quantiles of [`WorkerCounters::latency_ns`].
pub const LATENCY_QUANTILES: [f64; 4] = [0.5, 0.99, 0.999, 1.0];

/// A snapshot of one worker's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerSnapshot {
    /// See [`WorkerCounters::source_records`].
    pub source_records: u64,
    /// See [`WorkerCounters::sink_records`].
    pub sink_records: u64,
    /// See [`WorkerCounters::dead_letters`].
    pub dead_letters: u64,
    /// See [`WorkerCounters::barriers`].
    pub barriers: u64,
}

/// The job's live counters.
pub struct Live {
    started: Instant,
    checkpoint_dir: Mutex<Option<PathBuf>>,
    /// Per worker, created when its split or partition opens.
    workers: Mutex<Vec<Arc<WorkerCounters>>>,
    /// Per stage and worker, created when the stage's task is built.
    stages: Mutex<Vec<Arc<super::stage::StageCounters>>>,
    /// Duration of the last committed checkpoint in microseconds (0: none yet).
    last_checkpoint_us: AtomicU64,
}

static LIVE: OnceLock<Arc<Live>> = OnceLock::new();

/// Turns live counters on for this process (idempotent) and returns them.
pub fn enable(checkpoint_dir: Option<PathBuf>) -> Arc<Live> {
    let live = LIVE.get_or_init(|| {
        Arc::new(Live {
            started: Instant::now(),
            checkpoint_dir: Mutex::new(None),
            workers: Mutex::new(Vec::new()),
            stages: Mutex::new(Vec::new()),
            last_checkpoint_us: AtomicU64::new(0),
        })
    });
    *live
        .checkpoint_dir
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = checkpoint_dir;
    Arc::clone(live)
}

/// The live counters, when enabled.
pub fn get() -> Option<Arc<Live>> {
    LIVE.get().cloned()
}

impl Live {
    /// The counters of `worker` (created on first use).
    pub fn worker(&self, worker: usize) -> Arc<WorkerCounters> {
        let mut w = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        while w.len() <= worker {
            w.push(Arc::default());
        }
        Arc::clone(&w[worker])
    }

    /// The counters of stage `stage` on `worker` (created on first use).
    pub fn stage(&self, stage: &str, worker: usize) -> Arc<super::stage::StageCounters> {
        let mut all = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = all.iter().find(|c| c.stage == stage && c.worker == worker) {
            return Arc::clone(c);
        }
        let c = Arc::new(super::stage::StageCounters::new(stage, worker));
        all.push(Arc::clone(&c));
        c
    }

    /// Every stage's counters now, per worker.
    pub fn stages(&self) -> Vec<super::stage::StageSnapshot> {
        let all = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().map(|c| c.snapshot()).collect()
    }

    /// Records the duration of a committed checkpoint (trigger to committed MANIFEST).
    pub fn checkpoint_committed(&self, duration: std::time::Duration) {
        let us = u64::try_from(duration.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.last_checkpoint_us.store(us, Ordering::Relaxed);
    }

    /// The duration of the last committed checkpoint, if any.
    pub fn last_checkpoint_duration(&self) -> Option<std::time::Duration> {
        match self.last_checkpoint_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(std::time::Duration::from_micros(us)),
        }
    }

    /// Every worker's latency summary now (ns at [`LATENCY_QUANTILES`]).
    pub fn latency(&self) -> Vec<[u64; 4]> {
        let w = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        w.iter()
            .map(|c| {
                let mut out = [0; 4];
                for (o, v) in out.iter_mut().zip(&c.latency_ns) {
                    *o = v.load(Ordering::Relaxed);
                }
                out
            })
            .collect()
    }

    /// Every worker's counters now.
    pub fn snapshot(&self) -> Vec<WorkerSnapshot> {
        let w = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        w.iter()
            .map(|c| WorkerSnapshot {
                source_records: c.source_records.load(Ordering::Relaxed),
                sink_records: c.sink_records.load(Ordering::Relaxed),
                dead_letters: c.dead_letters.load(Ordering::Relaxed),
                barriers: c.barriers.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Seconds since the counters were enabled.
    pub fn uptime_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// The checkpoint directory of the job, if it checkpoints.
    pub fn checkpoint_dir(&self) -> Option<PathBuf> {
        self.checkpoint_dir
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
