//! The source task: one worker's split of a source, feeding its fused chain.

use super::{Task, TaskCx};
use crate::runtime::control::WorkerStats;
use crate::runtime::emit::Emit;
use crate::source::{Poll, RangePosition, SourceSplit};
use crate::time::{WatermarkConfig, WatermarkGenerator};
use std::sync::Arc;

/// How a source's records carry event time: the timestamp of a record, and the watermark
/// settings of each split.
pub struct EventTime<T> {
    /// The record's event time in milliseconds.
    pub extract: Arc<dyn Fn(&T) -> i64 + Send + Sync>,
    /// Bounded out-of-orderness, emit interval, idle timeout.
    pub config: WatermarkConfig,
}

impl<T> Clone for EventTime<T> {
    fn clone(&self) -> Self {
        EventTime {
            extract: self.extract.clone(),
            config: self.config,
        }
    }
}

/// A split's watermark generator and the timestamps it reads.
struct SplitTime<T> {
    extract: Arc<dyn Fn(&T) -> i64 + Send + Sync>,
    generator: WatermarkGenerator,
}

/// Reads batches from a split and pushes them down the chain; injects barriers.
pub struct SourceTask<T> {
    name: String,
    split: Box<dyn SourceSplit<T>>,
    out: Box<dyn Emit<T>>,
    buf: Vec<T>,
    batch: usize,
    running: bool,
    /// The newest checkpoint this split contributed to.
    injected: u64,
    /// Records polled (for splits that do not count themselves).
    polled: u64,
    /// Event time, when the source has it.
    time: Option<SplitTime<T>>,
    /// Latency stamps of watermarks and the end (latency runs only).
    stamps: crate::runtime::stamp::SourceStamps,
}

impl<T> SourceTask<T> {
    /// The task of source `name` reading `split` in batches of `batch` records; barriers
    /// continue after checkpoint `last_checkpoint`.
    pub fn new(
        name: String,
        split: Box<dyn SourceSplit<T>>,
        out: Box<dyn Emit<T>>,
        batch: usize,
        last_checkpoint: u64,
    ) -> Self {
        SourceTask {
            name,
            split,
            out,
            buf: Vec::with_capacity(batch),
            batch: batch.max(1),
            running: true,
            injected: last_checkpoint,
            polled: 0,
            time: None,
            stamps: crate::runtime::stamp::SourceStamps::new(),
        }
    }

    /// Emits watermarks from the records' event time; a restored split resumes from the
    /// largest event time its ranges recorded.
    pub fn with_event_time(mut self, event_time: EventTime<T>, now_ms: u64) -> Self {
        let mut generator = WatermarkGenerator::new(event_time.config);
        generator.start(now_ms);
        if let Some(max) = self
            .split
            .position()
            .iter()
            .filter_map(|r| r.max_event_time)
            .min()
        {
            generator.restore(max);
            // The restored watermark goes first, so that the records replayed after the
            // checkpoint meet the watermark they met in the original run (a record late then
            // is late again, not re-opening a fired window).
            self.out
                .watermark(crate::time::WatermarkEvent::Watermark(generator.current()));
        }
        self.time = Some(SplitTime {
            extract: event_time.extract,
            generator,
        });
        self
    }

    /// The split's position, tagged with the source's name.
    fn position(&self) -> Vec<RangePosition> {
        let mut p = self.split.position();
        let max_event_time = self
            .time
            .as_ref()
            .map(|t| t.generator.max_timestamp())
            .filter(|&ts| ts != i64::MIN);
        for r in &mut p {
            r.source.clone_from(&self.name);
            r.max_event_time = max_event_time;
        }
        p
    }

    /// Barrier `k`: downstream gets it after everything read so far (a split that ended sends
    /// none; its channels downstream are ended; fused sinks pre-commit), and only then does
    /// the checkpoint get the position (see `StageTask::snapshot` on why the order matters).
    fn inject(&mut self, k: u64, cx: &mut TaskCx<'_>) -> crate::Result<()> {
        self.out.barrier(k)?;
        let dead_len = cx.dead.append(true)?;
        cx.checkpoints.add_position(k, self.position(), dead_len)?;
        self.injected = k;
        Ok(())
    }

    /// Reads one batch and pushes it on, then the split's watermark when it is due.
    fn read(&mut self, cx: &mut TaskCx<'_>) -> crate::Result<bool> {
        let poll = self.split.poll_batch(&mut self.buf, self.batch, cx.dead)?;
        let got = self.buf.len();
        self.polled += got as u64;
        if let Some(t) = &mut self.time {
            for r in &self.buf {
                t.generator.on_record((t.extract)(r), cx.now_ms);
            }
        }
        if got > 0 {
            self.stamps.on_batch();
            self.out.push(&mut self.buf)?;
        }
        if let Some(event) = self.time.as_mut().and_then(|t| t.generator.poll(cx.now_ms)) {
            self.stamps.before_watermark();
            self.out.watermark(event);
        }
        match poll {
            Poll::Ready if got >= self.batch => {}
            Poll::Ready | Poll::Idle => self.out.flush_partial(),
            Poll::End => {
                // The split's last dead letters stay buffered: appended at the next barrier
                // or, deferred, once every worker ended (see runtime::late_letters).
                self.stamps.before_end();
                self.out.end()?;
                self.running = false;
                return Ok(true);
            }
        }
        Ok(got > 0)
    }
}

impl<T: Send> Task for SourceTask<T> {
    fn name(&self) -> &str {
        &self.name
    }

    fn step(&mut self, cx: &mut TaskCx<'_>) -> crate::Result<bool> {
        let mut progress = self.out.flush();
        // Backpressure: nothing new while output waits for ring space.
        if self.out.blocked() {
            return Ok(progress);
        }
        if cx.trigger > self.injected {
            self.inject(cx.trigger, cx)?;
            return Ok(true);
        }
        if self.running {
            progress |= self.read(cx)?;
            progress |= self.out.flush();
        }
        Ok(progress)
    }

    fn done(&self) -> bool {
        !self.running && !self.out.blocked()
    }

    fn finish(&mut self, stats: &mut WorkerStats) -> crate::Result<()> {
        stats.records_in += match self.split.records_read() {
            0 => self.polled,
            n => n,
        };
        stats.positions.extend(self.position());
        self.out.finish(&mut stats.sink)
    }
}
