//! The source task: one worker's split of a source, feeding its fused chain.

use super::{Task, TaskCx};
use crate::runtime::control::WorkerStats;
use crate::runtime::emit::Emit;
use crate::source::{Poll, RangePosition, SourceSplit};

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
        }
    }

    /// The split's position, tagged with the source's name.
    fn position(&self) -> Vec<RangePosition> {
        let mut p = self.split.position();
        for r in &mut p {
            r.source.clone_from(&self.name);
        }
        p
    }

    /// Barrier `k`: downstream gets it after everything read so far (a split that ended sends
    /// none; its channels downstream are ended); the checkpoint gets the position.
    fn inject(&mut self, k: u64, cx: &mut TaskCx<'_>) -> crate::Result<()> {
        self.out.barrier(k)?;
        let dead_len = cx.dead.append(true)?;
        cx.checkpoints.add_position(k, self.position(), dead_len)?;
        self.injected = k;
        Ok(())
    }

    /// Reads one batch and pushes it on.
    fn read(&mut self, cx: &mut TaskCx<'_>) -> crate::Result<bool> {
        let poll = self.split.poll_batch(&mut self.buf, self.batch, cx.dead)?;
        let got = self.buf.len();
        self.polled += got as u64;
        if got > 0 {
            self.out.push(&mut self.buf)?;
        }
        match poll {
            Poll::Ready if got >= self.batch => {}
            Poll::Ready | Poll::Idle => self.out.flush_partial(),
            Poll::End => {
                cx.dead.append(true)?;
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
